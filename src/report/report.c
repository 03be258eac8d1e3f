/* SPDX-License-Identifier: MIT */
/*
 * The report's collector: hosts, the keys seen on each, what each key did, every alert and the
 * timeline, all in bounded tables, and the JSON document they make (report-internal.h). Owns
 * copies of every string it keeps; timeline events refer to the key's tables by index rather than
 * copying strings again.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "escape.h"
#include "report-internal.h"
#include "string-table.h"
#include "timeutil.h"

static const char *const format_table[_REPORT_FORMAT_MAX] = {
        [REPORT_FORMAT_TEXT] = "text",
        [REPORT_FORMAT_JSON] = "json",
        [REPORT_FORMAT_HTML] = "html",
};

DEFINE_STRING_TABLE_LOOKUP(report_format, enum report_format, format_table)

/* A name and how often it was seen (an account, an address). */
struct counted {
        char *name; /* owned */
        uint64_t n;
};

struct command {
        char *type;    /* owned: forced-command, command, shell, subsystem */
        char *command; /* owned, NULL for a shell: as sshd logged it (vis-escaped) */
        bool cut;      /* longer than REPORT_COMMAND_BYTES, or cut in the log */
        uint64_t n;
};

struct host {
        char *machine_id; /* owned: the journal's _MACHINE_ID, else the host name */
        char *name;       /* owned: _HOSTNAME, else the machine id */
        uint64_t entries, first_usec, last_usec;
        uint64_t logins, sessions, keyless_logins, refused, alerts;
};

struct key {
        unsigned host;                        /* index into hosts */
        char *fingerprint;                    /* owned: the key's, or a certificate's CA's */
        char *key_type, *ca_fingerprint;      /* owned, may be NULL */
        const struct baseline_entry *baseline; /* borrowed from the baseline; NULL: not in it */
        bool baseline_elsewhere;              /* the entry binds the key to another account */
        uint64_t logins, sessions, refused, first_usec, last_usec;
        struct counted accounts[REPORT_ACCOUNTS_MAX];
        unsigned n_accounts;
        uint64_t accounts_more;
        struct counted addrs[REPORT_ADDRS_MAX];
        unsigned n_addrs;
        uint64_t addrs_more;
        struct counted requested[REPORT_COMMANDS_MAX]; /* what clients asked for (a gate said) */
        unsigned n_requested;
        uint64_t requested_more;
        struct command commands[REPORT_COMMANDS_MAX];
        unsigned n_commands;
        uint64_t commands_more;
        uint64_t alerts_by_type[_ALERT_TYPE_MAX];
        unsigned alert_idx[REPORT_KEY_ALERTS_MAX]; /* into the report's alerts */
        unsigned n_alert_idx;
        uint64_t alerts_more;
};

struct kept_alert {
        char *json;  /* owned: the alert as the alert contract writes it */
        char id[33];
        enum alert_type type;
        uint64_t usec;
};

enum tl_kind { TL_LOGIN, TL_SESSION, TL_REFUSED, TL_ALERT, _TL_KIND_MAX };

static const char *const tl_kind_table[_TL_KIND_MAX] = {
        [TL_LOGIN] = "login",
        [TL_SESSION] = "session",
        [TL_REFUSED] = "refused",
        [TL_ALERT] = "alert",
};

/* A timeline event. Indexes are -1 when the thing did not fit its table (or has none). */
struct event_rec {
        uint64_t usec;
        uint32_t seq; /* arrival order: ties keep it */
        enum tl_kind kind;
        unsigned host;
        int key, account, addr, command, alert;
        int session_id;
        enum alert_type alert_type;
};

/* An open-addressing index of strings to table positions (position + 1; 0 is empty). */
struct index {
        unsigned *slot;
        size_t mask;
};

struct report {
        const struct baseline *baseline; /* borrowed */
        char **sources;                  /* owned */
        uint64_t since_usec, until_usec;
        struct report_limits lim;

        uint64_t entries, unattested, first_usec, last_usec;
        uint64_t logins, sessions;        /* all of them, listed or not */
        uint64_t alert_bytes;             /* kept alert JSON, bounded by REPORT_ALERT_BYTES */

        struct host *hosts;
        unsigned n_hosts;
        uint64_t hosts_more;
        struct index host_index;
        unsigned last_host; /* records come in runs of one host: try it first */

        struct key *keys;
        unsigned n_keys;
        uint64_t keys_more;
        struct index key_index;

        struct kept_alert *alerts;
        unsigned n_alerts;
        uint64_t alerts_total, alerts_more;
        uint64_t alerts_by_type[_ALERT_TYPE_MAX];

        struct event_rec *events;
        unsigned n_events, alloc_events;
        uint64_t events_more;
};

static unsigned limit(unsigned v, unsigned max) {
        return v == 0 || v > max ? max : v;
}

/* FNV-1a over at most max bytes: what is kept of a string is what identifies it. */
static uint64_t hash_str(uint64_t h, const char *s, size_t max) {
        for (size_t i = 0; s && s[i] && i < max; i++) {
                h ^= (unsigned char) s[i];
                h *= 1099511628211ULL;
        }
        return h * 1099511628211ULL;
}

static int index_init(struct index *x, unsigned entries) {
        size_t n = 16;

        while (n < (size_t) entries * 2)
                n *= 2;
        x->slot = calloc(n, sizeof(unsigned));
        if (!x->slot)
                return -ENOMEM;
        x->mask = n - 1;
        return 0;
}

/* Strings cut to at most max bytes (a cut is marked by *ret_cut when given). */
static char *dup_cut(const char *s, size_t max, bool *ret_cut) {
        size_t l;

        if (!s)
                return NULL;
        l = strnlen(s, max + 1);
        if (ret_cut)
                *ret_cut = l > max;
        return strndup(s, MIN(l, max));
}

static bool eq_cut(const char *kept, const char *s, size_t max) {
        if (!kept || !s)
                return kept == s;
        return strncmp(kept, s, max) == 0 && strlen(kept) == strnlen(s, max);
}

int report_new(const struct report_config *cfg, struct report **ret) {
        _cleanup_(report_freep) struct report *r = NULL;
        size_t n = 0;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->baseline = cfg->baseline;
        r->since_usec = cfg->since_usec;
        r->until_usec = cfg->until_usec;
        r->lim = (struct report_limits){
                .hosts = limit(cfg->limits.hosts, REPORT_HOSTS_MAX),
                .keys = limit(cfg->limits.keys, REPORT_KEYS_MAX),
                .accounts = limit(cfg->limits.accounts, REPORT_ACCOUNTS_MAX),
                .addrs = limit(cfg->limits.addrs, REPORT_ADDRS_MAX),
                .commands = limit(cfg->limits.commands, REPORT_COMMANDS_MAX),
                .key_alerts = limit(cfg->limits.key_alerts, REPORT_KEY_ALERTS_MAX),
                .alerts = limit(cfg->limits.alerts, REPORT_ALERTS_MAX),
                .events = limit(cfg->limits.events, REPORT_EVENTS_MAX),
        };
        for (char **i = cfg->sources; i && *i && n < REPORT_SOURCES_MAX; i++)
                n++;
        r->sources = calloc(n + 1, sizeof(char *));
        if (!r->sources)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r->sources[i] = strdup(cfg->sources[i]);
                if (!r->sources[i])
                        return -ENOMEM;
        }
        r->hosts = calloc(r->lim.hosts, sizeof(struct host));
        r->keys = calloc(r->lim.keys, sizeof(struct key));
        r->alerts = calloc(r->lim.alerts, sizeof(struct kept_alert));
        if (!r->hosts || !r->keys || !r->alerts)
                return -ENOMEM;
        k = index_init(&r->host_index, r->lim.hosts);
        if (k < 0)
                return k;
        k = index_init(&r->key_index, r->lim.keys);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

static void key_done(struct key *k) {
        free(k->fingerprint);
        free(k->key_type);
        free(k->ca_fingerprint);
        for (unsigned i = 0; i < k->n_accounts; i++)
                free(k->accounts[i].name);
        for (unsigned i = 0; i < k->n_addrs; i++)
                free(k->addrs[i].name);
        for (unsigned i = 0; i < k->n_commands; i++) {
                free(k->commands[i].type);
                free(k->commands[i].command);
        }
        for (unsigned i = 0; i < k->n_requested; i++)
                free(k->requested[i].name);
}

struct report *report_free(struct report *r) {
        if (!r)
                return NULL;
        strv_free(r->sources);
        for (unsigned i = 0; i < r->n_hosts; i++) {
                free(r->hosts[i].machine_id);
                free(r->hosts[i].name);
        }
        free(r->hosts);
        for (unsigned i = 0; i < r->n_keys; i++)
                key_done(&r->keys[i]);
        free(r->keys);
        for (unsigned i = 0; i < r->n_alerts; i++)
                free(r->alerts[i].json);
        free(r->alerts);
        free(r->events);
        free(r->host_index.slot);
        free(r->key_index.slot);
        free(r);
        return NULL;
}

static const char *host_key(const char *machine_id, const char *name) {
        return machine_id && *machine_id ? machine_id : name && *name ? name : "?";
}

/* The host's index; a new host when there is room. -ENOSPC when the table is full (the caller
 * counts what it drops). */
static int host_get(struct report *r, const char *machine_id, const char *name) {
        const char *id = host_key(machine_id, name);
        size_t i;

        if (r->n_hosts > 0 && eq_cut(r->hosts[r->last_host].machine_id, id, REPORT_NAME_BYTES))
                return (int) r->last_host;
        for (i = hash_str(14695981039346656037ULL, id, REPORT_NAME_BYTES) & r->host_index.mask;
             r->host_index.slot[i] != 0; i = (i + 1) & r->host_index.mask) {
                unsigned h = r->host_index.slot[i] - 1;

                if (eq_cut(r->hosts[h].machine_id, id, REPORT_NAME_BYTES)) {
                        r->last_host = h;
                        return (int) h;
                }
        }
        if (r->n_hosts >= r->lim.hosts)
                return -ENOSPC;
        r->hosts[r->n_hosts] = (struct host){
                .machine_id = dup_cut(id, REPORT_NAME_BYTES, NULL),
                .name = dup_cut(name && *name ? name : id, REPORT_NAME_BYTES, NULL),
        };
        if (!r->hosts[r->n_hosts].machine_id || !r->hosts[r->n_hosts].name) {
                free(r->hosts[r->n_hosts].machine_id);
                free(r->hosts[r->n_hosts].name);
                return -ENOMEM;
        }
        r->host_index.slot[i] = r->n_hosts + 1;
        r->last_host = r->n_hosts;
        return (int) r->n_hosts++;
}

static void span(uint64_t *first, uint64_t *last, uint64_t usec) {
        if (usec == 0)
                return;
        if (*first == 0 || usec < *first)
                *first = usec;
        if (usec > *last)
                *last = usec;
}

int report_record(struct report *r, const struct log_record *rec) {
        int h;

        r->entries++;
        if (rec->unattested)
                r->unattested++;
        span(&r->first_usec, &r->last_usec, rec->realtime_usec);
        h = host_get(r, record_str(rec, RECORD_MACHINE_ID), record_str(rec, RECORD_HOSTNAME));
        if (h == -ENOSPC) {
                r->hosts_more++;
                return 0;
        }
        if (h < 0)
                return h;
        r->hosts[h].entries++;
        span(&r->hosts[h].first_usec, &r->hosts[h].last_usec, rec->realtime_usec);
        return 0;
}

/* The key's index on host h; a new key when there is room (-ENOSPC, counted, when not). */
static int key_get(struct report *r, unsigned h, const char *fingerprint, bool create) {
        struct key *k;
        size_t i;

        for (i = hash_str(14695981039346656037ULL + h, fingerprint, REPORT_NAME_BYTES) &
                 r->key_index.mask;
             r->key_index.slot[i] != 0; i = (i + 1) & r->key_index.mask) {
                unsigned n = r->key_index.slot[i] - 1;

                if (r->keys[n].host == h &&
                    eq_cut(r->keys[n].fingerprint, fingerprint, REPORT_NAME_BYTES))
                        return (int) n;
        }
        if (!create)
                return -ENOENT;
        if (r->n_keys >= r->lim.keys) {
                r->keys_more++;
                return -ENOSPC;
        }
        k = &r->keys[r->n_keys];
        *k = (struct key){ .host = h,
                           .fingerprint = dup_cut(fingerprint, REPORT_NAME_BYTES, NULL) };
        if (!k->fingerprint)
                return -ENOMEM;
        r->key_index.slot[i] = r->n_keys + 1;
        return (int) r->n_keys++;
}

/* Fill in what the key is (type, CA, baseline entry) where not known yet. */
static int key_learn(struct report *r, struct key *k, const char *key_type, const char *ca,
                     const char *user, const char *location) {
        if (!k->key_type && key_type) {
                k->key_type = dup_cut(key_type, REPORT_NAME_BYTES, NULL);
                if (!k->key_type)
                        return -ENOMEM;
        }
        if (!k->ca_fingerprint && ca) {
                k->ca_fingerprint = dup_cut(ca, REPORT_NAME_BYTES, NULL);
                if (!k->ca_fingerprint)
                        return -ENOMEM;
        }
        if (r->baseline && (!k->baseline || k->baseline_elsewhere) && user) {
                const struct baseline_entry *other = NULL, *e;

                e = baseline_lookup(r->baseline, ca ?: k->fingerprint, user, location, &other);
                if (e) {
                        k->baseline = e;
                        k->baseline_elsewhere = false;
                } else if (other && !k->baseline) {
                        k->baseline = other;
                        k->baseline_elsewhere = true;
                }
        }
        if (!k->key_type && k->baseline)
                k->key_type = dup_cut(authkey_type_log_name(k->baseline->key->key_type),
                                      REPORT_NAME_BYTES, NULL);
        return 0;
}

/* Count name in a bounded table. Returns its index, -1 when it did not fit (counted in *more). */
static int count_name(struct counted *t, unsigned *n, unsigned max, uint64_t *more,
                      const char *name, size_t bytes, int *ret_err) {
        for (unsigned i = 0; i < *n; i++)
                if (eq_cut(t[i].name, name, bytes)) {
                        t[i].n++;
                        return (int) i;
                }
        if (*n >= max) {
                (*more)++;
                return -1;
        }
        t[*n].name = dup_cut(name, bytes, NULL);
        if (!t[*n].name) {
                *ret_err = -ENOMEM;
                return -1;
        }
        t[*n].n = 1;
        return (int) (*n)++;
}

static int count_command(struct report *r, struct key *k, const struct conn_session *s,
                         int *ret_err) {
        struct command *c;

        for (unsigned i = 0; i < k->n_commands; i++) {
                c = &k->commands[i];
                if (streq(c->type, s->type) &&
                    eq_cut(c->command, s->command, REPORT_COMMAND_BYTES)) {
                        c->n++;
                        c->cut = c->cut || s->truncated;
                        return (int) i;
                }
        }
        if (k->n_commands >= r->lim.commands) {
                k->commands_more++;
                return -1;
        }
        c = &k->commands[k->n_commands];
        *c = (struct command){ .type = dup_cut(s->type, REPORT_NAME_BYTES, NULL), .n = 1 };
        c->command = dup_cut(s->command, REPORT_COMMAND_BYTES, &c->cut);
        if (!c->type || (s->command && !c->command)) {
                free(c->type);
                free(c->command);
                *ret_err = -ENOMEM;
                return -1;
        }
        c->cut = c->cut || s->truncated;
        return (int) k->n_commands++;
}

/* Add a timeline event; counted when the timeline is full. */
static int add_event(struct report *r, struct event_rec ev) {
        if (r->n_events >= r->lim.events) {
                r->events_more++;
                return 0;
        }
        if (r->n_events >= r->alloc_events) {
                unsigned n = MIN(MAX(r->alloc_events * 2, 256u), r->lim.events);
                struct event_rec *e = reallocarray(r->events, n, sizeof(*e));

                if (!e)
                        return -ENOMEM;
                r->events = e;
                r->alloc_events = n;
        }
        ev.seq = r->n_events;
        r->events[r->n_events++] = ev;
        return 0;
}

int report_decide(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                  const struct decision_ctx *ctx) {
        struct report *r = userdata;
        const char *fp;
        struct key *k;
        struct host *ho;
        struct event_rec ev = { .usec = ctx->usec, .key = -1, .account = -1, .addr = -1,
                                .command = -1, .alert = -1, .session_id = -1 };
        int h, n, err = 0;

        if (!IN_SET(d, DECISION_ACCEPTED, DECISION_SESSION, DECISION_END, DECISION_SOURCE_REFUSED))
                return 0;
        if (d == DECISION_ACCEPTED)
                r->logins++;
        else if (d == DECISION_SESSION && c->authenticated)
                r->sessions++;
        h = host_get(r, c->machine_id, c->host);
        if (h == -ENOSPC)
                return 0;
        if (h < 0)
                return h;
        ho = &r->hosts[h];
        ev.host = (unsigned) h;

        if (d == DECISION_SOURCE_REFUSED) {
                ho->refused++;
                fp = ctx->fingerprint;
                if (!fp)
                        return 0;
                n = key_get(r, (unsigned) h, fp, true);
                if (n == -ENOSPC)
                        return 0;
                if (n < 0)
                        return n;
                k = &r->keys[n];
                err = key_learn(r, k, ctx->key_type, NULL, c->refused_user ?: c->user,
                                c->refused_location);
                if (err < 0)
                        return err;
                k->refused++;
                span(&k->first_usec, &k->last_usec, ctx->usec);
                ev.kind = TL_REFUSED;
                ev.key = n;
                if (c->refused_user ?: c->user)
                        ev.account = count_name(k->accounts, &k->n_accounts, r->lim.accounts,
                                                &k->accounts_more, c->refused_user ?: c->user,
                                                REPORT_NAME_BYTES, &err);
                if (err >= 0 && (c->refused_ip ?: c->addr))
                        ev.addr = count_name(k->addrs, &k->n_addrs, r->lim.addrs, &k->addrs_more,
                                             c->refused_ip ?: c->addr, REPORT_NAME_BYTES, &err);
                if (err < 0)
                        return err;
                return add_event(r, ev);
        }

        if (!c->authenticated && d != DECISION_ACCEPTED)
                return 0;
        fp = c->fingerprint ?: c->ca_fingerprint;
        if (!fp) {
                /* A password or keyboard-interactive login: counted on the host only. */
                if (d == DECISION_ACCEPTED) {
                        ho->logins++;
                        ho->keyless_logins++;
                } else if (d == DECISION_SESSION)
                        ho->sessions++;
                return 0;
        }
        n = key_get(r, (unsigned) h, fp, d == DECISION_ACCEPTED || d == DECISION_SESSION);
        if (n == -ENOSPC || n == -ENOENT) {
                if (d == DECISION_ACCEPTED)
                        ho->logins++;
                else if (d == DECISION_SESSION)
                        ho->sessions++;
                return 0;
        }
        if (n < 0)
                return n;
        k = &r->keys[n];
        ev.key = n;
        span(&k->first_usec, &k->last_usec, ctx->usec);
        if (d == DECISION_END) {
                /* What the client asked for in each session, when a forced-command wrapper
                 * (keytrail-gate) said so: it is known only once the session ran. */
                for (unsigned i = 0; i < c->n_sessions && err >= 0; i++)
                        if (c->sessions[i].requested)
                                (void) count_name(k->requested, &k->n_requested, r->lim.commands,
                                                  &k->requested_more, c->sessions[i].requested,
                                                  REPORT_COMMAND_BYTES, &err);
                return err;
        }

        err = key_learn(r, k, c->key_type, c->ca_fingerprint, c->user, c->key_location);
        if (err < 0)
                return err;
        if (c->user) {
                /* The account is counted once per login; a session only finds its index. */
                if (d == DECISION_ACCEPTED)
                        ev.account =
                                count_name(k->accounts, &k->n_accounts, r->lim.accounts,
                                           &k->accounts_more, c->user, REPORT_NAME_BYTES, &err);
                else
                        for (unsigned i = 0; i < k->n_accounts; i++)
                                if (eq_cut(k->accounts[i].name, c->user, REPORT_NAME_BYTES))
                                        ev.account = (int) i;
        }
        if (err >= 0 && c->addr) {
                if (d == DECISION_ACCEPTED)
                        ev.addr = count_name(k->addrs, &k->n_addrs, r->lim.addrs, &k->addrs_more,
                                             c->addr, REPORT_NAME_BYTES, &err);
                else
                        for (unsigned i = 0; i < k->n_addrs; i++)
                                if (eq_cut(k->addrs[i].name, c->addr, REPORT_NAME_BYTES))
                                        ev.addr = (int) i;
        }
        if (err < 0)
                return err;

        if (d == DECISION_ACCEPTED) {
                ho->logins++;
                k->logins++;
                ev.kind = TL_LOGIN;
                return add_event(r, ev);
        }
        /* DECISION_SESSION */
        ho->sessions++;
        k->sessions++;
        ev.kind = TL_SESSION;
        ev.session_id = s ? s->id : -1;
        if (s && s->type) {
                ev.command = count_command(r, k, s, &err);
                if (err < 0)
                        return err;
        }
        return add_event(r, ev);
}

int report_alert(void *userdata, const struct alert *a) {
        struct report *r = userdata;
        struct event_rec ev = { .usec = a->time_usec, .kind = TL_ALERT, .key = -1,
                                .account = -1, .addr = -1, .command = -1, .alert = -1,
                                .session_id = a->session_id, .alert_type = a->type };
        int h, n, q;

        r->alerts_total++;
        r->alerts_by_type[a->type]++;
        if (r->n_alerts < r->lim.alerts && r->alert_bytes < REPORT_ALERT_BYTES) {
                struct kept_alert *ka = &r->alerts[r->n_alerts];

                *ka = (struct kept_alert){ .type = a->type, .usec = a->time_usec };
                q = alert_id(a, ka->id);
                if (q < 0)
                        return q;
                q = alert_to_json(a, &ka->json);
                if (q < 0)
                        return q;
                r->alert_bytes += strlen(ka->json);
                ev.alert = (int) r->n_alerts++;
        } else
                r->alerts_more++;

        h = host_get(r, a->machine_id, a->host);
        if (h == -ENOSPC)
                return 0;
        if (h < 0)
                return h;
        r->hosts[h].alerts++;
        ev.host = (unsigned) h;
        if (a->fingerprint && a->type != ALERT_SPOOFED_ENTRY) {
                /* A key seen only through its alert (a refused key) still gets its entry. */
                n = key_get(r, (unsigned) h, a->fingerprint, true);
                if (n >= 0) {
                        struct key *k = &r->keys[n];

                        q = key_learn(r, k, a->key_type, NULL, a->user, a->key_location);
                        if (q < 0)
                                return q;
                        k->alerts_by_type[a->type]++;
                        if (ev.alert >= 0 && k->n_alert_idx < r->lim.key_alerts)
                                k->alert_idx[k->n_alert_idx++] = (unsigned) ev.alert;
                        else
                                k->alerts_more++;
                        if (k->first_usec == 0)
                                span(&k->first_usec, &k->last_usec, a->time_usec);
                        ev.key = n;
                } else if (n != -ENOSPC)
                        return n;
        }
        return add_event(r, ev);
}

uint64_t report_entries(const struct report *r) {
        return r->entries;
}

uint64_t report_alerts(const struct report *r) {
        return r->alerts_total;
}

void report_time_covered(const struct report *r, uint64_t *ret_first, uint64_t *ret_last) {
        *ret_first = r->first_usec;
        *ret_last = r->last_usec;
}

/* ---- the document --------------------------------------------------------------------------- */

char *report_key_label(const char *machine_id, const char *fingerprint) {
        char *s = NULL;

        if (asprintf(&s, "%s\n%s", machine_id ?: "", fingerprint ?: "") < 0)
                return NULL;
        return s;
}

char *report_totals_line(json_t *totals) {
        char *s = NULL;

        if (asprintf(&s, "%lld %s, %lld %s, %lld %s, %lld %s, %lld %s", doc_int(totals, "hosts"),
                     plural(doc_int(totals, "hosts"), "host", "hosts"), doc_int(totals, "keys"),
                     plural(doc_int(totals, "keys"), "key", "keys"), doc_int(totals, "logins"),
                     plural(doc_int(totals, "logins"), "login", "logins"),
                     doc_int(totals, "sessions"),
                     plural(doc_int(totals, "sessions"), "session", "sessions"),
                     doc_int(totals, "alerts"),
                     plural(doc_int(totals, "alerts"), "alert", "alerts")) < 0)
                return NULL;
        return s;
}

json_t *report_json_string(const char *s) {
        _cleanup_free_ char *u = NULL;
        bool changed;
        size_t len;

        if (!s)
                return json_null();
        if (escape_utf8(s, strlen(s), &u, &len, &changed) < 0)
                return NULL;
        return json_stringn(u, len);
}

static json_t *json_time(uint64_t usec) {
        char buf[TIMEUTIL_RFC3339_MAX];

        if (usec == 0)
                return json_null();
        return json_string(timeutil_format_rfc3339(usec, buf));
}

/* Set a member, taking v; false on OOM (v NULL or the set failed). */
static bool set(json_t *o, const char *k, json_t *v) {
        return v && json_object_set_new(o, k, v) == 0;
}

static bool append(json_t *a, json_t *v) {
        return v && json_array_append_new(a, v) == 0;
}

static int cmp_counted(const void *a, const void *b) {
        const struct counted *x = *(const struct counted *const *) a,
                             *y = *(const struct counted *const *) b;

        if (x->n != y->n)
                return x->n > y->n ? -1 : 1;
        return strcmp(x->name, y->name);
}

static json_t *counted_json(const struct counted *t, unsigned n, const char *name_key) {
        const struct counted *sorted[MAX(MAX(REPORT_ACCOUNTS_MAX, REPORT_ADDRS_MAX),
                                         REPORT_COMMANDS_MAX)];
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (unsigned i = 0; i < n; i++)
                sorted[i] = &t[i];
        qsort(sorted, n, sizeof(sorted[0]), cmp_counted);
        for (unsigned i = 0; i < n; i++) {
                json_t *o = json_object();

                if (!o || !append(a, o) || !set(o, name_key, report_json_string(sorted[i]->name)) ||
                    !set(o, "count", json_integer((json_int_t) sorted[i]->n))) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static int cmp_command(const void *a, const void *b) {
        const struct command *x = *(const struct command *const *) a,
                             *y = *(const struct command *const *) b;
        int c;

        if (x->n != y->n)
                return x->n > y->n ? -1 : 1;
        c = strcmp(x->type, y->type);
        if (c != 0)
                return c;
        return strcmp(x->command ?: "", y->command ?: "");
}

static json_t *commands_json(const struct key *k) {
        const struct command *sorted[REPORT_COMMANDS_MAX];
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (unsigned i = 0; i < k->n_commands; i++)
                sorted[i] = &k->commands[i];
        qsort(sorted, k->n_commands, sizeof(sorted[0]), cmp_command);
        for (unsigned i = 0; i < k->n_commands; i++) {
                json_t *o = json_object();

                if (!o || !append(a, o) ||
                    !set(o, "session_type", report_json_string(sorted[i]->type)) ||
                    !set(o, "command", report_json_string(sorted[i]->command)) ||
                    !set(o, "cut", json_boolean(sorted[i]->cut)) ||
                    !set(o, "count", json_integer((json_int_t) sorted[i]->n))) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static json_t *baseline_json(const struct key *k) {
        _cleanup_free_ char *location = NULL;
        const struct authkey *ak;
        json_t *o;

        if (!k->baseline)
                return json_null();
        ak = k->baseline->key;
        if (ak->file && asprintf(&location, "%s:%u", ak->file, ak->line) < 0)
                return NULL;
        o = json_object();
        if (!o)
                return NULL;
        if (!set(o, "account", report_json_string(k->baseline->user)) ||
            !set(o, "bound_elsewhere", json_boolean(k->baseline_elsewhere)) ||
            !set(o, "comment", report_json_string(ak->comment)) ||
            !set(o, "command", report_json_string(ak->command)) ||
            !set(o, "from", report_json_string(ak->from)) ||
            !set(o, "restrict", json_boolean(ak->restrict_)) ||
            !set(o, "cert_authority", json_boolean(ak->cert_authority)) ||
            !set(o, "location", report_json_string(location))) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *alerts_by_type_json(const uint64_t *by_type) {
        json_t *o = json_object();

        if (!o)
                return NULL;
        for (int t = 0; t < _ALERT_TYPE_MAX; t++)
                if (by_type[t] > 0 &&
                    !set(o, alert_type_to_string(t), json_integer((json_int_t) by_type[t]))) {
                        json_decref(o);
                        return NULL;
                }
        return o;
}

static json_t *alert_ref_json(const struct kept_alert *ka) {
        json_t *o = json_object();

        if (!o || !set(o, "id", json_string(ka->id)) ||
            !set(o, "type", json_string(alert_type_to_string(ka->type))) ||
            !set(o, "severity", json_string(alert_type_severity(ka->type))) ||
            !set(o, "time", json_time(ka->usec))) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *key_json(const struct report *r, const struct key *k) {
        json_t *o = json_object(), *al = json_array();
        bool ok;

        if (!o || !al) {
                json_decref(o);
                json_decref(al);
                return NULL;
        }
        ok = set(o, "alerts", al);
        for (unsigned i = 0; ok && i < k->n_alert_idx; i++)
                ok = append(al, alert_ref_json(&r->alerts[k->alert_idx[i]]));
        ok = ok && set(o, "fingerprint", report_json_string(k->fingerprint)) &&
             set(o, "key_type", report_json_string(k->key_type)) &&
             set(o, "ca_fingerprint", report_json_string(k->ca_fingerprint)) &&
             set(o, "baseline", baseline_json(k)) &&
             set(o, "accounts", counted_json(k->accounts, k->n_accounts, "account")) &&
             set(o, "accounts_more", json_integer((json_int_t) k->accounts_more)) &&
             set(o, "logins", json_integer((json_int_t) k->logins)) &&
             set(o, "sessions", json_integer((json_int_t) k->sessions)) &&
             set(o, "refused", json_integer((json_int_t) k->refused)) &&
             set(o, "first_seen", json_time(k->first_usec)) &&
             set(o, "last_seen", json_time(k->last_usec)) &&
             set(o, "sources", counted_json(k->addrs, k->n_addrs, "address")) &&
             set(o, "sources_more", json_integer((json_int_t) k->addrs_more)) &&
             set(o, "commands", commands_json(k)) &&
             set(o, "commands_more", json_integer((json_int_t) k->commands_more)) &&
             set(o, "requested", counted_json(k->requested, k->n_requested, "command")) &&
             set(o, "requested_more", json_integer((json_int_t) k->requested_more)) &&
             set(o, "alerts_by_type", alerts_by_type_json(k->alerts_by_type)) &&
             set(o, "alerts_more", json_integer((json_int_t) k->alerts_more));
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static int cmp_host(const void *a, const void *b, void *userdata) {
        const struct report *rep = userdata;
        const struct host *x = &rep->hosts[*(const unsigned *) a];
        const struct host *y = &rep->hosts[*(const unsigned *) b];
        int c = strcmp(x->name, y->name);

        return c != 0 ? c : strcmp(x->machine_id, y->machine_id);
}

static int cmp_key(const void *a, const void *b, void *userdata) {
        const struct report *rep = userdata;
        const struct key *x = &rep->keys[*(const unsigned *) a];
        const struct key *y = &rep->keys[*(const unsigned *) b];

        if (x->first_usec != y->first_usec)
                return x->first_usec < y->first_usec ? -1 : 1;
        return strcmp(x->fingerprint, y->fingerprint);
}

static int cmp_event(const void *a, const void *b) {
        const struct event_rec *x = a, *y = b;

        if (x->usec != y->usec)
                return x->usec < y->usec ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static json_t *host_json(const struct report *r, unsigned h, const unsigned *key_order) {
        const struct host *ho = &r->hosts[h];
        json_t *o = json_object(), *keys = json_array();
        uint64_t by_type[_ALERT_TYPE_MAX] = {};
        bool ok;

        if (!o || !keys) {
                json_decref(o);
                json_decref(keys);
                return NULL;
        }
        ok = set(o, "keys", keys);
        for (unsigned i = 0; ok && i < r->n_keys; i++)
                if (r->keys[key_order[i]].host == h)
                        ok = append(keys, key_json(r, &r->keys[key_order[i]]));
        for (unsigned i = 0; i < r->n_events; i++)
                if (r->events[i].kind == TL_ALERT && r->events[i].host == h)
                        by_type[r->events[i].alert_type]++;
        ok = ok && set(o, "host", report_json_string(ho->name)) &&
             set(o, "machine_id", report_json_string(ho->machine_id)) &&
             set(o, "entries", json_integer((json_int_t) ho->entries)) &&
             set(o, "first_entry", json_time(ho->first_usec)) &&
             set(o, "last_entry", json_time(ho->last_usec)) &&
             set(o, "logins", json_integer((json_int_t) ho->logins)) &&
             set(o, "keyless_logins", json_integer((json_int_t) ho->keyless_logins)) &&
             set(o, "sessions", json_integer((json_int_t) ho->sessions)) &&
             set(o, "refused", json_integer((json_int_t) ho->refused)) &&
             set(o, "alerts", json_integer((json_int_t) ho->alerts));
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* alerts: the document's alerts, whose account and address an alert event repeats. */
static json_t *event_json(const struct report *r, const struct event_rec *e, json_t *alerts) {
        const struct key *k = e->key >= 0 ? &r->keys[e->key] : NULL;
        const struct command *cmd = k && e->command >= 0 ? &k->commands[e->command] : NULL;
        const struct kept_alert *ka = e->alert >= 0 ? &r->alerts[e->alert] : NULL;
        json_t *o = json_object(), *a = ka ? json_array_get(alerts, (size_t) e->alert) : NULL;

        if (!o)
                return NULL;
        if (a) {
                /* What the alert says, which for a forged entry is only what the forger claimed. */
                if (json_object_set(o, "user", json_object_get(a, "user")) < 0 ||
                    json_object_set(o, "source_ip", json_object_get(a, "source_ip")) < 0) {
                        json_decref(o);
                        return NULL;
                }
        } else if (!set(o, "user", report_json_string(k && e->account >= 0
                                                              ? k->accounts[e->account].name
                                                              : NULL)) ||
                   !set(o, "source_ip",
                        report_json_string(k && e->addr >= 0 ? k->addrs[e->addr].name : NULL))) {
                json_decref(o);
                return NULL;
        }
        if (!set(o, "time", json_time(e->usec)) ||
            !set(o, "event", json_string(tl_kind_table[e->kind])) ||
            !set(o, "host", report_json_string(r->hosts[e->host].name)) ||
            !set(o, "machine_id", report_json_string(r->hosts[e->host].machine_id)) ||
            !set(o, "fingerprint", report_json_string(k ? k->fingerprint : NULL)) ||
            !set(o, "session_id", e->session_id >= 0 ? json_integer(e->session_id) : json_null()) ||
            !set(o, "session_type", report_json_string(cmd ? cmd->type : NULL)) ||
            !set(o, "command", report_json_string(cmd ? cmd->command : NULL)) ||
            !set(o, "alert_type", e->kind == TL_ALERT
                                          ? json_string(alert_type_to_string(e->alert_type))
                                          : json_null()) ||
            !set(o, "alert_id", ka ? json_string(ka->id) : json_null())) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *report_to_json(const struct report *r) {
        _cleanup_free_ unsigned *host_order = NULL, *key_order = NULL;
        _cleanup_free_ struct event_rec *events = NULL;
        json_t *doc = json_object(), *hosts, *alerts, *timeline, *sources, *totals;
        bool ok;

        if (!doc || !set(doc, "hosts", json_array()) || !set(doc, "alerts", json_array()) ||
            !set(doc, "timeline", json_array()) || !set(doc, "sources", json_array()) ||
            !set(doc, "totals", json_object()))
                goto fail;
        hosts = json_object_get(doc, "hosts");
        alerts = json_object_get(doc, "alerts");
        timeline = json_object_get(doc, "timeline");
        sources = json_object_get(doc, "sources");
        totals = json_object_get(doc, "totals");

        for (char **s = r->sources; *s; s++)
                if (!append(sources, report_json_string(*s)))
                        goto fail;

        host_order = calloc(MAX(r->n_hosts, 1u), sizeof(unsigned));
        key_order = calloc(MAX(r->n_keys, 1u), sizeof(unsigned));
        events = calloc(MAX(r->n_events, 1u), sizeof(struct event_rec));
        if (!host_order || !key_order || !events)
                goto fail;
        for (unsigned i = 0; i < r->n_hosts; i++)
                host_order[i] = i;
        for (unsigned i = 0; i < r->n_keys; i++)
                key_order[i] = i;
        qsort_r(host_order, r->n_hosts, sizeof(unsigned), cmp_host, (void *) r);
        qsort_r(key_order, r->n_keys, sizeof(unsigned), cmp_key, (void *) r);
        if (r->n_events > 0)
                memcpy(events, r->events, r->n_events * sizeof(struct event_rec));
        qsort(events, r->n_events, sizeof(struct event_rec), cmp_event);

        for (unsigned i = 0; i < r->n_hosts; i++)
                if (!append(hosts, host_json(r, host_order[i], key_order)))
                        goto fail;
        for (unsigned i = 0; i < r->n_alerts; i++) {
                json_error_t e;

                if (!append(alerts, json_loads(r->alerts[i].json, 0, &e)))
                        goto fail;
        }
        for (unsigned i = 0; i < r->n_events; i++)
                if (!append(timeline, event_json(r, &events[i], alerts)))
                        goto fail;

        ok = set(doc, "report_version", json_integer(1)) &&
             set(doc, "generator", json_string("keytrail " PACKAGE_VERSION)) &&
             set(doc, "trusted_fields", json_boolean(r->unattested == 0)) &&
             set(doc, "unattested_entries", json_integer((json_int_t) r->unattested)) &&
             set(doc, "since", json_time(r->since_usec)) &&
             set(doc, "until", json_time(r->until_usec)) &&
             set(doc, "entries", json_integer((json_int_t) r->entries)) &&
             set(doc, "first_entry", json_time(r->first_usec)) &&
             set(doc, "last_entry", json_time(r->last_usec)) &&
             set(doc, "hosts_more", json_integer((json_int_t) r->hosts_more)) &&
             set(doc, "keys_more", json_integer((json_int_t) r->keys_more)) &&
             set(doc, "alerts_more", json_integer((json_int_t) r->alerts_more)) &&
             set(doc, "timeline_more", json_integer((json_int_t) r->events_more)) &&
             set(totals, "hosts", json_integer((json_int_t) r->n_hosts)) &&
             set(totals, "keys", json_integer((json_int_t) r->n_keys)) &&
             set(totals, "logins", json_integer((json_int_t) r->logins)) &&
             set(totals, "sessions", json_integer((json_int_t) r->sessions)) &&
             set(totals, "alerts", json_integer((json_int_t) r->alerts_total)) &&
             set(totals, "alerts_by_type", alerts_by_type_json(r->alerts_by_type));
        if (!ok)
                goto fail;
        return doc;

fail:
        json_decref(doc);
        return NULL;
}

int report_write(struct report *r, enum report_format f, FILE *out) {
        json_t *doc = report_to_json(r);
        int q = 0;

        if (!doc)
                return -ENOMEM;
        switch (f) {
        case REPORT_FORMAT_JSON:
                if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ||
                    fputc('\n', out) == EOF)
                        q = -EIO;
                break;
        case REPORT_FORMAT_TEXT:
                q = report_render_text(doc, out);
                break;
        case REPORT_FORMAT_HTML:
                q = report_render_html(doc, out);
                break;
        default:
                q = -EINVAL;
        }
        json_decref(doc);
        if (q >= 0 && (fflush(out) != 0 || ferror(out)))
                q = -EIO;
        return q;
}
