/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What one log line says happened, independent of how it was written. Produced by the rule matcher
 * (rules.h) from a record's MESSAGE; consumed by the correlator. An event owns nothing: every field
 * is a view into the message it was matched from and dies with that message.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"
#include "strview.h"

enum event_kind {
        EVENT_CONNECTION,        /* "Connection from IP port N on LADDR port N" (monitor) */
        EVENT_KEY_FOUND,         /* "Accepted key TYPE FP found at PATH:LINE" (monitor, 7.7+) */
        EVENT_AUTH_ACCEPTED,     /* "Accepted publickey for U from IP port N ssh2: TYPE FP" */
        EVENT_AUTH_FAILED,       /* "Failed publickey for U from IP port N ssh2: TYPE FP" */
        EVENT_AUTH_POSTPONED,    /* "Postponed publickey for U ... [preauth]" */
        EVENT_AUTH_PARTIAL,      /* "Partial publickey for U ... ssh2: TYPE FP" */
        EVENT_INVALID_USER,      /* "Invalid user U from IP port N" */
        EVENT_USER_CHILD,        /* "User child is on pid N" (monitor) */
        EVENT_SESSION_START,     /* "Starting session: TYPE ... for U from IP port N id N" (user child) */
        EVENT_SESSION_CLOSE,     /* "Close session: user U from IP port N id N" */
        EVENT_DISCONNECT,        /* end of a connection: "Disconnected from", "Connection closed by", ... */
        EVENT_SOURCE_REFUSED,    /* "PATH:LINE: Authentication tried for U with correct key but not from a
                                    permitted host (host=H, ip=IP, required=R)." */
        EVENT_KEYOPTS_REFUSED,   /* "error: Refused by key options[ at PATH:LINE]" */
        EVENT_FORWARD_REFUSED,   /* "refused local port forward: ..." and permitopen denials */
        EVENT_PAM_SESSION_CLOSE, /* "pam_unix(sshd:session): session closed for user U" (monitor) */
        EVENT_WRAPPER_REJECTED,  /* a forced-command wrapper (sshdo, only, ...) refused a command */
        _EVENT_MAX,
        _EVENT_INVALID = -EINVAL,
};

/*
 * Named captures a rule may use. The capture name in the rule file is the string in
 * event_field_to_string(); any other capture name is a load error.
 */
enum event_field {
        EVENT_FIELD_USER,           /* "user" */
        EVENT_FIELD_ADDR,           /* "addr": remote address, from the fixed tail of the line */
        EVENT_FIELD_PORT,           /* "port": remote port */
        EVENT_FIELD_LADDR,          /* "laddr": local address (Connection from) */
        EVENT_FIELD_LPORT,          /* "lport": local port */
        EVENT_FIELD_METHOD,         /* "method": publickey, password, ... */
        EVENT_FIELD_KEY_TYPE,       /* "key_type": ED25519, RSA, ECDSA-SK, ED25519-CERT, ... */
        EVENT_FIELD_FINGERPRINT,    /* "fingerprint": SHA256:... (or MD5:...) */
        EVENT_FIELD_LOCATION,       /* "location": PATH:LINE of the authorized_keys entry */
        EVENT_FIELD_CHILD_PID,      /* "child_pid" */
        EVENT_FIELD_SESSION_TYPE,   /* "session_type": forced-command, subsystem, shell, command */
        EVENT_FIELD_FORCED_BY,      /* "forced_by": key-option or config */
        EVENT_FIELD_TTY,            /* "tty": pts/0 */
        EVENT_FIELD_COMMAND,        /* "command": forced command or subsystem name, vis-escaped as
                                       logged; truncated when the line was cut (no "addr" then) */
        EVENT_FIELD_SESSION_ID,     /* "session_id": the "id N" of Starting/Close session */
        EVENT_FIELD_REQUIRED,       /* "required": the from= list sshd compared against */
        EVENT_FIELD_CERT_ID,        /* "cert_id": certificate key id */
        EVENT_FIELD_CA_KEY_TYPE,    /* "ca_key_type" */
        EVENT_FIELD_CA_FINGERPRINT, /* "ca_fingerprint" */
        EVENT_FIELD_PREAUTH,        /* "preauth": present when the line ends in " [preauth]" */
        EVENT_FIELD_REASON,         /* "reason": free text (disconnect reason, wrapper reason) */
        _EVENT_FIELD_MAX,
        _EVENT_FIELD_INVALID = -EINVAL,
};

/*
 * Who wrote a line and when, as the log source attests it. For journal entries, pid and uid are
 * journald's _PID and _UID: the kernel's credentials of the sending socket, which no unprivileged
 * process can choose (see docs/security.md). Everything else a line says about itself (its text,
 * SYSLOG_IDENTIFIER, SYSLOG_PID, _COMM) is the writer's claim. All views are borrowed from the
 * record and die with it.
 */
/* origin_of() (pipeline.c) sets each member by name, not by a compound literal (a hot path): a
 * member added here must be set there too. */
struct event_origin {
        pid_t pid;                 /* _PID; else SYSLOG_PID (then attested is false); 0: none */
        uid_t uid;                 /* _UID, when has_uid */
        bool has_uid;
        bool attested;             /* pid and uid come from the kernel (journald's _PID, _UID) */
        uint64_t realtime_usec;    /* __REALTIME_TIMESTAMP: wall clock, may step */
        uint64_t monotonic_usec;   /* __MONOTONIC_TIMESTAMP of boot_id; 0: the source has none */
        struct strview machine_id, boot_id, hostname;
        struct strview message;    /* the whole MESSAGE */
        struct entry_ref ref;      /* where the entry is (a copy): its cursor is asked of the
                                      source only when an alert names it (source_cursor()) */
        const struct log_record *rec; /* the record, when the line may be held
                                         (correlator_observe()); NULL: never held */
};

/* The clock that orders one boot's entries: the monotonic one when the source has it. */
static inline uint64_t event_origin_clock(const struct event_origin *o) {
        return o->monotonic_usec > 0 ? o->monotonic_usec : o->realtime_usec;
}

struct event {
        enum event_kind kind;
        const char *rule_id;                       /* borrowed from the rule set, lives as long as it */
        struct strview field[_EVENT_FIELD_MAX];    /* borrowed views into the matched message; absent
                                                      captures have ptr == NULL */
        struct event_origin origin;                /* set by the pipeline after the match */
};

const char *event_kind_to_string(enum event_kind k);
enum event_kind event_kind_from_string(const char *s);       /* _EVENT_INVALID when unknown */
const char *event_field_to_string(enum event_field f);
enum event_field event_field_from_string(const char *s);     /* _EVENT_FIELD_INVALID when unknown */
