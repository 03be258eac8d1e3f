/* SPDX-License-Identifier: MIT */
/*
 * The correlator on hand-built events: interleaved connections, multiplexed sessions, the
 * monitor/child PID link and what the writer's _PID/_UID must be for a line to join, root without a
 * child, timeouts by each boot's own clock, PID reuse, hosts and boots freed with their last
 * connection, and eviction (pre-auth connections first, an authenticated one decided before).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "tap.h"

#define SEC USEC_PER_SEC
#define MAX_DECISIONS 24000

struct seen {
        enum decision d;
        pid_t monitor;
        int port;
        int session_id;
        bool truncated;
        uint64_t usec;
        char user[32];
        char command[64];
        char boot[40];
};

static struct seen seen[MAX_DECISIONS];
static unsigned n_seen;

static int record_decision(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                           const struct decision_ctx *ctx) {
        struct seen *x;

        if (n_seen >= MAX_DECISIONS)
                return -ENOSPC;
        x = &seen[n_seen++];
        *x = (struct seen){ .d = d, .monitor = c->monitor_pid, .port = c->port, .session_id = -2,
                            .usec = ctx->usec };
        (void) snprintf(x->user, sizeof(x->user), "%s", c->user ?: "");
        (void) snprintf(x->boot, sizeof(x->boot), "%s", c->boot_id ?: "");
        if (s) {
                x->session_id = s->id;
                x->truncated = s->truncated;
                (void) snprintf(x->command, sizeof(x->command), "%s", s->command ?: "");
        }
        return 0;
}

/* Where the next event comes from. The monotonic clock equals log time unless a test steps the
 * wall clock. */
static const char *cur_boot = "b1";
static int64_t wall_offset;
static uid_t account_uid = 1000;

static struct event ev(enum event_kind k) {
        return (struct event){ .kind = k, .rule_id = "test" };
}

static void set(struct event *e, enum event_field f, const char *v) {
        e->field[f] = strview_from(v);
}

static void origin(struct event *e, uint64_t usec, pid_t pid, uid_t uid) {
        e->origin = (struct event_origin){
                .pid = pid,
                .uid = uid,
                .has_uid = true,
                .attested = true,
                .realtime_usec = (uint64_t) ((int64_t) usec + wall_offset),
                .monotonic_usec = usec,
                .machine_id = strview_from("m1"),
                .boot_id = strview_from(cur_boot),
        };
}

static enum trust_verdict last_verdict;

static int feed_uid(struct correlator *c, uint64_t usec, pid_t pid, uid_t uid, struct event e) {
        origin(&e, usec, pid, uid);
        return correlator_observe(c, &e, &last_verdict);
}

static int feed(struct correlator *c, uint64_t usec, pid_t pid, struct event e) {
        return feed_uid(c, usec, pid, 0, e);
}

static int advance(struct correlator *c, uint64_t usec) {
        struct event e = ev(EVENT_CONNECTION);

        origin(&e, usec, 1, 0);
        return correlator_advance(c, &e.origin);
}

static void connect_only(struct correlator *c, uint64_t t, pid_t m, const char *port) {
        struct event e = ev(EVENT_CONNECTION);

        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, port);
        (void) feed(c, t, m, e);
}

static void accept_login(struct correlator *c, uint64_t t, pid_t m, pid_t child, const char *user,
                         const char *port) {
        struct event e;

        connect_only(c, t, m, port);
        e = ev(EVENT_AUTH_ACCEPTED);
        set(&e, EVENT_FIELD_USER, user);
        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, port);
        set(&e, EVENT_FIELD_METHOD, "publickey");
        set(&e, EVENT_FIELD_KEY_TYPE, "ED25519");
        set(&e, EVENT_FIELD_FINGERPRINT, "SHA256:x");
        (void) feed(c, t + 1, m, e);
        if (child) {
                char buf[16];

                (void) snprintf(buf, sizeof(buf), "%d", (int) child);
                e = ev(EVENT_USER_CHILD);
                set(&e, EVENT_FIELD_CHILD_PID, buf);
                (void) feed(c, t + 2, m, e);
        }
}

static void start_uid(struct correlator *c, uint64_t t, pid_t pid, uid_t uid, const char *user,
                      const char *port, const char *id, const char *command) {
        struct event e = ev(EVENT_SESSION_START);

        set(&e, EVENT_FIELD_SESSION_TYPE, command ? "forced-command" : "shell");
        set(&e, EVENT_FIELD_COMMAND, command);
        if (port) {
                set(&e, EVENT_FIELD_USER, user);
                set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
                set(&e, EVENT_FIELD_PORT, port);
                set(&e, EVENT_FIELD_SESSION_ID, id);
        }
        (void) feed_uid(c, t, pid, uid, e);
}

static void start(struct correlator *c, uint64_t t, pid_t pid, const char *user, const char *port,
                  const char *id, const char *command) {
        start_uid(c, t, pid, account_uid, user, port, id, command);
}

static void disconnect(struct correlator *c, uint64_t t, pid_t pid, const char *port) {
        struct event e = ev(EVENT_DISCONNECT);

        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, port);
        (void) feed_uid(c, t, pid, account_uid, e);
}

static unsigned count(enum decision d) {
        unsigned n = 0;

        for (unsigned i = 0; i < n_seen; i++)
                n += seen[i].d == d;
        return n;
}

static int uid_of_alice(void *userdata, const char *machine_id, const char *user, uid_t *ret) {
        if (!streq(user, "alice"))
                return -ENOENT;
        *ret = 2000;
        return 0;
}

static struct correlator *new_correlator_with(unsigned max, uint64_t timeout, account_uid_fn f,
                                              replay_fn replay) {
        struct correlator *c = NULL;

        n_seen = 0;
        cur_boot = "b1";
        wall_offset = 0;
        if (correlator_new(&(struct correlator_config){ .session_timeout_usec = timeout,
                                                        .max_connections = max,
                                                        .decide = record_decision,
                                                        .replay = replay,
                                                        .account_uid = f },
                           &c) < 0)
                abort();
        return c;
}

static struct correlator *new_correlator(unsigned max, uint64_t timeout) {
        return new_correlator_with(max, timeout, NULL, NULL);
}

static void test_interleaved(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 60 * SEC);

        accept_login(c, 1 * SEC, 100, 103, "alice", "1001");
        accept_login(c, 1 * SEC + 10, 200, 203, "bob", "2002");
        start(c, 2 * SEC, 203, "bob", "2002", "0", "cmd-b");
        start(c, 2 * SEC + 1, 103, "alice", "1001", "0", "cmd-a");
        TAP_IS_INT(count(DECISION_SESSION), 2, "interleaved: two sessions decided");
        TAP_IS_INT(seen[n_seen - 2].port, 2002, "interleaved: bob's session on bob's connection");
        TAP_IS_STR(seen[n_seen - 2].user, "bob", "interleaved: bob");
        TAP_IS_INT(seen[n_seen - 1].port, 1001, "interleaved: alice's session on alice's");

        /* multiplexing: a second session on the same child */
        start(c, 3 * SEC, 103, "alice", "1001", "1", "cmd-a2");
        TAP_IS_INT(seen[n_seen - 1].session_id, 1, "multiplexed: id 1 decided on its own");
        TAP_IS_INT(seen[n_seen - 1].monitor, 100, "multiplexed: same connection");

        disconnect(c, 4 * SEC, 103, "1001");
        TAP_IS_INT(seen[n_seen - 1].d, DECISION_END, "disconnect ends the connection");
        TAP_IS_INT(correlator_size(c), 1, "and frees it");
        disconnect(c, 4 * SEC + 1, 103, "1001");
        TAP_IS_INT(count(DECISION_END), 1, "a second end line of a freed connection is ignored");
        TAP_IS_INT(last_verdict, TRUST_OK, "and is no forgery: it names nothing open");
}

static void test_links(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 60 * SEC);

        /* no "User child" line: user, address and port in the text never join a line */
        accept_login(c, 1 * SEC, 300, 0, "carol", "3003");
        start(c, 2 * SEC, 307, "carol", "3003", "0", "x");
        TAP_IS_INT(count(DECISION_SESSION), 0, "no PID link: the tuple does not join the session");
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "it names an open connection: forged");
        TAP_IS_INT(correlator_stats(c)->untied, 1, "counted as untied");
        start(c, 3 * SEC, 307, NULL, NULL, NULL, "a very long command cut by sysl");
        TAP_IS_INT(count(DECISION_SESSION), 0, "a cut line of an unlinked PID joins nothing");
        TAP_IS_INT(last_verdict, TRUST_OK, "and names nothing: an orphan");
        TAP_IS_INT(correlator_stats(c)->orphan_sessions, 1, "orphan session counted");

        /* the named child: its first line fixes the account's uid; a cut line still joins */
        accept_login(c, 4 * SEC, 310, 313, "dora", "3103");
        start_uid(c, 5 * SEC, 313, 1313, NULL, NULL, NULL, "a very long command cut by sysl");
        TAP_IS_INT(count(DECISION_SESSION), 1, "the named child's cut line joins by its PID");
        tap_ok(seen[n_seen - 1].truncated, "and is marked truncated");
        start_uid(c, 6 * SEC, 313, 1666, "dora", "3103", "1", NULL);
        TAP_IS_INT(count(DECISION_SESSION), 1, "the child's PID with another uid joins nothing");
        TAP_IS_INT(last_verdict, TRUST_BAD_UID, "another account's line (PID reused): forged");
        start_uid(c, 7 * SEC, 313, 1313, "dora", "3103", "1", NULL);
        TAP_IS_INT(count(DECISION_SESSION), 2, "the account's uid joins again");
        /* the monitor's PID written by a non-root process */
        start_uid(c, 7 * SEC + 1, 310, 1313, "dora", "3103", "2", NULL);
        TAP_IS_INT(last_verdict, TRUST_NOT_ROOT, "the monitor's PID without uid 0: forged");
        TAP_IS_INT(count(DECISION_SESSION), 2, "and joins nothing");
        /* a forged disconnect of the open connection ends nothing */
        disconnect(c, 7 * SEC + 2, 4444, "3103");
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "a disconnect from another PID: forged");
        TAP_IS_INT(count(DECISION_END), 0, "and the connection stays open");

        /* root before 9.8: no child, the session comes from the monitor's PID with uid 0 */
        accept_login(c, 8 * SEC, 400, 0, "root", "4004");
        start_uid(c, 9 * SEC, 400, 0, "root", "4004", "0", NULL);
        TAP_IS_INT(seen[n_seen - 1].monitor, 400, "root: session on the monitor's PID");
        TAP_IS_INT(count(DECISION_SESSION), 3, "root: decided");

        /* a session line stored before the link that names its process: not attested */
        accept_login(c, 10 * SEC, 500, 0, "erin", "5005");
        start(c, 10 * SEC + 5, 503, "erin", "5005", "0", NULL);
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "a child's line before its link: not tied");
        TAP_IS_INT(count(DECISION_SESSION), 3, "and not decided");
}

static void test_account_uid(void) {
        _cleanup_(correlator_freep) struct correlator *c =
                new_correlator_with(0, 0, uid_of_alice, NULL);

        /* the password database knows alice: her child's first line cannot fix another uid */
        accept_login(c, 1 * SEC, 100, 103, "alice", "1001");
        start_uid(c, 2 * SEC, 103, 1000, "alice", "1001", "0", NULL);
        TAP_IS_INT(last_verdict, TRUST_BAD_UID, "known account uid: another uid is forged");
        TAP_IS_INT(count(DECISION_SESSION), 0, "and decides nothing");
        start_uid(c, 3 * SEC, 103, 2000, "alice", "1001", "0", NULL);
        TAP_IS_INT(count(DECISION_SESSION), 1, "the account's uid is decided");
}

static void test_timeout(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 60 * SEC);

        accept_login(c, 10 * SEC, 500, 503, "erin", "5005");
        TAP_IS_INT(advance(c, 69 * SEC), 0, "advance");
        TAP_IS_INT(count(DECISION_TIMEOUT), 0, "no timeout before 60 s of log time");
        TAP_IS_INT(advance(c, 71 * SEC), 0, "advance past");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "timeout once 60 s of log time passed");
        TAP_IS_INT(seen[n_seen - 1].usec, 70 * SEC + 1, "at the login's wall time plus the timeout");
        TAP_IS_INT(advance(c, 200 * SEC), 0, "advance further");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "and only once");
        TAP_IS_INT(advance(c, 5 * SEC), 0, "log time stepping back");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "does not move the watermark back");

        accept_login(c, 300 * SEC, 600, 603, "frank", "6006");
        start(c, 301 * SEC, 603, "frank", "6006", "0", "x");
        TAP_IS_INT(advance(c, 500 * SEC), 0, "advance");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "a connection with a session never times out");
}

static void test_clocks(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 60 * SEC);

        /* the wall clock steps a day ahead for one entry: the boot's monotonic clock decides */
        accept_login(c, 10 * SEC, 100, 103, "alice", "1001");
        wall_offset = 86400 * (int64_t) SEC;
        TAP_IS_INT(advance(c, 11 * SEC), 0, "an entry dated a day ahead");
        wall_offset = 0;
        TAP_IS_INT(count(DECISION_TIMEOUT), 0, "a wall-clock step times nothing out");
        start(c, 12 * SEC, 103, "alice", "1001", "0", "x");
        TAP_IS_INT(count(DECISION_SESSION), 1, "the session is decided normally");

        /* another boot's clock far ahead times out nothing of this boot */
        accept_login(c, 20 * SEC, 200, 203, "bob", "2002");
        cur_boot = "b2";
        accept_login(c, 5000 * SEC, 300, 303, "carol", "3003");
        TAP_IS_INT(count(DECISION_TIMEOUT), 0, "another boot's clock decides nothing here");
        cur_boot = "b1";
        TAP_IS_INT(advance(c, 81 * SEC), 0, "this boot's clock");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "times out bob, by his own boot's clock");
        TAP_IS_STR(seen[n_seen - 1].user, "bob", "bob's connection");

        /* a live idle tick: each boot moves on by the wall time since its own last entry */
        accept_login(c, 100 * SEC, 400, 403, "dora", "4004");
        TAP_IS_INT(correlator_tick(c, NULL, 150 * SEC), 0, "tick 50 s after dora's login");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "not yet");
        TAP_IS_INT(correlator_tick(c, NULL, 161 * SEC), 0, "tick past her timeout");
        TAP_IS_INT(count(DECISION_TIMEOUT), 2, "dora times out on a tick");
        TAP_IS_STR(seen[n_seen - 1].user, "dora", "dora's connection");
        TAP_IS_INT(count(DECISION_TIMEOUT), 2, "carol's boot, its last entry dated later, waits");
}

static void test_reuse_hosts(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 0);
        char boot[16];

        accept_login(c, 1 * SEC, 700, 703, "gina", "7007");
        accept_login(c, 2 * SEC, 700, 713, "gina", "7008");
        TAP_IS_INT(count(DECISION_END), 1, "PID reuse ends the earlier connection");
        TAP_IS_INT(correlator_size(c), 1, "one connection left");

        /* the same PID in another boot is another connection */
        cur_boot = "b2";
        connect_only(c, 3 * SEC, 700, "8008");
        TAP_IS_INT(correlator_size(c), 2, "same PID, other boot: two connections");
        TAP_IS_INT(count(DECISION_END), 1, "and no end decided");
        TAP_IS_INT(correlator_stats(c)->hosts, 2, "two boots open");

        /* 10000 more boots, each with one connection that ends: no cap, freed as they close */
        for (int i = 0; i < 10000; i++) {
                (void) snprintf(boot, sizeof(boot), "boot%d", i);
                cur_boot = boot;
                accept_login(c, 4 * SEC + (uint64_t) i, 100, 103, "hank", "9009");
                disconnect(c, 4 * SEC + (uint64_t) i + 5, 103, "9009");
        }
        TAP_IS_INT(count(DECISION_END), 10001, "every boot's connection was decided");
        TAP_IS_INT(correlator_stats(c)->hosts, 2, "hosts with no connection are freed");
        tap_ok(correlator_stats(c)->hosts_peak <= 3, "at most three boots were held at once");
        cur_boot = "b1";
        start(c, 5 * SEC, 713, "gina", "7008", "0", "x");
        TAP_IS_INT(seen[n_seen - 1].d, DECISION_SESSION, "many boots later: the session is decided");
        TAP_IS_STR(seen[n_seen - 1].boot, "b1", "on the connection of its own boot, intact");
}

static void test_eviction(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(4, 0);
        char port[16];

        /* a forced-key login, then scanners that never close */
        accept_login(c, 1 * SEC, 100, 103, "alice", "1001");
        for (int i = 0; i < 1000; i++) {
                (void) snprintf(port, sizeof(port), "%d", 20000 + i);
                connect_only(c, 2 * SEC + (uint64_t) i, 1000 + i, port);
        }
        TAP_IS_INT(correlator_size(c), 4, "bounded");
        TAP_IS_INT(correlator_stats(c)->evicted_preauth, 997, "pre-auth connections evicted");
        TAP_IS_INT(correlator_stats(c)->evicted_authenticated, 0, "the login was not");
        start(c, 3000 * SEC, 103, "alice", "1001", "0", NULL);
        TAP_IS_INT(count(DECISION_SESSION), 1, "its session is still decided");

        /* only authenticated connections left: the least recently active goes, decided first */
        accept_login(c, 3001 * SEC, 200, 203, "bob", "2002");
        accept_login(c, 3002 * SEC, 300, 303, "carol", "3003");
        accept_login(c, 3003 * SEC, 400, 403, "dora", "4004");
        TAP_IS_INT(count(DECISION_EVICTED), 0, "the scanners went first");
        accept_login(c, 3004 * SEC, 500, 503, "erin", "5005");
        TAP_IS_INT(count(DECISION_EVICTED), 1, "then an authenticated connection is evicted");
        TAP_IS_STR(seen[n_seen - 2].user, "alice", "the least recently active: alice");
        TAP_IS_INT(correlator_stats(c)->evicted_authenticated, 1, "and counted");
}

/* Lines held until the monitor names its child (session.h, CORRELATOR_HELD): what the correlator
 * hands back to judge, in order among its decisions (a replay is recorded as _DECISION_MAX, its
 * verdict in session_id, its _PID in monitor). */
static int record_replay(void *userdata, const struct log_record *rec, enum trust_verdict v) {
        if (n_seen >= MAX_DECISIONS)
                return -ENOSPC;
        seen[n_seen++] = (struct seen){ .d = _DECISION_MAX, .monitor = record_pid(rec),
                                        .session_id = (int) v, .usec = rec->realtime_usec };
        return 0;
}

/* A session line (a shell) naming user's connection on port, from pid with uid, with its record;
 * the correlator's answer. */
static int held_line(struct correlator *c, uint64_t t, pid_t pid, uid_t uid, const char *user,
                     const char *port) {
        struct log_record rec = {};
        struct event e = ev(EVENT_SESSION_START);
        char buf[16];
        int r;

        (void) snprintf(buf, sizeof(buf), "%d", (int) pid);
        if (record_set(&rec, RECORD_PID, buf, strlen(buf)) < 0)
                abort();
        rec.realtime_usec = t;
        set(&e, EVENT_FIELD_SESSION_TYPE, "shell");
        set(&e, EVENT_FIELD_USER, user);
        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, port);
        set(&e, EVENT_FIELD_SESSION_ID, "0");
        origin(&e, t, pid, uid);
        e.origin.rec = &rec;
        r = correlator_observe(c, &e, &last_verdict);
        record_done(&rec);
        return r;
}

/* The same of alice's connection on port 1001. */
static int held_start(struct correlator *c, uint64_t t, pid_t pid, uid_t uid) {
        return held_line(c, t, pid, uid, "alice", "1001");
}

static void name_child(struct correlator *c, uint64_t t, pid_t m, const char *child) {
        struct event e = ev(EVENT_USER_CHILD);

        set(&e, EVENT_FIELD_CHILD_PID, child);
        (void) feed(c, t, m, e);
}

static void test_hold(void) {
        _cleanup_(correlator_freep) struct correlator *c =
                new_correlator_with(3, 60 * SEC, uid_of_alice, record_replay);
        struct event end = ev(EVENT_PAM_SESSION_CLOSE);

        account_uid = 2000; /* alice's, for disconnect() */

        /* held: the account's uid, another PID, before the monitor named a child */
        accept_login(c, 1 * SEC, 100, 0, "alice", "1001");
        TAP_IS_INT(held_start(c, 2 * SEC, 103, 2000), CORRELATOR_HELD, "the child's early line");
        TAP_IS_INT(last_verdict, TRUST_OK, "not judged");
        TAP_IS_INT(held_start(c, 2 * SEC + 1, 190, 2000), CORRELATOR_HELD, "the account's forgery");
        TAP_IS_INT(held_start(c, 2 * SEC + 2, 191, 2001), 0, "another account's line is not held");
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "it is judged at once");
        TAP_IS_INT(held_start(c, 2 * SEC + 3, 192, 0), 0, "nor root's");
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "judged at once");
        TAP_IS_INT(correlator_stats(c)->held, 2, "two held");
        TAP_IS_INT(n_seen, 1, "nothing decided but the login");
        name_child(c, 3 * SEC, 100, "103");
        TAP_IS_INT(n_seen, 3, "the monitor named the child: both judged");
        TAP_IS_INT(seen[1].monitor, 103, "in order: the child's line");
        TAP_IS_INT(seen[1].session_id, TRUST_OK, "as the child's");
        TAP_IS_INT(seen[2].monitor, 190, "then the forgery");
        TAP_IS_INT(seen[2].session_id, TRUST_NOT_LINKED, "as forged");
        TAP_IS_INT(held_start(c, 4 * SEC, 191, 2000), 0, "with the child named, nothing is held");
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "a line from another PID is forged");

        /* a pre-auth connection's line is not held */
        n_seen = 0;
        connect_only(c, 5 * SEC, 200, "1001");
        TAP_IS_INT(held_start(c, 5 * SEC + 1, 203, 2000), 0, "before the login nothing is held");

        /* eviction: the held line is judged before the connection's EVICTED */
        n_seen = 0;
        disconnect(c, 6 * SEC, 103, "1001");
        accept_login(c, 7 * SEC, 300, 0, "alice", "1001");
        TAP_IS_INT(held_start(c, 7 * SEC + 5, 303, 2000), CORRELATOR_HELD, "held");
        accept_login(c, 8 * SEC, 400, 0, "bob", "4004");
        accept_login(c, 9 * SEC, 500, 0, "carol", "5005");
        accept_login(c, 10 * SEC, 600, 0, "dora", "6006");
        TAP_IS_INT(count(DECISION_EVICTED), 1, "alice's connection was evicted");
        for (unsigned i = 0; i < n_seen; i++)
                if (seen[i].d == DECISION_EVICTED) {
                        TAP_IS_INT(seen[i - 1].d, _DECISION_MAX, "right after its held line");
                        TAP_IS_INT(seen[i - 1].monitor, 303, "that line");
                        TAP_IS_INT(seen[i - 1].session_id, TRUST_NOT_LINKED, "forged");
                }

        /* overflow: the oldest is judged at once, in order */
        n_seen = 0;
        for (pid_t p = 401; p <= 405; p++)
                TAP_IS_INT(held_line(c, 11 * SEC + (uint64_t) p, p, 3000, "bob", "4004"),
                           CORRELATOR_HELD, "held");
        TAP_IS_INT(correlator_stats(c)->held_overflow, 1, "one overflow");
        TAP_IS_INT(n_seen, 1, "the oldest was judged");
        TAP_IS_INT(seen[0].monitor, 401, "the oldest");
        TAP_IS_INT(seen[0].session_id, TRUST_NOT_LINKED, "as forged");
        (void) feed(c, 12 * SEC, 400, end); /* the monitor's last line */
        TAP_IS_INT(n_seen, 6, "the others at the end, then the end");
        TAP_IS_INT(seen[1].monitor, 402, "in order");
        TAP_IS_INT(seen[4].monitor, 405, "to the last");
        TAP_IS_INT(seen[4].session_id, TRUST_NOT_LINKED, "all forged");
        TAP_IS_INT(seen[5].d, DECISION_END, "then its END");
        account_uid = 1000;
}

/* The input ends with lines held (correlator_finish()): each judged then, as TRUST_NOT_NAMED, in
 * the order held across connections (also after an overflow moved a connection's lines), and
 * the connections stay open. */
static void test_finish(void) {
        _cleanup_(correlator_freep) struct correlator *c =
                new_correlator_with(8, 60 * SEC, uid_of_alice, record_replay);
        static const pid_t want[] = { 201, 102, 103, 104, 105 };

        TAP_IS_INT(correlator_finish(c), 0, "nothing held: nothing to do");
        accept_login(c, 1 * SEC, 100, 0, "alice", "1001");
        accept_login(c, 1 * SEC + 1, 200, 0, "bob", "4004");
        n_seen = 0;
        for (pid_t p = 101; p <= 104; p++) {
                TAP_IS_INT(held_line(c, 2 * SEC + (uint64_t) p, p, 2000, "alice", "1001"),
                           CORRELATOR_HELD, "alice's connection holds it");
                if (p == 101)
                        TAP_IS_INT(held_line(c, 2 * SEC + 150, 201, 3000, "bob", "4004"),
                                   CORRELATOR_HELD, "bob's holds one, after alice's first");
        }
        TAP_IS_INT(held_line(c, 4 * SEC, 105, 2000, "alice", "1001"), CORRELATOR_HELD,
                   "alice's fifth");
        TAP_IS_INT(n_seen, 1, "pushed the oldest out");
        TAP_IS_INT(seen[0].monitor, 101, "the oldest");
        n_seen = 0;
        TAP_IS_INT(correlator_finish(c), 0, "the input ends");
        TAP_IS_INT(n_seen, 5, "every line still held is judged");
        for (unsigned i = 0; i < 5 && i < n_seen; i++) {
                TAP_IS_INT(seen[i].d, _DECISION_MAX, "a held line, no decision");
                TAP_IS_INT(seen[i].monitor, want[i], "in the order held");
                TAP_IS_INT(seen[i].session_id, TRUST_NOT_NAMED, "the input ended first");
        }
        TAP_IS_INT(correlator_stats(c)->held_at_end, 5, "counted");
        TAP_IS_INT(correlator_stats(c)->untied, 6, "as untied, with the overflow");
        TAP_IS_INT(correlator_size(c), 2, "both connections are still open");
        n_seen = 0;
        TAP_IS_INT(correlator_finish(c), 0, "again");
        TAP_IS_INT(n_seen, 0, "nothing is judged twice");
        name_child(c, 5 * SEC, 100, "102");
        TAP_IS_INT(n_seen, 0, "nor when the monitor speaks after all");
}

/* Late lines and reused PIDs: what an ended or silently gone process leaves behind. */
static void test_stale_pids(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 0);
        struct event e;
        unsigned ends;

        /* two connections that show the same address and port: the first one's late lines,
         * after the line that ended it, are not the second one's, and not forgeries */
        accept_login(c, 1 * SEC, 100, 103, "alice", "1001");
        start(c, 1 * SEC + 5, 103, "alice", "1001", "0", "x");
        accept_login(c, 2 * SEC, 200, 203, "alice", "1001");
        start(c, 2 * SEC + 5, 203, "alice", "1001", "0", "x");
        disconnect(c, 3 * SEC, 103, "1001");
        TAP_IS_INT(count(DECISION_END), 1, "the first connection ends");
        TAP_IS_INT(seen[n_seen - 1].monitor, 100, "the first one, by its child's PID");
        disconnect(c, 3 * SEC + 1, 103, "1001");
        TAP_IS_INT(last_verdict, TRUST_OK, "its child's late line is not a forgery");
        TAP_IS_INT(count(DECISION_END), 1, "and ends nothing else");
        e = ev(EVENT_DISCONNECT);
        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, "1001");
        (void) feed_uid(c, 3 * SEC + 2, 103, 1999, e);
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "the same PID with another uid is");
        disconnect(c, 3 * SEC + 3, 4444, "1001");
        TAP_IS_INT(last_verdict, TRUST_NOT_LINKED, "and so is another PID");
        TAP_IS_INT(correlator_size(c), 1, "the second connection is still open");

        /* a monitor whose end was never logged; the kernel gives its PID to a user child */
        connect_only(c, 4 * SEC, 300, "3003");
        accept_login(c, 5 * SEC, 400, 300, "bob", "4004");
        TAP_IS_INT(count(DECISION_END), 2, "a child on the stale monitor's PID ends that one");
        TAP_IS_INT(seen[n_seen - 1].monitor, 300, "the stale one");
        start(c, 5 * SEC + 5, 300, "bob", "4004", "0", "x");
        disconnect(c, 6 * SEC, 300, "4004");
        TAP_IS_INT(count(DECISION_END), 3, "the child's connection ends");
        disconnect(c, 6 * SEC + 1, 300, "4004");
        TAP_IS_INT(last_verdict, TRUST_OK, "and its late line is not taken for the old monitor's");

        /* a user child whose end was never logged; the kernel gives its PID to a new monitor */
        accept_login(c, 7 * SEC, 500, 503, "carol", "5005");
        start(c, 7 * SEC + 5, 503, "carol", "5005", "0", "x");
        ends = count(DECISION_END);
        connect_only(c, 8 * SEC, 503, "6006");
        e = ev(EVENT_DISCONNECT);
        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, "6006");
        (void) feed(c, 8 * SEC + 1, 503, e);
        TAP_IS_INT(last_verdict, TRUST_OK, "the new monitor's line is its own, not the old child's");
        TAP_IS_INT(count(DECISION_END), ends + 1, "and ends its connection");
        TAP_IS_INT(seen[n_seen - 1].port, 6006, "the new one");
}


/* What the storage of a connection's strings gives back, at the last decision. */
static char *got_user, *got_fp, *got_loc, *got_ca, *got_cmd, *got_first_cmd;
static size_t got_user_len;

static int record_strings(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                          const struct decision_ctx *ctx) {
        free(got_user);
        free(got_fp);
        free(got_loc);
        free(got_ca);
        free(got_cmd);
        free(got_first_cmd);
        got_user_len = c->user ? strlen(c->user) : 0;
        got_user = c->user ? strdup(c->user) : NULL;
        got_fp = c->fingerprint ? strdup(c->fingerprint) : NULL;
        got_loc = c->key_location ? strdup(c->key_location) : NULL;
        got_ca = c->ca_fingerprint ? strdup(c->ca_fingerprint) : NULL;
        got_cmd = s && s->command ? strdup(s->command) : NULL;
        got_first_cmd = c->n_sessions > 0 && c->sessions[0].command ? strdup(c->sessions[0].command)
                                                                    : NULL;
        return 0;
}

/* Hostile and long values, many replacements (the storage packs and grows), more sessions than
 * are remembered, then a connection that reuses the storage of the ended one. */
static void test_storage(void) {
        _cleanup_(correlator_freep) struct correlator *c = NULL;
        static char user[40000], fp[300], loc[300], cmd[2000], want[2000];
        struct event e;

        if (correlator_new(&(struct correlator_config){ .decide = record_strings }, &c) < 0)
                abort();
        connect_only(c, 1 * SEC, 700, "7000");
        for (unsigned i = 0; i < 500; i++) {
                e = ev(EVENT_KEY_FOUND);
                (void) snprintf(fp, sizeof(fp), "SHA256:%0*u", 200 + (int) (i % 50), i);
                (void) snprintf(loc, sizeof(loc), "/home/u/.ssh/authorized_keys%0*u:%u",
                                (int) (i % 80), 0, i + 1);
                set(&e, EVENT_FIELD_FINGERPRINT, fp);
                set(&e, EVENT_FIELD_KEY_TYPE, "ED25519");
                set(&e, EVENT_FIELD_LOCATION, loc);
                (void) feed(c, 1 * SEC + i, 700, e);
        }
        memset(user, 'u', sizeof(user) - 1);
        e = ev(EVENT_AUTH_ACCEPTED);
        e.field[EVENT_FIELD_USER] = (struct strview){ user, sizeof(user) - 1 };
        user[10] = 0; /* a NUL byte inside: kept as C0 80, the rest not cut */
        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, "7000");
        set(&e, EVENT_FIELD_METHOD, "publickey");
        set(&e, EVENT_FIELD_KEY_TYPE, "ED25519");
        set(&e, EVENT_FIELD_FINGERPRINT, fp);
        TAP_IS_INT(feed(c, 2 * SEC, 700, e), 0, "a 40 KB user name is taken");
        TAP_IS_INT(got_user_len, sizeof(user) - 1 + 1, "kept whole, its NUL as two bytes");
        TAP_IS_INT(got_user && (unsigned char) got_user[10] == 0xc0 &&
                           (unsigned char) got_user[11] == 0x80 && got_user[12] == 'u' &&
                           got_user[sizeof(user) - 1] == 'u',
                   1, "byte for byte");
        TAP_IS_STR(got_fp, fp, "the fingerprint of the last of 500 key lines");
        TAP_IS_STR(got_loc, loc, "and its location, shared with the found key");
        e = ev(EVENT_USER_CHILD);
        set(&e, EVENT_FIELD_CHILD_PID, "701");
        (void) feed(c, 3 * SEC, 700, e);
        for (unsigned i = 0; i < 40; i++) {
                char id[16];

                (void) snprintf(id, sizeof(id), "%u", i);
                (void) snprintf(cmd, sizeof(cmd), "rsync --server %0*u", 100 + (int) (i * 40), i);
                if (i == 40 - CONN_SESSIONS_MAX)
                        (void) snprintf(want, sizeof(want), "%s", cmd);
                start(c, 4 * SEC + i, 701, user, NULL, id, cmd);
                TAP_IS_STR(got_cmd, cmd, "session %u: its command, %zu bytes", i, strlen(cmd));
        }
        TAP_IS_STR(got_first_cmd, want, "the oldest of the sessions remembered");
        TAP_IS_STR(got_user ? got_user + 12 : NULL, user + 11, "the user unchanged by it all");
        disconnect(c, 5 * SEC, 701, "7000");

        /* The next connection gets the ended one's struct and storage: nothing of it shows. */
        accept_login(c, 6 * SEC, 800, 801, "bob", "8000");
        TAP_IS_STR(got_user, "bob", "a reused connection: its own user");
        TAP_IS_STR(got_loc, NULL, "no key location left over");
        TAP_IS_STR(got_ca, NULL, "no CA");
        TAP_IS_STR(got_first_cmd, NULL, "no session");
        TAP_IS_STR(got_fp, "SHA256:x", "its own key");
        (void) record_strings(NULL, DECISION_END, &(struct conn){}, NULL, NULL); /* frees them */
}

int main(void) {
        test_interleaved();
        test_links();
        test_account_uid();
        test_timeout();
        test_clocks();
        test_reuse_hosts();
        test_eviction();
        test_stale_pids();
        test_storage();
        test_hold();
        test_finish();
        return tap_done();
}
