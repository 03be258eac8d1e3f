/* SPDX-License-Identifier: MIT */
/*
 * keytrail-gate's request checker: exact matching and the `rsync --server` argument checker. A pure
 * function over bytes; owns nothing beyond the verdict it fills. The option table follows rrsync's
 * (RsyncProject/rsync support/rrsync) in spirit, and is stricter where rrsync trusts the protocol:
 * see docs/gate.md for the reasons behind each refusal.
 */

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate-rsync.h"
#include "macro.h"
#include "string-table.h"

static const char *const reason_table[_GATE_REASON_MAX] = {
        [GATE_REASON_EXACT_MATCH] = "exact-match",
        [GATE_REASON_RSYNC_DIR] = "rsync-dir",
        [GATE_REASON_NO_COMMAND] = "no-command",
        [GATE_REASON_TOO_LONG] = "too-long",
        [GATE_REASON_CONTROL_CHARACTERS] = "control-characters",
        [GATE_REASON_INVALID_UTF8] = "invalid-utf8",
        [GATE_REASON_SHELL_METACHARACTERS] = "shell-metacharacters",
        [GATE_REASON_NOT_ALLOWED] = "not-allowed",
        [GATE_REASON_NOT_RSYNC] = "not-rsync",
        [GATE_REASON_WRONG_DIRECTION] = "wrong-direction",
        [GATE_REASON_FORBIDDEN_OPTION] = "forbidden-option",
        [GATE_REASON_UNKNOWN_OPTION] = "unknown-option",
        [GATE_REASON_BAD_SYNTAX] = "bad-syntax",
        [GATE_REASON_PATH_OUTSIDE_DIR] = "path-outside-dir",
        [GATE_REASON_PATH_SYMLINK] = "path-symlink",
        [GATE_REASON_DIR_UNAVAILABLE] = "dir-unavailable",
        [GATE_REASON_EXEC_FAILED] = "exec-failed",
        [GATE_REASON_USAGE_ERROR] = "usage-error",
        [GATE_REASON_RSYNC_UNSUPPORTED] = "rsync-unsupported",
};

DEFINE_STRING_TABLE_LOOKUP(gate_reason, enum gate_reason, reason_table)

bool gate_reason_is_allowed(enum gate_reason r) {
        return r == GATE_REASON_EXACT_MATCH || r == GATE_REASON_RSYNC_DIR;
}

/*
 * Long options a client rsync sends to the server (rsync's server_options() in options.c), with what
 * the gate does with each. Anything not listed is "unknown-option".
 */
enum opt_kind {
        OPT_FLAG,       /* no value */
        OPT_VALUE,      /* a value that needs no path check (numbers, names, formats) */
        OPT_PATH,       /* a directory on the server: confined to DIR */
        OPT_FILES_FROM, /* "-" (the list comes over the connection) or a path confined to DIR */
        OPT_DELETE,     /* deletes on the server: refused on read-only and with --no-delete */
        OPT_DEVICES,    /* a flag asking for devices or specials */
        OPT_LOG_FORMAT, /* only the values a stock client sends */
        OPT_SUFFIX,     /* a value without '/' */
        OPT_FORBIDDEN,  /* never */
};

struct opt_def {
        const char *name;
        enum opt_kind kind;
        const char *why; /* OPT_FORBIDDEN, wo_reads, OPT_FILES_FROM: the phrase for the client */
        bool wo_reads;   /* a read oracle for a receiver: refused on write-only (docs/gate.md) */
};

static const struct opt_def long_opts[] = {
        { "append", OPT_FLAG,
          "--append reveals the size (and, given twice, the content) of files in the directory",
          true },
        { "backup-dir", OPT_PATH },
        { "block-size", OPT_VALUE,
          "--block-size chooses the checksums a write-only key gets back of files in the directory",
          true },
        { "bwlimit", OPT_VALUE },
        { "checksum-choice", OPT_VALUE },
        { "checksum-seed", OPT_VALUE },
        { "compare-dest", OPT_PATH,
          "--compare-dest makes the receiver read and compare other files", true },
        { "compress-choice", OPT_VALUE },
        { "compress-level", OPT_VALUE },
        { "compress-threads", OPT_VALUE },
        { "config", OPT_FORBIDDEN, "--config reads a daemon configuration" },
        { "copy-dest", OPT_PATH,
          "--copy-dest makes the receiver read other files as a delta basis", true },
        { "copy-devices", OPT_FORBIDDEN, "--copy-devices reads device contents" },
        { "copy-dirlinks", OPT_FORBIDDEN, "--copy-dirlinks follows symlinks out of the directory" },
        { "copy-links", OPT_FORBIDDEN, "--copy-links follows symlinks out of the directory" },
        { "copy-unsafe-links", OPT_FORBIDDEN,
          "--copy-unsafe-links follows symlinks out of the directory" },
        { "daemon", OPT_FORBIDDEN, "--daemon is not allowed" },
        { "debug", OPT_FORBIDDEN,
          "--debug from the client is not allowed (server diagnostics quote files)" },
        { "delay-updates", OPT_FLAG },
        { "delete", OPT_DELETE },
        { "delete-after", OPT_DELETE },
        { "delete-before", OPT_DELETE },
        { "delete-delay", OPT_DELETE },
        { "delete-during", OPT_DELETE },
        { "delete-excluded", OPT_DELETE },
        { "delete-missing-args", OPT_DELETE },
        { "devices", OPT_DEVICES },
        { "existing", OPT_FLAG },
        { "fake-super", OPT_FLAG },
        { "files-from", OPT_FILES_FROM,
          "a write-only key may not make the server read a --files-from file" },
        { "force", OPT_FLAG },
        { "from0", OPT_FLAG },
        { "fsync", OPT_FLAG },
        { "fuzzy", OPT_FLAG },
        { "group", OPT_FLAG },
        { "groupmap", OPT_VALUE },
        { "hard-links", OPT_FLAG },
        { "iconv", OPT_VALUE },
        { "ignore-errors", OPT_FLAG },
        { "ignore-existing", OPT_FLAG },
        { "ignore-missing-args", OPT_FLAG },
        { "ignore-times", OPT_FLAG },
        { "info", OPT_FORBIDDEN,
          "--info from the client is not allowed (server diagnostics name files)" },
        { "inplace", OPT_FLAG },
        { "keep-dirlinks", OPT_FORBIDDEN, "--keep-dirlinks follows symlinks out of the directory" },
        { "link-dest", OPT_PATH,
          "--link-dest makes the receiver read and compare other files", true },
        { "links", OPT_FLAG },
        { "list-only", OPT_FLAG },
        { "log-file", OPT_FORBIDDEN, "--log-file writes a file chosen by the client" },
        { "log-file-format", OPT_FORBIDDEN, "--log-file-format is not allowed" },
        { "log-format", OPT_LOG_FORMAT },
        { "max-alloc", OPT_VALUE },
        { "max-delete", OPT_VALUE },
        { "max-size", OPT_VALUE },
        { "min-size", OPT_VALUE },
        { "mkpath", OPT_FLAG },
        { "modify-window", OPT_VALUE },
        { "msgs2stderr", OPT_FLAG },
        { "munge-links", OPT_FLAG },
        { "new-compress", OPT_FLAG },
        { "no-W", OPT_FLAG },
        { "no-implied-dirs", OPT_FLAG },
        { "no-msgs2stderr", OPT_FLAG },
        { "no-munge-links", OPT_FORBIDDEN, "--no-munge-links is not allowed" },
        { "no-r", OPT_FLAG },
        { "no-relative", OPT_FLAG },
        { "no-specials", OPT_FLAG },
        { "numeric-ids", OPT_FLAG },
        { "old-compress", OPT_FLAG },
        { "one-file-system", OPT_FLAG },
        { "only-write-batch", OPT_FORBIDDEN, "batch files are not allowed" },
        { "open-noatime", OPT_FLAG },
        { "owner", OPT_FLAG },
        { "partial", OPT_FLAG },
        { "partial-dir", OPT_PATH },
        { "perms", OPT_FLAG },
        { "preallocate", OPT_FLAG },
        { "protect-args", OPT_FORBIDDEN, "--protect-args hides the paths from the gate" },
        { "read-batch", OPT_FORBIDDEN, "batch files are not allowed" },
        { "recursive", OPT_FLAG },
        { "remote-option", OPT_FORBIDDEN, "--remote-option is not allowed" },
        { "remove-sent-files", OPT_DELETE },
        { "remove-source-files", OPT_DELETE },
        { "rsh", OPT_FORBIDDEN, "--rsh (remote shell) is not allowed" },
        { "rsync-path", OPT_FORBIDDEN, "--rsync-path is not allowed" },
        { "safe-links", OPT_FLAG },
        { "secluded-args", OPT_FORBIDDEN, "--secluded-args hides the paths from the gate" },
        { "sender", OPT_FORBIDDEN, "--sender must come right after --server" },
        { "server", OPT_FORBIDDEN, "--server must come once, first" },
        { "size-only", OPT_FLAG },
        { "skip-compress", OPT_VALUE },
        { "specials", OPT_DEVICES },
        { "stats", OPT_FLAG },
        { "stderr", OPT_VALUE },
        { "suffix", OPT_SUFFIX },
        { "super", OPT_FLAG },
        { "temp-dir", OPT_PATH },
        { "timeout", OPT_VALUE },
        { "times", OPT_FLAG },
        { "use-qsort", OPT_FLAG },
        { "usermap", OPT_VALUE },
        { "write-batch", OPT_FORBIDDEN, "batch files are not allowed" },
        { "write-devices", OPT_FORBIDDEN, "--write-devices writes to devices" },
};

/* Short options rrsync accepts (short_no_arg), less 's' (protect-args) and the symlink followers. */
static const char short_ok[] = "ACDEHIJNORSUWXbcdglmnopqrtuvxyz";
static const char short_numeric[] = "@B";       /* -B<n>, -@<n>: the rest of the token is a number */
static const struct {
        char c;
        bool write_only; /* refused only for a write-only key */
        const char *why;
} short_forbidden[] = {
        { 's', false, "-s (protect-args) hides the paths from the gate" },
        { 'k', false, "-k (copy-dirlinks) follows symlinks out of the directory" },
        { 'K', false, "-K (keep-dirlinks) follows symlinks out of the directory" },
        { 'L', false, "-L (copy-links) follows symlinks out of the directory" },
        { 'B', true, "-B (block size) chooses the checksums a write-only key gets back of files "
                     "in the directory" },
        { 'c', true, "-c (checksum) tells a write-only key whether a file in the directory equals "
                     "a guess" },
};

/* What a stock client sends as --log-format (rsync's server_options()). */
static const char *const log_formats[] = { "X", "%i", "%i%I", "%o" };

void gate_verdict_done(struct gate_verdict *v) {
        if (!v)
                return;
        free(v->token);
        v->argv = strv_free(v->argv);
        v->resolve_paths = strv_free(v->resolve_paths);
        *v = (struct gate_verdict){};
}

int gate_split(const char *cmd, size_t len, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, i = 0;

        assert(ret);

        if (!cmd)
                return -EBADMSG;
        argv = calloc(GATE_ARGS_MAX + 1, sizeof(char *));
        buf = malloc(GATE_ARG_MAX + 1);
        if (!argv || !buf)
                return -ENOMEM;

        for (;;) {
                size_t k = 0;

                while (i < len && cmd[i] == ' ')
                        i++;
                if (i >= len)
                        break;
                if (n >= GATE_ARGS_MAX)
                        return -E2BIG;
                while (i < len && cmd[i] != ' ') {
                        char c = cmd[i++];

                        if (c == '\0')
                                return -EBADMSG;
                        if (c == '\\') {
                                if (i >= len || cmd[i] != ' ')
                                        return -EBADMSG;
                                c = cmd[i++];
                        }
                        if (k >= GATE_ARG_MAX)
                                return -E2BIG;
                        buf[k++] = c;
                }
                argv[n] = strndup(buf, k);
                if (!argv[n])
                        return -ENOMEM;
                n++;
        }
        if (n == 0)
                return -EBADMSG;

        *ret = TAKE_PTR(argv);
        return 0;
}

static size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static bool utf8_valid(const unsigned char *s, size_t len) {
        size_t i = 0;

        while (i < len) {
                unsigned char c = s[i];
                size_t need;
                uint32_t cp, min;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0) {
                        need = 1, cp = c & 0x1f, min = 0x80;
                } else if ((c & 0xf0) == 0xe0) {
                        need = 2, cp = c & 0x0f, min = 0x800;
                } else if ((c & 0xf8) == 0xf0) {
                        need = 3, cp = c & 0x07, min = 0x10000;
                } else
                        return false;
                if (len - i <= need)
                        return false;
                for (size_t j = 1; j <= need; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + j] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += need + 1;
        }
        return true;
}

static int refuse(struct gate_verdict *v, enum gate_reason reason, const char *what,
                  const char *token) {
        v->allowed = false;
        v->reason = reason;
        v->what = what;
        if (token) {
                v->token = strndup(token, GATE_ARG_MAX);
                if (!v->token)
                        return -ENOMEM;
        }
        return 0;
}

/* Byte-level checks that hold for every request not matched exactly. */
static enum gate_reason scan_bytes(const char *cmd, size_t len, const char **ret_what) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) cmd[i];

                if (c < 0x20 || c == 0x7f) {
                        *ret_what = c == 0 ? "NUL byte in the command"
                                           : "control character in the command";
                        return GATE_REASON_CONTROL_CHARACTERS;
                }
        }
        if (!utf8_valid((const unsigned char *) cmd, len)) {
                *ret_what = "the command is not valid UTF-8";
                return GATE_REASON_INVALID_UTF8;
        }
        for (size_t i = 0; i < len; i++) {
                if (cmd[i] == '\\' && i + 1 < len && cmd[i + 1] == ' ') {
                        i++;
                        continue;
                }
                if (strchr(GATE_SHELL_METACHARACTERS, cmd[i])) {
                        *ret_what = "shell metacharacter in the command";
                        return GATE_REASON_SHELL_METACHARACTERS;
                }
        }
        return _GATE_REASON_INVALID;
}

static bool has_dotdot(const char *p) {
        for (const char *s = p; *s;) {
                size_t n = strcspn(s, "/");

                if (n == 2 && s[0] == '.' && s[1] == '.')
                        return true;
                s += n;
                s += strspn(s, "/");
        }
        return false;
}

/*
 * Normalise p (relative to DIR, absolute with the DIR prefix already removed) into "a/b/c": no
 * empty or "." components, no leading or trailing '/'; "." for DIR itself. With base (already
 * normalised), p is taken relative to base. New string in *ret.
 */
static int rel_normalize(const char *base, const char *p, char **ret) {
        size_t cap = (base ? strlen(base) : 0) + strlen(p) + 3, o = 0;
        char *out = malloc(cap);

        if (!out)
                return -ENOMEM;
        if (base && !streq(base, ".")) {
                memcpy(out, base, strlen(base));
                o = strlen(base);
        }
        for (const char *s = p; *s;) {
                size_t n;

                s += strspn(s, "/");
                n = strcspn(s, "/");
                if (n == 0)
                        break;
                if (!(n == 1 && s[0] == '.')) {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, s, n);
                        o += n;
                }
                s += n;
        }
        if (o == 0)
                out[o++] = '.';
        out[o] = '\0';
        *ret = out;
        return 0;
}

/*
 * Is the absolute path p inside dir (or dir itself)? dir is canonical. On success *ret_rest points
 * into p after the dir prefix. "." components and repeated slashes in p are tolerated; ".." has been
 * refused before.
 */
static bool abs_inside(const char *dir, const char *p, const char **ret_rest) {
        const char *d = dir, *s = p;

        if (streq(dir, "/")) {
                *ret_rest = p;
                return true;
        }
        /* Walk dir's components against p's, skipping "." and empty components in p. */
        while (*d) {
                size_t dn, sn;

                d += strspn(d, "/");
                if (!*d)
                        break;
                dn = strcspn(d, "/");
                for (;;) {
                        s += strspn(s, "/");
                        sn = strcspn(s, "/");
                        if (sn == 1 && s[0] == '.') {
                                s += 1;
                                continue;
                        }
                        break;
                }
                if (sn != dn || memcmp(s, d, dn) != 0)
                        return false;
                d += dn;
                s += sn;
        }
        if (*s && *s != '/')
                return false;
        *ret_rest = s;
        return true;
}

/*
 * Confine one path (a path argument, or the value of a path option). Relative paths are relative to
 * DIR (the gate runs rsync from inside DIR); absolute ones must lie under DIR. On success *ret_rest
 * points into path after the DIR prefix (path itself when relative). Returns 1 if confined, 0 if
 * refused (verdict filled), -ENOMEM.
 */
static int confine(const struct gate_policy *p, const char *path, bool is_arg,
                   const char **ret_rest, struct gate_verdict *v) {
        const char *rest = path;
        int r;

        if (path[0] == '\0') {
                r = refuse(v, GATE_REASON_BAD_SYNTAX, "empty path", path);
                return r < 0 ? r : 0;
        }
        if (is_arg && path[0] == '-') {
                r = refuse(v, GATE_REASON_FORBIDDEN_OPTION, "a path may not start with '-'", path);
                return r < 0 ? r : 0;
        }
        if (has_dotdot(path)) {
                r = refuse(v, GATE_REASON_PATH_OUTSIDE_DIR, "'..' is not allowed in paths", path);
                return r < 0 ? r : 0;
        }
        if (path[0] == '/' && !abs_inside(p->dir, path, &rest)) {
                r = refuse(v, GATE_REASON_PATH_OUTSIDE_DIR, "path outside the allowed directory",
                           path);
                return r < 0 ? r : 0;
        }
        *ret_rest = rest;
        return 1;
}

/* Append a normalised path to the resolve list (n entries so far, at most GATE_ARGS_MAX). */
static int resolve_add(char **list, size_t *n, const char *base, const char *rest,
                       struct gate_verdict *v) {
        int r;

        if (*n >= GATE_ARGS_MAX) {
                r = refuse(v, GATE_REASON_TOO_LONG, "too many paths", NULL);
                return r < 0 ? r : 0;
        }
        r = rel_normalize(base, rest, &list[*n]);
        if (r < 0)
                return r;
        (*n)++;
        return 1;
}

static const struct opt_def *long_opt_find(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(long_opts); i++)
                if (strlen(long_opts[i].name) == len && memcmp(long_opts[i].name, name, len) == 0)
                        return &long_opts[i];
        return NULL;
}

/* A short-option cluster "-xyz", possibly ending in the capability string "e[N.N].FLAGS". */
static int check_short(const struct gate_policy *p, const char *tok, bool *devices,
                       struct gate_verdict *v) {
        int r;

        if (tok[1] == '\0') {
                r = refuse(v, GATE_REASON_UNKNOWN_OPTION, "unknown option", tok);
                return r < 0 ? r : 0;
        }
        for (const char *c = tok + 1; *c; c++) {
                if (*c == 'e') {
                        /* Inside --server, -e carries the client's protocol capabilities, not a
                         * remote shell: "e.LsfxCIvu", or "e31.14iLsfxC" from a pre-release. It is
                         * always last in the cluster. Anything else after 'e' is a shell. */
                        const char *s = c + 1;

                        s += strspn(s, "0123456789");
                        if (*s != '.')
                                goto rsh;
                        s++;
                        s += strspn(s, "0123456789"
                                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "abcdefghijklmnopqrstuvwxyz");
                        if (*s != '\0')
                                goto rsh;
                        return 1;
                }
                for (size_t i = 0; i < ELEMENTSOF(short_forbidden); i++)
                        if (short_forbidden[i].c == *c &&
                            (!short_forbidden[i].write_only ||
                             p->access == GATE_ACCESS_WRITE_ONLY)) {
                                r = refuse(v, GATE_REASON_FORBIDDEN_OPTION, short_forbidden[i].why,
                                           tok);
                                return r < 0 ? r : 0;
                        }
                if (*c == 'D')
                        *devices = true;
                if (strchr(short_numeric, *c)) {
                        const char *s = c + 1;

                        if (*s == '-')
                                s++;
                        if (*s == '\0' || s[strspn(s, "0123456789")] != '\0') {
                                r = refuse(v, GATE_REASON_BAD_SYNTAX, "option needs a number", tok);
                                return r < 0 ? r : 0;
                        }
                        return 1;
                }
                if (!strchr(short_ok, *c)) {
                        r = refuse(v, GATE_REASON_UNKNOWN_OPTION, "unknown option", tok);
                        return r < 0 ? r : 0;
                }
        }
        return 1;
rsh:
        r = refuse(v, GATE_REASON_FORBIDDEN_OPTION, "-e (remote shell) is not allowed", tok);
        return r < 0 ? r : 0;
}

/* A path-valued option seen before the paths: resolved once the destination is known. */
struct path_opt {
        const char *rest; /* borrowed from argv: the value after the DIR prefix */
        bool relative;    /* relative value: rsync takes it from the destination (receiver) */
        bool files_from;  /* --files-from: always relative to the server's cwd, DIR */
};

static int check_rsync(const struct gate_policy *p, char **argv, size_t argc,
                       struct gate_verdict *v) {
        _cleanup_strv_free_ char **resolve = NULL;
        _cleanup_free_ struct path_opt *popts = NULL;
        _cleanup_free_ char *dest = NULL;
        size_t i, dot, n_resolve = 0, n_popts = 0;
        bool sender, devices = false;
        int r;

        if (!streq(argv[0], "rsync") || argc < 2 || !streq(argv[1], "--server")) {
                r = refuse(v, GATE_REASON_NOT_RSYNC, "only 'rsync --server' is allowed", argv[0]);
                return r < 0 ? r : 0;
        }
        sender = argc > 2 && streq(argv[2], "--sender");
        if (sender && p->access == GATE_ACCESS_WRITE_ONLY) {
                r = refuse(v, GATE_REASON_WRONG_DIRECTION, "this key may only write (push)", NULL);
                return r < 0 ? r : 0;
        }
        if (!sender && p->access == GATE_ACCESS_READ_ONLY) {
                r = refuse(v, GATE_REASON_WRONG_DIRECTION, "this key may only read (pull)", NULL);
                return r < 0 ? r : 0;
        }

        resolve = calloc(GATE_ARGS_MAX + 1, sizeof(char *));
        popts = calloc(GATE_ARGS_MAX, sizeof(struct path_opt));
        if (!resolve || !popts)
                return -ENOMEM;

        for (i = sender ? 3 : 2; i < argc; i++) {
                const char *tok = argv[i], *eq, *value, *rest;
                const struct opt_def *o;
                size_t nlen;

                if (streq(tok, "."))
                        break;
                if (tok[0] != '-') {
                        r = refuse(v, GATE_REASON_BAD_SYNTAX, "expected an option or '.'", tok);
                        return r < 0 ? r : 0;
                }
                if (tok[1] != '-') {
                        r = check_short(p, tok, &devices, v);
                        if (r <= 0)
                                return r;
                        continue;
                }

                eq = strchr(tok + 2, '=');
                nlen = eq ? (size_t) (eq - (tok + 2)) : strlen(tok + 2);
                o = long_opt_find(tok + 2, nlen);
                if (!o) {
                        r = refuse(v, GATE_REASON_UNKNOWN_OPTION, "unknown option", tok);
                        return r < 0 ? r : 0;
                }
                if (o->kind == OPT_FORBIDDEN ||
                    (o->wo_reads && p->access == GATE_ACCESS_WRITE_ONLY)) {
                        r = refuse(v, GATE_REASON_FORBIDDEN_OPTION, o->why, tok);
                        return r < 0 ? r : 0;
                }
                switch (o->kind) {
                case OPT_FORBIDDEN: /* refused above */
                        return -EINVAL;
                case OPT_DELETE:
                        if (p->access == GATE_ACCESS_READ_ONLY || p->no_delete) {
                                r = refuse(v, GATE_REASON_FORBIDDEN_OPTION,
                                           "this key may not delete files", tok);
                                return r < 0 ? r : 0;
                        }
                        __attribute__((fallthrough));
                case OPT_DEVICES:
                case OPT_FLAG:
                        if (eq) {
                                r = refuse(v, GATE_REASON_BAD_SYNTAX, "option takes no value",
                                           tok);
                                return r < 0 ? r : 0;
                        }
                        if (o->kind == OPT_DEVICES)
                                devices = true;
                        continue;
                case OPT_VALUE:
                case OPT_PATH:
                case OPT_FILES_FROM:
                case OPT_LOG_FORMAT:
                case OPT_SUFFIX:
                        break;
                }

                /* The value is either "--opt=value" or the next token ("--opt value", which is
                 * how rsync 3.x clients send the directory options). */
                if (eq)
                        value = eq + 1;
                else if (i + 1 < argc)
                        value = argv[++i];
                else {
                        r = refuse(v, GATE_REASON_BAD_SYNTAX, "option needs a value", tok);
                        return r < 0 ? r : 0;
                }
                if (o->kind == OPT_VALUE)
                        continue;
                if (o->kind == OPT_LOG_FORMAT) {
                        bool known = false;

                        for (size_t k = 0; k < ELEMENTSOF(log_formats); k++)
                                known = known || streq(value, log_formats[k]);
                        if (!known) {
                                r = refuse(v, GATE_REASON_FORBIDDEN_OPTION,
                                           "only the --log-format values rsync clients send are "
                                           "allowed", tok);
                                return r < 0 ? r : 0;
                        }
                        continue;
                }
                if (o->kind == OPT_SUFFIX) {
                        if (strchr(value, '/')) {
                                r = refuse(v, GATE_REASON_PATH_OUTSIDE_DIR,
                                           "--suffix may not contain '/'", tok);
                                return r < 0 ? r : 0;
                        }
                        continue;
                }
                if (o->kind == OPT_FILES_FROM) {
                        if (streq(value, "-"))
                                continue;
                        /* The receiver reads the file and sends its lines to the client. */
                        if (p->access == GATE_ACCESS_WRITE_ONLY) {
                                r = refuse(v, GATE_REASON_FORBIDDEN_OPTION, o->why, tok);
                                return r < 0 ? r : 0;
                        }
                }
                r = confine(p, value, false, &rest, v);
                if (r <= 0)
                        return r;
                if (n_popts >= GATE_ARGS_MAX) {
                        r = refuse(v, GATE_REASON_TOO_LONG, "too many paths", NULL);
                        return r < 0 ? r : 0;
                }
                popts[n_popts++] = (struct path_opt){
                        .rest = rest,
                        .relative = value[0] != '/',
                        .files_from = o->kind == OPT_FILES_FROM,
                };
        }

        if (i >= argc) {
                r = refuse(v, GATE_REASON_BAD_SYNTAX, "no '.' before the paths", NULL);
                return r < 0 ? r : 0;
        }
        if (i + 1 >= argc) {
                r = refuse(v, GATE_REASON_BAD_SYNTAX, "no path after '.'", NULL);
                return r < 0 ? r : 0;
        }
        dot = i;
        for (i++; i < argc; i++) {
                const char *rest;

                r = confine(p, argv[i], true, &rest, v);
                if (r <= 0)
                        return r;
                r = resolve_add(resolve, &n_resolve, NULL, rest, v);
                if (r <= 0)
                        return r;
                if (!dest) {
                        dest = strdup(resolve[n_resolve - 1]);
                        if (!dest)
                                return -ENOMEM;
                }
        }
        /* A receiver chdir()s into the destination (the first path) and takes relative
         * directory options from there; --files-from is opened before, from DIR. */
        for (size_t k = 0; k < n_popts; k++) {
                r = resolve_add(resolve, &n_resolve,
                                popts[k].relative && !popts[k].files_from ? dest : NULL,
                                popts[k].rest, v);
                if (r <= 0)
                        return r;
        }

        v->allowed = true;
        v->reason = GATE_REASON_RSYNC_DIR;
        v->what = "allowed";
        v->sender = sender;
        v->devices = devices;
        v->dot = dot;
        v->resolve_paths = TAKE_PTR(resolve);
        return 1;
}

static bool ends_with_dot(const char *d) {
        size_t n = strlen(d);

        return n >= 2 && d[n - 2] == '/' && d[n - 1] == '.';
}

static bool exec_word_ok(const char *w) {
        return streq(w, "rsync") || w[0] == '/';
}

int gate_policy_validate(const struct gate_policy *p, const char **reterr_what) {
        assert(p);
        assert(reterr_what);

        if (!p->allow && !p->dir) {
                *reterr_what = "no --allow and no --rsync-dir";
                return -EINVAL;
        }
        for (const char *const *a = p->allow; a && *a; a++) {
                _cleanup_strv_free_ char **argv = NULL;
                int r;

                r = gate_split(*a, strlen(*a), &argv);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        *reterr_what = "--allow command is empty, too long, or has a backslash "
                                       "not followed by a space";
                        return -EINVAL;
                }
                if (!exec_word_ok(argv[0])) {
                        *reterr_what = "--allow command must start with 'rsync' or an absolute path";
                        return -EINVAL;
                }
        }
        if (p->dir) {
                const char *d = p->dir;

                if (d[0] != '/' || strstr(d, "//") || has_dotdot(d) || strstr(d, "/./") ||
                    (strlen(d) > 1 && (d[strlen(d) - 1] == '/' || ends_with_dot(d)))) {
                        *reterr_what = "--rsync-dir must be an absolute canonical path";
                        return -EINVAL;
                }
                if (p->access != GATE_ACCESS_READ_ONLY && p->access != GATE_ACCESS_WRITE_ONLY) {
                        *reterr_what = "--rsync-dir needs --read-only or --write-only";
                        return -EINVAL;
                }
        }
        return 0;
}

int gate_check(const struct gate_policy *p, const char *cmd, size_t len,
               struct gate_verdict *ret) {
        _cleanup_(gate_verdict_done) struct gate_verdict v = {};
        _cleanup_strv_free_ char **argv = NULL;
        enum gate_reason reason;
        const char *what = NULL;
        int r;

        assert(p);
        assert(ret);

        if (!cmd) {
                r = refuse(&v, GATE_REASON_NO_COMMAND, "no command given (interactive login)",
                           NULL);
                goto done;
        }
        if (len > GATE_COMMAND_MAX) {
                r = refuse(&v, GATE_REASON_TOO_LONG, "command too long", NULL);
                goto done;
        }

        for (const char *const *a = p->allow; a && *a; a++) {
                if (strlen(*a) != len || memcmp(*a, cmd, len) != 0)
                        continue;
                r = gate_split(*a, len, &v.argv);
                if (r < 0)
                        return r == -ENOMEM ? r : -EINVAL; /* gate_policy_validate() not called */
                v.argc = strv_length(v.argv);
                v.allowed = true;
                v.reason = GATE_REASON_EXACT_MATCH;
                v.what = "allowed";
                r = 0;
                goto done;
        }

        reason = scan_bytes(cmd, len, &what);
        if (reason != _GATE_REASON_INVALID) {
                r = refuse(&v, reason, what, NULL);
                goto done;
        }
        if (!p->dir) {
                r = refuse(&v, GATE_REASON_NOT_ALLOWED, "command not allowed for this key", NULL);
                goto done;
        }

        r = gate_split(cmd, len, &argv);
        if (r == -E2BIG) {
                r = refuse(&v, GATE_REASON_TOO_LONG, "argument too long or too many arguments",
                           NULL);
                goto done;
        }
        if (r == -EBADMSG) {
                r = refuse(&v, GATE_REASON_BAD_SYNTAX, "empty command", NULL);
                goto done;
        }
        if (r < 0)
                return r;

        r = check_rsync(p, argv, strv_length(argv), &v);
        if (r > 0) {
                v.argc = strv_length(argv);
                v.argv = TAKE_PTR(argv);
                r = 0;
        }

done:
        if (r < 0)
                return r;
        *ret = v;
        v = (struct gate_verdict){};
        return 0;
}

/* Is "--name" in the help text as an option (at a word start, followed by ' ', '=' or ',')? */
static bool help_has(const char *help, size_t len, const char *name) {
        size_t n = strlen(name);

        for (size_t i = 0; i + n <= len; i++) {
                if (memcmp(help + i, name, n) != 0)
                        continue;
                if (i > 0 && !IN_SET(help[i - 1], ' ', '\n', ','))
                        continue;
                if (i + n < len && !IN_SET(help[i + n], ' ', '=', ',', '\n'))
                        continue;
                return true;
        }
        return false;
}

unsigned gate_rsync_features(const char *help, size_t len) {
        unsigned f = 0;

        if (!help)
                return 0;
        if (help_has(help, len, "--munge-links"))
                f |= GATE_RSYNC_MUNGE_LINKS;
        if (help_has(help, len, "--confine-root"))
                f |= GATE_RSYNC_CONFINE_ROOT;
        if (help_has(help, len, "--drop-D"))
                f |= GATE_RSYNC_DROP_D;
        return f;
}

int gate_protect(struct gate_verdict *v, const struct gate_policy *p, unsigned features) {
        _cleanup_strv_free_ char **argv = NULL;
        char *add[4] = {};
        size_t n_add = 0, o = 0;
        int r;

        assert(v);
        assert(p);
        assert(v->allowed && v->reason == GATE_REASON_RSYNC_DIR && p->dir);
        assert(v->dot < v->argc && streq(v->argv[v->dot], "."));

        if (!(features & GATE_RSYNC_MUNGE_LINKS) || !(features & GATE_RSYNC_CONFINE_ROOT)) {
                r = refuse(v, GATE_REASON_RSYNC_UNSUPPORTED,
                           "the installed rsync lacks --munge-links or --confine-root "
                           "(rsync 3.5.0 or later is needed)", NULL);
                return r < 0 ? r : 0;
        }
        if (!v->sender && v->devices && !(features & GATE_RSYNC_DROP_D)) {
                r = refuse(v, GATE_REASON_RSYNC_UNSUPPORTED,
                           "the installed rsync lacks --drop-D: devices and specials (-D) "
                           "cannot be pushed", NULL);
                return r < 0 ? r : 0;
        }

        add[n_add] = strdup("--munge-links");
        if (!add[n_add++])
                goto oom;
        if (asprintf(&add[n_add], "--confine-root=%s", p->dir) < 0) {
                add[n_add] = NULL;
                goto oom;
        }
        n_add++;
        if (!v->sender && (features & GATE_RSYNC_DROP_D)) {
                add[n_add] = strdup("--drop-D");
                if (!add[n_add++])
                        goto oom;
        }
        if (!v->sender && p->access == GATE_ACCESS_WRITE_ONLY) {
                add[n_add] = strdup("--whole-file");
                if (!add[n_add++])
                        goto oom;
        }

        argv = calloc(v->argc + n_add + 1, sizeof(char *));
        if (!argv)
                goto oom;
        for (size_t i = 0; i < v->argc; i++) {
                if (i == v->dot)
                        for (size_t k = 0; k < n_add; k++)
                                argv[o++] = TAKE_PTR(add[k]);
                argv[o++] = TAKE_PTR(v->argv[i]);
        }
        free(v->argv);
        v->argv = TAKE_PTR(argv);
        v->dot += n_add;
        v->argc = o;
        return 1;
oom:
        for (size_t k = 0; k < ELEMENTSOF(add); k++)
                free(add[k]);
        return -ENOMEM;
}
