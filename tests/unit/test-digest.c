/* SPDX-License-Identifier: MIT */
/*
 * digest.h against the SHA-256 test vectors of FIPS 180-2 / NIST (the empty message, "abc", the
 * 448- and 896-bit messages, a million 'a's), whole and cut into pieces; digest_add_string()'s
 * NUL after each piece; the first n bytes in hex (the alert id's 16, drift's 8); and the refusals.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "tap.h"

static const struct {
        const char *msg;
        const char *sha256;
} vectors[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
          "nopqrsmnopqrstnopqrstu",
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

#define MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

/* The hex of msg added in pieces of at most step bytes (step 0: in one piece). NULL on failure. */
static const char *hex_of(const char *msg, size_t step, size_t n_bytes) {
        static char buf[2 * DIGEST_SIZE + 1];
        _cleanup_(digest_freep) struct digest *d = NULL;
        size_t n = strlen(msg), o = 0;

        if (digest_new(&d) < 0)
                return NULL;
        do {
                size_t k = step && n - o > step ? step : n - o;

                digest_add(d, msg + o, k);
                o += k;
        } while (o < n);
        if (digest_hex(d, n_bytes, buf, sizeof(buf)) < 0)
                return NULL;
        return buf;
}

/* The hex of the strings (a NULL ends them) added with digest_add_string(). */
static const char *hex_of_strings(size_t n_bytes, const char *s, ...) {
        static char buf[2 * DIGEST_SIZE + 1];
        _cleanup_(digest_freep) struct digest *d = NULL;
        va_list ap;

        if (digest_new(&d) < 0)
                return NULL;
        va_start(ap, s);
        for (; s; s = va_arg(ap, const char *))
                digest_add_string(d, s);
        va_end(ap);
        if (digest_hex(d, n_bytes, buf, sizeof(buf)) < 0)
                return NULL;
        return buf;
}

int main(void) {
        _cleanup_(digest_freep) struct digest *d = NULL;
        char buf[2 * DIGEST_SIZE + 1], want[2 * DIGEST_SIZE + 1];
        char *million;

        for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                TAP_IS_STR(hex_of(vectors[i].msg, 0, DIGEST_SIZE), vectors[i].sha256,
                           "SHA-256 of a %zu-byte NIST message", strlen(vectors[i].msg));
                TAP_IS_STR(hex_of(vectors[i].msg, 1, DIGEST_SIZE), vectors[i].sha256,
                           "  the same, a byte at a time");
                TAP_IS_STR(hex_of(vectors[i].msg, 7, DIGEST_SIZE), vectors[i].sha256,
                           "  the same, 7 bytes at a time");
        }
        million = malloc(1000000 + 1);
        if (!million)
                return 1;
        memset(million, 'a', 1000000);
        million[1000000] = '\0';
        TAP_IS_STR(hex_of(million, 0, DIGEST_SIZE), MILLION_A, "SHA-256 of a million 'a's");
        TAP_IS_STR(hex_of(million, 1000, DIGEST_SIZE), MILLION_A, "  the same, 1000 bytes at a time");
        free(million);

        /* The first n bytes: the alert id's 16, drift's 8, and one. */
        memcpy(want, vectors[1].sha256, 32);
        want[32] = '\0';
        TAP_IS_STR(hex_of("abc", 0, 16), want, "the first 16 bytes: the first 32 hex digits");
        want[16] = '\0';
        TAP_IS_STR(hex_of("abc", 0, 8), want, "the first 8 bytes: the first 16 hex digits");
        TAP_IS_STR(hex_of("abc", 0, 1), "ba", "the first byte");

        /* Strings with their NUL (the values from Python's hashlib.sha256 of the same bytes). */
        TAP_IS_STR(hex_of_strings(DIGEST_SIZE, "abc", NULL),
                   "dc1114cd074914bd872cc1f9a23ec910ea2203bc79779ab2e17da25782a624fc",
                   "a string is hashed with its NUL: SHA-256 of \"abc\\0\"");
        TAP_IS_STR(hex_of_strings(DIGEST_SIZE, "ab", "c", NULL),
                   "629c2f14f654f026086f2aefe1855533d0897f49df86a19073be17b237361b09",
                   "\"ab\", \"c\": SHA-256 of \"ab\\0c\\0\"");
        TAP_IS_STR(hex_of_strings(DIGEST_SIZE, "a", "bc", NULL),
                   "aa795aa4bbb6117911ef062e271bcb05ccfd58ea439da7d46a44e3a3fcefa790",
                   "\"a\", \"bc\": SHA-256 of \"a\\0bc\\0\", another digest");

        /* Refusals: buf untouched. */
        TAP_IS_INT(digest_new(&d), 0, "a digest");
        digest_add(d, "abc", 3);
        memset(buf, 'x', sizeof(buf));
        TAP_IS_INT(digest_hex(d, 0, buf, sizeof(buf)), -EINVAL, "no bytes: refused");
        TAP_IS_INT(digest_hex(d, DIGEST_SIZE + 1, buf, sizeof(buf)), -EINVAL,
                   "more bytes than SHA-256 has: refused");
        TAP_IS_INT(digest_hex(d, 16, buf, 32), -EINVAL, "no room for the NUL: refused");
        tap_ok(buf[0] == 'x' && buf[32] == 'x', "  and the buffer is untouched");
        TAP_IS_INT(digest_hex(d, 16, buf, 33), 0, "then room for 16 bytes and the NUL");
        memcpy(want, vectors[1].sha256, 32);
        want[32] = '\0';
        TAP_IS_STR(buf, want, "  the digest of what was added before the refusals");
        return tap_done();
}
