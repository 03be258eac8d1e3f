/* SPDX-License-Identifier: MIT */
/*
 * The baseline file: a line-oriented text format (docs/baseline.md). Fields are separated by one
 * space; a field that can hold any byte (account names, paths) is written with every byte below
 * 0x21, above 0x7e and the backslash as \xHH, so that it is one token; the last field of a key
 * record (the authorized_keys line) and of a refused-file record (the reason) run to the end of the
 * line as written. Reading is strict: the first malformed line stops with its line number and a
 * phrase naming the problem. Owns what it builds; never logs.
 */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline-file.h"
#include "escape.h"
#include "macro.h"
#include "string-table.h"
#include "strview.h"

#define MAGIC "keytrail-baseline"

static const char *const path_state_table[_BASELINE_PATH_STATE_MAX] = {
        [BASELINE_PATH_READ] = "read",
        [BASELINE_PATH_ABSENT] = "absent",
        [BASELINE_PATH_REFUSED] = "refused",
};

DEFINE_STRING_TABLE_LOOKUP(baseline_path_state, enum baseline_path_state, path_state_table)

static const char *const change_table[_BASELINE_CHANGE_MAX] = {
        [BASELINE_KEY_ADDED] = "added",
        [BASELINE_KEY_REMOVED] = "removed",
        [BASELINE_KEY_OPTIONS_CHANGED] = "options-changed",
        [BASELINE_KEY_MOVED] = "moved",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(baseline_change, enum baseline_change, change_table)

struct baseline_file *baseline_file_new(void) {
        return calloc(1, sizeof(struct baseline_file));
}

struct baseline_file *baseline_file_free(struct baseline_file *bf) {
        if (!bf)
                return NULL;
        free(bf->authorized_keys_file);
        free(bf->authorized_keys_command);
        for (size_t i = 0; i < bf->n_accounts; i++)
                free(bf->accounts[i]);
        free(bf->accounts);
        for (size_t i = 0; i < bf->n_paths; i++) {
                free(bf->paths[i].user);
                free(bf->paths[i].path);
                free(bf->paths[i].reason);
        }
        free(bf->paths);
        for (size_t i = 0; i < bf->n_keys; i++) {
                free(bf->keys[i].user);
                authkey_free(bf->keys[i].key);
        }
        free(bf->keys);
        free(bf);
        return NULL;
}

/* A value that is written as a token (escaped) must be non-empty; a newline cannot be escaped
 * into the rest-of-line fields, and an account name never holds one. */
static bool token_valid(const char *s) {
        return s && s[0] != '\0';
}

static bool rest_valid(const char *s) {
        return s && s[0] != '\0' && !strchr(s, '\n');
}

/* Grow *array (of *alloc elements of size) to hold n + 1. */
static int grow(void **array, size_t *alloc, size_t n, size_t size) {
        size_t a;
        void *p;

        if (n >= BASELINE_FILE_RECORDS_MAX)
                return -ENOSPC;
        if (n < *alloc)
                return 0;
        a = MAX(*alloc * 2, (size_t) 16);
        p = reallocarray(*array, a, size);
        if (!p)
                return -ENOMEM;
        *array = p;
        *alloc = a;
        return 0;
}

int baseline_file_set_sshd(struct baseline_file *bf, const char *authorized_keys_file,
                           bool is_default, const char *authorized_keys_command) {
        _cleanup_free_ char *f = NULL, *c = NULL;

        if (authorized_keys_file) {
                if (!token_valid(authorized_keys_file) || strchr(authorized_keys_file, '\n'))
                        return -EINVAL;
                f = strdup(authorized_keys_file);
                if (!f)
                        return -ENOMEM;
        }
        if (authorized_keys_command) {
                if (!rest_valid(authorized_keys_command))
                        return -EINVAL;
                c = strdup(authorized_keys_command);
                if (!c)
                        return -ENOMEM;
        }
        free(bf->authorized_keys_file);
        bf->authorized_keys_file = TAKE_PTR(f);
        bf->authorized_keys_file_default = authorized_keys_file && is_default;
        free(bf->authorized_keys_command);
        bf->authorized_keys_command = TAKE_PTR(c);
        return 0;
}

/* Accounts are few (the password database); a linear search keeps the order and is enough. The
 * reader adds them through here too, so a file with a million distinct accounts costs O(n^2):
 * BASELINE_FILE_RECORDS_MAX bounds it, and only root writes the file. */
static bool has_account(const struct baseline_file *bf, const char *user) {
        for (size_t i = bf->n_accounts; i > 0; i--)
                if (streq(bf->accounts[i - 1], user))
                        return true;
        return false;
}

int baseline_file_add_account(struct baseline_file *bf, const char *user) {
        char *u;
        int r;

        if (!token_valid(user) || strchr(user, '\n'))
                return -EINVAL;
        if (has_account(bf, user))
                return 0;
        r = grow((void **) &bf->accounts, &bf->alloc_accounts, bf->n_accounts, sizeof(char *));
        if (r < 0)
                return r;
        u = strdup(user);
        if (!u)
                return -ENOMEM;
        bf->accounts[bf->n_accounts++] = u;
        return 0;
}

int baseline_file_add_path(struct baseline_file *bf, const char *user, const char *path,
                           enum baseline_path_state state, const char *reason) {
        _cleanup_free_ char *u = NULL, *p = NULL, *why = NULL;
        int r;

        if (!token_valid(user) || strchr(user, '\n') || !token_valid(path) ||
            !baseline_path_state_to_string(state))
                return -EINVAL;
        if (state == BASELINE_PATH_REFUSED) {
                if (reason && !rest_valid(reason))
                        return -EINVAL;
                why = strdup(reason ?: "refused");
                if (!why)
                        return -ENOMEM;
        }
        r = baseline_file_add_account(bf, user);
        if (r < 0)
                return r;
        u = strdup(user);
        p = strdup(path);
        if (!u || !p)
                return -ENOMEM;
        r = grow((void **) &bf->paths, &bf->alloc_paths, bf->n_paths, sizeof(struct baseline_path));
        if (r < 0)
                return r;
        bf->paths[bf->n_paths++] = (struct baseline_path){
                .user = TAKE_PTR(u),
                .path = TAKE_PTR(p),
                .state = state,
                .reason = TAKE_PTR(why),
        };
        return 0;
}

int baseline_file_add_key(struct baseline_file *bf, const char *user, struct authkey *key) {
        char *u;
        int r;

        if (!token_valid(user) || strchr(user, '\n') || !key || !token_valid(key->file) ||
            key->line == 0 || !rest_valid(key->text) || !key->fingerprint || !key->key_type)
                return -EINVAL;
        r = baseline_file_add_account(bf, user);
        if (r < 0)
                return r;
        r = grow((void **) &bf->keys, &bf->alloc_keys, bf->n_keys, sizeof(struct baseline_key));
        if (r < 0)
                return r;
        u = strdup(user);
        if (!u)
                return -ENOMEM;
        bf->keys[bf->n_keys++] = (struct baseline_key){ .user = u, .key = key };
        return 0;
}

/* ---- writing ------------------------------------------------------------------------------- */

static bool needs_escape(unsigned char c) {
        return c <= 0x20 || c >= 0x7f || c == '\\';
}

static void put_token(FILE *f, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (needs_escape(*p))
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
}

/* The type column: what sshd logs and ssh-keygen -lf prints ("ED25519", "RSA-CERT"); a type the
 * parser tolerates but does not know is written as it stands in the line. */
static const char *type_column(const struct authkey *k) {
        return authkey_type_log_name(k->key_type) ?: k->key_type;
}

int baseline_file_write(const struct baseline_file *bf, const char *comment, FILE *f) {
        fprintf(f, MAGIC " %d\n", BASELINE_FILE_VERSION);
        for (const char *c = comment; c && *c;) {
                const char *nl = strchrnul(c, '\n');

                fprintf(f, "# %.*s\n", (int) MIN((size_t) (nl - c), (size_t) INT_MAX), c);
                c = *nl ? nl + 1 : nl;
        }
        if (bf->authorized_keys_file) {
                const char *t = bf->authorized_keys_file;

                fputs("authorized-keys-file ", f);
                fputs(bf->authorized_keys_file_default ? "default" : "sshd", f);
                /* One token per pattern, as sshd -T separates them. */
                while (*t) {
                        size_t n = strcspn(t, " \t");

                        if (n > 0) {
                                _cleanup_free_ char *one = strndup(t, n);

                                if (!one)
                                        return -ENOMEM;
                                fputc(' ', f);
                                put_token(f, one);
                        }
                        t += n;
                        t += strspn(t, " \t");
                }
                fputc('\n', f);
        }
        if (bf->authorized_keys_command)
                fprintf(f, "authorized-keys-command %s\n", bf->authorized_keys_command);
        for (size_t i = 0; i < bf->n_accounts; i++) {
                fputs("account ", f);
                put_token(f, bf->accounts[i]);
                fputc('\n', f);
        }
        for (size_t i = 0; i < bf->n_paths; i++) {
                const struct baseline_path *p = &bf->paths[i];

                fputs("file ", f);
                put_token(f, p->user);
                fputc(' ', f);
                put_token(f, p->path);
                fprintf(f, " %s", baseline_path_state_to_string(p->state));
                if (p->state == BASELINE_PATH_REFUSED)
                        fprintf(f, " %s", p->reason ?: "refused");
                fputc('\n', f);
        }
        for (size_t i = 0; i < bf->n_keys; i++) {
                const struct baseline_key *k = &bf->keys[i];

                fputs("key ", f);
                put_token(f, k->user);
                fputc(' ', f);
                put_token(f, k->key->file);
                fprintf(f, ":%u %s ", k->key->line, k->key->fingerprint);
                put_token(f, type_column(k->key));
                fprintf(f, " %s\n", k->key->text);
        }
        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* Decode one escaped token of n bytes. -EBADMSG for a bad escape, a raw byte that should have
 * been escaped, or a decoded NUL. */
static int unescape(const char *s, size_t n, char **ret) {
        _cleanup_free_ char *out = malloc(n + 1);
        size_t o = 0;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int hi, lo;

                if (s[i] != '\\') {
                        if (needs_escape((unsigned char) s[i]))
                                return -EBADMSG;
                        out[o++] = s[i];
                        continue;
                }
                if (i + 3 >= n)
                        return -EBADMSG;
                if (s[i + 1] != 'x')
                        return -EBADMSG;
                hi = unhexchar(s[i + 2]);
                lo = unhexchar(s[i + 3]);
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                        return -EBADMSG;
                out[o++] = (char) (hi * 16 + lo);
                i += 3;
        }
        out[o] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

/* The fields of one line: a cursor over the bytes after the record name. */
struct fields {
        const char *p, *end;
};

/* The next space-separated token (exactly one space between fields). 1 and the token, 0 at the end
 * of the line. */
static int next_token(struct fields *f, struct strview *ret) {
        const char *s = f->p, *e;

        if (s >= f->end)
                return 0;
        e = memchr(s, ' ', (size_t) (f->end - s));
        if (!e)
                e = f->end;
        *ret = (struct strview){ .ptr = s, .len = (size_t) (e - s) };
        f->p = e < f->end ? e + 1 : e;
        return 1;
}

static int take_token(struct fields *f, char **ret, const char **what) {
        struct strview t = {};
        int r;

        if (next_token(f, &t) == 0 || t.len == 0) {
                *what = "missing field";
                return -EBADMSG;
        }
        r = unescape(t.ptr, t.len, ret);
        if (r == -EBADMSG)
                *what = "invalid byte or escape in a field";
        return r;
}

/* The rest of the line as one field (must not be empty). */
static int take_rest(struct fields *f, char **ret, const char **what) {
        char *s;

        if (f->p >= f->end) {
                *what = "missing field";
                return -EBADMSG;
        }
        s = strndup(f->p, (size_t) (f->end - f->p));
        if (!s)
                return -ENOMEM;
        f->p = f->end;
        *ret = s;
        return 0;
}

static int expect_end(const struct fields *f, const char **what) {
        if (f->p < f->end) {
                *what = "unexpected field at the end of the line";
                return -EBADMSG;
        }
        return 0;
}

static bool view_eq(struct strview v, const char *s) {
        size_t n = strlen(s);

        return v.len == n && memcmp(v.ptr, s, n) == 0;
}

static int parse_location(const char *loc, char **ret_file, unsigned *ret_line, const char **what) {
        const char *colon = strrchr(loc, ':');
        uint64_t v;

        if (!colon || colon == loc || loc[0] != '/' ||
            strview_to_u64(strview_from(colon + 1), UINT_MAX, &v) < 0 || v == 0) {
                *what = "location is not an absolute FILE:LINE";
                return -EBADMSG;
        }
        *ret_file = strndup(loc, (size_t) (colon - loc));
        if (!*ret_file)
                return -ENOMEM;
        *ret_line = (unsigned) v;
        return 0;
}

static int read_key_record(struct baseline_file *bf, struct fields *f, const char **what) {
        _cleanup_free_ char *user = NULL, *loc = NULL, *fp = NULL, *type = NULL, *text = NULL;
        _cleanup_free_ char *file = NULL;
        _cleanup_(authkey_freep) struct authkey *k = NULL;
        const char *pwhat = NULL;
        unsigned line = 0;
        int r;

        r = take_token(f, &user, what);
        if (r < 0)
                return r;
        r = take_token(f, &loc, what);
        if (r < 0)
                return r;
        r = take_token(f, &fp, what);
        if (r < 0)
                return r;
        r = take_token(f, &type, what);
        if (r < 0)
                return r;
        r = take_rest(f, &text, what);
        if (r < 0)
                return r;
        r = parse_location(loc, &file, &line, what);
        if (r < 0)
                return r;

        r = authkeys_parse_line(text, strlen(text), &k, &pwhat);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *what = pwhat ?: "malformed authorized_keys line";
                return -EBADMSG;
        }
        if (r == 0) {
                *what = "no key in the key record";
                return -EBADMSG;
        }
        if (!streq(k->fingerprint, fp)) {
                *what = "fingerprint does not match the key";
                return -EBADMSG;
        }
        if (!streq(type_column(k), type)) {
                *what = "type does not match the key";
                return -EBADMSG;
        }
        k->file = TAKE_PTR(file);
        k->line = line;
        r = baseline_file_add_key(bf, user, k);
        if (r == -EINVAL) {
                *what = "invalid key record";
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        TAKE_PTR(k);
        return 0;
}

static int read_file_record(struct baseline_file *bf, struct fields *f, const char **what) {
        _cleanup_free_ char *user = NULL, *path = NULL, *reason = NULL;
        enum baseline_path_state state;
        struct strview t = {};
        int r;

        r = take_token(f, &user, what);
        if (r < 0)
                return r;
        r = take_token(f, &path, what);
        if (r < 0)
                return r;
        if (path[0] != '/') {
                *what = "file is not an absolute path";
                return -EBADMSG;
        }
        if (next_token(f, &t) == 0) {
                *what = "missing field";
                return -EBADMSG;
        }
        state = _BASELINE_PATH_STATE_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(path_state_table); i++)
                if (view_eq(t, path_state_table[i]))
                        state = (enum baseline_path_state) i;
        if (state < 0) {
                *what = "unknown file state (read, absent or refused)";
                return -EBADMSG;
        }
        if (state == BASELINE_PATH_REFUSED) {
                r = take_rest(f, &reason, what);
                if (r < 0)
                        return r;
        } else {
                r = expect_end(f, what);
                if (r < 0)
                        return r;
        }
        r = baseline_file_add_path(bf, user, path, state, reason);
        if (r == -EINVAL) {
                *what = "invalid file record";
                return -EBADMSG;
        }
        return r;
}

static int read_sshd_record(struct baseline_file *bf, struct fields *f, const char **what) {
        _cleanup_free_ char *patterns = NULL;
        size_t len = 0;
        struct strview t = {};
        bool is_default;
        int r;

        if (bf->authorized_keys_file) {
                *what = "repeated authorized-keys-file record";
                return -EBADMSG;
        }
        if (next_token(f, &t) == 0 || !(view_eq(t, "sshd") || view_eq(t, "default"))) {
                *what = "authorized-keys-file needs 'sshd' or 'default' and patterns";
                return -EBADMSG;
        }
        is_default = view_eq(t, "default");
        for (;;) {
                _cleanup_free_ char *p = NULL;
                char *n;

                if (f->p >= f->end)
                        break;
                r = take_token(f, &p, what);
                if (r < 0)
                        return r;
                if (strpbrk(p, " \t\n")) {
                        *what = "invalid byte or escape in a field";
                        return -EBADMSG;
                }
                n = realloc(patterns, len + strlen(p) + 2);
                if (!n)
                        return -ENOMEM;
                patterns = n;
                if (len > 0)
                        patterns[len++] = ' ';
                memcpy(patterns + len, p, strlen(p) + 1);
                len += strlen(p);
        }
        if (!patterns) {
                *what = "missing field";
                return -EBADMSG;
        }
        return baseline_file_set_sshd(bf, patterns, is_default, bf->authorized_keys_command);
}

static int read_command_record(struct baseline_file *bf, struct fields *f, const char **what) {
        _cleanup_free_ char *cmd = NULL, *keep = NULL;
        int r;

        if (bf->authorized_keys_command) {
                *what = "repeated authorized-keys-command record";
                return -EBADMSG;
        }
        r = take_rest(f, &cmd, what);
        if (r < 0)
                return r;
        if (bf->authorized_keys_file) {
                keep = strdup(bf->authorized_keys_file);
                if (!keep)
                        return -ENOMEM;
        }
        return baseline_file_set_sshd(bf, keep, bf->authorized_keys_file_default, cmd);
}

static int read_record(struct baseline_file *bf, const char *line, size_t len, bool *seen_header,
                       const char **what) {
        struct fields f = { .p = line, .end = line + len };
        struct strview name = {};
        int r;

        if (memchr(line, '\0', len)) {
                *what = "NUL byte in line";
                return -EBADMSG;
        }
        if (len == 0 || line[0] == '#')
                return 0;
        (void) next_token(&f, &name);

        if (!*seen_header) {
                struct strview v = {};
                uint64_t version;

                if (!view_eq(name, MAGIC)) {
                        *what = "not a keytrail baseline file (no 'keytrail-baseline 1' first)";
                        return -EBADMSG;
                }
                if (next_token(&f, &v) == 0 || strview_to_u64(v, UINT_MAX, &version) < 0 ||
                    expect_end(&f, what) < 0) {
                        *what = "invalid version in the header";
                        return -EBADMSG;
                }
                if (version != BASELINE_FILE_VERSION) {
                        *what = "unsupported baseline file version";
                        return -EBADMSG;
                }
                *seen_header = true;
                return 0;
        }

        if (view_eq(name, "key"))
                return read_key_record(bf, &f, what);
        if (view_eq(name, "file"))
                return read_file_record(bf, &f, what);
        if (view_eq(name, "account")) {
                _cleanup_free_ char *user = NULL;

                r = take_token(&f, &user, what);
                if (r < 0)
                        return r;
                r = expect_end(&f, what);
                if (r < 0)
                        return r;
                return baseline_file_add_account(bf, user);
        }
        if (view_eq(name, "authorized-keys-file"))
                return read_sshd_record(bf, &f, what);
        if (view_eq(name, "authorized-keys-command"))
                return read_command_record(bf, &f, what);
        if (view_eq(name, MAGIC)) {
                *what = "repeated header";
                return -EBADMSG;
        }
        *what = "unknown record";
        return -EBADMSG;
}

int baseline_file_read(FILE *f, struct baseline_file **ret, unsigned *reterr_line,
                       const char **reterr_what) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = baseline_file_new();
        _cleanup_free_ char *buf = malloc(BASELINE_FILE_LINE_MAX + 1);
        const char *what = NULL;
        bool seen_header = false;
        unsigned lineno = 0;
        int r;

        assert(f);
        assert(ret);

        if (!bf || !buf)
                return -ENOMEM;
        for (;;) {
                size_t len;
                bool toolong;

                r = authkeys_read_line(f, buf, BASELINE_FILE_LINE_MAX + 1, &len, &toolong);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (lineno == UINT_MAX) {
                        r = -E2BIG;
                        what = "too many lines";
                        goto fail;
                }
                lineno++;
                if (toolong) {
                        r = -E2BIG;
                        what = "line too long";
                        goto fail;
                }
                if (len > 0 && buf[len - 1] == '\r')
                        len--;
                r = read_record(bf, buf, len, &seen_header, &what);
                if (r == -ENOSPC)
                        what = "too many records";
                if (r < 0 && r != -ENOMEM)
                        goto fail;
                if (r < 0)
                        return r;
        }
        if (!seen_header) {
                r = -EBADMSG;
                what = "not a keytrail baseline file (no 'keytrail-baseline 1' first)";
                lineno = MAX(lineno, 1u);
                goto fail;
        }
        *ret = TAKE_PTR(bf);
        return 0;

fail:
        if (reterr_line)
                *reterr_line = lineno;
        if (reterr_what)
                *reterr_what = what ?: "malformed line";
        return r;
}

static void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

int baseline_file_load(const char *path, struct baseline_file **ret, unsigned *reterr_line,
                       const char **reterr_what) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");

        if (!f)
                return -errno;
        return baseline_file_read(f, ret, reterr_line, reterr_what);
}

int baseline_file_apply(struct baseline_file *bf, struct baseline *b) {
        size_t i;
        int r = 0;

        for (size_t a = 0; a < bf->n_accounts; a++) {
                r = baseline_cover_user(b, bf->accounts[a]);
                if (r < 0)
                        return r;
        }
        for (i = 0; i < bf->n_keys; i++) {
                r = baseline_add_key(b, bf->keys[i].user, bf->keys[i].key);
                if (r < 0)
                        break;
                bf->keys[i].key = NULL;
                free(bf->keys[i].user);
                bf->keys[i].user = NULL;
        }
        /* Keep the keys not moved at the front. */
        if (i > 0) {
                memmove(bf->keys, bf->keys + i, (bf->n_keys - i) * sizeof(*bf->keys));
                bf->n_keys -= i;
        }
        return r;
}

/* ---- comparing ----------------------------------------------------------------------------- */

static int strcmp_null(const char *a, const char *b) {
        if (!a || !b)
                return a == b ? 0 : a ? 1 : -1;
        return strcmp(a, b);
}

static bool strv_equal(char **a, char **b) {
        for (;; a++, b++) {
                if (!a || !*a || !b || !*b)
                        return (!a || !*a) == (!b || !*b);
                if (!streq(*a, *b))
                        return false;
        }
}

/* Whether two keys' options give sshd the same result (the parser normalised them). */
static bool options_equal(const struct authkey *a, const struct authkey *b) {
        return strcmp_null(a->command, b->command) == 0 && strcmp_null(a->from, b->from) == 0 &&
               strv_equal(a->permitopen, b->permitopen) &&
               strv_equal(a->permitlisten, b->permitlisten) &&
               strv_equal(a->environment, b->environment) &&
               strcmp_null(a->principals, b->principals) == 0 &&
               strcmp_null(a->expiry_time, b->expiry_time) == 0 &&
               strcmp_null(a->tunnel, b->tunnel) == 0 && a->cert_authority == b->cert_authority &&
               a->restrict_ == b->restrict_ && a->no_pty == b->no_pty &&
               a->no_port_forwarding == b->no_port_forwarding &&
               a->no_agent_forwarding == b->no_agent_forwarding &&
               a->no_x11_forwarding == b->no_x11_forwarding && a->no_user_rc == b->no_user_rc &&
               a->pty == b->pty && a->port_forwarding == b->port_forwarding &&
               a->agent_forwarding == b->agent_forwarding &&
               a->x11_forwarding == b->x11_forwarding && a->user_rc == b->user_rc &&
               a->no_touch_required == b->no_touch_required &&
               a->verify_required == b->verify_required;
}

static const struct baseline_key *sort_keys;

/* Order: account, file, fingerprint, then position (so equal keys pair in file order). */
static int cmp_key_index(const void *x, const void *y) {
        size_t i = *(const size_t *) x, j = *(const size_t *) y;
        const struct baseline_key *a = &sort_keys[i], *b = &sort_keys[j];
        int c;

        c = strcmp(a->user, b->user);
        if (c == 0)
                c = strcmp(a->key->file, b->key->file);
        if (c == 0)
                c = strcmp(a->key->fingerprint, b->key->fingerprint);
        if (c != 0)
                return c;
        return i < j ? -1 : i > j;
}

static int sorted_index(const struct baseline_file *bf, size_t **ret) {
        size_t *idx = malloc(MAX(bf->n_keys, (size_t) 1) * sizeof(size_t));

        if (!idx)
                return -ENOMEM;
        for (size_t i = 0; i < bf->n_keys; i++)
                idx[i] = i;
        sort_keys = bf->keys;
        qsort(idx, bf->n_keys, sizeof(size_t), cmp_key_index);
        sort_keys = NULL;
        *ret = idx;
        return 0;
}

static int same_slot(const struct baseline_key *a, const struct baseline_key *b) {
        int c = strcmp(a->user, b->user);

        if (c == 0)
                c = strcmp(a->key->file, b->key->file);
        if (c == 0)
                c = strcmp(a->key->fingerprint, b->key->fingerprint);
        return c;
}

int baseline_file_diff(const struct baseline_file *old, const struct baseline_file *new,
                       baseline_change_fn fn, void *userdata) {
        _cleanup_free_ size_t *io = NULL, *in = NULL, *pair_old = NULL;
        _cleanup_free_ bool *paired_new = NULL;
        size_t a = 0, b = 0;
        int n = 0, r;

        r = sorted_index(old, &io);
        if (r < 0)
                return r;
        r = sorted_index(new, &in);
        if (r < 0)
                return r;
        pair_old = malloc(MAX(old->n_keys, (size_t) 1) * sizeof(size_t));
        paired_new = calloc(MAX(new->n_keys, (size_t) 1), sizeof(bool));
        if (!pair_old || !paired_new)
                return -ENOMEM;

        /* Merge the two sorted runs: pair_old[i] is the new index paired with old key i, or
         * SIZE_MAX. */
        for (size_t i = 0; i < old->n_keys; i++)
                pair_old[i] = SIZE_MAX;
        while (a < old->n_keys && b < new->n_keys) {
                int c = same_slot(&old->keys[io[a]], &new->keys[in[b]]);

                if (c < 0)
                        a++;
                else if (c > 0)
                        b++;
                else {
                        pair_old[io[a]] = in[b];
                        paired_new[in[b]] = true;
                        a++;
                        b++;
                }
        }

        for (size_t i = 0; i < old->n_keys; i++) {
                const struct baseline_key *o = &old->keys[i], *w;
                enum baseline_change change;

                if (pair_old[i] == SIZE_MAX) {
                        change = BASELINE_KEY_REMOVED;
                        w = NULL;
                } else {
                        w = &new->keys[pair_old[i]];
                        if (!options_equal(o->key, w->key))
                                change = BASELINE_KEY_OPTIONS_CHANGED;
                        else if (o->key->line != w->key->line ||
                                 strcmp_null(o->key->comment, w->key->comment) != 0)
                                change = BASELINE_KEY_MOVED;
                        else
                                continue;
                }
                if (n == INT_MAX)
                        return n;
                n++;
                if (fn) {
                        r = fn(userdata, change, o, w);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < new->n_keys; i++) {
                if (paired_new[i])
                        continue;
                if (n == INT_MAX)
                        return n;
                n++;
                if (fn) {
                        r = fn(userdata, BASELINE_KEY_ADDED, NULL, &new->keys[i]);
                        if (r < 0)
                                return r;
                }
        }
        return n;
}
