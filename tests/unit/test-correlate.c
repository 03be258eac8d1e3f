/* SPDX-License-Identifier: MIT */
/*
 * The correlator on hand-built events: interleaved connections, multiplexed sessions, the
 * monitor/child PID change, the user/address/port fallback, truncated lines, root without a child,
 * timeouts in log time, PID reuse, hosts and boots, and the bound on open connections.
 */
#include <stdio.h>
#include <stdlib.h>

#include "session.h"
#include "tap.h"

#define SEC USEC_PER_SEC
#define MAX_DECISIONS 64

struct seen {
        enum decision d;
        pid_t monitor;
        int port;
        int session_id;
        bool truncated;
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
        *x = (struct seen){ .d = d, .monitor = c->monitor_pid, .port = c->port, .session_id = -2 };
        (void) snprintf(x->user, sizeof(x->user), "%s", c->user ?: "");
        (void) snprintf(x->boot, sizeof(x->boot), "%s", c->boot_id ?: "");
        if (s) {
                x->session_id = s->id;
                x->truncated = s->truncated;
                (void) snprintf(x->command, sizeof(x->command), "%s", s->command ?: "");
        }
        return 0;
}

static struct log_record rec;

static void at(uint64_t usec, pid_t pid, const char *boot) {
        char p[16];
        int n = snprintf(p, sizeof(p), "%d", (int) pid);

        record_reset(&rec);
        rec.realtime_usec = usec;
        if (record_set(&rec, RECORD_PID, p, (size_t) n) < 0 ||
            record_set(&rec, RECORD_MACHINE_ID, "m1", 2) < 0 ||
            record_set(&rec, RECORD_BOOT_ID, boot, strlen(boot)) < 0)
                abort();
}

static struct event ev(enum event_kind k) {
        return (struct event){ .kind = k, .rule_id = "test" };
}

static void set(struct event *e, enum event_field f, const char *v) {
        e->field[f] = strview_from(v);
}

static int feed(struct correlator *c, uint64_t usec, pid_t pid, struct event e) {
        at(usec, pid, "b1");
        return correlator_observe(c, &rec, &e);
}

static void accept_login(struct correlator *c, uint64_t t, pid_t m, pid_t child, const char *user,
                         const char *port) {
        struct event e = ev(EVENT_CONNECTION);

        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, port);
        (void) feed(c, t, m, e);
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

static void start(struct correlator *c, uint64_t t, pid_t pid, const char *user, const char *port,
                  const char *id, const char *command) {
        struct event e = ev(EVENT_SESSION_START);

        set(&e, EVENT_FIELD_SESSION_TYPE, command ? "forced-command" : "shell");
        set(&e, EVENT_FIELD_COMMAND, command);
        if (port) {
                set(&e, EVENT_FIELD_USER, user);
                set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
                set(&e, EVENT_FIELD_PORT, port);
                set(&e, EVENT_FIELD_SESSION_ID, id);
        }
        (void) feed(c, t, pid, e);
}

static void disconnect(struct correlator *c, uint64_t t, pid_t pid, const char *port) {
        struct event e = ev(EVENT_DISCONNECT);

        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, port);
        (void) feed(c, t, pid, e);
}

static unsigned count(enum decision d) {
        unsigned n = 0;

        for (unsigned i = 0; i < n_seen; i++)
                n += seen[i].d == d;
        return n;
}

static struct correlator *new_correlator(unsigned max, uint64_t timeout) {
        struct correlator *c = NULL;

        n_seen = 0;
        if (correlator_new(&(struct correlator_config){ .session_timeout_usec = timeout,
                                                        .max_connections = max,
                                                        .decide = record_decision },
                           &c) < 0)
                abort();
        return c;
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
}

static void test_links(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 60 * SEC);

        /* no "User child" line: matched by user, address and port */
        accept_login(c, 1 * SEC, 300, 0, "carol", "3003");
        start(c, 2 * SEC, 307, "carol", "3003", "0", "x");
        TAP_IS_INT(count(DECISION_SESSION), 1, "tuple fallback: session joined without a PID link");
        TAP_IS_INT(seen[n_seen - 1].monitor, 300, "tuple fallback: the right connection");
        /* and the child PID is linked from then on: a cut line (no tail) still finds it */
        start(c, 3 * SEC, 307, NULL, NULL, NULL, "a very long command cut by sysl");
        TAP_IS_INT(count(DECISION_SESSION), 2, "truncated line joined through the learned PID");
        tap_ok(seen[n_seen - 1].truncated, "and marked truncated");

        /* root before 9.8: no child, the session comes from the monitor's PID */
        accept_login(c, 5 * SEC, 400, 0, "root", "4004");
        start(c, 6 * SEC, 400, "root", "4004", "0", NULL);
        TAP_IS_INT(seen[n_seen - 1].monitor, 400, "root: session on the monitor's PID");

        /* a session nobody can place is counted, not guessed */
        start(c, 7 * SEC, 999, "dave", "9999", "0", NULL);
        TAP_IS_INT(correlator_stats(c)->orphan_sessions, 1, "orphan session counted");
}

static void test_timeout(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 60 * SEC);

        accept_login(c, 10 * SEC, 500, 503, "erin", "5005");
        TAP_IS_INT(correlator_advance(c, 69 * SEC), 0, "advance");
        TAP_IS_INT(count(DECISION_TIMEOUT), 0, "no timeout before 60 s of log time");
        TAP_IS_INT(correlator_advance(c, 71 * SEC), 0, "advance past");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "timeout once 60 s of log time passed");
        TAP_IS_INT(correlator_advance(c, 200 * SEC), 0, "advance further");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "and only once");
        TAP_IS_INT(correlator_advance(c, 5 * SEC), 0, "log time stepping back");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "does not move the watermark back");

        accept_login(c, 300 * SEC, 600, 603, "frank", "6006");
        start(c, 301 * SEC, 603, "frank", "6006", "0", "x");
        TAP_IS_INT(correlator_advance(c, 500 * SEC), 0, "advance");
        TAP_IS_INT(count(DECISION_TIMEOUT), 1, "a connection with a session never times out");
}

static void test_reuse_hosts_bounds(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(2, 0);
        struct event e = ev(EVENT_CONNECTION);

        accept_login(c, 1 * SEC, 700, 703, "gina", "7007");
        accept_login(c, 2 * SEC, 700, 713, "gina", "7008");
        TAP_IS_INT(count(DECISION_END), 1, "PID reuse ends the earlier connection");
        TAP_IS_INT(correlator_size(c), 1, "one connection left");

        /* the same PID in another boot is another connection */
        set(&e, EVENT_FIELD_ADDR, "192.0.2.1");
        set(&e, EVENT_FIELD_PORT, "8008");
        at(3 * SEC, 700, "b2");
        TAP_IS_INT(correlator_observe(c, &rec, &e), 0, "other boot");
        TAP_IS_INT(correlator_size(c), 2, "same PID, other boot: two connections");
        TAP_IS_INT(count(DECISION_END), 1, "and no end decided");

        accept_login(c, 4 * SEC, 900, 903, "hank", "9009");
        TAP_IS_INT(correlator_size(c), 2, "bounded: still two connections");
        TAP_IS_INT(correlator_stats(c)->evicted, 1, "the oldest was evicted and counted");
}

static void test_many_boots(void) {
        _cleanup_(correlator_freep) struct correlator *c = new_correlator(0, 0);
        struct event e = ev(EVENT_CONNECTION);
        char boot[16];

        accept_login(c, 1 * SEC, 100, 103, "alice", "1001");
        /* many other boots and hosts arrive while alice's connection is open */
        set(&e, EVENT_FIELD_ADDR, "192.0.2.9");
        set(&e, EVENT_FIELD_PORT, "9");
        for (int i = 0; i < 100; i++) {
                (void) snprintf(boot, sizeof(boot), "boot%d", i);
                at(2 * SEC + (uint64_t) i, 100, boot);
                if (correlator_observe(c, &rec, &e) < 0)
                        abort();
        }
        start(c, 3 * SEC, 103, "alice", "1001", "0", "x");
        TAP_IS_INT(seen[n_seen - 1].d, DECISION_SESSION, "many boots later: the session is decided");
        TAP_IS_STR(seen[n_seen - 1].boot, "b1", "on the connection of its own boot, intact");
}

int main(void) {
        test_many_boots();
        test_interleaved();
        test_links();
        test_timeout();
        test_reuse_hosts_bounds();
        record_done(&rec);
        return tap_done();
}
