/* SPDX-License-Identifier: MIT */
/*
 * Connection correlation. Owns the connection table: a hash by (host, monitor PID), a hash by
 * (host, child PID), a hash by (host, remote port), two activity lists for eviction (connections
 * that have not authenticated, and those that have) and, per host, a FIFO of authenticated
 * connections waiting for their first session (for the timeout).
 *
 * Invariants: every conn is on exactly one activity list (pre_auth iff !authenticated) and in the
 * monitor hash; it is in the child hash iff child_pid != 0; in the port hash iff port >= 0; on its
 * host's wait list iff waiting. A host exists iff it has a connection (refs > 0). A wait list is in
 * accept order, which within one boot is clock order.
 */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define HASH_BUCKETS 4096 /* power of two */
#define HOST_BUCKETS 1024 /* power of two */
#define TOMBS 256         /* ended connections whose late lines are still expected */
#define CONN_STRINGS_MIN 1024 /* first storage of a connection: what a login usually needs */
#define CONN_STRINGS_KEEP_MAX 4096 /* larger storage is freed when its connection ends */
#define LOGIN_NAME_BYTES 256  /* LOGIN_NAME_MAX: no account name is longer */

/*
 * The processes of a connection that ended. sshd's exit path logs after the line that ends the
 * connection here ("Received disconnect" then "Disconnected from user", pam_unix's close); those
 * late lines must not be judged against another open connection that happens to show the same
 * address and port. Only journal entries use this (the machine id is set): their _PID and _UID are
 * the kernel's word.
 */
struct tomb {
        char machine_id[33], boot_id[33];
        pid_t pid;
        uid_t uid;
};

struct host {
        char machine_id[33], boot_id[33];
        char *hostname;         /* owned, hostname_size bytes (kept when the host is reused) */
        size_t hostname_size;
        size_t hostname_len;    /* strlen(hostname) */
        unsigned refs;          /* open connections */
        uint32_t serial;        /* mixes the PID hashes */
        uint64_t clock;         /* this boot's watermark (monotonic, else realtime usec) */
        uint64_t realtime;      /* the wall time of the entry that last moved clock */
        struct conn *wait_head, *wait_tail;
        struct host *hash_next;
};

struct conn_list {
        struct conn *head, *tail; /* head: least recently active */
};

struct correlator {
        struct correlator_config cfg;
        struct conn *monitor_hash[HASH_BUCKETS], *child_hash[HASH_BUCKETS], *port_hash[HASH_BUCKETS];
        struct host *host_hash[HOST_BUCKETS];
        struct conn_list pre_auth, auth;
        unsigned n_conns;
        uint32_t host_serial;
        struct host *last_host;
        /* host_find()'s answer for the origin asked last (NULL found_for: none). An event's host
         * is looked up several times while it is handled; every public function that takes an
         * origin forgets the answer first (forget_found()), and a host made or freed updates it. */
        const struct event_origin *found_for;
        struct host *found;
        struct tomb tombs[TOMBS];
        unsigned n_tombs;             /* written so far; the ring holds the last TOMBS */
        struct conn *free_conns;      /* ended connections kept for reuse, linked by lru_next */
        struct host *free_hosts;      /* the same for hosts, linked by hash_next */
        struct correlator_stats stats;
        struct conn *unlinked;        /* the connection the line being observed named, when the
                                         line may be its unnamed child's (tied_conn(), hold()) */
};

static unsigned bucket(const struct host *h, pid_t pid) {
        uint32_t x = (uint32_t) pid * 2654435761u ^ h->serial * 40503u;
        return x & (HASH_BUCKETS - 1);
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

static void held_free(struct conn *x) {
        for (unsigned i = 0; i < x->n_held; i++)
                record_done(&x->held[i]);
        free(x->held);
        x->held = NULL;
        x->n_held = 0;
}

/* An ended connection: kept, with its storage, for the next one; storage that grew past what
 * sshd's own values need (hostile or odd input) is let go instead of kept for ever. */
/* conn_recycle() zeroes the members before sessions[] and from n_sessions on. */
_Static_assert(offsetof(struct conn, n_sessions) ==
                       offsetof(struct conn, sessions) + sizeof(((struct conn *) NULL)->sessions),
               "n_sessions follows sessions[]");

static void conn_recycle(struct correlator *c, struct conn *x) {
        char *strings = x->strings;
        size_t strings_size = x->strings_size;

        held_free(x); /* judged before (release()): empty but for an error on the way */
        if (strings_size > CONN_STRINGS_KEEP_MAX) {
                free(strings);
                strings = NULL;
                strings_size = 0;
        }
        /* Zeroed but for sessions[] (most of the struct: 2.4 of 2.9 KB, written for every
         * connection): only sessions[0..n_sessions) are ever read, and each is set when its
         * session starts. */
        memset(x, 0, offsetof(struct conn, sessions));
        memset(&x->n_sessions, 0, sizeof(*x) - offsetof(struct conn, n_sessions));
        x->strings = strings;
        x->strings_size = strings_size;
        x->lru_next = c->free_conns;
        c->free_conns = x;
}

static void host_recycle(struct correlator *c, struct host *h) {
        *h = (struct host){ .hostname = h->hostname, .hostname_size = h->hostname_size,
                            .hash_next = c->free_hosts };
        c->free_hosts = h;
}

static void conn_free(struct conn *x) {
        held_free(x);
        free(x->strings);
        free(x);
}

static void host_free(struct host *h) {
        free(h->hostname);
        free(h);
}

struct correlator *correlator_free(struct correlator *c) {
        if (!c)
                return NULL;
        for (struct conn_list *l = &c->pre_auth; l; l = l == &c->pre_auth ? &c->auth : NULL)
                while (l->head) {
                        struct conn *x = l->head;

                        l->head = x->lru_next;
                        conn_free(x);
                }
        while (c->free_conns) {
                struct conn *x = c->free_conns;

                c->free_conns = x->lru_next;
                conn_free(x);
        }
        for (unsigned i = 0; i < HOST_BUCKETS; i++)
                while (c->host_hash[i]) {
                        struct host *h = c->host_hash[i];

                        c->host_hash[i] = h->hash_next;
                        host_free(h);
                }
        while (c->free_hosts) {
                struct host *h = c->free_hosts;

                c->free_hosts = h->hash_next;
                host_free(h);
        }
        free(c);
        return NULL;
}

/* ---- a connection's strings ------------------------------------------------------------------ */

/* Every string pointer of a connection and of a session; all point into the connection's storage. */
static const size_t conn_string_fields[] = {
        offsetof(struct conn, addr),
        offsetof(struct conn, user),
        offsetof(struct conn, method),
        offsetof(struct conn, fingerprint),
        offsetof(struct conn, key_type),
        offsetof(struct conn, key_location),
        offsetof(struct conn, ca_fingerprint),
        offsetof(struct conn, found_fingerprint),
        offsetof(struct conn, found_key_type),
        offsetof(struct conn, found_location),
        offsetof(struct conn, partial_fingerprint),
        offsetof(struct conn, partial_key_type),
        offsetof(struct conn, refused_location),
        offsetof(struct conn, refused_user),
        offsetof(struct conn, refused_ip),
};
static const size_t session_string_fields[] = {
        offsetof(struct conn_session, type),
        offsetof(struct conn_session, forced_by),
        offsetof(struct conn_session, command),
        offsetof(struct conn_session, requested),
};
#define CONN_STRING_REFS \
        (ELEMENTSOF(conn_string_fields) + CONN_SESSIONS_MAX * ELEMENTSOF(session_string_fields))

static int by_address(const void *a, const void *b) {
        uintptr_t x = (uintptr_t) **(char *const *const *) a, y = (uintptr_t) **(char *const *const *) b;

        return x < y ? -1 : x > y;
}

/*
 * Make room for n more bytes in x's storage. Packs the live strings to its start first (in
 * address order, so memmove only moves them down; several pointers may share one string), and
 * grows the storage only when the live ones leave no room. Pointers into the storage move.
 */
static int strings_reserve(struct conn *x, size_t n) {
        char **refs[CONN_STRING_REFS];
        size_t offsets[CONN_STRING_REFS], n_refs = 0, used = 0, size;
        const char *prev = NULL;
        char *prev_new = NULL, *base = x->strings, *nb;

        if (x->strings_size - x->strings_used >= n)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(conn_string_fields); i++) {
                char **f = (char **) ((char *) x + conn_string_fields[i]);

                if (*f)
                        refs[n_refs++] = f;
        }
        for (unsigned k = 0; k < x->n_sessions; k++)
                for (size_t i = 0; i < ELEMENTSOF(session_string_fields); i++) {
                        char **f = (char **) ((char *) &x->sessions[k] + session_string_fields[i]);

                        if (*f)
                                refs[n_refs++] = f;
                }
        qsort(refs, n_refs, sizeof(refs[0]), by_address);
        for (size_t i = 0; i < n_refs; i++) {
                char *p = *refs[i];
                size_t l;

                if (p == prev) {
                        *refs[i] = prev_new;
                        continue;
                }
                l = strlen(p) + 1;
                prev = p;
                prev_new = memmove(base + used, p, l);
                *refs[i] = prev_new;
                used += l;
        }
        x->strings_used = used;
        if (x->strings_size - used >= n)
                return 0;

        if (n > SIZE_MAX / 2 - used)
                return -ENOMEM;
        size = MAX(MAX(x->strings_size * 2, (size_t) CONN_STRINGS_MIN), used + n);
        for (size_t i = 0; i < n_refs; i++)
                offsets[i] = (size_t) (*refs[i] - base);
        nb = realloc(base, size);
        if (!nb)
                return -ENOMEM;
        for (size_t i = 0; i < n_refs; i++)
                *refs[i] = nb + offsets[i];
        x->strings = nb;
        x->strings_size = size;
        return 0;
}

/* *dst = a copy of v (strview_dup()'s form) in x's storage; nothing when v is absent. v must not
 * point into the storage. */
static int set_str(struct conn *x, char **dst, struct strview v) {
        size_t n = strview_dup_size(v);
        int r;

        if (!v.ptr)
                return 0;
        if (n == SIZE_MAX)
                return -ENOMEM;
        r = strings_reserve(x, n);
        if (r < 0)
                return r;
        *dst = strview_copy(x->strings + x->strings_used, v);
        x->strings_used += n;
        return 0;
}

/* ---- host table ------------------------------------------------------------------------------ */

static void copy_id(char dst[static 33], struct strview v) {
        size_t l = v.ptr ? MIN(v.len, (size_t) 32) : 0;

        memcpy(dst, v.ptr ? v.ptr : "", l);
        dst[l] = 0;
}

/* An id as the host table keeps it (copy_id()): at most 32 bytes, up to a NUL byte. */
static struct strview id_of(struct strview v) {
        const char *p = v.ptr ?: "", *nul;
        size_t l = v.ptr ? MIN(v.len, (size_t) 32) : 0;

        if (l == 0)
                return (struct strview){ p, 0 }; /* a text log's: no call for nothing */
        nul = memchr(p, 0, l);
        return (struct strview){ p, nul ? (size_t) (nul - p) : l };
}

static bool id_is(const char id[static 33], struct strview v) {
        return id[v.len] == 0 && (v.len == 0 || memcmp(id, v.ptr, v.len) == 0);
}

static unsigned host_bucket(struct strview mid, struct strview bid) {
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < mid.len; i++)
                h = (h ^ (unsigned char) mid.ptr[i]) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (size_t i = 0; i < bid.len; i++)
                h = (h ^ (unsigned char) bid.ptr[i]) * 16777619u;
        return h & (HOST_BUCKETS - 1);
}

/* Text logs carry no machine id: their hosts are told apart by the name their lines give. */
static bool host_is(const struct host *h, struct strview mid, struct strview bid,
                    const struct event_origin *o) {
        /* hostname_len: no strlen() per entry (this runs two or three times per entry) */
        return id_is(h->machine_id, mid) && id_is(h->boot_id, bid) &&
               (mid.len > 0 || (o->hostname.ptr
                                        ? strview_eq(o->hostname, (struct strview){
                                                                    h->hostname, h->hostname_len })
                                        : h->hostname_len == 0));
}

/* The host (machine, boot) of an entry, NULL when it has no open connection. Called for every
 * entry: compares the entry's views without copying them. */
static struct host *host_find(struct correlator *c, const struct event_origin *o) {
        struct strview mid, bid;
        struct host *h;

        if (o == c->found_for)
                return c->found;
        mid = id_of(o->machine_id);
        bid = id_of(o->boot_id);
        if (c->last_host && host_is(c->last_host, mid, bid, o))
                h = c->last_host;
        else {
                for (h = c->host_hash[host_bucket(mid, bid)]; h; h = h->hash_next)
                        if (host_is(h, mid, bid, o))
                                break;
                if (h)
                        c->last_host = h;
        }
        c->found_for = o;
        c->found = h;
        return h;
}

/* At the start of each public function that takes an origin: the one asked before may be another
 * entry's at the same address. */
static void forget_found(struct correlator *c) {
        c->found_for = NULL;
}

static int host_get(struct correlator *c, const struct event_origin *o, struct host **ret) {
        struct host *h = host_find(c, o);
        unsigned b;

        if (h) {
                *ret = h;
                return 0;
        }
        if (c->free_hosts) {
                h = c->free_hosts;
                c->free_hosts = h->hash_next;
                h->hash_next = NULL;
        } else {
                h = calloc(1, sizeof(*h));
                if (!h)
                        return -ENOMEM;
        }
        copy_id(h->machine_id, o->machine_id);
        copy_id(h->boot_id, o->boot_id);
        {
                struct strview name = o->hostname.ptr ? o->hostname : strview_from(h->machine_id);
                size_t n = strview_dup_size(name);

                if (n > h->hostname_size) {
                        char *nb = n == SIZE_MAX ? NULL : realloc(h->hostname, n);

                        if (!nb) {
                                host_recycle(c, h);
                                return -ENOMEM;
                        }
                        h->hostname = nb;
                        h->hostname_size = n;
                }
                (void) strview_copy(h->hostname, name);
                h->hostname_len = strlen(h->hostname);
        }
        h->serial = ++c->host_serial;
        h->clock = event_origin_clock(o);
        h->realtime = o->realtime_usec;
        b = host_bucket(strview_from(h->machine_id), strview_from(h->boot_id));
        h->hash_next = c->host_hash[b];
        c->host_hash[b] = h;
        c->last_host = h;
        c->found_for = o;
        c->found = h;
        c->stats.hosts++;
        c->stats.hosts_peak = MAX(c->stats.hosts_peak, c->stats.hosts);
        *ret = h;
        return 0;
}

/* A host with no connection left is freed: nothing of it is pending. */
static void host_unref(struct correlator *c, struct host *h) {
        unsigned b;

        if (--h->refs > 0)
                return;
        b = host_bucket(strview_from(h->machine_id), strview_from(h->boot_id));
        for (struct host **p = &c->host_hash[b]; *p; p = &(*p)->hash_next)
                if (*p == h) {
                        *p = h->hash_next;
                        break;
                }
        if (c->last_host == h)
                c->last_host = NULL;
        if (c->found == h)
                forget_found(c);
        c->stats.hosts--;
        host_recycle(c, h);
}

/* ---- lists and hashes ------------------------------------------------------------------------ */

static struct conn_list *list_of(struct correlator *c, const struct conn *x) {
        return x->authenticated ? &c->auth : &c->pre_auth;
}

static void lru_unlink(struct correlator *c, struct conn *x) {
        struct conn_list *l = list_of(c, x);

        if (x->lru_prev)
                x->lru_prev->lru_next = x->lru_next;
        else
                l->head = x->lru_next;
        if (x->lru_next)
                x->lru_next->lru_prev = x->lru_prev;
        else
                l->tail = x->lru_prev;
        x->lru_prev = x->lru_next = NULL;
}

static void lru_append(struct correlator *c, struct conn *x) {
        struct conn_list *l = list_of(c, x);

        x->lru_prev = l->tail;
        x->lru_next = NULL;
        if (l->tail)
                l->tail->lru_next = x;
        else
                l->head = x;
        l->tail = x;
}

static void touch(struct correlator *c, struct conn *x, const struct event_origin *o) {
        x->last_usec = MAX(x->last_usec, o->realtime_usec);
        x->last_clock = MAX(x->last_clock, event_origin_clock(o));
        if (list_of(c, x)->tail != x) {
                lru_unlink(c, x);
                lru_append(c, x);
        }
}

static void set_authenticated(struct correlator *c, struct conn *x) {
        if (x->authenticated)
                return;
        lru_unlink(c, x);
        x->authenticated = true;
        lru_append(c, x);
}

static void wait_remove(struct conn *x) {
        struct host *h = x->h;

        if (!x->waiting)
                return;
        if (x->wait_prev)
                x->wait_prev->wait_next = x->wait_next;
        else
                h->wait_head = x->wait_next;
        if (x->wait_next)
                x->wait_next->wait_prev = x->wait_prev;
        else
                h->wait_tail = x->wait_prev;
        x->wait_prev = x->wait_next = NULL;
        x->waiting = false;
}

static void wait_append(struct conn *x) {
        struct host *h = x->h;

        if (x->waiting)
                return;
        x->wait_prev = h->wait_tail;
        x->wait_next = NULL;
        if (h->wait_tail)
                h->wait_tail->wait_next = x;
        else
                h->wait_head = x;
        h->wait_tail = x;
        x->waiting = true;
}

enum link { LINK_MONITOR, LINK_CHILD, LINK_PORT };

static struct conn **link_of(struct conn *x, enum link l) {
        return l == LINK_MONITOR ? &x->by_monitor : l == LINK_CHILD ? &x->by_child : &x->by_port;
}

static void hash_remove(struct conn **table, struct conn *x, unsigned key, enum link l) {
        for (struct conn **p = &table[bucket(x->h, (pid_t) key)]; *p; p = link_of(*p, l))
                if (*p == x) {
                        *p = *link_of(x, l);
                        return;
                }
}

static void hash_insert(struct conn **table, struct conn *x, unsigned key, enum link l) {
        unsigned b = bucket(x->h, (pid_t) key);

        *link_of(x, l) = table[b];
        table[b] = x;
}

static struct conn *find_monitor(struct correlator *c, const struct host *h, pid_t pid) {
        if (!h || pid <= 0)
                return NULL;
        for (struct conn *x = c->monitor_hash[bucket(h, pid)]; x; x = x->by_monitor)
                if (x->h == h && x->monitor_pid == pid)
                        return x;
        return NULL;
}

static struct conn *find_child(struct correlator *c, const struct host *h, pid_t pid) {
        if (!h || pid <= 0)
                return NULL;
        for (struct conn *x = c->child_hash[bucket(h, pid)]; x; x = x->by_child)
                if (x->h == h && x->child_pid == pid)
                        return x;
        return NULL;
}

static void set_child(struct correlator *c, struct conn *x, pid_t pid) {
        struct conn *old;

        if (x->child_pid)
                hash_remove(c->child_hash, x, (unsigned) x->child_pid, LINK_CHILD);
        x->child_pid = 0;
        if (pid <= 0)
                return;
        /* A stale link from a connection whose end we never saw: the PID now belongs to x. */
        old = find_child(c, x->h, pid);
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

static void tomb_add(struct correlator *c, const struct host *h, pid_t pid, uid_t uid) {
        struct tomb *t = &c->tombs[c->n_tombs++ % TOMBS];

        memcpy(t->machine_id, h->machine_id, sizeof(t->machine_id));
        memcpy(t->boot_id, h->boot_id, sizeof(t->boot_id));
        t->pid = pid;
        t->uid = uid;
}

/* Whether the writer of an entry is a process of a connection that ended lately. */
static bool tomb_find(const struct correlator *c, const struct event_origin *o) {
        unsigned n = MIN(c->n_tombs, (unsigned) TOMBS);
        char mid[33], bid[33];

        if (!o->attested || !o->has_uid)
                return false;
        copy_id(mid, o->machine_id);
        copy_id(bid, o->boot_id);
        for (unsigned i = 1; i <= n; i++) {
                const struct tomb *t = &c->tombs[(c->n_tombs - i) % TOMBS];

                if (t->pid == o->pid && t->uid == o->uid && streq(t->machine_id, mid) &&
                    streq(t->boot_id, bid))
                        return true;
        }
        return false;
}

static void conn_remove(struct correlator *c, struct conn *x) {
        struct host *h = x->h;

        if (h->machine_id[0]) {
                tomb_add(c, h, x->monitor_pid, 0);
                if (x->child_pid && x->has_user_uid)
                        tomb_add(c, h, x->child_pid, x->user_uid);
        }

        hash_remove(c->monitor_hash, x, (unsigned) x->monitor_pid, LINK_MONITOR);
        if (x->child_pid)
                hash_remove(c->child_hash, x, (unsigned) x->child_pid, LINK_CHILD);
        if (x->port >= 0)
                hash_remove(c->port_hash, x, (unsigned) x->port, LINK_PORT);
        wait_remove(x);
        lru_unlink(c, x);
        c->n_conns--;
        conn_recycle(c, x);
        host_unref(c, h);
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

        if (!x->refused)
                return 0;
        r = decide(c, DECISION_SOURCE_REFUSED, x, NULL, ctx);
        x->refused_location = x->refused_user = x->refused_ip = NULL;
        x->refused_ref = (struct entry_ref){};
        x->refused = false;
        return r;
}

/*
 * Whether a line that names x by its text, from a PID x does not know, may be x's user child's
 * written before the monitor named the child: x authenticated and has no child named yet, the line
 * is not the monitor's alone, and its writer is attested, not root, and the account where its uid
 * is known. Anything else is judged at once.
 */
static bool may_hold(const struct correlator *c, const struct conn *x, const struct event_origin *o,
                     bool monitor_only) {
        return c->cfg.replay && o->rec && !monitor_only && x->authenticated && x->child_pid == 0 &&
               o->attested && o->has_uid && o->uid != 0 &&
               (!x->has_user_uid || x->user_uid == o->uid);
}

/* *dst = a copy of o's record, in dst's own buffer, field by field: a record a source lends may
 * point into the source's own data (buf_len 0). Its ref is the event's (with the pipeline's
 * digest); not its prematch (the source's, gone by the time it is fed again). */
static int held_copy(struct log_record *dst, const struct event_origin *o) {
        const struct log_record *src = o->rec;
        int r;

        record_reset(dst);
        for (unsigned f = 0; f < _RECORD_FIELD_MAX; f++)
                if (record_has(src, f)) {
                        struct strview v = record_field(src, f);

                        r = record_set(dst, f, v.ptr, v.len);
                        if (r < 0)
                                return r;
                }
        dst->truncated = src->truncated;
        dst->realtime_usec = src->realtime_usec;
        dst->monotonic_usec = src->monotonic_usec;
        dst->unattested = src->unattested;
        dst->ref = o->ref;
        dst->prematch = NULL;
        return 0;
}

/* x holds CORRELATOR_HELD_MAX lines: the oldest is judged now as it was before holding (forged),
 * which keeps the alerts in entry order (counted). */
static int judge_oldest(struct correlator *c, struct conn *x) {
        struct log_record oldest = x->held[0];
        int r;

        memmove(&x->held[0], &x->held[1], (CORRELATOR_HELD_MAX - 1) * sizeof(x->held[0]));
        memmove(&x->held_seq[0], &x->held_seq[1],
                (CORRELATOR_HELD_MAX - 1) * sizeof(x->held_seq[0]));
        x->held[CORRELATOR_HELD_MAX - 1] = (struct log_record){};
        x->n_held--;
        c->stats.held_overflow++;
        c->stats.untied++;
        r = c->cfg.replay(c->cfg.userdata, &oldest, TRUST_NOT_LINKED);
        record_done(&oldest);
        return r;
}

/* Hold the line of o on x (may_hold()): CORRELATOR_HELD, or -errno. */
static int hold(struct correlator *c, struct conn *x, const struct event_origin *o,
                enum trust_verdict *ret_verdict) {
        struct log_record *l;
        int r;

        if (x->n_held == CORRELATOR_HELD_MAX) {
                r = judge_oldest(c, x);
                if (r < 0)
                        return r;
        }
        if (!x->held) {
                x->held = calloc(CORRELATOR_HELD_MAX, sizeof(*x->held));
                if (!x->held)
                        return -ENOMEM;
        }
        l = &x->held[x->n_held];
        r = held_copy(l, o);
        if (r < 0)
                return r;
        x->held_seq[x->n_held++] = c->stats.held++;
        *ret_verdict = TRUST_OK;
        return CORRELATOR_HELD;
}

/* Judge the lines held on x, in order: as the child's when child is their _PID, else as forged.
 * They are taken off x first: feeding one again may end x. */
static int release(struct correlator *c, struct conn *x, pid_t child) {
        struct conn held = { .held = x->held, .n_held = x->n_held };
        int r = 0;

        if (x->n_held == 0)
                return 0;
        x->held = NULL;
        x->n_held = 0;
        for (unsigned i = 0; i < held.n_held && r >= 0; i++) {
                enum trust_verdict v = TRUST_OK;

                if (child == 0 || record_pid(&held.held[i]) != child) {
                        c->stats.untied++;
                        v = TRUST_NOT_LINKED;
                }
                r = c->cfg.replay(c->cfg.userdata, &held.held[i], v);
        }
        held_free(&held);
        return r;
}

struct held_line {
        struct log_record rec;
        uint64_t seq;
};

static int by_seq(const void *a, const void *b) {
        const struct held_line *x = a, *y = b;

        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int correlator_finish(struct correlator *c) {
        _cleanup_free_ struct held_line *lines = NULL;
        size_t n = 0, k = 0;
        int r = 0;

        for (struct conn_list *l = &c->pre_auth; l; l = l == &c->pre_auth ? &c->auth : NULL)
                for (struct conn *x = l->head; x; x = x->lru_next)
                        n += x->n_held;
        if (n == 0)
                return 0;
        lines = calloc(n, sizeof(*lines));
        if (!lines)
                return -ENOMEM;
        /* Taken off their connections first, which stay open as the input left them. */
        for (struct conn_list *l = &c->pre_auth; l; l = l == &c->pre_auth ? &c->auth : NULL)
                for (struct conn *x = l->head; x; x = x->lru_next) {
                        for (unsigned i = 0; i < x->n_held; i++)
                                lines[k++] = (struct held_line){ x->held[i], x->held_seq[i] };
                        free(x->held);
                        x->held = NULL;
                        x->n_held = 0;
                }
        assert(k == n);
        qsort(lines, n, sizeof(*lines), by_seq);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0) {
                        c->stats.untied++;
                        c->stats.held_at_end++;
                        r = c->cfg.replay(c->cfg.userdata, &lines[i].rec, TRUST_NOT_NAMED);
                }
                record_done(&lines[i].rec);
        }
        return r;
}

/* The connection ended: decide what is pending, then forget it. */
static int conn_end(struct correlator *c, struct conn *x, const struct decision_ctx *ctx) {
        struct decision_ctx rctx = { .usec = x->refused_usec, .ref = &x->refused_ref };
        int r, k;

        r = decide_refusal(c, x, &rctx);
        k = release(c, x, 0);
        if (k >= 0)
                k = decide(c, DECISION_END, x, NULL, ctx);
        conn_remove(c, x);
        return r < 0 ? r : k;
}

static int run_timeouts(struct correlator *c, struct host *h) {
        uint64_t t = c->cfg.session_timeout_usec;
        int r;

        if (t == 0 || !h)
                return 0;
        while (h->wait_head && h->wait_head->accept_clock + t <= h->clock) {
                struct conn *x = h->wait_head;
                struct decision_ctx ctx = { .usec = x->accept_usec + t };

                wait_remove(x);
                r = release(c, x, 0);
                if (r >= 0)
                        r = decide(c, DECISION_TIMEOUT, x, NULL, &ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

int correlator_advance(struct correlator *c, const struct event_origin *o) {
        struct host *h;

        forget_found(c);
        h = host_find(c, o);

        if (!h)
                return 0; /* no open connection of this boot: nothing can time out */
        if (event_origin_clock(o) >= h->clock) {
                h->clock = event_origin_clock(o);
                h->realtime = o->realtime_usec;
        }
        return run_timeouts(c, h);
}

bool correlator_ties(struct correlator *c, const struct event_origin *o) {
        struct host *h;
        struct conn *x;

        if (!o->attested || !o->has_uid)
                return false;
        forget_found(c);
        h = host_find(c, o);
        if (o->uid == 0 && find_monitor(c, h, o->pid))
                return true;
        x = find_child(c, h, o->pid);
        return x && x->has_user_uid && x->user_uid == o->uid;
}

int correlator_tick(struct correlator *c, const char *machine_id, uint64_t realtime_usec) {
        int r;

        for (unsigned i = 0; i < HOST_BUCKETS; i++)
                for (struct host *h = c->host_hash[i]; h; h = h->hash_next) {
                        if (machine_id && !streq(h->machine_id, machine_id))
                                continue;
                        if (realtime_usec <= h->realtime)
                                continue; /* never earlier than the boot's last entry */
                        h->clock += realtime_usec - h->realtime;
                        h->realtime = realtime_usec;
                        r = run_timeouts(c, h);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* ---- event handling -------------------------------------------------------------------------- */


static int parse_port(struct strview v) {
        uint64_t p;

        if (strview_to_u64(v, 65535, &p) < 0)
                return -1;
        return (int) p;
}

/* Make room for one more connection: a pre-auth connection goes first (scanners and probes that
 * never close must not push out a login); an authenticated one only when none is left, and then
 * the policy hears of it before it is forgotten. */
static int make_room(struct correlator *c, const struct event_origin *o) {
        struct conn *old;
        struct decision_ctx ctx = { .usec = o->realtime_usec };
        int r, k = 0;

        if (c->n_conns < c->cfg.max_connections)
                return 0;
        old = c->pre_auth.head ?: c->auth.head;
        if (!old)
                return 0;
        c->stats.evicted++;
        k = release(c, old, 0);
        if (k < 0)
                return k;
        if (old->authenticated) {
                c->stats.evicted_authenticated++;
                k = decide(c, DECISION_EVICTED, old, NULL, &ctx);
        } else
                c->stats.evicted_preauth++;
        /* Evicted without its end: decide only what needs no end (a pending refusal). */
        ctx.usec = old->refused_usec;
        ctx.ref = &old->refused_ref;
        r = decide_refusal(c, old, &ctx);
        conn_remove(c, old);
        return r < 0 ? r : k;
}

static int conn_new(struct correlator *c, const struct event_origin *o, struct conn **ret) {
        struct conn *x;
        struct host *h;
        int r;

        r = make_room(c, o);
        if (r < 0)
                return r;
        r = host_get(c, o, &h);
        if (r < 0)
                return r;
        if (c->free_conns) {
                x = c->free_conns;
                c->free_conns = x->lru_next;
                x->lru_next = NULL;
        } else {
                x = calloc(1, sizeof(*x));
                if (!x) {
                        if (h->refs == 0) {
                                h->refs = 1;
                                host_unref(c, h);
                        }
                        return -ENOMEM;
                }
        }
        h->refs++;
        x->h = h;
        x->machine_id = h->machine_id[0] ? h->machine_id : NULL;
        x->boot_id = h->boot_id[0] ? h->boot_id : NULL;
        x->host = h->hostname;
        x->monitor_pid = o->pid;
        x->port = -1;
        x->first_usec = x->last_usec = o->realtime_usec;
        x->last_clock = event_origin_clock(o);
        hash_insert(c->monitor_hash, x, (unsigned) o->pid, LINK_MONITOR);
        lru_append(c, x);
        c->n_conns++;
        c->stats.connections++;
        *ret = x;
        return 0;
}

/* *dst = where ev's entry is (unchanged when the source gives no position). Its cursor is asked
 * of the source only when an alert names it. */
static void ref_of(const struct event *ev, struct entry_ref *dst) {
        if (ev->origin.ref.kind != ENTRY_REF_NONE)
                *dst = ev->origin.ref;
}

/* The monitor's connection for this PID; a new one when there is none, or when the PID now
 * belongs to a new connection (fresh_start: a line that only begins a connection). */
static int monitor_conn(struct correlator *c, const struct event *ev, bool fresh_start,
                        struct conn **ret) {
        struct conn *x = find_monitor(c, host_find(c, &ev->origin), ev->origin.pid);
        int r;

        if (x && fresh_start) {
                struct decision_ctx ctx = { .usec = x->last_usec };

                /* PID reuse: the old connection ended without us seeing it. */
                r = conn_end(c, x, &ctx);
                if (r < 0)
                        return r;
                x = NULL;
        }
        if (fresh_start) {
                /* Likewise a user child that had this PID: it is gone. */
                struct conn *old = find_child(c, host_find(c, &ev->origin), ev->origin.pid);

                if (old)
                        set_child(c, old, 0);
        }
        if (!x) {
                r = conn_new(c, &ev->origin, &x);
                if (r < 0)
                        return r;
        }
        touch(c, x, &ev->origin);
        *ret = x;
        return 0;
}

/* The connection an authentication line of the monitor belongs to: after a login was accepted
 * on this PID, a new authentication means the PID was reused by a new connection. */
static int auth_conn(struct correlator *c, const struct event *ev, struct conn **ret) {
        struct conn *x = find_monitor(c, host_find(c, &ev->origin), ev->origin.pid);

        return monitor_conn(c, ev, x && x->authenticated, ret);
}

/* The open connection a line's text names by user, address and port (NULL: none). Never a join:
 * only to tell a forged line that claims a connection from a line of one keytrail has not seen. */
static struct conn *find_by_tuple(struct correlator *c, const struct host *h, struct strview user,
                                  struct strview addr, int port) {
        if (!h || port < 0 || !addr.ptr)
                return NULL;
        for (struct conn *x = c->port_hash[bucket(h, (pid_t) port)]; x; x = x->by_port)
                if (x->h == h && x->port == port && x->addr && strview_eq_str(addr, x->addr) &&
                    (!user.ptr || !x->user || strview_eq_str(user, x->user)))
                        return x;
        return NULL;
}

struct conn *correlator_find(struct correlator *c, const struct event_origin *o, const char *user,
                             const char *addr, int port) {
        struct host *h;

        forget_found(c);
        h = host_find(c, o);

        if (!h)
                return NULL;
        for (struct conn *x = c->auth.tail; x; x = x->lru_prev)
                if (x->h == h && (port < 0 || x->port == port) && (!addr || streq_ptr(x->addr, addr)) &&
                    (!user || streq_ptr(x->user, user)))
                        return x;
        return NULL;
}

struct conn_session *conn_last_session(struct conn *x) {
        return x->n_sessions > 0 ? &x->sessions[x->n_sessions - 1] : NULL;
}

int conn_session_set_requested(struct conn *c, struct conn_session *s, const char *requested) {
        return set_str(c, &s->requested, strview_from(requested));
}

/*
 * The connection whose process wrote a line that is not the monitor's alone (session, forward,
 * disconnect lines): the user child the monitor named, with the account's uid, or the monitor
 * itself with uid 0 (root logins before 9.8 have no child; a [preauth] line is relayed by the
 * monitor). NULL and *ret_verdict TRUST_OK when the line belongs to no open connection; NULL and a
 * verdict when it names one that its writer's credentials do not tie it to.
 */
static struct conn *tied_conn(struct correlator *c, const struct event *ev, bool monitor_only,
                              enum trust_verdict *ret_verdict) {
        const struct event_origin *o = &ev->origin;
        struct host *h = host_find(c, o);
        struct conn *x = monitor_only ? NULL : find_child(c, h, o->pid);

        *ret_verdict = TRUST_OK;
        if (x) {
                if (!o->has_uid)
                        return x; /* a source without credentials (text logs) attests nothing */
                if (!x->has_user_uid) {
                        /* The first line of the named child fixes the account's uid. */
                        x->user_uid = o->uid;
                        x->has_user_uid = true;
                        return x;
                }
                if (x->user_uid == o->uid)
                        return x;
                c->stats.untied++;
                *ret_verdict = TRUST_BAD_UID;
                return NULL;
        }
        x = find_monitor(c, h, o->pid);
        if (x) {
                if (!o->has_uid || o->uid == 0)
                        return x;
                c->stats.untied++;
                *ret_verdict = TRUST_NOT_ROOT;
                return NULL;
        }
        x = find_by_tuple(c, h, ev->field[EVENT_FIELD_USER], ev->field[EVENT_FIELD_ADDR],
                          parse_port(ev->field[EVENT_FIELD_PORT]));
        if (x && !o->attested) {
                /* A text log attests nothing, not even the PID: there a line is taken as written
                 * (docs/text-logs.md), joined by what it names. */
                if (x->child_pid == 0 && !monitor_only)
                        set_child(c, x, o->pid);
                return x;
        }
        if (x && tomb_find(c, o))
                return NULL; /* a late line of an ended connection, not of x */
        if (x) {
                if (may_hold(c, x, o, monitor_only))
                        c->unlinked = x; /* perhaps its child, not named yet: hold() */
                else
                        c->stats.untied++;
                *ret_verdict = TRUST_NOT_LINKED;
                return NULL;
        }
        /* It names no open connection (one that began before the scan, or none at all). Where
         * the account it names is known, a non-root writer must be that account. */
        if (ev->field[EVENT_FIELD_USER].ptr && o->has_uid && o->uid != 0 && c->cfg.account_uid) {
                /* On the stack: a name no account can have (longer than login names go, or with
                 * a NUL byte) and a machine id that is not one are known to no password
                 * database. */
                struct strview u = ev->field[EVENT_FIELD_USER], m = o->machine_id;
                char user[LOGIN_NAME_BYTES], mid[33];
                uid_t uid;

                if (u.len < sizeof(user) && !memchr(u.ptr, 0, u.len) && m.ptr &&
                    m.len < sizeof(mid) && !memchr(m.ptr, 0, m.len)) {
                        memcpy(user, u.ptr, u.len);
                        user[u.len] = 0;
                        copy_id(mid, m);
                        if (c->cfg.account_uid(c->cfg.account_userdata, mid, user, &uid) >= 0 &&
                            uid != o->uid) {
                                c->stats.untied++;
                                *ret_verdict = TRUST_BAD_UID;
                        }
                }
        }
        return NULL;
}

static int on_connection(struct correlator *c, const struct event *ev) {
        struct conn *x;
        int r;

        r = monitor_conn(c, ev, true, &x);
        if (r < 0)
                return r;
        set_port(c, x, parse_port(ev->field[EVENT_FIELD_PORT]));
        return set_str(x, &x->addr, ev->field[EVENT_FIELD_ADDR]);
}

static int on_key_found(struct correlator *c, const struct event *ev) {
        struct conn *x;
        int r;

        r = auth_conn(c, ev, &x);
        if (r < 0)
                return r;
        r = set_str(x, &x->found_fingerprint, ev->field[EVENT_FIELD_FINGERPRINT]);
        if (r >= 0)
                r = set_str(x, &x->found_key_type, ev->field[EVENT_FIELD_KEY_TYPE]);
        if (r >= 0)
                r = set_str(x, &x->found_location, ev->field[EVENT_FIELD_LOCATION]);
        return r;
}

static int on_auth_partial(struct correlator *c, const struct event *ev) {
        struct conn *x;
        int r;

        r = auth_conn(c, ev, &x);
        if (r < 0)
                return r;
        r = set_str(x, &x->partial_fingerprint, ev->field[EVENT_FIELD_FINGERPRINT]);
        if (r >= 0)
                r = set_str(x, &x->partial_key_type, ev->field[EVENT_FIELD_KEY_TYPE]);
        return r;
}

/* *dst = src, a string of the same connection (strings are never changed in place: sharing one is
 * safe, and the storage packs shared ones once). */
static void share_str(char **dst, char *src) {
        if (src)
                *dst = src;
}

static int on_auth_accepted(struct correlator *c, const struct event *ev) {
        struct decision_ctx ctx = { .usec = ev->origin.realtime_usec, .rule_id = ev->rule_id };
        struct conn *x;
        int r;

        r = auth_conn(c, ev, &x);
        if (r < 0)
                return r;
        set_authenticated(c, x);
        x->accept_usec = ev->origin.realtime_usec;
        x->accept_clock = event_origin_clock(&ev->origin);
        if (ev->field[EVENT_FIELD_PORT].ptr)
                set_port(c, x, parse_port(ev->field[EVENT_FIELD_PORT]));
        r = set_str(x, &x->addr, ev->field[EVENT_FIELD_ADDR]);
        if (r >= 0)
                r = set_str(x, &x->user, ev->field[EVENT_FIELD_USER]);
        if (r >= 0)
                r = set_str(x, &x->method, ev->field[EVENT_FIELD_METHOD]);
        if (r >= 0 && ev->field[EVENT_FIELD_FINGERPRINT].ptr) {
                r = set_str(x, &x->fingerprint, ev->field[EVENT_FIELD_FINGERPRINT]);
                if (r >= 0)
                        r = set_str(x, &x->key_type, ev->field[EVENT_FIELD_KEY_TYPE]);
        } else if (r >= 0 && x->partial_fingerprint) {
                /* Multi-method login: the key is named only by "Partial publickey". */
                share_str(&x->fingerprint, x->partial_fingerprint);
                share_str(&x->key_type, x->partial_key_type);
        }
        if (r >= 0)
                r = set_str(x, &x->ca_fingerprint, ev->field[EVENT_FIELD_CA_FINGERPRINT]);
        if (r >= 0 && x->fingerprint && streq_ptr(x->found_fingerprint, x->fingerprint))
                share_str(&x->key_location, x->found_location);
        if (r < 0)
                return r;
        ref_of(ev, &x->accept_ref);
        if (x->user && c->cfg.account_uid && !x->has_user_uid &&
            c->cfg.account_uid(c->cfg.account_userdata, x->machine_id, x->user, &x->user_uid) >= 0)
                x->has_user_uid = true;
        wait_append(x);
        ctx.ref = &x->accept_ref;
        return decide(c, DECISION_ACCEPTED, x, NULL, &ctx);
}

static int on_source_refused(struct correlator *c, const struct event *ev) {
        struct conn *x;
        int r;

        r = auth_conn(c, ev, &x);
        if (r < 0)
                return r;
        if (x->refused) {
                struct decision_ctx pctx = { .usec = x->refused_usec, .ref = &x->refused_ref };

                r = decide_refusal(c, x, &pctx);
                if (r < 0)
                        return r;
        }
        x->refused_usec = ev->origin.realtime_usec;
        r = set_str(x, &x->refused_location, ev->field[EVENT_FIELD_LOCATION]);
        if (r >= 0)
                r = set_str(x, &x->refused_user, ev->field[EVENT_FIELD_USER]);
        if (r >= 0)
                r = set_str(x, &x->refused_ip, ev->field[EVENT_FIELD_ADDR]);
        if (r < 0)
                return r;
        ref_of(ev, &x->refused_ref);
        x->refused = true; /* pending, with or without a position */
        return 0;
}

static int on_auth_failed(struct correlator *c, const struct event *ev) {
        struct decision_ctx ctx = { .usec = ev->origin.realtime_usec, .rule_id = ev->rule_id,
                                    .ref = &ev->origin.ref };
        struct conn *x = find_monitor(c, host_find(c, &ev->origin), ev->origin.pid);
        struct strview fp = ev->field[EVENT_FIELD_FINGERPRINT], kt = ev->field[EVENT_FIELD_KEY_TYPE];
        size_t n_fp, n_kt;
        int r;

        if (!x)
                return 0;
        touch(c, x, &ev->origin);
        if (!x->refused)
                return 0;
        /* Copies for the decision only, in x's storage: room for both at once, so that neither
         * moves the other. */
        n_fp = strview_dup_size(fp);
        n_kt = strview_dup_size(kt);
        if (n_fp == SIZE_MAX || n_kt == SIZE_MAX)
                return -ENOMEM;
        r = strings_reserve(x, n_fp + n_kt);
        if (r < 0)
                return r;
        if (fp.ptr) {
                ctx.fingerprint = strview_copy(x->strings + x->strings_used, fp);
                x->strings_used += n_fp;
        }
        if (kt.ptr) {
                ctx.key_type = strview_copy(x->strings + x->strings_used, kt);
                x->strings_used += n_kt;
        }
        return decide_refusal(c, x, &ctx);
}

static int on_user_child(struct correlator *c, const struct event *ev) {
        struct conn *x = find_monitor(c, host_find(c, &ev->origin), ev->origin.pid), *old;
        uint64_t pid;

        if (!x) {
                c->stats.orphan_lines++;
                return 0;
        }
        touch(c, x, &ev->origin);
        if (strview_to_u64(ev->field[EVENT_FIELD_CHILD_PID], INT32_MAX, &pid) < 0 || pid == 0)
                return 0;
        /* The kernel gave the child a PID that an open connection's monitor had: that monitor
         * is gone, and its connection ended without a line we know (PID reuse). */
        old = find_monitor(c, x->h, (pid_t) pid);
        if (old && old != x) {
                struct decision_ctx ctx = { .usec = old->last_usec };
                int r = conn_end(c, old, &ctx);

                if (r < 0)
                        return r;
        }
        set_child(c, x, (pid_t) pid);
        return release(c, x, (pid_t) pid);
}

static int on_session_start(struct correlator *c, const struct event *ev,
                            enum trust_verdict *ret_verdict) {
        struct decision_ctx ctx = { .usec = ev->origin.realtime_usec, .rule_id = ev->rule_id };
        struct conn *x = tied_conn(c, ev, false, ret_verdict);
        struct conn_session *s;
        struct strview command;
        uint64_t id;
        int r;

        if (!x) {
                if (*ret_verdict == TRUST_OK)
                        c->stats.orphan_sessions++;
                return 0;
        }
        touch(c, x, &ev->origin);
        if (x->n_sessions == CONN_SESSIONS_MAX) {
                /* Forget the oldest (its strings stay until the storage is packed); ids are
                 * only for reporting. */
                memmove(&x->sessions[0], &x->sessions[1],
                        (CONN_SESSIONS_MAX - 1) * sizeof(x->sessions[0]));
                x->sessions[CONN_SESSIONS_MAX - 1] = (struct conn_session){};
                x->n_sessions--;
        }
        s = &x->sessions[x->n_sessions++];
        *s = (struct conn_session){ .id = -1, .pid = ev->origin.pid, .usec = ev->origin.realtime_usec };
        if (strview_to_u64(ev->field[EVENT_FIELD_SESSION_ID], INT32_MAX, &id) >= 0)
                s->id = (int) id;
        command = ev->field[EVENT_FIELD_COMMAND];
        s->truncated = !ev->field[EVENT_FIELD_ADDR].ptr;
        if (!s->truncated && command.ptr && x->addr && x->port >= 0 && ev->origin.message.ptr &&
            (!strview_eq_str(ev->field[EVENT_FIELD_ADDR], x->addr) ||
             parse_port(ev->field[EVENT_FIELD_PORT]) != x->port)) {
                /* The PID link says which connection this is, and the tail disagrees: the
                 * command (from the user's own authorized_keys) carries a fake tail and the line
                 * was cut after it. Everything from the command's start is its prefix. */
                struct strview msg = ev->origin.message;

                command.len = (size_t) (msg.ptr + msg.len - command.ptr);
                s->truncated = true;
                s->id = -1;
        }
        r = set_str(x, &s->type, ev->field[EVENT_FIELD_SESSION_TYPE]);
        if (r >= 0)
                r = set_str(x, &s->forced_by, ev->field[EVENT_FIELD_FORCED_BY]);
        if (r >= 0)
                r = set_str(x, &s->command, command);
        if (r < 0)
                return r;
        ref_of(ev, &s->ref);
        x->n_started++;
        wait_remove(x);
        ctx.ref = &s->ref;
        return decide(c, DECISION_SESSION, x, s, &ctx);
}

static int on_forward_refused(struct correlator *c, const struct event *ev,
                              enum trust_verdict *ret_verdict) {
        struct conn *x = tied_conn(c, ev, false, ret_verdict);

        if (x) {
                touch(c, x, &ev->origin);
                x->forward_refused = true;
        }
        return 0;
}

static int on_end(struct correlator *c, const struct event *ev, enum trust_verdict *ret_verdict) {
        struct decision_ctx ctx = { .usec = ev->origin.realtime_usec, .rule_id = ev->rule_id,
                                    .ref = &ev->origin.ref };
        /* [preauth] lines are relayed by the monitor; so is the PAM module's close. */
        bool monitor_only = ev->field[EVENT_FIELD_PREAUTH].ptr || ev->kind == EVENT_PAM_SESSION_CLOSE;
        struct conn *x = tied_conn(c, ev, monitor_only, ret_verdict);

        if (!x)
                return 0;
        return conn_end(c, x, &ctx);
}

static int on_other(struct correlator *c, const struct event *ev, enum trust_verdict *ret_verdict) {
        struct conn *x = tied_conn(c, ev, false, ret_verdict);

        if (x)
                touch(c, x, &ev->origin);
        return 0;
}

static int dispatch(struct correlator *c, const struct event *ev, enum trust_verdict *ret_verdict) {
        switch (ev->kind) {
        case EVENT_CONNECTION:
                return on_connection(c, ev);
        case EVENT_KEY_FOUND:
                return on_key_found(c, ev);
        case EVENT_AUTH_PARTIAL:
                return on_auth_partial(c, ev);
        case EVENT_AUTH_ACCEPTED:
                return on_auth_accepted(c, ev);
        case EVENT_SOURCE_REFUSED:
                return on_source_refused(c, ev);
        case EVENT_AUTH_FAILED:
                return on_auth_failed(c, ev);
        case EVENT_USER_CHILD:
                return on_user_child(c, ev);
        case EVENT_SESSION_START:
                return on_session_start(c, ev, ret_verdict);
        case EVENT_FORWARD_REFUSED:
                return on_forward_refused(c, ev, ret_verdict);
        case EVENT_DISCONNECT:
        case EVENT_PAM_SESSION_CLOSE:
                return on_end(c, ev, ret_verdict);
        default:
                return on_other(c, ev, ret_verdict);
        }
}

int correlator_observe(struct correlator *c, const struct event *ev,
                       enum trust_verdict *ret_verdict) {
        struct conn *x;
        int r;

        *ret_verdict = TRUST_OK;
        r = correlator_advance(c, &ev->origin); /* forgets host_find()'s last answer first */
        if (r < 0)
                return r;
        c->unlinked = NULL;
        r = dispatch(c, ev, ret_verdict);
        x = c->unlinked; /* (a line fed again inside dispatch() leaves it NULL) */
        c->unlinked = NULL;
        if (r < 0 || !x)
                return r;
        return hold(c, x, &ev->origin, ret_verdict);
}

unsigned correlator_size(const struct correlator *c) {
        return c->n_conns;
}

uint64_t correlator_oldest_usec(const struct correlator *c) {
        uint64_t oldest = 0;

        for (const struct conn *x = c->pre_auth.head; x; x = x->lru_next)
                if (oldest == 0 || x->first_usec < oldest)
                        oldest = x->first_usec;
        for (const struct conn *x = c->auth.head; x; x = x->lru_next)
                if (oldest == 0 || x->first_usec < oldest)
                        oldest = x->first_usec;
        return oldest;
}

const struct correlator_stats *correlator_stats(const struct correlator *c) {
        return &c->stats;
}
