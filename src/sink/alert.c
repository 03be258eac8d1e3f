/* SPDX-License-Identifier: MIT */
/*
 * Alert encoding: the type table, deterministic ids, messages with quoted values, NDJSON (jansson,
 * sorted keys) and the text line. Log bytes are not trusted to be UTF-8 nor to be harmless on a
 * terminal: escape.h turns them into text that cannot be mistaken for anything else.
 */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "digest.h"
#include "escape.h"
#include "string-table.h"
#include "timeutil.h"

static const char *const type_table[_ALERT_TYPE_MAX] = {
        [ALERT_UNFORCED_SESSION] = "unforced-session",
        [ALERT_COMMAND_MISMATCH] = "command-mismatch",
        [ALERT_UNKNOWN_KEY] = "unknown-key",
        [ALERT_NO_SESSION] = "no-session",
        [ALERT_SOURCE_REFUSED] = "source-refused",
        [ALERT_WRONG_USER] = "wrong-user",
        [ALERT_SPOOFED_ENTRY] = "spoofed-entry",
        [ALERT_COMMAND_REJECTED] = "command-rejected",
        [ALERT_UNEXPECTED_SOURCE] = "unexpected-source",
        [ALERT_BASELINE_DRIFT] = "baseline-drift",
        [ALERT_CONNECTION_EVICTED] = "connection-evicted",
        [ALERT_GATE_SILENT] = "gate-silent",
};

static const char *const severity_table[_ALERT_TYPE_MAX] = {
        [ALERT_UNFORCED_SESSION] = "critical",
        [ALERT_COMMAND_MISMATCH] = "high",
        [ALERT_UNKNOWN_KEY] = "high",
        [ALERT_NO_SESSION] = "medium",
        [ALERT_SOURCE_REFUSED] = "medium",
        [ALERT_WRONG_USER] = "high",
        [ALERT_SPOOFED_ENTRY] = "high",
        [ALERT_COMMAND_REJECTED] = "high",
        [ALERT_UNEXPECTED_SOURCE] = "high",
        [ALERT_BASELINE_DRIFT] = "high",
        [ALERT_CONNECTION_EVICTED] = "medium",
        [ALERT_GATE_SILENT] = "medium",
};

DEFINE_STRING_TABLE_LOOKUP(alert_type, enum alert_type, type_table)

const char *alert_type_severity(enum alert_type t) {
        return string_table_to_string(severity_table, ELEMENTSOF(severity_table), (int) t);
}

void alert_done(struct alert *a) {
        if (!a)
                return;
        free(a->message);
        a->message = NULL;
        for (size_t i = 0; i < a->n_quoted; i++)
                free(a->quoted[i]);
        a->n_quoted = 0;
        a->error = 0;
}

static const char *alert_keep(struct alert *a, char *q, int r) {
        if (r < 0 || a->n_quoted >= ELEMENTSOF(a->quoted)) {
                if (r >= 0)
                        free(q);
                if (a->error == 0)
                        a->error = r < 0 ? r : -E2BIG;
                return "";
        }
        a->quoted[a->n_quoted++] = q;
        return q;
}

const char *alert_quote(struct alert *a, const char *s) {
        char *q = NULL;
        int r;

        if (!s)
                return NULL;
        r = escape_quote(s, strlen(s), &q);
        return alert_keep(a, q, r);
}

const char *alert_token(struct alert *a, const char *s) {
        if (s && escape_is_token(s))
                return s;
        return alert_quote(a, s);
}

int alert_set_message(struct alert *a, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        char *e = NULL;
        va_list ap;
        int k, r;

        if (a->error < 0)
                return a->error;
        va_start(ap, fmt);
        k = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        r = escape_terminal(m, (size_t) k, &e);
        if (r < 0)
                return r;
        free(a->message);
        a->message = e;
        return 0;
}

int alert_id(const struct alert *a, char buf[static 33]) {
        _cleanup_(digest_freep) struct digest *d = NULL;
        char sid[16];
        int r;

        r = digest_new(&d);
        if (r < 0)
                return r;
        (void) snprintf(sid, sizeof(sid), "%d", a->session_id);
        digest_add_string(d, type_table[a->type]);
        digest_add_string(d, sid);
        for (size_t i = 0; i < a->n_evidence; i++) {
                /* A journal cursor's s= (the file's seqnum id) and i= (its seqnum) change when the
                 * same entry is copied into another file (journal-remote, a rebuilt fixture); the
                 * rest (boot id, monotonic and realtime stamps, content hash) identify the entry.
                 * Each other part is hashed with the ';' or NUL after it. */
                const char *c = a->evidence[i];

                while (*c) {
                        size_t l = strcspn(c, ";");

                        if (!(l >= 2 && (c[0] == 's' || c[0] == 'i') && c[1] == '='))
                                digest_add(d, c, l + 1);
                        c += l;
                        if (*c == ';')
                                c++;
                }
                digest_add(d, "\n", 1);
        }
        return digest_hex(d, 16, buf, 33);
}

/*
 * A JSON string for log bytes: valid UTF-8 as is, each byte that is not as U+FFFD, and then the
 * exact bytes, in hex, under name in raw. NULL on OOM.
 */
static json_t *json_field(const char *s, const char *name, json_t *raw) {
        _cleanup_free_ char *u = NULL, *hex = NULL;
        bool changed;
        size_t ul;

        if (!s)
                return json_null();
        if (escape_utf8(s, strlen(s), &u, &ul, &changed) < 0)
                return NULL;
        if (changed) {
                if (escape_hex(s, strlen(s), &hex) < 0 ||
                    json_object_set_new(raw, name, json_string(hex)) < 0)
                        return NULL;
        }
        return json_stringn(u, ul);
}

int alert_to_json(const struct alert *a, char **ret) {
        char tbuf[TIMEUTIL_RFC3339_MAX], id[33];
        json_auto_t *o = NULL, *raw = NULL;
        json_t *ev;
        char *s;
        int r;

#define FIELD(name, value) json_object_set_new(o, name, json_field(value, name, raw)) < 0

        r = alert_id(a, id);
        if (r < 0)
                return r;
        o = json_object();
        raw = json_object();
        ev = json_array();
        if (!o || !raw) {
                json_decref(ev);
                return -ENOMEM;
        }
        /* set_new steals ev, also when it fails */
        if (json_object_set_new(o, "evidence", ev) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_evidence; i++)
                if (json_array_append_new(ev, json_field(a->evidence[i], "evidence", raw)) < 0)
                        return -ENOMEM;

        if (json_object_set_new(o, "type", json_string(type_table[a->type])) < 0 ||
            json_object_set_new(o, "severity", json_string(severity_table[a->type])) < 0 ||
            json_object_set_new(o, "time",
                                json_string(timeutil_format_rfc3339(a->time_usec, tbuf))) < 0 ||
            FIELD("host", a->host) ||
            FIELD("machine_id", a->machine_id) ||
            FIELD("boot_id", a->boot_id) ||
            FIELD("user", a->user) ||
            FIELD("fingerprint", a->fingerprint) ||
            FIELD("key_type", a->key_type) ||
            FIELD("source_ip", a->source_ip) ||
            json_object_set_new(o, "source_port",
                                a->source_port >= 0 ? json_integer(a->source_port)
                                                    : json_null()) < 0 ||
            json_object_set_new(o, "sshd_pid",
                                a->sshd_pid > 0 ? json_integer(a->sshd_pid) : json_null()) < 0 ||
            FIELD("session_type", a->session_type) ||
            json_object_set_new(o, "session_id",
                                a->session_id >= 0 ? json_integer(a->session_id)
                                                   : json_null()) < 0 ||
            FIELD("expected_command", a->expected_command) ||
            FIELD("observed_command", a->observed_command) ||
            FIELD("key_location", a->key_location) ||
            FIELD("reason", a->reason) ||
            FIELD("rule", a->rule_id) ||
            FIELD("message", a->message) ||
            FIELD("label", a->label) ||
            json_object_set_new(o, "provenance", json_string(a->provenance ?: "journal")) < 0 ||
            json_object_set_new(o, "raw", json_object_size(raw) > 0 ? json_incref(raw)
                                                                     : json_null()) < 0 ||
            json_object_set_new(o, "id", json_string(id)) < 0)
                return -ENOMEM;
#undef FIELD
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int alert_to_text(const struct alert *a, char **ret) {
        char tbuf[TIMEUTIL_RFC3339_MAX], port[16] = "?";
        _cleanup_free_ char *line = NULL;
        struct alert q = {};
        char *e = NULL;
        int n, r;

        if (a->source_port >= 0)
                (void) snprintf(port, sizeof(port), "%d", a->source_port);
        n = asprintf(&line, "%s %-8s %-16s host=%s user=%s from=%s:%s key=%s %s%s",
                     timeutil_format_rfc3339(a->time_usec, tbuf), severity_table[a->type],
                     type_table[a->type], alert_token(&q, a->host) ?: "?",
                     alert_token(&q, a->user) ?: "?", alert_token(&q, a->source_ip) ?: "?", port,
                     alert_token(&q, a->fingerprint) ?: "?", a->message ?: "",
                     a->provenance && streq(a->provenance, "text")
                             ? " (from a text log: nothing attests who wrote it)"
                             : "");
        r = q.error;
        alert_done(&q);
        if (n < 0)
                return -ENOMEM;
        if (r < 0)
                return r;
        /* the message is already clean; this is the last guard before a terminal */
        r = escape_terminal(line, (size_t) n, &e);
        if (r < 0)
                return r;
        *ret = e;
        return 0;
}
