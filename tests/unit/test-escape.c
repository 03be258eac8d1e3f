/* SPDX-License-Identifier: MIT */
/* unhexchar() over every byte value, against the digits spelled out; escape_is_token() the same
 * way, against its set spelled out. */

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "escape.h"
#include "tap.h"

int main(void) {
        static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
        unsigned bad = 0, n_digits = 0;

        for (int i = 0; i < 16; i++) {
                TAP_IS_INT(unhexchar(lower[i]), i, "'%c' is %d", lower[i], i);
                if (i >= 10)
                        TAP_IS_INT(unhexchar(upper[i]), i, "'%c' is %d", upper[i], i);
        }
        for (int c = -128; c < 128; c++) {
                bool digit = c > 0 && (strchr(lower, c) || strchr(upper, c));
                int v = unhexchar((char) c);

                if (digit)
                        n_digits++;
                else if (v != -EINVAL)
                        bad++;
        }
        TAP_IS_INT(n_digits, 22, "22 hex digits among the 256 byte values");
        TAP_IS_INT(bad, 0, "every other byte (NUL, 'g', 'G', 'x', high bytes) is -EINVAL");

        /* escape_is_token(): a run of [A-Za-z0-9+/=:._@-] is written bare, anything else quoted */
        bad = 0;
        for (int c = -128; c < 128; c++) {
                char s[4] = { 'a', (char) c, 'b', 0 };
                bool want = c > 0 && (isalnum(c) || strchr("+/=:._@-", c));

                if (c != 0 && escape_is_token(s) != want)
                        bad++;
        }
        TAP_IS_INT(bad, 0, "a byte in a token: only letters, digits and +/=:._@-");
        tap_ok(escape_is_token("/var/log/journal/remote-host.example.journal"), "a plain path");
        tap_ok(!escape_is_token(""), "not the empty string");
        tap_ok(!escape_is_token("/d/a\nb.journal"), "a newline is quoted");
        tap_ok(!escape_is_token("/d/a\\n.journal"), "so is a backslash (a literal \\n)");
        tap_ok(!escape_is_token("/d/a b.journal"), "and a space");
        tap_ok(!escape_is_token("/d/\xc3\xa9.journal"), "and a byte of UTF-8");
        return tap_done();
}
