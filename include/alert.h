/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Alerts: the contract with every consumer (docs/alerts.md). A struct alert is filled by the
 * policy on its stack and handed to a sink; every pointer in it is borrowed and valid only during
 * the sink call. Encoding escapes log bytes to valid UTF-8 before jansson sees them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

enum alert_type {
        ALERT_UNFORCED_SESSION,
        ALERT_COMMAND_MISMATCH,
        ALERT_UNKNOWN_KEY,
        ALERT_NO_SESSION,
        ALERT_SOURCE_REFUSED,
        ALERT_WRONG_USER,
        ALERT_SPOOFED_ENTRY,
        ALERT_COMMAND_REJECTED,
        _ALERT_TYPE_MAX,
        _ALERT_TYPE_INVALID = -EINVAL,
};

#define ALERT_EVIDENCE_MAX 8

struct alert {
        enum alert_type type;
        uint64_t time_usec;           /* log time of the deciding entry */
        const char *host;             /* _HOSTNAME, else the machine id */
        const char *machine_id, *boot_id;
        const char *user;
        const char *fingerprint;
        const char *key_type;
        const char *source_ip;
        int source_port;              /* -1: unknown */
        pid_t sshd_pid;               /* the monitor's pid; 0: unknown */
        const char *session_type;     /* forced-command, command, shell, subsystem or NULL */
        int session_id;               /* sshd's "id N"; -1 when not about one session */
        const char *expected_command;
        const char *observed_command;
        const char *key_location;
        const char *reason;           /* optional extra detail (gate reason, trust verdict) */
        const char *rule_id;          /* the rule that matched the deciding line, if any */
        char message[512];            /* one English sentence, filled by the policy */
        const char *evidence[ALERT_EVIDENCE_MAX]; /* cursors of the deciding entries */
        size_t n_evidence;
        const char *provenance;       /* NULL: the journal; "text": a text log, nothing attests
                                         who wrote its lines, evidence is FILE:LINE */
};

const char *alert_type_to_string(enum alert_type t);
enum alert_type alert_type_from_string(const char *s);
const char *alert_type_severity(enum alert_type t);

/*
 * The alert's id: stable across runs over the same entries, and across copies of them in other
 * journal files. SHA-256 over the type, the session id and the evidence cursors without their
 * file-specific s= and i= parts; hex, first 32 digits. buf must hold 33 bytes.
 */
_warn_unused_ int alert_id(const struct alert *a, char buf[static 33]);

/* One JSON object, keys sorted, no trailing newline. Returns 0 and *ret (malloc'ed), -ENOMEM. */
_warn_unused_ int alert_to_json(const struct alert *a, char **ret);

/* One readable line, no trailing newline. Returns 0 and *ret (malloc'ed), -ENOMEM. */
_warn_unused_ int alert_to_text(const struct alert *a, char **ret);
