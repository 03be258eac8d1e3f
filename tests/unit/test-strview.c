/* SPDX-License-Identifier: MIT */
#include "strview.h"
#include "tap.h"
#include "vis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void test_u64(void) {
        uint64_t v = 0;

        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("55856"), 65535, &v), 0, "port parses");
        TAP_IS_INT(v, 55856, "port value");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("65536"), 65535, &v), -ERANGE, "port above max");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT(""), 10, &v), -EBADMSG, "empty is malformed");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("12a"), 1000, &v), -EBADMSG, "trailing garbage");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("-1"), 1000, &v), -EBADMSG, "sign rejected");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("99999999999999999999"), UINT64_MAX, &v), -ERANGE,
                   "overflow detected");
        TAP_IS_INT(strview_to_u64(STRVIEW_NULL, 10, &v), -EBADMSG, "absent view");
        /* a view is not NUL-terminated: only len bytes count */
        TAP_IS_INT(strview_to_u64((struct strview){ "4242xyz", 4 }, 10000, &v), 0, "bounded view");
        TAP_IS_INT(v, 4242, "bounded view value");
        /* the edges of the unchecked (up to 19 digits) and the checked (20) loops */
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("9999999999999999999"), UINT64_MAX, &v), 0,
                   "19 nines parse");
        tap_ok(v == UINT64_C(9999999999999999999), "... to their value");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("0000000000000000042"), 42, &v), 0,
                   "19 digits with leading zeros");
        TAP_IS_INT(v, 42, "... 42");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("18446744073709551615"), UINT64_MAX, &v), 0,
                   "UINT64_MAX parses");
        tap_ok(v == UINT64_MAX, "... to UINT64_MAX");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("18446744073709551616"), UINT64_MAX, &v), -ERANGE,
                   "UINT64_MAX + 1 overflows");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("999999999999999999x"), UINT64_MAX, &v), -EBADMSG,
                   "19 bytes with garbage");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("2147483648"), INT32_MAX, &v), -ERANGE,
                   "a PID above INT32_MAX");
        TAP_IS_INT(strview_to_u64(STRVIEW_LIT("100000000000000000000"), UINT64_MAX, &v), -EBADMSG,
                   "21 digits are malformed");
}

static void vis_one(const char *in, size_t len, const char *want, const char *name) {
        char *out = NULL;

        TAP_IS_INT(sshd_vis(in, len, &out), 0, "%s: encodes", name);
        TAP_IS_STR(out, want, "%s", name);
        free(out);
}

static void test_vis(void) {
        vis_one("rsync --server . /srv", 21, "rsync --server . /srv", "plain text unchanged");
        vis_one("a\\b", 3, "a\\\\b", "backslash doubled");
        vis_one("a\nb\tc", 5, "a\\nb\\tc", "newline and tab C-style");
        vis_one("caf\xc3\xa9", 5, "caf\\303\\251", "UTF-8 as octal, as sshd logs it");
        vis_one("x\x01y", 3, "x\\001y", "control byte as octal");
        vis_one("'\"", 2, "'\"", "quotes verbatim");
        {
                /* sshd_vis_is_identity() says so exactly when encoding changes nothing: every
                 * byte alone, and a plain command with one of them inside. */
                unsigned agree = 0;

                for (unsigned c = 0; c < 256; c++) {
                        char in[3] = { 'a', (char) c, 'b' }, out[3 * 4 + 1];

                        sshd_vis_to(in, sizeof(in), out);
                        agree += sshd_vis_is_identity(in, sizeof(in)) ==
                                 (strlen(out) == sizeof(in) && memcmp(out, in, sizeof(in)) == 0);
                }
                TAP_IS_INT((int) agree, 256, "identity exactly when nothing is escaped");
                tap_ok(sshd_vis_is_identity("", 0), "the empty string is its own encoding");
        }
}

static void test_dup(void) {
        static const char nul[] = "root\0 (x)";
        char *d;

        d = strview_dup(STRVIEW_LIT("abc"));
        TAP_IS_STR(d, "abc", "dup copies");
        free(d);
        d = strview_dup((struct strview){ "abcdef", 2 });
        TAP_IS_STR(d, "ab", "dup copies only len bytes");
        free(d);
        TAP_IS_STR(strview_dup(STRVIEW_NULL), NULL, "absent view: NULL");
        d = strview_dup((struct strview){ nul, sizeof(nul) - 1 });
        TAP_IS_STR(d, "root\xc0\x80 (x)", "a NUL is kept as C0 80, not a cut");
        free(d);
}

int main(void) {
        test_u64();
        test_dup();
        test_vis();
        return tap_done();
}
