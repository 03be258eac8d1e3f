/* SPDX-License-Identifier: MIT */
/*
 * Connection correlation. Owns the connection table: a hash by (host, monitor PID), a hash by
 * (host, child PID), a hash by (host, remote port), an LRU list for eviction and a FIFO of authenticated connections waiting for
 * their first session (for the log-time timeout).
 *
 * Invariants: every conn is on the LRU list and in the monitor hash; it is in the child hash iff
 * child_pid != 0; in the port hash iff port >= 0; it is on the wait list iff waiting. The wait list is in accept order, so the first
 * element has the earliest deadline (log time may step back a little between files: a deadline is
 * only ever decided late, never early).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define HASH_BUCKETS 4096 /* power of two */

struct host {
        char machine_id[33], boot_id[33];
        char *hostname; /* owned */
};

struct correlator {
        struct correlator_config cfg;
        struct conn *monitor_hash[HASH_BUCKETS], *child_hash[HASH_BUCKETS], *port_hash[HASH_BUCKETS];
        struct conn *lru_head, *lru_tail; /* head: least recently active */
        struct conn *wait_head, *wait_tail;
        unsigned n_conns;
        struct host **hosts;        /* owned; each host stays put (conns borrow its strings) */
        unsigned n_hosts, last_host;
        uint64_t watermark;
        struct correlator_stats stats;
};

static unsigned bucket(unsigned host_idx, pid_t pid) {
        uint32_t h = (uint32_t) pid * 2654435761u ^ host_idx * 40503u;
        return h & (HASH_BUCKETS - 1);
}

int correlator_new(const struct correlator_config *cfg, struct correlator **ret) {
        struct correlator *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->cfg = *cfg;
        if (c->cfg.max_connections == 0)
                c->cfg.max_connections = CORRELATOR_CONNECTIONS_DEFAULT;
        *ret = c;
        return 0;
}

static void session_done(struct conn_session *s) {
        free(s->type);
        free(s->forced_by);
        free(s->command);
        free(s->cursor);
        free(s->requested);
        *s = (struct conn_session){};
}

static void conn_free(struct conn *x) {
        for (unsigned i = 0; i < x->n_sessions; i++)
                session_done(&x->sessions[i]);
        free(x->addr);
        free(x->user);
        free(x->method);
        free(x->fingerprint);
        free(x->key_type);
        free(x->key_location);
        free(x->ca_fingerprint);
        free(x->accept_cursor);
        free(x->found_fingerprint);
        free(x->found_key_type);
        free(x->found_location);
        free(x->partial_fingerprint);
        free(x->partial_key_type);
        free(x->refused_location);
        free(x->refused_user);
        free(x->refused_ip);
        free(x->refused_cursor);
        free(x);
}

struct correlator *correlator_free(struct correlator *c) {
        if (!c)
                return NULL;
        while (c->lru_head) {
                struct conn *x = c->lru_head;

                c->lru_head = x->lru_next;
                conn_free(x);
        }
        for (unsigned i = 0; i < c->n_hosts; i++) {
                free(c->hosts[i]->hostname);
                free(c->hosts[i]);
        }
        free(c->hosts);
        free(c);
        return NULL;
}

/* ---- host table ------------------------------------------------------------------------------ */

static void copy_id(char dst[static 33], struct strview v) {
        size_t l = v.ptr ? MIN(v.len, (size_t) 32) : 0;

        memcpy(dst, v.ptr ? v.ptr : "", l);
        dst[l] = 0;
}

/* Text logs carry no machine id: their hosts are told apart by the name their lines give. */
static bool host_is(const struct host *h, const char *mid, const char *bid,
                    const struct log_record *rec) {
        return streq(h->machine_id, mid) && streq(h->boot_id, bid) &&
               (mid[0] || streq(h->hostname, record_str(rec, RECORD_HOSTNAME) ?: ""));
}

static int host_index(struct correlator *c, const struct log_record *rec, unsigned *ret) {
        char mid[33], bid[33];
        struct host **a, *h;

        copy_id(mid, record_field(rec, RECORD_MACHINE_ID));
        copy_id(bid, record_field(rec, RECORD_BOOT_ID));
        if (c->n_hosts > 0) {
                h = c->hosts[c->last_host];
                if (host_is(h, mid, bid, rec)) {
                        *ret = c->last_host;
                        return 0;
                }
        }
        for (unsigned i = 0; i < c->n_hosts; i++)
                if (host_is(c->hosts[i], mid, bid, rec)) {
                        c->last_host = i;
                        *ret = i;
                        return 0;
                }
        if (c->n_hosts >= CORRELATOR_HOSTS_MAX) {
                c->stats.hosts_full++;
                return -ENOSPC;
        }
        a = realloc(c->hosts, (c->n_hosts + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        c->hosts = a;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        memcpy(h->machine_id, mid, sizeof(mid));
        memcpy(h->boot_id, bid, sizeof(bid));
        h->hostname = strdup(record_str(rec, RECORD_HOSTNAME) ?: mid);
        if (!h->hostname) {
                free(h);
                return -ENOMEM;
        }
        c->hosts[c->n_hosts] = h;
        c->last_host = c->n_hosts;
        *ret = c->n_hosts++;
        return 0;
}

/* ---- lists and hashes ------------------------------------------------------------------------ */

static void lru_unlink(struct correlator *c, struct conn *x) {
        if (x->lru_prev)
                x->lru_prev->lru_next = x->lru_next;
        else
                c->lru_head = x->lru_next;
        if (x->lru_next)
                x->lru_next->lru_prev = x->lru_prev;
        else
                c->lru_tail = x->lru_prev;
        x->lru_prev = x->lru_next = NULL;
}

static void lru_append(struct correlator *c, struct conn *x) {
        x->lru_prev = c->lru_tail;
        x->lru_next = NULL;
        if (c->lru_tail)
                c->lru_tail->lru_next = x;
        else
                c->lru_head = x;
        c->lru_tail = x;
}

static void touch(struct correlator *c, struct conn *x, uint64_t usec) {
        x->last_usec = MAX(x->last_usec, usec);
        if (c->lru_tail != x) {
                lru_unlink(c, x);
                lru_append(c, x);
        }
}

static void wait_remove(struct correlator *c, struct conn *x) {
        if (!x->waiting)
                return;
        if (x->wait_prev)
                x->wait_prev->wait_next = x->wait_next;
        else
                c->wait_head = x->wait_next;
        if (x->wait_next)
                x->wait_next->wait_prev = x->wait_prev;
        else
                c->wait_tail = x->wait_prev;
        x->wait_prev = x->wait_next = NULL;
        x->waiting = false;
}

static void wait_append(struct correlator *c, struct conn *x) {
        if (x->waiting)
                return;
        x->wait_prev = c->wait_tail;
        x->wait_next = NULL;
        if (c->wait_tail)
                c->wait_tail->wait_next = x;
        else
                c->wait_head = x;
        c->wait_tail = x;
        x->waiting = true;
}

enum link { LINK_MONITOR, LINK_CHILD, LINK_PORT };

static struct conn **link_of(struct conn *x, enum link l) {
        return l == LINK_MONITOR ? &x->by_monitor : l == LINK_CHILD ? &x->by_child : &x->by_port;
}

static void hash_remove(struct conn **table, struct conn *x, unsigned key, enum link l) {
        for (struct conn **p = &table[bucket(x->host_idx, (pid_t) key)]; *p; p = link_of(*p, l))
                if (*p == x) {
                        *p = *link_of(x, l);
                        return;
                }
}

static void hash_insert(struct conn **table, struct conn *x, unsigned key, enum link l) {
        unsigned b = bucket(x->host_idx, (pid_t) key);

        *link_of(x, l) = table[b];
        table[b] = x;
}

static struct conn *find_monitor(struct correlator *c, unsigned host_idx, pid_t pid) {
        for (struct conn *x = c->monitor_hash[bucket(host_idx, pid)]; x; x = x->by_monitor)
                if (x->host_idx == host_idx && x->monitor_pid == pid)
                        return x;
        return NULL;
}

static struct conn *find_child(struct correlator *c, unsigned host_idx, pid_t pid) {
        for (struct conn *x = c->child_hash[bucket(host_idx, pid)]; x; x = x->by_child)
                if (x->host_idx == host_idx && x->child_pid == pid)
                        return x;
        return NULL;
}

static void set_child(struct correlator *c, struct conn *x, pid_t pid) {
        struct conn *old;

        if (x->child_pid)
                hash_remove(c->child_hash, x, (unsigned) x->child_pid, LINK_CHILD);
        /* A stale link from a connection whose end we never saw: the PID now belongs to x. */
        old = find_child(c, x->host_idx, pid);
        if (old) {
                hash_remove(c->child_hash, old, (unsigned) pid, LINK_CHILD);
                old->child_pid = 0;
        }
        x->child_pid = pid;
        hash_insert(c->child_hash, x, (unsigned) pid, LINK_CHILD);
}

static void set_port(struct correlator *c, struct conn *x, int port) {
        if (port == x->port)
                return;
        if (x->port >= 0)
                hash_remove(c->port_hash, x, (unsigned) x->port, LINK_PORT);
        x->port = port;
        if (port >= 0)
                hash_insert(c->port_hash, x, (unsigned) port, LINK_PORT);
}

static void conn_remove(struct correlator *c, struct conn *x) {
        hash_remove(c->monitor_hash, x, (unsigned) x->monitor_pid, LINK_MONITOR);
        if (x->child_pid)
                hash_remove(c->child_hash, x, (unsigned) x->child_pid, LINK_CHILD);
        if (x->port >= 0)
                hash_remove(c->port_hash, x, (unsigned) x->port, LINK_PORT);
        wait_remove(c, x);
        lru_unlink(c, x);
        c->n_conns--;
        conn_free(x);
}

/* ---- decisions ------------------------------------------------------------------------------- */

static int decide(struct correlator *c, enum decision d, struct conn *x, struct conn_session *s,
                  const struct decision_ctx *ctx) {
        if (!c->cfg.decide)
                return 0;
        return c->cfg.decide(c->cfg.userdata, d, x, s, ctx);
}

static int decide_refusal(struct correlator *c, struct conn *x, const struct decision_ctx *ctx) {
        int r;

        if (!x->refused_location && !x->refused_cursor)
                return 0;
        r = decide(c, DECISION_SOURCE_REFUSED, x, NULL, ctx);
        free(x->refused_location);
        free(x->refused_user);
        free(x->refused_ip);
        free(x->refused_cursor);
        x->refused_location = x->refused_user = x->refused_ip = x->refused_cursor = NULL;
        return r;
}

/* The connection ended: decide what is pending, then forget it. */
static int conn_end(struct correlator *c, struct conn *x, const struct decision_ctx *ctx) {
        struct decision_ctx rctx = { .usec = x->refused_usec, .cursor = x->refused_cursor };
        int r, k;

        r = decide_refusal(c, x, &rctx);
        k = decide(c, DECISION_END, x, NULL, ctx);
        conn_remove(c, x);
        return r < 0 ? r : k;
}

static int run_timeouts(struct correlator *c) {
        uint64_t t = c->cfg.session_timeout_usec;
        int r;

        if (t == 0)
                return 0;
        while (c->wait_head && c->wait_head->accept_usec + t <= c->watermark) {
                struct conn *x = c->wait_head;
                struct decision_ctx ctx = { .usec = x->accept_usec + t };

                wait_remove(c, x);
                r = decide(c, DECISION_TIMEOUT, x, NULL, &ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

int correlator_advance(struct correlator *c, uint64_t usec) {
        if (usec > c->watermark)
                c->watermark = usec;
        return run_timeouts(c);
}

/* ---- event handling -------------------------------------------------------------------------- */

static int dup_field(char **dst, struct strview v) {
        char *n;

        if (!v.ptr)
                return 0;
        n = strview_dup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static int parse_port(struct strview v) {
        uint64_t p;

        if (strview_to_u64(v, 65535, &p) < 0)
                return -1;
        return (int) p;
}

static int conn_new(struct correlator *c, unsigned host_idx, pid_t pid,
                    const struct log_record *rec, struct conn **ret) {
        struct conn *x;
        struct host *h = c->hosts[host_idx];
        int r;

        if (c->n_conns >= c->cfg.max_connections && c->lru_head) {
                struct conn *old = c->lru_head;
                struct decision_ctx ctx = { .usec = old->last_usec };

                c->stats.evicted++;
                /* Evicted without its end: decide only what needs no end (a pending refusal). */
                r = decide_refusal(c, old, &ctx);
                conn_remove(c, old);
                if (r < 0)
                        return r;
        }
        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->host_idx = host_idx;
        x->machine_id = h->machine_id[0] ? h->machine_id : NULL;
        x->boot_id = h->boot_id[0] ? h->boot_id : NULL;
        x->host = h->hostname;
        x->monitor_pid = pid;
        x->port = -1;
        x->first_usec = x->last_usec = rec->realtime_usec;
        hash_insert(c->monitor_hash, x, (unsigned) pid, LINK_MONITOR);
        lru_append(c, x);
        c->n_conns++;
        c->stats.connections++;
        *ret = x;
        return 0;
}

static int cursor_of(const struct log_record *rec, char **dst) {
        char *cur = NULL;
        int r;

        r = record_cursor(rec, &cur);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        free(*dst);
        *dst = cur;
        return 0;
}

/* The monitor's connection for this PID; a new one when there is none, or when the PID now
 * belongs to a new connection (fresh_start: a line that only begins a connection). */
static int monitor_conn(struct correlator *c, unsigned host_idx, const struct log_record *rec,
                        bool fresh_start, struct conn **ret) {
        pid_t pid = record_pid(rec);
        struct conn *x = find_monitor(c, host_idx, pid);
        int r;

        if (x && fresh_start) {
                struct decision_ctx ctx = { .usec = x->last_usec };

                /* PID reuse: the old connection ended without us seeing it. */
                r = conn_end(c, x, &ctx);
                if (r < 0)
                        return r;
                x = NULL;
        }
        if (!x) {
                r = conn_new(c, host_idx, pid, rec, &x);
                if (r < 0)
                        return r;
        }
        *ret = x;
        return 0;
}

/* The connection an authentication line of the monitor belongs to: after a login was accepted
 * on this PID, a new authentication means the PID was reused by a new connection. */
static int auth_conn(struct correlator *c, unsigned host_idx, const struct log_record *rec,
                     struct conn **ret) {
        struct conn *x = find_monitor(c, host_idx, record_pid(rec));
        int r;

        r = monitor_conn(c, host_idx, rec, x && x->authenticated, &x);
        if (r < 0)
                return r;
        touch(c, x, rec->realtime_usec);
        *ret = x;
        return 0;
}

static struct conn *find_by_tuple(struct correlator *c, unsigned host_idx, struct strview user,
                                  struct strview addr, int port) {
        if (port < 0)
                return NULL;
        for (struct conn *x = c->port_hash[bucket(host_idx, (pid_t) port)]; x; x = x->by_port)
                if (x->host_idx == host_idx && x->port == port && x->addr &&
                    strview_eq_str(addr, x->addr) &&
                    (!user.ptr || !x->user || strview_eq_str(user, x->user)))
                        return x;
        return NULL;
}

struct conn *correlator_find(struct correlator *c, const char *machine_id, const char *user,
                             const char *addr, int port) {
        for (struct conn *x = c->lru_tail; x; x = x->lru_prev)
                if ((port < 0 || x->port == port) && (!addr || streq_ptr(x->addr, addr)) &&
                    (!user || streq_ptr(x->user, user)) &&
                    (!machine_id || streq_ptr(x->machine_id, machine_id)))
                        return x;
        return NULL;
}

struct conn_session *conn_last_session(struct conn *x) {
        return x->n_sessions > 0 ? &x->sessions[x->n_sessions - 1] : NULL;
}

int conn_session_set_requested(struct conn_session *s, const char *requested) {
        char *n = strdup(requested);

        if (!n)
                return -ENOMEM;
        free(s->requested);
        s->requested = n;
        return 0;
}

/* The connection a user-child line belongs to. */
static struct conn *child_conn(struct correlator *c, unsigned host_idx, const struct log_record *rec,
                               const struct event *ev) {
        pid_t pid = record_pid(rec);
        struct conn *x = find_child(c, host_idx, pid);

        if (x)
                return x;
        /* Root logins before 9.8 have no user child: everything comes from the monitor. */
        x = find_monitor(c, host_idx, pid);
        if (x)
                return x;
        if (ev->field[EVENT_FIELD_ADDR].ptr) {
                int port = parse_port(ev->field[EVENT_FIELD_PORT]);

                x = find_by_tuple(c, host_idx, ev->field[EVENT_FIELD_USER],
                                  ev->field[EVENT_FIELD_ADDR], port);
                if (x && x->child_pid == 0)
                        set_child(c, x, pid);
        }
        return x;
}

static int on_session_start(struct correlator *c, struct conn *x, const struct log_record *rec,
                            const struct event *ev) {
        struct conn_session *s;
        struct decision_ctx ctx = { .usec = rec->realtime_usec, .rule_id = ev->rule_id };
        struct strview command;
        uint64_t id;
        int r;

        if (x->n_sessions == CONN_SESSIONS_MAX) {
                /* Forget the oldest; ids are only for reporting. */
                session_done(&x->sessions[0]);
                memmove(&x->sessions[0], &x->sessions[1],
                        (CONN_SESSIONS_MAX - 1) * sizeof(x->sessions[0]));
                x->sessions[CONN_SESSIONS_MAX - 1] = (struct conn_session){};
                x->n_sessions--;
        }
        s = &x->sessions[x->n_sessions++];
        *s = (struct conn_session){ .id = -1, .pid = record_pid(rec), .usec = rec->realtime_usec };
        if (strview_to_u64(ev->field[EVENT_FIELD_SESSION_ID], INT32_MAX, &id) >= 0)
                s->id = (int) id;
        command = ev->field[EVENT_FIELD_COMMAND];
        s->truncated = !ev->field[EVENT_FIELD_ADDR].ptr;
        if (!s->truncated && command.ptr && x->addr && x->port >= 0 &&
            (!strview_eq_str(ev->field[EVENT_FIELD_ADDR], x->addr) ||
             parse_port(ev->field[EVENT_FIELD_PORT]) != x->port)) {
                /* The PID link says which connection this is, and the tail disagrees: the
                 * command (from the user's own authorized_keys) carries a fake tail and the line
                 * was cut after it. Everything from the command's start is its prefix. */
                struct strview msg = record_field(rec, RECORD_MESSAGE);

                command.len = (size_t) (msg.ptr + msg.len - command.ptr);
                s->truncated = true;
                s->id = -1;
        }
        r = dup_field(&s->type, ev->field[EVENT_FIELD_SESSION_TYPE]);
        if (r < 0)
                return r;
        r = dup_field(&s->forced_by, ev->field[EVENT_FIELD_FORCED_BY]);
        if (r < 0)
                return r;
        r = dup_field(&s->command, command);
        if (r < 0)
                return r;
        r = cursor_of(rec, &s->cursor);
        if (r < 0)
                return r;
        x->n_started++;
        if (record_uid(rec, &x->user_uid) >= 0)
                x->has_user_uid = true;
        wait_remove(c, x);
        ctx.cursor = s->cursor;
        return decide(c, DECISION_SESSION, x, s, &ctx);
}

int correlator_observe(struct correlator *c, const struct log_record *rec,
                       const struct event *ev) {
        struct decision_ctx ctx = { .usec = rec->realtime_usec, .rule_id = ev->rule_id };
        _cleanup_free_ char *cursor = NULL;
        unsigned host_idx;
        struct conn *x;
        uint64_t pid;
        int r;

        r = correlator_advance(c, rec->realtime_usec);
        if (r < 0)
                return r;
        r = host_index(c, rec, &host_idx);
        if (r == -ENOSPC)
                return 0;
        if (r < 0)
                return r;

        switch (ev->kind) {
        case EVENT_CONNECTION:
                r = monitor_conn(c, host_idx, rec, true, &x);
                if (r < 0)
                        return r;
                set_port(c, x, parse_port(ev->field[EVENT_FIELD_PORT]));
                return dup_field(&x->addr, ev->field[EVENT_FIELD_ADDR]);

        case EVENT_KEY_FOUND:
                r = auth_conn(c, host_idx, rec, &x);
                if (r < 0)
                        return r;
                r = dup_field(&x->found_fingerprint, ev->field[EVENT_FIELD_FINGERPRINT]);
                if (r >= 0)
                        r = dup_field(&x->found_key_type, ev->field[EVENT_FIELD_KEY_TYPE]);
                if (r >= 0)
                        r = dup_field(&x->found_location, ev->field[EVENT_FIELD_LOCATION]);
                return r;

        case EVENT_AUTH_PARTIAL:
                r = auth_conn(c, host_idx, rec, &x);
                if (r < 0)
                        return r;
                r = dup_field(&x->partial_fingerprint, ev->field[EVENT_FIELD_FINGERPRINT]);
                if (r >= 0)
                        r = dup_field(&x->partial_key_type, ev->field[EVENT_FIELD_KEY_TYPE]);
                return r;

        case EVENT_AUTH_ACCEPTED:
                r = auth_conn(c, host_idx, rec, &x);
                if (r < 0)
                        return r;
                x->authenticated = true;
                x->accept_usec = rec->realtime_usec;
                if (ev->field[EVENT_FIELD_PORT].ptr)
                        set_port(c, x, parse_port(ev->field[EVENT_FIELD_PORT]));
                r = dup_field(&x->addr, ev->field[EVENT_FIELD_ADDR]);
                if (r >= 0)
                        r = dup_field(&x->user, ev->field[EVENT_FIELD_USER]);
                if (r >= 0)
                        r = dup_field(&x->method, ev->field[EVENT_FIELD_METHOD]);
                if (r >= 0 && ev->field[EVENT_FIELD_FINGERPRINT].ptr) {
                        r = dup_field(&x->fingerprint, ev->field[EVENT_FIELD_FINGERPRINT]);
                        if (r >= 0)
                                r = dup_field(&x->key_type, ev->field[EVENT_FIELD_KEY_TYPE]);
                } else if (r >= 0 && x->partial_fingerprint) {
                        /* Multi-method login: the key is named only by "Partial publickey". */
                        x->fingerprint = strdup(x->partial_fingerprint);
                        x->key_type = x->partial_key_type ? strdup(x->partial_key_type) : NULL;
                        if (!x->fingerprint)
                                r = -ENOMEM;
                }
                if (r >= 0)
                        r = dup_field(&x->ca_fingerprint, ev->field[EVENT_FIELD_CA_FINGERPRINT]);
                if (r >= 0 && x->fingerprint && streq_ptr(x->found_fingerprint, x->fingerprint) &&
                    x->found_location) {
                        x->key_location = strdup(x->found_location);
                        if (!x->key_location)
                                r = -ENOMEM;
                }
                if (r >= 0)
                        r = cursor_of(rec, &x->accept_cursor);
                if (r < 0)
                        return r;
                wait_append(c, x);
                ctx.cursor = x->accept_cursor;
                return decide(c, DECISION_ACCEPTED, x, NULL, &ctx);

        case EVENT_SOURCE_REFUSED:
                r = auth_conn(c, host_idx, rec, &x);
                if (r < 0)
                        return r;
                if (x->refused_cursor || x->refused_location) {
                        struct decision_ctx pctx = { .usec = x->refused_usec,
                                                     .cursor = x->refused_cursor };

                        r = decide_refusal(c, x, &pctx);
                        if (r < 0)
                                return r;
                }
                x->refused_usec = rec->realtime_usec;
                r = dup_field(&x->refused_location, ev->field[EVENT_FIELD_LOCATION]);
                if (r >= 0)
                        r = dup_field(&x->refused_user, ev->field[EVENT_FIELD_USER]);
                if (r >= 0)
                        r = dup_field(&x->refused_ip, ev->field[EVENT_FIELD_ADDR]);
                if (r >= 0)
                        r = cursor_of(rec, &x->refused_cursor);
                if (r >= 0 && !x->refused_cursor) {
                        /* keep the refusal pending even without a cursor */
                        x->refused_cursor = strdup("");
                        if (!x->refused_cursor)
                                r = -ENOMEM;
                }
                return r;

        case EVENT_AUTH_FAILED:
                x = find_monitor(c, host_idx, record_pid(rec));
                if (!x)
                        return 0;
                touch(c, x, rec->realtime_usec);
                if (x->refused_cursor) {
                        _cleanup_free_ char *fp = strview_dup(ev->field[EVENT_FIELD_FINGERPRINT]);
                        _cleanup_free_ char *kt = strview_dup(ev->field[EVENT_FIELD_KEY_TYPE]);

                        r = cursor_of(rec, &cursor);
                        if (r < 0)
                                return r;
                        ctx.cursor = cursor;
                        ctx.fingerprint = fp;
                        ctx.key_type = kt;
                        return decide_refusal(c, x, &ctx);
                }
                return 0;

        case EVENT_USER_CHILD:
                x = find_monitor(c, host_idx, record_pid(rec));
                if (!x) {
                        c->stats.orphan_lines++;
                        return 0;
                }
                touch(c, x, rec->realtime_usec);
                if (strview_to_u64(ev->field[EVENT_FIELD_CHILD_PID], INT32_MAX, &pid) >= 0)
                        set_child(c, x, (pid_t) pid);
                return 0;

        case EVENT_SESSION_START:
                x = child_conn(c, host_idx, rec, ev);
                if (!x) {
                        c->stats.orphan_sessions++;
                        return 0;
                }
                touch(c, x, rec->realtime_usec);
                return on_session_start(c, x, rec, ev);

        case EVENT_FORWARD_REFUSED:
                x = child_conn(c, host_idx, rec, ev);
                if (x)
                        x->forward_refused = true;
                return 0;

        case EVENT_DISCONNECT:
        case EVENT_PAM_SESSION_CLOSE:
                if (ev->field[EVENT_FIELD_PREAUTH].ptr || ev->kind == EVENT_PAM_SESSION_CLOSE)
                        x = find_monitor(c, host_idx, record_pid(rec));
                else
                        x = child_conn(c, host_idx, rec, ev);
                if (!x)
                        return 0;
                ctx.rec = rec;
                return conn_end(c, x, &ctx);

        case EVENT_SESSION_CLOSE:
        case EVENT_AUTH_POSTPONED:
        case EVENT_INVALID_USER:
        case EVENT_KEYOPTS_REFUSED:
        case EVENT_WRAPPER_REJECTED:
        default:
                x = find_child(c, host_idx, record_pid(rec));
                if (!x)
                        x = find_monitor(c, host_idx, record_pid(rec));
                if (x)
                        touch(c, x, rec->realtime_usec);
                return 0;
        }
}

unsigned correlator_size(const struct correlator *c) {
        return c->n_conns;
}

uint64_t correlator_oldest_usec(const struct correlator *c) {
        uint64_t oldest = 0;

        for (const struct conn *x = c->lru_head; x; x = x->lru_next)
                if (oldest == 0 || x->first_usec < oldest)
                        oldest = x->first_usec;
        return oldest;
}

const struct correlator_stats *correlator_stats(const struct correlator *c) {
        return &c->stats;
}
