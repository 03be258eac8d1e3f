/* SPDX-License-Identifier: MIT */
/* SHA-256 pieces to hex (digest.h): a thin wrapper around libcrypto's EVP digest. */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"

struct digest {
        EVP_MD_CTX *ctx;
        int error;      /* the first failure, 0 while none */
        bool finished;  /* digest_hex() was called */
};

int digest_new(struct digest **ret) {
        _cleanup_(digest_freep) struct digest *d = NULL;

        assert(ret);

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->ctx = EVP_MD_CTX_new();
        if (!d->ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
                return -EIO;
        *ret = TAKE_PTR(d);
        return 0;
}

struct digest *digest_free(struct digest *d) {
        if (!d)
                return NULL;
        EVP_MD_CTX_free(d->ctx);
        free(d);
        return NULL;
}

void digest_add(struct digest *d, const void *p, size_t n) {
        assert(d);
        assert(!d->finished);
        assert(p || n == 0);

        if (d->error < 0 || n == 0)
                return;
        if (EVP_DigestUpdate(d->ctx, p, n) != 1)
                d->error = -EIO;
}

void digest_add_string(struct digest *d, const char *s) {
        assert(s);
        digest_add(d, s, strlen(s) + 1);
}

int digest_hex(struct digest *d, size_t n_bytes, char *buf, size_t size) {
        static const char xdigits[] = "0123456789abcdef";
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;

        assert(d);
        assert(!d->finished);
        assert(buf || size == 0);

        if (n_bytes == 0 || n_bytes > DIGEST_SIZE || size < 2 * n_bytes + 1)
                return -EINVAL;
        d->finished = true;
        if (d->error < 0)
                return d->error;
        if (EVP_DigestFinal_ex(d->ctx, md, &md_len) != 1 || md_len != DIGEST_SIZE)
                return -EIO;
        for (size_t i = 0; i < n_bytes; i++) {
                buf[2 * i] = xdigits[md[i] >> 4];
                buf[2 * i + 1] = xdigits[md[i] & 0xf];
        }
        buf[2 * n_bytes] = '\0';
        return 0;
}
