/* SPDX-License-Identifier: MIT */
/* String tables for event kinds and capture names. */

#include <string.h>

#include "event.h"
#include "macro.h"
#include "string-table.h"

static const char *const event_kind_table[_EVENT_MAX] = {
        [EVENT_CONNECTION] = "connection",
        [EVENT_KEY_FOUND] = "key-found",
        [EVENT_AUTH_ACCEPTED] = "auth-accepted",
        [EVENT_AUTH_FAILED] = "auth-failed",
        [EVENT_AUTH_POSTPONED] = "auth-postponed",
        [EVENT_AUTH_PARTIAL] = "auth-partial",
        [EVENT_INVALID_USER] = "invalid-user",
        [EVENT_USER_CHILD] = "user-child",
        [EVENT_SESSION_START] = "session-start",
        [EVENT_SESSION_CLOSE] = "session-close",
        [EVENT_DISCONNECT] = "disconnect",
        [EVENT_SOURCE_REFUSED] = "source-refused",
        [EVENT_KEYOPTS_REFUSED] = "keyopts-refused",
        [EVENT_FORWARD_REFUSED] = "forward-refused",
        [EVENT_PAM_SESSION_CLOSE] = "pam-session-close",
        [EVENT_WRAPPER_REJECTED] = "wrapper-rejected",
};

static const char *const event_field_table[_EVENT_FIELD_MAX] = {
        [EVENT_FIELD_USER] = "user",
        [EVENT_FIELD_ADDR] = "addr",
        [EVENT_FIELD_PORT] = "port",
        [EVENT_FIELD_LADDR] = "laddr",
        [EVENT_FIELD_LPORT] = "lport",
        [EVENT_FIELD_METHOD] = "method",
        [EVENT_FIELD_KEY_TYPE] = "key_type",
        [EVENT_FIELD_FINGERPRINT] = "fingerprint",
        [EVENT_FIELD_LOCATION] = "location",
        [EVENT_FIELD_CHILD_PID] = "child_pid",
        [EVENT_FIELD_SESSION_TYPE] = "session_type",
        [EVENT_FIELD_FORCED_BY] = "forced_by",
        [EVENT_FIELD_TTY] = "tty",
        [EVENT_FIELD_COMMAND] = "command",
        [EVENT_FIELD_SESSION_ID] = "session_id",
        [EVENT_FIELD_REQUIRED] = "required",
        [EVENT_FIELD_CERT_ID] = "cert_id",
        [EVENT_FIELD_CA_KEY_TYPE] = "ca_key_type",
        [EVENT_FIELD_CA_FINGERPRINT] = "ca_fingerprint",
        [EVENT_FIELD_PREAUTH] = "preauth",
        [EVENT_FIELD_REASON] = "reason",
};

DEFINE_STRING_TABLE_LOOKUP(event_kind, enum event_kind, event_kind_table)
DEFINE_STRING_TABLE_LOOKUP(event_field, enum event_field, event_field_table)
