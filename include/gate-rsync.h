/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The request checker of keytrail-gate: decides whether the command a client sent through sshd
 * (SSH_ORIGINAL_COMMAND) may run, and if so turns it into the argument vector to execv().
 *
 * gate_check() and gate_protect() are pure functions over bytes: no I/O, no environment, no logging
 * (fuzzable). The checks that need the file system (no symlink on the way to any path inside DIR,
 * DIR exists; include/gate-path.h) are left to the caller, which gets the DIR-relative paths to
 * resolve in the verdict. What the installed rsync supports is parsed from its --help output
 * (gate_rsync_features()); gate_protect() then adds the protective server options.
 *
 * Two modes, usable together (a request passes if either mode lets it through):
 *   exact  the request equals one of the --allow strings, byte for byte;
 *   rsync  the request is `rsync --server [--sender] OPTIONS . PATH...` in the allowed direction,
 *          with options from a safe list only and every path confined to DIR.
 *
 * Tokens are separated by runs of spaces; "\ " (backslash, space) is a literal space, which is how
 * rsync >= 3.2.4 clients send a path containing a space. Any other backslash, and every byte of
 * GATE_SHELL_METACHARACTERS, refuses the request: no shell ever sees it, but nothing legitimate sends
 * them either, and a refusal is the loudest signal we can give.
 */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define GATE_COMMAND_MAX 16384 /* bytes in SSH_ORIGINAL_COMMAND */
#define GATE_ARG_MAX 4096      /* bytes in one token (PATH_MAX) */
#define GATE_ARGS_MAX 256      /* tokens in one request */

/* Bytes refused anywhere in a request (besides control characters, DEL and NUL). */
#define GATE_SHELL_METACHARACTERS ";&|$`<>(){}[]*?!~'\"#\\"

/*
 * KEYTRAIL_REASON values (include/gate-log.h). Stable strings: never rename one, only add. The first
 * two go with KEYTRAIL_VERDICT=allowed, all others with rejected.
 */
enum gate_reason {
        GATE_REASON_EXACT_MATCH,          /* "exact-match": equals an --allow string */
        GATE_REASON_RSYNC_DIR,            /* "rsync-dir": passed the rsync checks */
        GATE_REASON_NO_COMMAND,           /* "no-command": no SSH_ORIGINAL_COMMAND (interactive) */
        GATE_REASON_TOO_LONG,             /* "too-long": request, token or token count over a max */
        GATE_REASON_CONTROL_CHARACTERS,   /* "control-characters": NUL, newline, tab, ESC, DEL... */
        GATE_REASON_INVALID_UTF8,         /* "invalid-utf8": bytes >= 0x80 that are not UTF-8 */
        GATE_REASON_SHELL_METACHARACTERS, /* "shell-metacharacters": a GATE_SHELL_METACHARACTERS byte */
        GATE_REASON_NOT_ALLOWED,          /* "not-allowed": exact mode only, and no match */
        GATE_REASON_NOT_RSYNC,            /* "not-rsync": not `rsync --server ...` */
        GATE_REASON_WRONG_DIRECTION,      /* "wrong-direction": pull on write-only, push on read-only */
        GATE_REASON_FORBIDDEN_OPTION,     /* "forbidden-option": a known option this key may not use */
        GATE_REASON_UNKNOWN_OPTION,       /* "unknown-option": not in the safe list */
        GATE_REASON_BAD_SYNTAX,           /* "bad-syntax": no "." separator, no path, missing value */
        GATE_REASON_PATH_OUTSIDE_DIR,     /* "path-outside-dir": "..", absolute path outside DIR */
        GATE_REASON_PATH_SYMLINK,         /* "path-symlink": a symlink on the way (run time) */
        GATE_REASON_DIR_UNAVAILABLE,      /* "dir-unavailable": cannot enter DIR (run time) */
        GATE_REASON_EXEC_FAILED,          /* "exec-failed": execv() of the allowed command failed */
        GATE_REASON_USAGE_ERROR,          /* "usage-error": the gate's own options are wrong */
        GATE_REASON_RSYNC_UNSUPPORTED,    /* "rsync-unsupported": the installed rsync lacks a
                                           * protective option the gate must pass (run time) */
        _GATE_REASON_MAX,
        _GATE_REASON_INVALID = -EINVAL,
};

/* Returns a static string, or NULL for an out-of-range value. */
const char *gate_reason_to_string(enum gate_reason r);
/* Returns the reason, or _GATE_REASON_INVALID. */
enum gate_reason gate_reason_from_string(const char *s);
/* True for the reasons that go with KEYTRAIL_VERDICT=allowed. */
bool gate_reason_is_allowed(enum gate_reason r);

enum gate_access {
        GATE_ACCESS_READ_ONLY,  /* client may only pull: `--sender` required */
        GATE_ACCESS_WRITE_ONLY, /* client may only push: `--sender` refused */
        _GATE_ACCESS_MAX,
        _GATE_ACCESS_INVALID = -EINVAL,
};

struct gate_policy {
        const char *const *allow; /* borrowed: NULL-terminated --allow strings, or NULL; each
                                   * must split with gate_split() (gate_policy_validate()) */
        const char *dir;  /* borrowed: rsync mode's DIR, or NULL for no rsync mode. Absolute and
                           * canonical (what realpath() returns): no "//", ".", ".." or trailing "/" */
        enum gate_access access; /* rsync mode only */
        bool no_delete;   /* rsync mode: also refuse --delete* and --remove-* when writing */
};

/*
 * Check a policy before use. Returns 0, or -EINVAL with *reterr_what set to a static English phrase
 * ("no --allow and no --rsync-dir", "--allow command must start with 'rsync' or an absolute path",
 * "--rsync-dir must be an absolute canonical path", ...).
 */
_warn_unused_ int gate_policy_validate(const struct gate_policy *p, const char **reterr_what);

/*
 * The outcome of gate_check(). Every pointer is owned; gate_verdict_done() frees them and resets
 * the struct. A verdict starts zeroed (struct gate_verdict v = {};).
 */
struct gate_verdict {
        bool allowed;
        enum gate_reason reason;
        const char *what;       /* static English phrase for the client's stderr line */
        char *token;            /* refused: copy of the offending token (unescaped), or NULL */
        char **argv;            /* allowed: NULL-terminated vector for execv(); argv[0] is the
                                 * request's first word ("rsync" or an absolute path) */
        size_t argc;
        bool sender;            /* allowed in rsync mode: the server sends (client pulls) */
        bool devices;           /* allowed in rsync mode: the request asks for devices or specials
                                 * (-D, --devices, --specials) */
        size_t dot;             /* allowed in rsync mode: index in argv of the "." before the paths */
        char **resolve_paths;   /* allowed in rsync mode: NULL-terminated normalised DIR-relative
                                 * paths ("backup/a b", "." for DIR itself), every path argument and
                                 * path-valued option value, that the caller must resolve inside DIR
                                 * without meeting a symlink (gate_path_resolve()) before exec */
};

void gate_verdict_done(struct gate_verdict *v);

/*
 * Decide on a request of len bytes (cmd == NULL: no command). Returns 0 with *ret filled (allowed
 * or refused, see ret->allowed and ret->reason), or -ENOMEM with *ret untouched. *ret must be zeroed
 * or done on entry.
 */
_warn_unused_ int gate_check(const struct gate_policy *p, const char *cmd, size_t len,
                             struct gate_verdict *ret);

/* What the installed rsync offers, from `rsync --help` (gate_rsync_features()). */
enum {
        GATE_RSYNC_MUNGE_LINKS = 1 << 0, /* --munge-links (rsync >= 3.1.0) */
        GATE_RSYNC_CONFINE_ROOT = 1 << 1, /* --confine-root=DIR (rsync >= 3.5.0) */
        GATE_RSYNC_DROP_D = 1 << 2,      /* --drop-D (rsync >= 3.5.0) */
};

/* The GATE_RSYNC_* flags for the options named in len bytes of `rsync --help` output. */
unsigned gate_rsync_features(const char *help, size_t len);

/*
 * Add to an allowed rsync-mode verdict the server options that do not depend on the client
 * (docs/gate.md): always --munge-links and --confine-root=DIR; on a receiver --drop-D; on a
 * write-only receiver --whole-file. dir is the policy's DIR. Returns 1 with v->argv rewritten (the
 * options go right before the "."), 0 when the installed rsync (features) lacks an option this
 * request needs (v is then a refusal, GATE_REASON_RSYNC_UNSUPPORTED), -ENOMEM.
 */
_warn_unused_ int gate_protect(struct gate_verdict *v, const struct gate_policy *p,
                               unsigned features);

/*
 * Split a request into tokens as described at the top (no checks beyond splitting). Returns 0 and a
 * NULL-terminated owned vector in *ret (at least one token), -EBADMSG for an empty request, a
 * backslash not followed by a space, or a NUL byte, -E2BIG over GATE_ARG_MAX/GATE_ARGS_MAX, -ENOMEM.
 */
_warn_unused_ int gate_split(const char *cmd, size_t len, char ***ret);
