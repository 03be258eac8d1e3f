/* SPDX-License-Identifier: MIT */
/*
 * Policy files: the parser (line by line, the first error is FILE:LINE), the rules sorted for
 * binary search, and the matchers (CIDR, exact and PCRE2 commands, rsync by meaning). See
 * docs/policy.md for the format.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "io-util.h"
#include "policy-file.h"
#include "vis.h"

#define POLICY_MATCH_LIMIT 100000U

struct net {
        int family;               /* AF_INET or AF_INET6 */
        unsigned char addr[16];   /* masked to prefix */
        unsigned prefix;
};

struct strv {
        char **v;
        size_t n;
};

struct policy_rule {
        bool is_key;
        char *subject;            /* the fingerprint or account */
        char *name;               /* "key SHA256:..." / "account NAME" */
        unsigned line;
        char *label;
        struct strv commands;     /* exact, vis-escaped as sshd logs them */
        struct strv commands_raw; /* as written */
        struct strv rsyncs;       /* vis-escaped */
        struct strv rsyncs_raw;   /* as written */
        struct strv rsync_canon;  /* their canonical forms */
        struct strv pattern_src;
        pcre2_code **patterns;    /* anchored at both ends */
        pcre2_code **prefixes;    /* the same anchored at the start only: for cut lines (PCRE2
                                     has no partial matching with PCRE2_ENDANCHORED) */
        size_t n_patterns;
        struct net *nets;
        size_t n_nets;
        struct strv accounts;
        struct strv keys;
        pcre2_match_context *mctx;  /* borrowed from the file */
        pcre2_match_data *md;       /* borrowed from the file */
};

struct policy_file {
        struct policy_rule **rules; /* sorted by (is_key, subject) */
        size_t n_rules;
        pcre2_match_context *mctx;
        pcre2_match_data *md;
};

static void strv_done(struct strv *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (struct strv){};
}

static int strv_push(struct strv *s, char *owned) {
        char **v;

        if (s->n >= POLICY_ITEMS_MAX) {
                free(owned);
                return -E2BIG;
        }
        v = realloc(s->v, (s->n + 1) * sizeof(*v));
        if (!v) {
                free(owned);
                return -ENOMEM;
        }
        s->v = v;
        s->v[s->n++] = owned;
        return 0;
}

static struct policy_rule *rule_free(struct policy_rule *r) {
        if (!r)
                return NULL;
        free(r->subject);
        free(r->name);
        free(r->label);
        strv_done(&r->commands);
        strv_done(&r->commands_raw);
        strv_done(&r->rsyncs);
        strv_done(&r->rsyncs_raw);
        strv_done(&r->rsync_canon);
        strv_done(&r->pattern_src);
        for (size_t i = 0; i < r->n_patterns; i++) {
                pcre2_code_free(r->patterns[i]);
                pcre2_code_free(r->prefixes[i]);
        }
        free(r->patterns);
        free(r->prefixes);
        free(r->nets);
        strv_done(&r->accounts);
        strv_done(&r->keys);
        free(r);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy_rule *, rule_free);

struct policy_file *policy_file_free(struct policy_file *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_rules; i++)
                rule_free(f->rules[i]);
        free(f->rules);
        pcre2_match_context_free(f->mctx);
        pcre2_match_data_free(f->md);
        free(f);
        return NULL;
}

size_t policy_file_size(const struct policy_file *f) {
        return f->n_rules;
}

/* ---- rsync by meaning ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int cmp_char(const void *a, const void *b) {
        return *(const char *) a - *(const char *) b;
}

int rsync_canonical(const char *cmd, char **ret) {
        _cleanup_free_ char *copy = strdup(cmd), *letters = NULL, *out = NULL;
        _cleanup_free_ char **longs = NULL, **args = NULL;
        size_t n_longs = 0, n_args = 0, n_letters = 0, n_tok = 0, size;
        bool server = false, options = true;
        char *save = NULL, *tok, *o;

        if (!copy)
                return -ENOMEM;
        size = strlen(cmd) + 1;
        longs = calloc(size, sizeof(char *));
        args = calloc(size, sizeof(char *));
        letters = malloc(size);
        if (!longs || !args || !letters)
                return -ENOMEM;
        for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save), n_tok++) {
                if (n_tok == 0) {
                        const char *slash = strrchr(tok, '/');

                        if (!streq(slash ? slash + 1 : tok, "rsync"))
                                return -EINVAL;
                        continue;
                }
                if (options && streq(tok, "--")) {
                        options = false;
                        continue;
                }
                if (options && tok[0] == '-' && tok[1] == '-') {
                        server = server || streq(tok, "--server");
                        longs[n_longs++] = tok;
                } else if (options && tok[0] == '-' && tok[1]) {
                        /* A cluster: "-logDtpre.iLsfxCIvu"; after 'e' comes the capability
                         * string, which differs between client versions. A cluster with anything
                         * but letters and digits before it is no rsync's: kept whole. */
                        size_t l = strcspn(tok + 1, "e");

                        if (strspn(tok + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdfghijklmnopqrstuvwxyz"
                                            "0123456789") < l) {
                                longs[n_longs++] = tok;
                                continue;
                        }
                        memcpy(letters + n_letters, tok + 1, l);
                        n_letters += l;
                } else {
                        options = false;
                        args[n_args++] = tok;
                }
        }
        if (!server)
                return -EINVAL;
        qsort(longs, n_longs, sizeof(char *), cmp_str);
        qsort(letters, n_letters, 1, cmp_char);
        out = malloc(size + 16); /* " -" and " --" at most beyond the input's bytes */
        if (!out)
                return -ENOMEM;
        o = stpcpy(out, "rsync");
        for (size_t i = 0; i < n_longs; i++)
                o = stpcpy(stpcpy(o, " "), longs[i]);
        if (n_letters > 0) {
                o = stpcpy(o, " -");
                memcpy(o, letters, n_letters);
                o += n_letters;
        }
        /* Arguments that look like options were after "--": keep it, so the form reads back. */
        for (size_t i = 0; i < n_args; i++)
                if (args[i][0] == '-') {
                        o = stpcpy(o, " --");
                        break;
                }
        for (size_t i = 0; i < n_args; i++)
                o = stpcpy(stpcpy(o, " "), args[i]);
        *o = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

int sshd_unvis(const char *in, char **ret) {
        _cleanup_free_ char *out = malloc(strlen(in) + 1);
        char *o = out;

        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p; p++) {
                static const char from[] = "\\ntrabvf", to[] = "\\\n\t\r\a\b\v\f";
                const char *k;

                if (*p != '\\') {
                        *o++ = *p;
                        continue;
                }
                p++;
                if (*p >= '0' && *p <= '7') {
                        unsigned v = 0;
                        int n = 0;

                        for (; n < 3 && p[n] >= '0' && p[n] <= '7'; n++)
                                v = v * 8 + (unsigned) (p[n] - '0');
                        if (v == 0 || v > 0xff)
                                return -EINVAL; /* a NUL cannot be in a C string */
                        *o++ = (char) v;
                        p += n - 1;
                        continue;
                }
                k = *p ? strchr(from, *p) : NULL;
                if (!k)
                        return -EINVAL;
                *o++ = to[k - from];
        }
        *o = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- networks -------------------------------------------------------------------------------- */

/* An address as sshd logs it; IPv4-mapped IPv6 as IPv4. */
static int parse_addr(const char *s, int *ret_family, unsigned char ret[16]) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        unsigned char a[16];

        if (inet_pton(AF_INET, s, a) == 1) {
                *ret_family = AF_INET;
                memcpy(ret, a, 4);
                return 0;
        }
        if (inet_pton(AF_INET6, s, a) != 1)
                return -EINVAL;
        if (memcmp(a, mapped, 12) == 0) {
                *ret_family = AF_INET;
                memcpy(ret, a + 12, 4);
                return 0;
        }
        *ret_family = AF_INET6;
        memcpy(ret, a, 16);
        return 0;
}

static void mask(unsigned char *a, unsigned prefix, unsigned bits) {
        for (unsigned i = 0; i < bits / 8; i++) {
                unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;

                a[i] &= (unsigned char) (0xff00 >> keep);
        }
}

static int parse_net(const char *s, struct net *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash = strchr(s, '/');
        size_t l = slash ? (size_t) (slash - s) : strlen(s);
        struct net n = {};
        unsigned bits;

        if (l == 0 || l >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, l);
        buf[l] = 0;
        if (parse_addr(buf, &n.family, n.addr) < 0)
                return -EINVAL;
        bits = n.family == AF_INET ? 32 : 128;
        n.prefix = bits;
        if (slash) {
                char *end = NULL;
                unsigned long p;

                if (slash[1] < '0' || slash[1] > '9')
                        return -EINVAL;
                errno = 0;
                p = strtoul(slash + 1, &end, 10);
                if (errno != 0 || *end || p > bits)
                        return -EINVAL;
                /* An IPv4-mapped IPv6 network is written with a prefix over 128 bits. */
                if (n.family == AF_INET && strchr(buf, ':'))
                        return -EINVAL;
                n.prefix = (unsigned) p;
        }
        mask(n.addr, n.prefix, bits);
        *ret = n;
        return 0;
}

bool policy_valid_address(const char *s) {
        struct net n;

        return s && !strchr(s, '/') && parse_net(s, &n) >= 0;
}

bool policy_rule_allows_source(const struct policy_rule *r, const char *addr) {
        unsigned char a[16];
        int family;

        if (!r->n_nets)
                return true;
        if (!addr || parse_addr(addr, &family, a) < 0)
                return false;
        for (size_t i = 0; i < r->n_nets; i++) {
                const struct net *n = &r->nets[i];
                unsigned char m[16];

                if (n->family != family)
                        continue;
                memcpy(m, a, 16);
                mask(m, n->prefix, family == AF_INET ? 32 : 128);
                if (memcmp(m, n->addr, family == AF_INET ? 4 : 16) == 0)
                        return true;
        }
        return false;
}

/* ---- the parser ------------------------------------------------------------------------------ */

static int fail(struct policy_file_error *e, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int fail(struct policy_file_error *e, unsigned line, const char *fmt, ...) {
        va_list ap;

        e->line = line;
        va_start(ap, fmt);
        (void) vsnprintf(e->buf, sizeof(e->buf), fmt, ap);
        va_end(ap);
        e->message = e->buf;
        return -EBADMSG;
}

bool policy_valid_fingerprint(const char *s) {
        if (startswith(s, "SHA256:")) {
                size_t l = strlen(s + 7);

                return l == 43 && strspn(s + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                "0123456789+/") == l;
        }
        if (startswith(s, "MD5:")) {
                /* MD5:xx:xx:...: 16 hex pairs */
                const char *p = s + 4;

                for (int i = 0; i < 16; i++, p += 3)
                        if (strspn(p, "0123456789abcdef") < 2 || p[2] != (i == 15 ? 0 : ':'))
                                return false;
                return true;
        }
        return false;
}

bool policy_valid_account(const char *s) {
        size_t l = strlen(s);

        return l > 0 && l <= 256 && s[0] != '-' &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@$") == l;
}

static int rule_cmp(const void *a, const void *b) {
        const struct policy_rule *x = *(struct policy_rule *const *) a;
        const struct policy_rule *y = *(struct policy_rule *const *) b;

        if (x->is_key != y->is_key)
                return x->is_key ? -1 : 1;
        return strcmp(x->subject, y->subject);
}

static int add_rule(struct policy_file *f, struct policy_rule *r, struct policy_file_error *e) {
        struct policy_rule **v;

        if (f->n_rules >= POLICY_SECTIONS_MAX)
                return fail(e, r->line, "more than %d sections", POLICY_SECTIONS_MAX), -E2BIG;
        v = realloc(f->rules, (f->n_rules + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        f->rules = v;
        f->rules[f->n_rules++] = r;
        return 0;
}

static int parse_section(const char *s, unsigned line, struct policy_rule **ret,
                         struct policy_file_error *e) {
        _cleanup_(rule_freep) struct policy_rule *r = calloc(1, sizeof(*r));
        const char *subject;
        size_t l = strlen(s);

        if (!r)
                return -ENOMEM;
        if (l < 2 || s[l - 1] != ']')
                return fail(e, line, "a section header must end in ']'");
        if (strncmp(s, "[key ", 5) == 0) {
                r->is_key = true;
                subject = s + 5;
        } else if (strncmp(s, "[account ", 9) == 0)
                subject = s + 9;
        else
                return fail(e, line, "a section is [key FINGERPRINT] or [account NAME]");
        while (*subject == ' ' || *subject == '\t')
                subject++;
        l = strlen(subject) - 1;
        while (l > 0 && (subject[l - 1] == ' ' || subject[l - 1] == '\t'))
                l--;
        r->subject = strndup(subject, l);
        if (!r->subject)
                return -ENOMEM;
        if (r->is_key && !policy_valid_fingerprint(r->subject))
                return fail(e, line, "'%.64s' is not a key fingerprint (SHA256:... as ssh-keygen -l "
                            "prints it)", r->subject);
        if (!r->is_key && !policy_valid_account(r->subject))
                return fail(e, line, "'%.64s' is not an account name", r->subject);
        if (asprintf(&r->name, "%s %s", r->is_key ? "key" : "account", r->subject) < 0) {
                r->name = NULL;
                return -ENOMEM;
        }
        r->line = line;
        *ret = TAKE_PTR(r);
        return 0;
}

/* Split a list on commas and blanks into callback calls. */
static int each_item(char *v, unsigned line, struct policy_rule *r, struct policy_file_error *e,
                     int (*fn)(struct policy_rule *r, const char *item, unsigned line,
                               struct policy_file_error *e)) {
        char *save = NULL;
        int n = 0, k;

        for (char *t = strtok_r(v, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save), n++) {
                k = fn(r, t, line, e);
                if (k < 0)
                        return k;
        }
        if (n == 0)
                return fail(e, line, "an empty list");
        return 0;
}

static int add_net(struct policy_rule *r, const char *item, unsigned line,
                   struct policy_file_error *e) {
        struct net n, *v;

        if (parse_net(item, &n) < 0)
                return fail(e, line, "'%.64s' is not an IPv4 or IPv6 address or network "
                            "(ADDRESS[/PREFIX])", item);
        if (r->n_nets >= POLICY_ITEMS_MAX)
                return fail(e, line, "more than %d networks", POLICY_ITEMS_MAX), -E2BIG;
        v = realloc(r->nets, (r->n_nets + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        r->nets = v;
        r->nets[r->n_nets++] = n;
        return 0;
}

static int add_account(struct policy_rule *r, const char *item, unsigned line,
                       struct policy_file_error *e) {
        char *s;
        int k;

        if (!policy_valid_account(item))
                return fail(e, line, "'%.64s' is not an account name", item);
        s = strdup(item);
        if (!s)
                return -ENOMEM;
        k = strv_push(&r->accounts, s);
        if (k == -E2BIG)
                return fail(e, line, "more than %d accounts", POLICY_ITEMS_MAX), k;
        return k;
}

static int add_key(struct policy_rule *r, const char *item, unsigned line,
                   struct policy_file_error *e) {
        char *s;
        int k;

        if (!policy_valid_fingerprint(item))
                return fail(e, line, "'%.64s' is not a key fingerprint", item);
        s = strdup(item);
        if (!s)
                return -ENOMEM;
        k = strv_push(&r->keys, s);
        if (k == -E2BIG)
                return fail(e, line, "more than %d keys", POLICY_ITEMS_MAX), k;
        return k;
}

static int push_item(struct strv *s, char *owned, unsigned line, struct policy_file_error *e) {
        int k = strv_push(s, owned);

        if (k == -E2BIG)
                return fail(e, line, "more than %d of these in one section", POLICY_ITEMS_MAX), k;
        return k;
}

static int add_pattern(struct policy_rule *r, const char *v, unsigned line,
                       struct policy_file_error *e) {
        pcre2_code *code, *prefix, **a;
        PCRE2_SIZE off = 0;
        char *src;
        int err = 0;

        if (r->n_patterns >= POLICY_ITEMS_MAX)
                return fail(e, line, "more than %d patterns", POLICY_ITEMS_MAX), -E2BIG;
        code = pcre2_compile((PCRE2_SPTR) v, PCRE2_ZERO_TERMINATED,
                             PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NEVER_BACKSLASH_C, &err,
                             &off, NULL);
        if (!code) {
                PCRE2_UCHAR msg[128];

                (void) pcre2_get_error_message(err, msg, sizeof(msg));
                return fail(e, line, "command-pattern: %s at offset %zu", (const char *) msg,
                            (size_t) off);
        }
        prefix = pcre2_compile((PCRE2_SPTR) v, PCRE2_ZERO_TERMINATED,
                               PCRE2_ANCHORED | PCRE2_NEVER_BACKSLASH_C, &err, &off, NULL);
        if (!prefix) {
                pcre2_code_free(code);
                return -ENOMEM; /* it compiled once */
        }
        (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        (void) pcre2_jit_compile(prefix, PCRE2_JIT_PARTIAL_HARD);
        a = realloc(r->prefixes, (r->n_patterns + 1) * sizeof(*a));
        if (a)
                r->prefixes = a;
        a = a ? realloc(r->patterns, (r->n_patterns + 1) * sizeof(*a)) : NULL;
        if (!a) {
                pcre2_code_free(code);
                pcre2_code_free(prefix);
                return -ENOMEM;
        }
        r->patterns = a;
        r->prefixes[r->n_patterns] = prefix;
        r->patterns[r->n_patterns++] = code;
        src = strdup(v);
        if (!src)
                return -ENOMEM;
        return push_item(&r->pattern_src, src, line, e);
}

static int parse_setting(struct policy_rule *r, char *s, unsigned line,
                         struct policy_file_error *e) {
        char *eq = strchr(s, '='), *name_end, *v;
        _cleanup_free_ char *vis = NULL, *canon = NULL, *raw = NULL;
        int k;

        if (!eq)
                return fail(e, line, "expected NAME = VALUE, a [section] or a # comment");
        name_end = eq;
        while (name_end > s && (name_end[-1] == ' ' || name_end[-1] == '\t'))
                name_end--;
        *name_end = 0;
        v = eq + 1;
        while (*v == ' ' || *v == '\t')
                v++;
        if (!r)
                return fail(e, line, "'%.32s' before any [key ...] or [account ...] section", s);
        if (!*v)
                return fail(e, line, "%.32s: empty value", s);

        if (streq(s, "label")) {
                if (r->label)
                        return fail(e, line, "a second label in this section");
                r->label = strdup(v);
                return r->label ? 0 : -ENOMEM;
        }
        if (streq(s, "from"))
                return each_item(v, line, r, e, add_net);
        if (streq(s, "accounts")) {
                if (!r->is_key)
                        return fail(e, line, "accounts: only in a [key ...] section");
                return each_item(v, line, r, e, add_account);
        }
        if (streq(s, "keys")) {
                if (r->is_key)
                        return fail(e, line, "keys: only in an [account ...] section");
                return each_item(v, line, r, e, add_key);
        }
        if (streq(s, "command-pattern"))
                return add_pattern(r, v, line, e);
        if (streq(s, "command") || streq(s, "rsync")) {
                /* Compared with what sshd logs: its vis escaping of the command. */
                k = sshd_vis(v, strlen(v), &vis);
                if (k < 0)
                        return k;
                raw = strdup(v);
                if (!raw)
                        return -ENOMEM;
                if (streq(s, "command")) {
                        k = push_item(&r->commands_raw, TAKE_PTR(raw), line, e);
                        if (k < 0)
                                return k;
                        return push_item(&r->commands, TAKE_PTR(vis), line, e);
                }
                k = rsync_canonical(vis, &canon);
                if (k == -EINVAL)
                        return fail(e, line, "rsync: not an rsync --server command");
                if (k < 0)
                        return k;
                k = push_item(&r->rsync_canon, TAKE_PTR(canon), line, e);
                if (k < 0)
                        return k;
                k = push_item(&r->rsyncs_raw, TAKE_PTR(raw), line, e);
                if (k < 0)
                        return k;
                return push_item(&r->rsyncs, TAKE_PTR(vis), line, e);
        }
        return fail(e, line, "unknown setting '%.32s' (label, command, command-pattern, rsync, "
                    "from, accounts, keys)", s);
}

int policy_file_parse(const char *data, size_t len, struct policy_file **ret,
                      struct policy_file_error *reterr) {
        _cleanup_(policy_file_freep) struct policy_file *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *buf = NULL;
        struct policy_rule *cur = NULL;
        struct policy_file_error e = {};
        unsigned line = 0;
        size_t pos = 0;
        int r;

        if (!f)
                return -ENOMEM;
        if (len > POLICY_FILE_MAX) {
                *reterr = (struct policy_file_error){ .message = "the file is too large" };
                return -E2BIG;
        }
        buf = malloc(POLICY_LINE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        while (pos < len) {
                const char *nl = memchr(data + pos, '\n', len - pos);
                size_t l = nl ? (size_t) (nl - (data + pos)) : len - pos;
                char *s;

                line++;
                if (l > POLICY_LINE_MAX) {
                        r = fail(&e, line, "a line longer than %d bytes", POLICY_LINE_MAX);
                        goto err;
                }
                if (memchr(data + pos, 0, l)) {
                        r = fail(&e, line, "a NUL byte");
                        goto err;
                }
                memcpy(buf, data + pos, l);
                buf[l] = 0;
                pos += l + (nl ? 1 : 0);
                while (l > 0 && (buf[l - 1] == ' ' || buf[l - 1] == '\t' || buf[l - 1] == '\r'))
                        buf[--l] = 0;
                s = buf + strspn(buf, " \t");
                if (!*s || *s == '#')
                        continue;
                if (*s == '[') {
                        struct policy_rule *nr = NULL;

                        r = parse_section(s, line, &nr, &e);
                        if (r < 0)
                                goto err;
                        r = add_rule(f, nr, &e);
                        if (r < 0) {
                                rule_free(nr);
                                goto err;
                        }
                        cur = nr;
                        continue;
                }
                r = parse_setting(cur, s, line, &e);
                if (r < 0)
                        goto err;
        }
        if (f->n_rules > 0)
                qsort(f->rules, f->n_rules, sizeof(*f->rules), rule_cmp);
        for (size_t i = 1; i < f->n_rules; i++)
                if (rule_cmp(&f->rules[i - 1], &f->rules[i]) == 0) {
                        const struct policy_rule *a = f->rules[i - 1], *b = f->rules[i];

                        r = fail(&e, MAX(a->line, b->line), "a second section for %s (the first "
                                 "at line %u)", a->name, MIN(a->line, b->line));
                        goto err;
                }
        f->mctx = pcre2_match_context_create(NULL);
        f->md = pcre2_match_data_create(1, NULL);
        if (!f->mctx || !f->md)
                return -ENOMEM;
        (void) pcre2_set_match_limit(f->mctx, POLICY_MATCH_LIMIT);
        for (size_t i = 0; i < f->n_rules; i++) {
                f->rules[i]->mctx = f->mctx;
                f->rules[i]->md = f->md;
        }
        *ret = TAKE_PTR(f);
        return 0;
err:
        if (r == -ENOMEM)
                return r;
        *reterr = e;
        if (reterr->message == e.buf)
                reterr->message = reterr->buf;
        return r;
}

int policy_file_load(const char *path, struct policy_file **ret, struct policy_file_error *reterr) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                *reterr = (struct policy_file_error){};
                return -errno;
        }
        if (S_ISDIR(st.st_mode)) {
                *reterr = (struct policy_file_error){};
                return -EISDIR;
        }
        r = read_full_fd(fd, POLICY_FILE_MAX, &data, &len);
        if (r == -EFBIG) {
                *reterr = (struct policy_file_error){ .message = "the file is too large" };
                return -E2BIG;
        }
        if (r < 0) {
                *reterr = (struct policy_file_error){};
                return r;
        }
        return policy_file_parse(data ?: "", len, ret, reterr);
}

/* ---- lookups and matchers -------------------------------------------------------------------- */

static const struct policy_rule *find(const struct policy_file *f, bool is_key, const char *s) {
        size_t lo = 0, hi = f->n_rules;

        if (!s)
                return NULL;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const struct policy_rule *r = f->rules[mid];
                int c = r->is_key != is_key ? (r->is_key ? -1 : 1) : strcmp(r->subject, s);

                if (c == 0)
                        return r;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const struct policy_rule *policy_file_lookup(const struct policy_file *f, const char *fingerprint,
                                             const char *user) {
        const struct policy_rule *r;

        if (!f)
                return NULL;
        r = find(f, true, fingerprint);
        return r ?: find(f, false, user);
}

const struct policy_rule *policy_file_account(const struct policy_file *f, const char *user) {
        return f ? find(f, false, user) : NULL;
}

bool policy_rule_has_keys(const struct policy_rule *r) {
        return r->keys.n > 0;
}

bool policy_rule_allows_key(const struct policy_rule *r, const char *fingerprint) {
        if (r->keys.n == 0)
                return true;
        for (size_t i = 0; fingerprint && i < r->keys.n; i++)
                if (streq(r->keys.v[i], fingerprint))
                        return true;
        return false;
}

const char *policy_rule_label(const struct policy_rule *r) {
        return r->label;
}

const char *policy_rule_name(const struct policy_rule *r) {
        return r->name;
}

unsigned policy_rule_line(const struct policy_rule *r) {
        return r->line;
}

bool policy_rule_has_sources(const struct policy_rule *r) {
        return r->n_nets > 0;
}

bool policy_rule_has_commands(const struct policy_rule *r) {
        return r->commands.n > 0 || r->rsyncs.n > 0 || r->n_patterns > 0;
}

bool policy_rule_has_accounts(const struct policy_rule *r) {
        return r->accounts.n > 0;
}

bool policy_rule_allows_account(const struct policy_rule *r, const char *user) {
        if (r->accounts.n == 0)
                return true;
        for (size_t i = 0; user && i < r->accounts.n; i++)
                if (streq(r->accounts.v[i], user))
                        return true;
        return false;
}

/* A logged command cut short agrees with an expected one as far as it goes (it may also have lost
 * the last bytes of an escape sequence). */
static bool prefix_agrees(const char *expected, const char *logged) {
        size_t ol = strlen(logged), cmp = ol;

        for (size_t k = 1; k <= 3 && k <= ol; k++)
                if (logged[ol - k] == '\\') {
                        cmp = ol - k;
                        break;
                }
        return strlen(expected) >= cmp && memcmp(expected, logged, cmp) == 0;
}

int policy_rule_allows_command(const struct policy_rule *r, const char *logged, bool truncated,
                               const char **ret_expected) {
        _cleanup_free_ char *canon = NULL;
        int k;

        if (ret_expected)
                *ret_expected = r->commands.n ? r->commands_raw.v[0]
                                : r->rsyncs.n ? r->rsyncs_raw.v[0]
                                : r->pattern_src.n ? r->pattern_src.v[0]
                                                   : NULL;
        if (!policy_rule_has_commands(r))
                return 1;
        if (!logged)
                return 0;
        for (size_t i = 0; i < r->commands.n; i++)
                if (truncated ? prefix_agrees(r->commands.v[i], logged)
                              : streq(r->commands.v[i], logged))
                        return 1;
        if (r->rsyncs.n > 0) {
                if (truncated) {
                        for (size_t i = 0; i < r->rsyncs.n; i++)
                                if (prefix_agrees(r->rsyncs.v[i], logged))
                                        return 1;
                } else {
                        k = rsync_canonical(logged, &canon);
                        if (k < 0 && k != -EINVAL)
                                return k;
                        for (size_t i = 0; k >= 0 && i < r->rsync_canon.n; i++)
                                if (streq(r->rsync_canon.v[i], canon))
                                        return 1;
                }
        }
        for (size_t i = 0; i < r->n_patterns; i++) {
                /* A match error (the limit) is no match: the alert is raised, never lost. */
                size_t len = strlen(logged);
                int m;

                if (!truncated) {
                        m = pcre2_match(r->patterns[i], (PCRE2_SPTR) logged, len, 0, 0, r->md,
                                        r->mctx);
                        if (m >= 0)
                                return 1;
                        continue;
                }
                /* A cut line: the pattern reaches its end still matching, or matches it all. */
                m = pcre2_match(r->prefixes[i], (PCRE2_SPTR) logged, len, 0, PCRE2_PARTIAL_HARD,
                                r->md, r->mctx);
                if (m == PCRE2_ERROR_PARTIAL ||
                    (m >= 0 && pcre2_get_ovector_pointer(r->md)[1] == len))
                        return 1;
        }
        return 0;
}
