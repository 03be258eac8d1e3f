/* SPDX-License-Identifier: MIT */
/*
 * keytrail learn: keys and accounts in two bounded hash tables, each with small bounded sets of
 * counted values; written sorted, as a policy file (see learn.h).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "policy-file.h"
#include "timeutil.h"

#define BUCKETS 4096U

struct counted {
        char *value; /* owned */
        uint64_t n;
};

struct cset {
        struct counted *v;
        size_t n;
};

struct lkey {
        char *fingerprint, *key_type; /* owned */
        uint64_t logins, first_usec, last_usec;
        struct cset accounts, sources, types, commands;
        uint64_t cut;                 /* forced commands cut short in the log: left out */
        struct lkey *next;
};

struct lacct {
        char *user; /* owned */
        struct cset keys;
        struct lacct *next;
};

struct learn {
        struct lkey *keys[BUCKETS];
        struct lacct *accounts[BUCKETS];
        size_t n_keys, n_accounts;
        uint64_t logins, dropped;
};

static unsigned hash(const char *s) {
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 16777619u;
        return h % BUCKETS;
}

static void cset_done(struct cset *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i].value);
        free(s->v);
        *s = (struct cset){};
}

/* Count value in s. 0, or -ENOMEM; a full set counts the value as dropped. */
static int cset_add(struct learn *l, struct cset *s, const char *value) {
        struct counted *v;
        char *copy;

        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i].value, value)) {
                        s->v[i].n++;
                        return 0;
                }
        if (s->n >= LEARN_VALUES_MAX) {
                l->dropped++;
                return 0;
        }
        copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        v = realloc(s->v, (s->n + 1) * sizeof(*v));
        if (!v) {
                free(copy);
                return -ENOMEM;
        }
        s->v = v;
        s->v[s->n++] = (struct counted){ .value = copy, .n = 1 };
        return 0;
}

struct learn *learn_new(void) {
        return calloc(1, sizeof(struct learn));
}

struct learn *learn_free(struct learn *l) {
        if (!l)
                return NULL;
        for (unsigned b = 0; b < BUCKETS; b++) {
                for (struct lkey *k = l->keys[b], *next; k; k = next) {
                        next = k->next;
                        free(k->fingerprint);
                        free(k->key_type);
                        cset_done(&k->accounts);
                        cset_done(&k->sources);
                        cset_done(&k->types);
                        cset_done(&k->commands);
                        free(k);
                }
                for (struct lacct *a = l->accounts[b], *next; a; a = next) {
                        next = a->next;
                        free(a->user);
                        cset_done(&a->keys);
                        free(a);
                }
        }
        free(l);
        return NULL;
}

uint64_t learn_logins(const struct learn *l) {
        return l->logins;
}

uint64_t learn_dropped(const struct learn *l) {
        return l->dropped;
}

/* The key's entry, added when new. 0 and *ret (NULL when the table is full: counted), -ENOMEM. */
static int get_key(struct learn *l, const char *fp, struct lkey **ret) {
        unsigned b = hash(fp);
        struct lkey *k;

        for (k = l->keys[b]; k; k = k->next)
                if (streq(k->fingerprint, fp)) {
                        *ret = k;
                        return 0;
                }
        *ret = NULL;
        if (l->n_keys >= LEARN_KEYS_MAX) {
                l->dropped++;
                return 0;
        }
        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->fingerprint = strdup(fp);
        if (!k->fingerprint) {
                free(k);
                return -ENOMEM;
        }
        k->next = l->keys[b];
        l->keys[b] = k;
        l->n_keys++;
        *ret = k;
        return 0;
}

static int get_account(struct learn *l, const char *user, struct lacct **ret) {
        unsigned b = hash(user);
        struct lacct *a;

        for (a = l->accounts[b]; a; a = a->next)
                if (streq(a->user, user)) {
                        *ret = a;
                        return 0;
                }
        *ret = NULL;
        if (l->n_accounts >= LEARN_ACCOUNTS_MAX) {
                l->dropped++;
                return 0;
        }
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->user = strdup(user);
        if (!a->user) {
                free(a);
                return -ENOMEM;
        }
        a->next = l->accounts[b];
        l->accounts[b] = a;
        l->n_accounts++;
        *ret = a;
        return 0;
}

static int on_accepted(struct learn *l, const struct conn *c, const struct decision_ctx *ctx) {
        const char *fp = c->fingerprint ?: c->ca_fingerprint;
        struct lkey *k;
        struct lacct *a;
        int r;

        if (!fp || !c->user)
                return 0;
        l->logins++;
        r = get_key(l, fp, &k);
        if (r < 0 || !k)
                return r;
        if (!k->key_type && c->key_type) {
                k->key_type = strdup(c->key_type);
                if (!k->key_type)
                        return -ENOMEM;
        }
        if (k->logins++ == 0 || ctx->usec < k->first_usec)
                k->first_usec = ctx->usec;
        k->last_usec = MAX(k->last_usec, ctx->usec);
        r = cset_add(l, &k->accounts, c->user);
        if (r >= 0 && c->addr)
                r = cset_add(l, &k->sources, c->addr);
        if (r < 0)
                return r;
        r = get_account(l, c->user, &a);
        if (r < 0 || !a)
                return r;
        return cset_add(l, &a->keys, fp);
}

static int on_session(struct learn *l, const struct conn *c, const struct conn_session *s) {
        const char *fp = c->fingerprint ?: c->ca_fingerprint;
        struct lkey *k;
        int r;

        if (!fp || !c->user || !s->type)
                return 0;
        r = get_key(l, fp, &k);
        if (r < 0 || !k)
                return r;
        r = cset_add(l, &k->types, s->type);
        if (r < 0 || !streq(s->type, "forced-command") || !s->command)
                return r;
        if (s->truncated || strlen(s->command) >= FORCED_COMMAND_LOG_MAX) {
                k->cut++;
                return 0;
        }
        return cset_add(l, &k->commands, s->command);
}

int learn_decide(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                 const struct decision_ctx *ctx) {
        struct learn *l = userdata;

        switch (d) {
        case DECISION_ACCEPTED:
                return on_accepted(l, c, ctx);
        case DECISION_SESSION:
                return on_session(l, c, s);
        default:
                return 0;
        }
}

/* ---- writing --------------------------------------------------------------------------------- */

static int cmp_value(const void *a, const void *b) {
        return strcmp(((const struct counted *) a)->value, ((const struct counted *) b)->value);
}

/* Most frequent first, then by value. */
static int cmp_count(const void *a, const void *b) {
        const struct counted *x = a, *y = b;

        if (x->n != y->n)
                return x->n > y->n ? -1 : 1;
        return strcmp(x->value, y->value);
}

static void sort_set(struct cset *s, int (*cmp)(const void *, const void *)) {
        if (s->n > 1)
                qsort(s->v, s->n, sizeof(*s->v), cmp);
}

static int cmp_key(const void *a, const void *b) {
        return strcmp((*(struct lkey *const *) a)->fingerprint,
                      (*(struct lkey *const *) b)->fingerprint);
}

static int cmp_account(const void *a, const void *b) {
        return strcmp((*(struct lacct *const *) a)->user, (*(struct lacct *const *) b)->user);
}

/* A logged value, as written into the file: control characters (a forged line's newline would
 * start a line of its own) as '?'. */
static void put(FILE *f, const char *s) {
        for (; s && *s; s++)
                fputc((unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* "value (n), value (n), ..." on a comment line. */
static void write_counts(FILE *f, const char *what, const struct cset *s) {
        fprintf(f, "# %s:", what);
        for (size_t i = 0; i < s->n; i++) {
                fputs(i ? ", " : " ", f);
                put(f, s->v[i].value);
                fprintf(f, " (%" PRIu64 ")", s->v[i].n);
        }
        fputc('\n', f);
}

/* "NAME = VALUE" when valid, else a comment saying it is not. */
static void write_setting(FILE *f, const char *name, const char *value, bool valid,
                          const char *not_what) {
        if (!valid)
                fprintf(f, "# (not %s) ", not_what);
        fprintf(f, "%s = ", name);
        put(f, value);
        fputc('\n', f);
}

/* A forced command as a policy line: rsync by meaning, else exact, else (when its logged form
 * cannot be written back as a line) a quoted PCRE2 pattern of the logged form. */
static int write_command(FILE *f, const struct counted *c) {
        _cleanup_free_ char *raw = NULL, *canon = NULL;
        size_t l;
        int r;

        fprintf(f, "# ran %" PRIu64 " time%s\n", c->n, c->n == 1 ? "" : "s");
        if (has_control(c->value)) {
                fputs("# (not written: control characters in it: ", f);
                put(f, c->value);
                fputs(")\n", f);
                return 0;
        }
        r = sshd_unvis(c->value, &raw);
        if (r == -ENOMEM)
                return r;
        l = raw ? strlen(raw) : 0;
        if (r >= 0 && l > 0 && raw[0] != ' ' && raw[0] != '\t' && raw[l - 1] != ' ' &&
            raw[l - 1] != '\t' && !has_control(raw)) {
                r = rsync_canonical(c->value, &canon);
                if (r == -ENOMEM)
                        return r;
                fprintf(f, "%s = %s\n", r >= 0 ? "rsync" : "command", raw);
                return 0;
        }
        if (!strstr(c->value, "\\E")) {
                fprintf(f, "command-pattern = \\Q%s\\E\n", c->value);
                return 0;
        }
        fprintf(f, "# (not written: its logged form cannot be a policy line: %s)\n", c->value);
        return 0;
}

/* rsync invocations that differ only in what rsync_canonical() drops (option order, the
 * capability string) are one: their counts go to the first, the others are emptied (n = 0). */
static int merge_rsyncs(struct cset *s) {
        for (size_t i = 0; i < s->n; i++) {
                _cleanup_free_ char *ci = NULL;
                int r;

                if (s->v[i].n == 0)
                        continue;
                r = rsync_canonical(s->v[i].value, &ci);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                for (size_t j = i + 1; j < s->n; j++) {
                        _cleanup_free_ char *cj = NULL;

                        if (s->v[j].n == 0)
                                continue;
                        r = rsync_canonical(s->v[j].value, &cj);
                        if (r == -ENOMEM)
                                return r;
                        if (r >= 0 && streq(ci, cj)) {
                                s->v[i].n += s->v[j].n;
                                s->v[j].n = 0;
                        }
                }
        }
        return 0;
}

static int write_key(FILE *f, struct lkey *k) {
        char a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX];
        uint64_t unforced = 0;
        int r;

        sort_set(&k->accounts, cmp_value);
        sort_set(&k->sources, cmp_count);
        sort_set(&k->types, cmp_count);
        sort_set(&k->commands, cmp_count);
        for (size_t i = 0; i < k->types.n; i++)
                if (!streq(k->types.v[i].value, "forced-command"))
                        unforced += k->types.v[i].n;

        if (!policy_valid_fingerprint(k->fingerprint)) {
                fputs("\n# a key logged as '", f);
                put(f, k->fingerprint);
                fputs("' is not a fingerprint: left out\n", f);
                return 0;
        }
        fprintf(f, "\n[key %s]\n# ", k->fingerprint);
        put(f, k->key_type ?: "key");
        fprintf(f, ", %" PRIu64 " login%s from %s to %s\n", k->logins, k->logins == 1 ? "" : "s",
                timeutil_format_rfc3339(k->first_usec, a),
                timeutil_format_rfc3339(k->last_usec, b));
        fprintf(f, "# label = \n");
        for (size_t i = 0; i < k->accounts.n; i++)
                write_setting(f, "accounts", k->accounts.v[i].value,
                              policy_valid_account(k->accounts.v[i].value), "an account");
        if (k->types.n > 0)
                write_counts(f, "sessions", &k->types);
        if (unforced > 0)
                fprintf(f, "# no commands proposed: %" PRIu64 " session%s not a forced command\n",
                        unforced, unforced == 1 ? " was" : "s were");
        else {
                r = merge_rsyncs(&k->commands);
                if (r < 0)
                        return r;
                sort_set(&k->commands, cmp_count);
                for (size_t i = 0; i < k->commands.n && k->commands.v[i].n > 0; i++) {
                        r = write_command(f, &k->commands.v[i]);
                        if (r < 0)
                                return r;
                }
        }
        if (k->cut > 0)
                fprintf(f, "# %" PRIu64 " forced command%s cut short in the log left out\n", k->cut,
                        k->cut == 1 ? "" : "s");
        if (k->sources.n > 0) {
                write_counts(f, "logged in from", &k->sources);
                for (size_t i = 0; i < k->sources.n; i++)
                        write_setting(f, "from", k->sources.v[i].value,
                                      policy_valid_address(k->sources.v[i].value), "an address");
        }
        return 0;
}

int learn_write(const struct learn *cl, const char *header, FILE *f) {
        /* Sorting the sets and merging equal rsyncs in place changes nothing learned. */
        struct learn *l = (struct learn *) cl;
        _cleanup_free_ struct lkey **keys = calloc(l->n_keys + 1, sizeof(*keys));
        _cleanup_free_ struct lacct **accts = calloc(l->n_accounts + 1, sizeof(*accts));
        size_t nk = 0, na = 0;
        int r;

        if (!keys || !accts)
                return -ENOMEM;
        for (unsigned b = 0; b < BUCKETS; b++) {
                for (struct lkey *k = l->keys[b]; k; k = k->next)
                        keys[nk++] = k;
                for (struct lacct *a = l->accounts[b]; a; a = a->next)
                        accts[na++] = a;
        }
        if (nk > 1)
                qsort(keys, nk, sizeof(*keys), cmp_key);
        if (na > 1)
                qsort(accts, na, sizeof(*accts), cmp_account);

        fprintf(f, "# A policy proposed by keytrail learn (docs/policy.md).\n");
        if (header)
                fprintf(f, "# %s\n", header);
        fprintf(f, "# %" PRIu64 " public-key login%s of %zu key%s into %zu account%s.\n",
                l->logins, l->logins == 1 ? "" : "s", nk, nk == 1 ? "" : "s", na,
                na == 1 ? "" : "s");
        if (l->dropped > 0)
                fprintf(f, "# %" PRIu64 " value%s did not fit keytrail's tables and are missing.\n",
                        l->dropped, l->dropped == 1 ? "" : "s");
        fprintf(f, "# Review every section before passing it to --policy: history includes whatever\n"
                   "# an attacker already did. Widen 'from' to networks, add labels.\n");
        for (size_t i = 0; i < nk; i++) {
                r = write_key(f, keys[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < na; i++) {
                struct lacct *a = accts[i];

                sort_set(&a->keys, cmp_value);
                if (!policy_valid_account(a->user)) {
                        fputs("\n# an account logged as '", f);
                        put(f, a->user);
                        fputs("' is not an account name: left out\n", f);
                        continue;
                }
                fprintf(f, "\n[account %s]\n# %zu key%s logged in\n", a->user, a->keys.n,
                        a->keys.n == 1 ? "" : "s");
                for (size_t j = 0; j < a->keys.n; j++)
                        write_setting(f, "keys", a->keys.v[j].value,
                                      policy_valid_fingerprint(a->keys.v[j].value), "a key");
        }
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}
