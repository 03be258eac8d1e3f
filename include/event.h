/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What one log line says happened, independent of how it was written. Produced by the rule matcher
 * (rules.h) from a record's MESSAGE; consumed by the correlator. An event owns nothing: every field
 * is a view into the message it was matched from and dies with that message.
 */

#include <errno.h>

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

struct event {
        enum event_kind kind;
        const char *rule_id;                       /* borrowed from the rule set, lives as long as it */
        struct strview field[_EVENT_FIELD_MAX];    /* borrowed views into the matched message; absent
                                                      captures have ptr == NULL */
};

const char *event_kind_to_string(enum event_kind k);
enum event_kind event_kind_from_string(const char *s);       /* _EVENT_INVALID when unknown */
const char *event_field_to_string(enum event_field f);
enum event_field event_field_from_string(const char *s);     /* _EVENT_FIELD_INVALID when unknown */
