/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Alerts: the contract with every consumer (docs/alerts.md). A struct alert is filled by the
 * policy on its stack and handed to a sink. Its field pointers are borrowed and valid only during
 * the sink call; the message and the quoted values made for it are owned by the alert and freed
 * by alert_done(). Encoding never passes log bytes to jansson or a terminal as they are
 * (escape.h): fields become valid UTF-8 with the exact bytes beside them in "raw", values inside
 * the message are quoted JSON-style, and the text line escapes controls and direction changes.
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
        ALERT_UNEXPECTED_SOURCE,
        ALERT_BASELINE_DRIFT,
        ALERT_CONNECTION_EVICTED,
        ALERT_GATE_SILENT,
        _ALERT_TYPE_MAX,
        _ALERT_TYPE_INVALID = -EINVAL,
};

#define ALERT_EVIDENCE_MAX 8
#define ALERT_QUOTED_MAX 16

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
        char *message;                /* owned: one English sentence, alert_set_message() */
        char *quoted[ALERT_QUOTED_MAX]; /* owned: alert_quote()/alert_token() results */
        size_t n_quoted;
        int error;                    /* first failure of alert_quote()/alert_token() */
        const char *evidence[ALERT_EVIDENCE_MAX]; /* cursors of the deciding entries */
        size_t n_evidence;
        const char *provenance;       /* NULL: the journal; "text": a text log, nothing attests
                                         who wrote its lines, evidence is FILE:LINE */
        const char *label;            /* the --policy label of the key or account, or NULL */
};

/* Free what the alert owns (message, quoted values); the alert can be filled again. */
void alert_done(struct alert *a);

/*
 * s (log bytes, NUL-terminated, strview_dup()'s C0 80 for a NUL) as a JSON-style string literal
 * for the message: "mirror", "a \"b\"", "\x80" (escape.h). Returns a string owned by the alert,
 * NULL when s is NULL; on failure "" and the error is kept for alert_set_message().
 */
const char *alert_quote(struct alert *a, const char *s);

/* As alert_quote(), but s is written bare when it is a non-empty run of [A-Za-z0-9+/=:._@-]
 * (fingerprints, addresses, ports): such a run cannot end or imitate the sentence around it. */
const char *alert_token(struct alert *a, const char *s);

/*
 * Format the message (replacing an earlier one); never cut. Any control, direction-changing
 * character or invalid byte outside the quoted values is escaped as in escape_terminal().
 * Returns 0, or -ENOMEM (also when an earlier alert_quote() failed).
 */
_warn_unused_ int alert_set_message(struct alert *a, const char *fmt, ...) _printf_(2, 3);

const char *alert_type_to_string(enum alert_type t);
enum alert_type alert_type_from_string(const char *s);
const char *alert_type_severity(enum alert_type t);

/*
 * The alert's id: stable across runs over the same entries, and across copies of them in other
 * journal files. SHA-256 over the type, the session id and the evidence cursors without their
 * file-specific s= and i= parts; hex, first 32 digits. buf must hold 33 bytes.
 */
_warn_unused_ int alert_id(const struct alert *a, char buf[static 33]);

/*
 * One JSON object, keys sorted, no trailing newline. Returns 0 and *ret (malloc'ed), -ENOMEM.
 * String fields are valid UTF-8: a byte that is not becomes U+FFFD in the field, and "raw" (null
 * when no field needed it) maps that field's name to its exact bytes in hex.
 */
_warn_unused_ int alert_to_json(const struct alert *a, char **ret);

/*
 * One readable line, no trailing newline, safe for a terminal: host, user, address and key as
 * alert_token() writes them, "?" when unknown. Returns 0 and *ret (malloc'ed), -ENOMEM.
 */
_warn_unused_ int alert_to_text(const struct alert *a, char **ret);
