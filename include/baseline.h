/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What each key is meant to do: the authorized_keys entries of the accounts the administrator
 * named (--authorized-keys [USER:]PATH) or, by default, of every account in the password database
 * whose authorized_keys file is readable. The baseline owns its keys. Lookups return borrowed
 * pointers valid as long as the baseline.
 */

#include <stdbool.h>
#include <stddef.h>

#include "authkeys.h"
#include "macro.h"

struct baseline;

struct baseline_entry {
        struct authkey *key; /* owned by the baseline */
        char *user;          /* owned; NULL: the entry applies to every account */
};

struct baseline *baseline_new(void); /* NULL on OOM only */
struct baseline *baseline_free(struct baseline *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct baseline *, baseline_free);

/*
 * Add the entries of one authorized_keys file, bound to user (NULL: every account). Strict: a
 * malformed line fails with -EBADMSG and *reterr_line / *reterr_what (entries before it are kept).
 * Lenient: malformed lines are skipped, counted in *ret_skipped. *ret_keys (may be NULL) gets the
 * number of keys added. I/O errors: -errno.
 */
_warn_unused_ int baseline_add_file(struct baseline *b, const char *user, const char *path,
                                    bool strict, unsigned *ret_keys, unsigned *ret_skipped,
                                    unsigned *reterr_line, const char **reterr_what);

/* The same over len bytes at data (borrowed) read as the file name. */
_warn_unused_ int baseline_add_buffer(struct baseline *b, const char *user, const char *name,
                                      const char *data, size_t len, bool strict,
                                      unsigned *ret_keys, unsigned *ret_skipped,
                                      unsigned *reterr_line, const char **reterr_what);

/*
 * Add one key bound to user (NULL: every account); the account becomes covered. Takes ownership of
 * key on success only (0); -ENOSPC when the baseline is full, -ENOMEM.
 */
_warn_unused_ int baseline_add_key(struct baseline *b, const char *user, struct authkey *key);

/* Mark an account as covered (unknown keys into it are alerted) even with no key in the baseline. */
_warn_unused_ int baseline_cover_user(struct baseline *b, const char *user);

/* Whether a login into this account is judged: it is named by an entry, or an entry has no user. */
bool baseline_covers_user(const struct baseline *b, const char *user);

/*
 * The entry that governs a login of key fingerprint into user: an entry of that user (or one with
 * no user) with that fingerprint; among several, the one whose FILE:LINE equals location (when
 * given), else the first. NULL when none; then *ret_other (may be NULL) gets an entry of the same
 * key bound to another account, or NULL when the key is not in the baseline at all.
 */
const struct baseline_entry *baseline_lookup(const struct baseline *b, const char *fingerprint,
                                             const char *user, const char *location,
                                             const struct baseline_entry **ret_other);

/* The entry whose FILE:LINE is location, for lines that name the location but not the key. */
const struct baseline_entry *baseline_lookup_location(const struct baseline *b,
                                                      const char *location);

size_t baseline_size(const struct baseline *b);

/* The i-th entry in load order (borrowed), NULL when i >= baseline_size(). */
const struct baseline_entry *baseline_entry_at(const struct baseline *b, size_t i);
