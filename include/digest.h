/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * SHA-256 over a sequence of byte pieces, handed out as lower-case hex of its first bytes: the
 * alert id (alert.h) and baseline drift's evidence digest. The hashing is libcrypto's EVP.
 * A digest is owned by its caller from digest_new() to digest_free(); the pieces are read during
 * the call only. Nothing logs.
 */

#include <stddef.h>

#include "macro.h"

#define DIGEST_SIZE 32 /* bytes of a SHA-256 digest */

struct digest;

/* A new SHA-256 digest in *ret (written on success only). Returns 0, -ENOMEM or -EIO. */
_warn_unused_ int digest_new(struct digest **ret);

/* Frees d (NULL is fine); returns NULL. */
struct digest *digest_free(struct digest *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct digest *, digest_free);

/*
 * Add n bytes of p. A failure is kept and returned by digest_hex(); pieces added after it are
 * ignored, so a sequence of adds needs one check at the end.
 */
void digest_add(struct digest *d, const void *p, size_t n);

/* Add s with its terminating NUL, so that the pieces "ab", "c" and "a", "bc" differ. */
void digest_add_string(struct digest *d, const char *s);

/*
 * Finish d: the first n_bytes (1..DIGEST_SIZE) of the digest as 2 * n_bytes hex digits and a NUL
 * in buf, which holds size bytes (at least 2 * n_bytes + 1). Returns 0, -EINVAL (n_bytes or size
 * out of range; buf untouched) or -EIO (an add or the final step failed; buf untouched). Nothing
 * can be added to d afterwards.
 */
_warn_unused_ int digest_hex(struct digest *d, size_t n_bytes, char *buf, size_t size);
