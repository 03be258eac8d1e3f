/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The baseline file (docs/baseline.md): what `keytrail baseline` writes as root, and what
 * `--baseline FILE` reads, so that a service needs no access to home directories. One record per
 * line: a header naming the format version, how sshd finds authorized_keys (AuthorizedKeysFile,
 * AuthorizedKeysCommand), the accounts covered, the files looked at (read, absent, refused) and one
 * record per key with its account, location (FILE:LINE), fingerprint, type and the authorized_keys
 * line as written. Key lines are parsed by authkeys_parse_line() (the one parser of key lines), and
 * the recorded fingerprint and type must be what it computes.
 *
 * Ownership: a struct baseline_file owns every string and key in it; baseline_file_free() releases
 * it. Never logs; the writer writes to the caller's stream.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "authkeys.h"
#include "baseline.h"
#include "macro.h"

#define BASELINE_FILE_VERSION 1
/* A key record is an authorized_keys line plus the account, location, fingerprint and type. */
#define BASELINE_FILE_LINE_MAX (AUTHKEYS_LINE_MAX + 16 * 1024)
#define BASELINE_FILE_RECORDS_MAX (1024 * 1024) /* of each kind */

enum baseline_path_state {
        BASELINE_PATH_READ,    /* opened and read; its keys are key records */
        BASELINE_PATH_ABSENT,  /* does not exist (sshd would find no key there) */
        BASELINE_PATH_REFUSED, /* exists but was not read: reason says why */
        _BASELINE_PATH_STATE_MAX,
        _BASELINE_PATH_STATE_INVALID = -EINVAL,
};

const char *baseline_path_state_to_string(enum baseline_path_state s);
enum baseline_path_state baseline_path_state_from_string(const char *s);

struct baseline_path {
        char *user;   /* owned */
        char *path;   /* owned */
        enum baseline_path_state state;
        char *reason; /* owned; REFUSED only: a short phrase ("symbolic link", "writable by group") */
};

struct baseline_key {
        char *user;          /* owned: the account the key opens */
        struct authkey *key; /* owned; key->file and key->line are the location sshd logs
                              * ("found at FILE:LINE"), key->text the line as written */
};

struct baseline_file {
        /* AuthorizedKeysFile as sshd -T prints it (space-separated patterns, %h %u %U %% not yet
         * expanded), or "none"; NULL when not recorded. */
        char *authorized_keys_file;
        bool authorized_keys_file_default; /* sshd -T was not available: sshd's default assumed */
        char *authorized_keys_command;     /* AuthorizedKeysCommand when set (out of reach), else NULL */
        char **accounts;                   /* owned; every account covered, in order */
        size_t n_accounts;
        struct baseline_path *paths;       /* owned */
        size_t n_paths;
        struct baseline_key *keys;         /* owned */
        size_t n_keys;
        size_t alloc_accounts, alloc_paths, alloc_keys; /* private: allocated lengths */
};

struct baseline_file *baseline_file_new(void); /* NULL on OOM only */
struct baseline_file *baseline_file_free(struct baseline_file *bf);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct baseline_file *, baseline_file_free);

/* Set the AuthorizedKeysFile / AuthorizedKeysCommand records (copied). 0 or -ENOMEM, -EINVAL for
 * an empty value. */
_warn_unused_ int baseline_file_set_sshd(struct baseline_file *bf, const char *authorized_keys_file,
                                         bool is_default, const char *authorized_keys_command);

/* Add a covered account (copied; a repeat is ignored). 0, -EINVAL (empty name, or one with a NUL
 * or newline), -ENOSPC, -ENOMEM. */
_warn_unused_ int baseline_file_add_account(struct baseline_file *bf, const char *user);

/* Add a file looked at for user (copied); reason only with BASELINE_PATH_REFUSED (may be NULL).
 * The account is added to the covered ones. 0, -EINVAL, -ENOSPC, -ENOMEM. */
_warn_unused_ int baseline_file_add_path(struct baseline_file *bf, const char *user, const char *path,
                                         enum baseline_path_state state, const char *reason);

/*
 * Add a key of user: takes ownership of key on success only. key->file, key->line and key->text
 * must be set (as authkeys_parse_file() sets them): -EINVAL otherwise. The account is added to the
 * covered ones. 0, -EINVAL, -ENOSPC, -ENOMEM.
 */
_warn_unused_ int baseline_file_add_key(struct baseline_file *bf, const char *user,
                                        struct authkey *key);

/*
 * Write bf to f in the documented format (a header, then the records in the order added). comment
 * (may be NULL) is written as "# " lines after the header; it must not contain newlines other than
 * as separators. Returns 0, or -EIO (with errno's value when it has one) when writing failed.
 */
_warn_unused_ int baseline_file_write(const struct baseline_file *bf, const char *comment, FILE *f);

/*
 * Read a baseline file from f (name is only for the locations of errors). Returns 0 and *ret, or
 * -EBADMSG / -E2BIG for a malformed file with *reterr_line (1-based) and *reterr_what (a static
 * English phrase: "unknown record", "fingerprint does not match the key", ...; never input bytes),
 * -ENOSPC when a table is full (line set), -ENOMEM, -errno on I/O errors. reterr_* may be NULL.
 */
_warn_unused_ int baseline_file_read(FILE *f, struct baseline_file **ret, unsigned *reterr_line,
                                     const char **reterr_what);

/* The same, from a path (opened read-only, close-on-exec). */
_warn_unused_ int baseline_file_load(const char *path, struct baseline_file **ret,
                                     unsigned *reterr_line, const char **reterr_what);

/*
 * Move bf's keys and covered accounts into b, in order: every account recorded is covered, even one
 * with no key. The keys leave bf (bf->n_keys becomes 0); on failure, keys not yet moved stay in bf.
 * 0, -ENOSPC, -ENOMEM.
 */
_warn_unused_ int baseline_file_apply(struct baseline_file *bf, struct baseline *b);

/* How a key differs between two baseline files (old: the recorded baseline, new: the live one). */
enum baseline_change {
        BASELINE_KEY_ADDED,           /* in new only */
        BASELINE_KEY_REMOVED,         /* in old only */
        BASELINE_KEY_OPTIONS_CHANGED, /* same account, file and key; command=, from=, restrict or
                                       * another option differs */
        BASELINE_KEY_MOVED,           /* same account, file, key and options; only its line
                                       * number or comment differs */
        _BASELINE_CHANGE_MAX,
        _BASELINE_CHANGE_INVALID = -EINVAL,
};

const char *baseline_change_to_string(enum baseline_change c);

/* old_key/new_key: borrowed, NULL for the side where the key is not. Return < 0 to stop. */
typedef int (*baseline_change_fn)(void *userdata, enum baseline_change change,
                                  const struct baseline_key *old_key,
                                  const struct baseline_key *new_key);

/*
 * Compare the keys of old and new. A key is the same key in both when account, file and
 * fingerprint are equal (several of one fingerprint in a file are paired in order). Reports each
 * difference through fn, REMOVED and changes in old's order, then ADDED in new's. Returns the number
 * of differences (>= 0), -ENOMEM, or fn's negative value.
 */
_warn_unused_ int baseline_file_diff(const struct baseline_file *old, const struct baseline_file *new,
                                     baseline_change_fn fn, void *userdata);
