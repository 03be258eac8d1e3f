/* SPDX-License-Identifier: MIT */
/* unhexchar() over every byte value, against the digits spelled out. */

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
        return tap_done();
}
