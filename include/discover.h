/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Baseline discovery: with no --authorized-keys, the authorized_keys files of every account, read
 * as root from directories their owners write. Each ~/.ssh/authorized_keys{,2} is opened without
 * following a symbolic link in the home, .ssh or the file itself, without waiting (a FIFO), and
 * read only when sshd itself would accept it under StrictModes: a regular file owned by the
 * account or root and writable by neither group nor others, in a .ssh and a home that pass the
 * same test; at most DISCOVER_FILE_MAX bytes. Everything else is skipped and listed with the
 * reason (only src/cmd/ prints), so that a user can neither hang keytrail, nor lend another
 * account's keys to their own, nor blind it by breaking their own file (malformed lines are
 * skipped and counted, as sshd ignores them).
 */

#include <stdbool.h>
#include <stddef.h>

#include "baseline.h"
#include "macro.h"

#define DISCOVER_FILE_MAX (8 * 1024 * 1024) /* bytes read of one file (8 MiB) */
#define DISCOVER_FILES_MAX 1000000          /* files listed; more are only counted */

enum discover_verdict {
        DISCOVER_READ,          /* read: keys and skipped lines in the entry */
        DISCOVER_SYMLINK,       /* the file, .ssh or the home is a symbolic link */
        DISCOVER_NOT_REGULAR,   /* a FIFO, device, socket or directory (or .ssh/home not a dir) */
        DISCOVER_HARD_LINK,     /* a file with more than one name */
        DISCOVER_OWNER,         /* owned by neither the account nor root */
        DISCOVER_WRITABLE,      /* writable by its group or by others */
        DISCOVER_TOO_BIG,       /* longer than DISCOVER_FILE_MAX */
        DISCOVER_FUSE,          /* on a FUSE file system (its server could stall every read) */
        DISCOVER_DENIED,        /* permission denied (keytrail not run as root) */
        DISCOVER_ERROR,         /* another error (error) */
        _DISCOVER_VERDICT_MAX,
        _DISCOVER_VERDICT_INVALID = -EINVAL,
};

/* "read", "symbolic link", ...: a phrase for a message. */
const char *discover_verdict_to_string(enum discover_verdict v);

struct discover_file {
        char *user;                  /* owned */
        char *path;                  /* owned: HOME/.ssh/authorized_keys or ..._keys2 */
        char *offender;              /* owned: the path at fault (the file, .ssh or the home);
                                        NULL when read */
        enum discover_verdict verdict;
        int error;                   /* DISCOVER_ERROR, DISCOVER_DENIED: -errno */
        unsigned keys;               /* DISCOVER_READ: keys taken into the baseline */
        unsigned bad_lines;          /* DISCOVER_READ: malformed lines skipped */
        unsigned first_bad_line;     /* DISCOVER_READ, bad_lines > 0: the first one */
        const char *first_bad_what;  /* static: what was wrong with it */
};

struct discover_result {
        struct discover_file *files; /* owned: every file found, read or skipped, in the order of
                                        the password database */
        size_t n;
        size_t more;                 /* files beyond DISCOVER_FILES_MAX, not listed */
        size_t accounts;             /* accounts looked at */
};

struct discover_options {
        const char *passwd;          /* borrowed: read accounts from this passwd(5) file; NULL:
                                        the password database (getpwent()) */
        const char *const *names;    /* borrowed, NULL-terminated, relative to the home; NULL:
                                        sshd's default AuthorizedKeysFile, .ssh/authorized_keys
                                        and .ssh/authorized_keys2 */
};

/*
 * Add what discovery finds to b, each file's keys bound to its account. Returns 0 with *ret filled
 * (the caller owns it: discover_result_done()), -ENOMEM, or -errno when the account list cannot be
 * read. A file skipped is no error.
 */
_warn_unused_ int baseline_discover(struct baseline *b, const struct discover_options *o,
                                    struct discover_result *ret);

void discover_result_done(struct discover_result *r);
