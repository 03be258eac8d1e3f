/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The correlator: joins the lines of one sshd connection, written by the monitor and by the user
 * child under another PID, into a struct conn, and tells its caller at each point where a decision
 * can be made (key accepted, session started, connection ended or timed out, from= refusal,
 * evicted before its verdict).
 *
 * Attestation (docs/security.md): a connection is keyed by host (_MACHINE_ID), boot (_BOOT_ID) and
 * the monitor's PID. A line belongs to a connection only when the kernel's credentials of its
 * writer (journald's _PID, _UID) tie it there: the monitor's lines come from the monitor's PID with
 * _UID 0; the user child's from the PID the monitor named ("User child is on pid N") with the
 * account's _UID. Where sshd names no child (root before 9.8), only the monitor's PID counts. The
 * user, address and port in a line's text never join it: a line they would join to an open
 * connection that its credentials do not tie it to is reported as forged (correlator_observe's
 * verdict), and changes nothing.
 *
 * Time: each boot has its own clock, the entries' monotonic time (realtime when the source has
 * none), and a watermark that never goes backwards; timeouts of a connection are decided by its own
 * boot's clock only, so a wall-clock step or another host's clock decides nothing.
 *
 * Ownership: the correlator owns every struct conn and everything in it. The conn and session
 * pointers passed to the decide callback, and their strings, are borrowed for the duration of the
 * call. The table is bounded (max_connections): when full, the least recently active connection
 * that has not authenticated is evicted; only when every open connection has authenticated is the
 * least recently active of those evicted, and then DECISION_EVICTED is decided for it first. Hosts
 * are let go with their last connection, so they are bounded by the connections too. Ended
 * connections and hosts are kept for reuse (with their storage): the heap is bounded by the most
 * connections open at once, never by the entries read.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "macro.h"
#include "trust.h"

#define CONN_SESSIONS_MAX 16          /* sessions remembered per connection (multiplexing) */
#define CORRELATOR_CONNECTIONS_DEFAULT 16384
#define FORCED_COMMAND_LOG_MAX 900    /* sshd logs at most this much of a forced command (%.900s) */
#define CORRELATOR_HELD_MAX 4         /* lines held per connection (correlator_observe()) */

/* Every string of a connection and of its sessions points into the connection's own storage (see
 * struct conn), or is NULL when sshd has not said it (yet). */
struct conn_session {
        int id;            /* sshd's "id N"; -1 when the line was cut before it */
        char *type;        /* forced-command, command, shell, subsystem */
        char *forced_by;   /* key-option, config, or NULL */
        char *command;     /* the forced command or subsystem name as logged (vis-escaped) */
        bool truncated;    /* the line was cut by syslog: command is a prefix */
        pid_t pid;         /* the PID that logged it */
        uint64_t usec;
        struct entry_ref ref;  /* where its line is (the evidence; ENTRY_REF_NONE: nowhere) */
        char *requested;   /* what the client asked for, when a gate (keytrail-gate) said */
        bool gate_logged;  /* a keytrail-gate record of this connection's account arrived for it */
        unsigned alerted;  /* bit per enum alert_type already raised for this session */
};

struct conn {
        /* Identity. Borrowed from the correlator's host table, valid as long as the correlator. */
        const char *machine_id, *boot_id, *host;
        pid_t monitor_pid, child_pid; /* child_pid 0 until "User child is on pid" */

        /* What sshd said about it. NULL when not (yet) logged. */
        char *addr;
        int port;                     /* -1 unknown */
        char *user, *method, *fingerprint, *key_type, *key_location;
        char *ca_fingerprint;         /* a certificate login: the CA that signed it */
        struct entry_ref accept_ref;  /* where the Accepted line is (ENTRY_REF_NONE: nowhere) */
        uint64_t first_usec, accept_usec, last_usec; /* realtime, for alerts */
        uint64_t accept_clock, last_clock; /* the boot's clock (monotonic), for timeouts and order */
        bool authenticated;
        bool forward_refused;         /* a port forward was refused on it */
        bool has_user_uid;
        uid_t user_uid;               /* the account's uid: the password database's (local host),
                                         else the _UID of the first line of the named child */

        /* The key sshd found most recently in authorized_keys for this connection. */
        char *found_fingerprint, *found_key_type, *found_location;
        /* "Partial publickey": the key of a multi-method login. */
        char *partial_fingerprint, *partial_key_type;

        /* A from= refusal waiting for the "Failed publickey" line that names the key. */
        bool refused;                 /* one is pending */
        char *refused_location, *refused_user, *refused_ip;
        struct entry_ref refused_ref; /* where its line is */
        uint64_t refused_usec;

        unsigned n_started;           /* sessions started, including forgotten ones */
        struct conn_session sessions[CONN_SESSIONS_MAX];
        unsigned n_sessions;
        unsigned alerted;             /* bit per enum alert_type raised for the connection */

        /* Table links; private to the correlator. */
        struct conn *lru_prev, *lru_next, *wait_prev, *wait_next, *by_monitor, *by_child, *by_port;
        struct host *h;
        bool waiting;

        /* Private to the correlator: the storage every string above (and of the sessions) points
         * into, owned. Values are appended; one replaced or forgotten stays until the storage is
         * full, then the live ones are packed (in place; it grows only when they fill it). When
         * the connection ends its struct and storage are kept for the next connection (storage
         * grown past 4 KiB by odd values is freed), so the steady state allocates nothing per
         * connection. */
        char *strings;
        size_t strings_used, strings_size;

        /* Private to the correlator: lines that name this connection and may be its user child's,
         * written before the monitor named the child (a race between the two processes): copies,
         * owned, in entry order, judged when the monitor names its child, the connection ends or
         * the input does (correlator_finish()); held_seq: the order they were held in, over all
         * connections (correlator_stats.held when each was held). */
        struct log_record *held;
        uint64_t held_seq[CORRELATOR_HELD_MAX];
        unsigned n_held;
};

enum decision {
        DECISION_ACCEPTED,        /* a login was accepted (session NULL) */
        DECISION_SESSION,         /* a session started (session set) */
        DECISION_END,             /* the connection ended (session NULL) */
        DECISION_TIMEOUT,         /* session_timeout passed since the login with no session */
        DECISION_SOURCE_REFUSED,  /* sshd refused a correct key because of from= */
        DECISION_EVICTED,         /* an authenticated connection leaves the full table before its
                                     end: its later lines will not be judged */
        _DECISION_MAX,
};

/* Where the decision comes from: the deciding entry. Borrowed for the callback. */
struct decision_ctx {
        uint64_t usec;            /* log time of the deciding entry (or the deadline, for timeouts) */
        const struct entry_ref *ref; /* where the deciding entry is (its cursor is asked of the
                                        source only when an alert names it); NULL for timeouts
                                        and where no entry decides */
        const char *rule_id;      /* the rule that matched it, NULL for timeouts */
        const char *fingerprint;  /* SOURCE_REFUSED: the key named by the Failed line, or NULL */
        const char *key_type;     /* SOURCE_REFUSED: its type */
};

/* Returns >= 0, or -errno to stop the pipeline (e.g. the sink failed). */
typedef int (*decide_fn)(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                         const struct decision_ctx *ctx);

/* The uid of account user on host machine_id, when the caller can know it (the password database
 * of this host). Returns 0 and *ret, or -ENOENT. */
/* A line the correlator held (correlator_observe()) and judges now: v TRUST_OK, feed it again as
 * its connection's child's (its monitor named its _PID); else report it as forged with v. rec is
 * borrowed for the call; its ref is the one its event carried. */
typedef int (*replay_fn)(void *userdata, const struct log_record *rec, enum trust_verdict v);

typedef int (*account_uid_fn)(void *userdata, const char *machine_id, const char *user, uid_t *ret);

struct correlator_config {
        uint64_t session_timeout_usec; /* 0: never time out */
        unsigned max_connections;      /* 0: CORRELATOR_CONNECTIONS_DEFAULT */
        decide_fn decide;
        void *userdata;
        replay_fn replay;              /* userdata's; may be NULL: lines are then never held */
        account_uid_fn account_uid;    /* may be NULL: then the child's first line fixes the uid */
        void *account_userdata;
};

struct correlator_stats {
        uint64_t connections;          /* connections opened */
        uint64_t evicted;              /* evicted, all */
        uint64_t evicted_preauth;      /* evicted before they authenticated (counted only) */
        uint64_t evicted_authenticated; /* evicted after: DECISION_EVICTED was decided for each */
        uint64_t orphan_sessions;      /* session lines of a connection keytrail never saw */
        uint64_t orphan_lines;         /* other lines that belong to no open connection */
        uint64_t untied;               /* lines naming an open connection that their writer's
                                          _PID/_UID do not tie to it (reported as forged) */
        uint64_t held;                 /* lines held until their monitor named its child */
        uint64_t held_overflow;        /* lines judged at once: their connection held enough */
        uint64_t held_at_end;          /* lines still held when the input ended (correlator_finish()) */
        uint64_t hosts, hosts_peak;    /* (machine, boot) pairs open now, and at most */
};

struct correlator;

_warn_unused_ int correlator_new(const struct correlator_config *cfg, struct correlator **ret);
struct correlator *correlator_free(struct correlator *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct correlator *, correlator_free);

/*
 * Feed one event of sshd whose provenance passed trust_check() (borrowed for the call). Advances
 * its boot's clock first, deciding timeouts that passed. *ret_verdict is TRUST_OK when the line was
 * taken or belongs to no open connection (counted), or the reason its writer's credentials do not
 * tie it to the connection it names (TRUST_NOT_LINKED, TRUST_BAD_UID): then nothing changed and the
 * caller reports it as forged. Returns 0, or the callback's -errno.
 *
 * Returns 1 (CORRELATOR_HELD, *ret_verdict TRUST_OK) when the line is held: it names an
 * authenticated connection whose monitor has not named its child yet, and its writer is not root
 * and (where the account's uid is known) is the account. sshd's user child may log before its
 * monitor logs "User child is on pid N" (two processes). The line (a copy of ev->origin.rec) is
 * judged by cfg.replay, before anything later: as the child's when N is its _PID, as forged
 * (TRUST_NOT_LINKED) when N is another, or when the connection ends, times out or is evicted
 * first. CORRELATOR_HELD_MAX lines per connection: with one more, the oldest is judged at once, as
 * forged (counted: held_overflow).
 */
#define CORRELATOR_HELD 1
_warn_unused_ int correlator_observe(struct correlator *c, const struct event *ev,
                                     enum trust_verdict *ret_verdict);

/* Advance the clock of o's boot without an event (an untrusted or unmatched line; a live idle
 * tick gives the local machine and boot with CLOCK_MONOTONIC). Only that boot's timeouts. */
_warn_unused_ int correlator_advance(struct correlator *c, const struct event_origin *o);

/*
 * Whether o's kernel credentials alone tie its line to an open connection of its boot: _PID is that
 * connection's monitor and _UID 0, or _PID is the user child the monitor named and _UID the
 * account's uid as already known (the password database's, or an earlier line of that child).
 * For lines journald recorded without _EXE and _COMM (docs/security.md). Changes nothing.
 */
bool correlator_ties(struct correlator *c, const struct event_origin *o);

/*
 * The input ended (scan, report, learn; never follow, whose input does not end): judge the lines
 * still held, whose connection is still open and whose monitor has named no child, in the order
 * they were held (entry order), as forged with TRUST_NOT_NAMED (counted: untied, held_at_end).
 * Connections stay open, undecided, as the end of the input leaves them. Returns 0, or the
 * replay callback's -errno (or -ENOMEM: then nothing was judged).
 */
_warn_unused_ int correlator_finish(struct correlator *c);

/*
 * A live idle tick (keytrail follow): wall time realtime_usec has come with no entry. Each boot's
 * clock moves on by the wall time elapsed since its last entry (never back, and not at all for a
 * boot whose last entry is dated later), deciding the timeouts that passed. Returns 0 or the
 * callback's -errno. Timeouts run no callback that frees a host, so iterating the hosts is safe.
 * machine_id (32 hex digits): only that machine's boots (follow keeps a clock per host: another
 * host's entries may come in late, docs/follow.md); NULL: every boot.
 */
_warn_unused_ int correlator_tick(struct correlator *c, const char *machine_id,
                                  uint64_t realtime_usec);

/*
 * The open authenticated connection of a host (o's machine and boot) with this remote address
 * (NULL: any), port (-1: any) and user (NULL: any); the most recently active one when several
 * match. For lines of other programs (forced-command wrappers) that name the connection by
 * SSH_CONNECTION or SSH_CLIENT; the caller checks their writer's uid against conn->user_uid.
 */
struct conn *correlator_find(struct correlator *c, const struct event_origin *o, const char *user,
                             const char *addr, int port);

/* The connection's most recent session, or NULL. */
struct conn_session *conn_last_session(struct conn *x);

/* Record what a wrapper said the client requested on session s of connection c (kept in c's
 * storage). Returns 0, -ENOMEM. */
_warn_unused_ int conn_session_set_requested(struct conn *c, struct conn_session *s,
                                             const char *requested);

/* Open connections now. */
unsigned correlator_size(const struct correlator *c);

/* The log time of the first entry of the oldest open connection (where a follower that stops now
 * must start again to rebuild them), or 0 when none is open. O(open connections). */
uint64_t correlator_oldest_usec(const struct correlator *c);
const struct correlator_stats *correlator_stats(const struct correlator *c);
