/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The correlator: joins the lines of one sshd connection, written by the monitor and by the user
 * child under another PID, into a struct conn, and tells its caller at each point where a decision
 * can be made (key accepted, session started, connection ended or timed out, from= refusal).
 *
 * A connection is keyed by host (_MACHINE_ID), boot (_BOOT_ID) and the monitor's PID; "User child
 * is on pid N" links the child's PID; a "Starting session ... for USER from IP port N" that no PID
 * link explains is matched by user, address and port. Time is log time (the entries' realtime),
 * through a watermark that never goes backwards, so a live run and a scan of the same entries
 * decide the same way.
 *
 * Ownership: the correlator owns every struct conn and everything in it. The conn and session
 * pointers passed to the decide callback are borrowed for the duration of the call. The table is
 * bounded (max_connections); when full, the least recently active connection is evicted (and
 * counted), and connections are freed at disconnect.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "macro.h"
#include "record.h"

#define CONN_SESSIONS_MAX 16          /* sessions remembered per connection (multiplexing) */
#define CORRELATOR_CONNECTIONS_DEFAULT 16384
#define CORRELATOR_HOSTS_MAX 4096     /* (machine, boot) pairs */
#define FORCED_COMMAND_LOG_MAX 900    /* sshd logs at most this much of a forced command (%.900s) */

struct conn_session {
        int id;            /* sshd's "id N"; -1 when the line was cut before it */
        char *type;        /* owned: forced-command, command, shell, subsystem */
        char *forced_by;   /* owned: key-option, config, or NULL */
        char *command;     /* owned: the forced command or subsystem name as logged (vis-escaped) */
        bool truncated;    /* the line was cut by syslog: command is a prefix */
        pid_t pid;         /* the PID that logged it */
        uint64_t usec;
        char *cursor;      /* owned */
        char *requested;   /* owned: what the client asked for, when a gate (keytrail-gate) said */
        unsigned alerted;  /* bit per enum alert_type already raised for this session */
};

struct conn {
        /* Identity. Borrowed from the correlator's host table, valid as long as the correlator. */
        const char *machine_id, *boot_id, *host;
        pid_t monitor_pid, child_pid; /* child_pid 0 until "User child is on pid" */

        /* What sshd said about it. All owned, NULL when not (yet) logged. */
        char *addr;
        int port;                     /* -1 unknown */
        char *user, *method, *fingerprint, *key_type, *key_location;
        char *ca_fingerprint;         /* a certificate login: the CA that signed it */
        char *accept_cursor;
        uint64_t first_usec, accept_usec, last_usec;
        bool authenticated;
        bool forward_refused;         /* a port forward was refused on it */
        bool has_user_uid;
        uid_t user_uid;               /* _UID of the session lines: the account's uid */

        /* The key sshd found most recently in authorized_keys for this connection. Owned. */
        char *found_fingerprint, *found_key_type, *found_location;
        /* "Partial publickey": the key of a multi-method login. Owned. */
        char *partial_fingerprint, *partial_key_type;

        /* A from= refusal waiting for the "Failed publickey" line that names the key. Owned. */
        char *refused_location, *refused_user, *refused_ip, *refused_cursor;
        uint64_t refused_usec;

        unsigned n_started;           /* sessions started, including forgotten ones */
        struct conn_session sessions[CONN_SESSIONS_MAX];
        unsigned n_sessions;
        unsigned alerted;             /* bit per enum alert_type raised for the connection */

        /* Table links; private to the correlator. */
        struct conn *lru_prev, *lru_next, *wait_prev, *wait_next, *by_monitor, *by_child, *by_port;
        unsigned host_idx;
        bool waiting;
};

enum decision {
        DECISION_ACCEPTED,        /* a login was accepted (session NULL) */
        DECISION_SESSION,         /* a session started (session set) */
        DECISION_END,             /* the connection ended (session NULL) */
        DECISION_TIMEOUT,         /* session_timeout passed since the login with no session */
        DECISION_SOURCE_REFUSED,  /* sshd refused a correct key because of from= */
        _DECISION_MAX,
};

/* Where the decision comes from: the deciding entry. Borrowed for the callback. */
struct decision_ctx {
        uint64_t usec;            /* log time of the deciding entry (or the deadline, for timeouts) */
        const char *cursor;       /* its cursor, NULL for timeouts or when not fetched yet */
        const struct log_record *rec; /* the deciding entry, to fetch its cursor only when an
                                         alert needs it (NULL for timeouts) */
        const char *rule_id;      /* the rule that matched it, NULL for timeouts */
        const char *fingerprint;  /* SOURCE_REFUSED: the key named by the Failed line, or NULL */
        const char *key_type;     /* SOURCE_REFUSED: its type */
};

/* Returns >= 0, or -errno to stop the pipeline (e.g. the sink failed). */
typedef int (*decide_fn)(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                         const struct decision_ctx *ctx);

struct correlator_config {
        uint64_t session_timeout_usec; /* 0: never time out */
        unsigned max_connections;      /* 0: CORRELATOR_CONNECTIONS_DEFAULT */
        decide_fn decide;
        void *userdata;
};

struct correlator_stats {
        uint64_t connections, evicted, orphan_sessions, orphan_lines, hosts_full;
};

struct correlator;

_warn_unused_ int correlator_new(const struct correlator_config *cfg, struct correlator **ret);
struct correlator *correlator_free(struct correlator *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct correlator *, correlator_free);

/*
 * Feed one trusted event matched from rec (both borrowed for the call). Advances the watermark to
 * the record's time first, deciding timeouts that passed. Returns 0 or the callback's -errno.
 */
_warn_unused_ int correlator_observe(struct correlator *c, const struct log_record *rec,
                                     const struct event *ev);

/* Advance log time without an event (e.g. an untrusted or unmatched line, or a live idle tick). */
_warn_unused_ int correlator_advance(struct correlator *c, uint64_t usec);

/*
 * The open connection of a host (machine id; NULL: any) with this remote address (NULL: any),
 * port (-1: any) and user (NULL: any); the most recently active one when several match. For lines of other
 * programs (forced-command wrappers) that name the connection by SSH_CONNECTION or SSH_CLIENT.
 */
struct conn *correlator_find(struct correlator *c, const char *machine_id, const char *user,
                             const char *addr, int port);

/* The connection's most recent session, or NULL. */
struct conn_session *conn_last_session(struct conn *x);

/* Record what a wrapper said the client requested on session s. Returns 0, -ENOMEM. */
_warn_unused_ int conn_session_set_requested(struct conn_session *s, const char *requested);

/* Open connections now. */
unsigned correlator_size(const struct correlator *c);

/* The log time of the first entry of the oldest open connection (where a follower that stops now
 * must start again to rebuild them), or 0 when none is open. O(open connections). */
uint64_t correlator_oldest_usec(const struct correlator *c);
const struct correlator_stats *correlator_stats(const struct correlator *c);
