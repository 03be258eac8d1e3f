/* SPDX-License-Identifier: MIT */
/*
 * Alert encoding: the type table, deterministic ids, NDJSON (jansson, sorted keys) and the text
 * line. Log bytes are not trusted to be UTF-8: invalid sequences are written as \xNN text first.
 */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
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
};

const char *alert_type_to_string(enum alert_type t) {
        if (t < 0 || t >= _ALERT_TYPE_MAX)
                return NULL;
        return type_table[t];
}

enum alert_type alert_type_from_string(const char *s) {
        for (int i = 0; s && i < _ALERT_TYPE_MAX; i++)
                if (streq(type_table[i], s))
                        return (enum alert_type) i;
        return _ALERT_TYPE_INVALID;
}

const char *alert_type_severity(enum alert_type t) {
        if (t < 0 || t >= _ALERT_TYPE_MAX)
                return NULL;
        return severity_table[t];
}

int alert_id(const struct alert *a, char buf[static 33]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char sid[16];
        EVP_MD_CTX *ctx;
        int ok;

        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        (void) snprintf(sid, sizeof(sid), "%d", a->session_id);
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(ctx, type_table[a->type], strlen(type_table[a->type]) + 1) &&
             EVP_DigestUpdate(ctx, sid, strlen(sid) + 1);
        for (size_t i = 0; ok && i < a->n_evidence; i++) {
                /* A journal cursor's s= (the file's seqnum id) and i= (its seqnum) change when the
                 * same entry is copied into another file (journal-remote, a rebuilt fixture); the
                 * rest (boot id, monotonic and realtime stamps, content hash) identify the entry. */
                const char *c = a->evidence[i];

                while (ok && *c) {
                        size_t l = strcspn(c, ";");

                        if (!(l >= 2 && (c[0] == 's' || c[0] == 'i') && c[1] == '='))
                                ok = EVP_DigestUpdate(ctx, c, l + 1);
                        c += l;
                        if (*c == ';')
                                c++;
                }
                ok = ok && EVP_DigestUpdate(ctx, "\n", 1);
        }
        ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len);
        EVP_MD_CTX_free(ctx);
        if (!ok || md_len < 16)
                return -EIO;
        for (unsigned i = 0; i < 16; i++)
                (void) snprintf(buf + 2 * i, 3, "%02x", md[i]);
        return 0;
}

/* A JSON string for arbitrary bytes: as is when valid UTF-8, else invalid bytes as "\xNN". */
static json_t *json_string_lossless(const char *s) {
        json_t *j;
        size_t l, o = 0;
        char *buf;

        if (!s)
                return json_null();
        l = strlen(s);
        j = json_stringn(s, l);
        if (j)
                return j;
        buf = malloc(l * 4 + 1);
        if (!buf)
                return NULL;
        for (size_t i = 0; i < l;) {
                unsigned char c = (unsigned char) s[i];
                size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                          : (c & 0xf8) == 0xf0 ? 4 : 0;
                json_t *probe = n > 1 && i + n <= l ? json_stringn(s + i, n) : NULL;

                if (n == 1 || probe) {
                        memcpy(buf + o, s + i, n);
                        o += n;
                        i += n;
                } else {
                        o += (size_t) snprintf(buf + o, 5, "\\x%02x", c);
                        i++;
                }
                json_decref(probe);
        }
        buf[o] = 0;
        j = json_stringn(buf, o);
        free(buf);
        return j;
}

int alert_to_json(const struct alert *a, char **ret) {
        char tbuf[TIMEUTIL_RFC3339_MAX], id[33];
        json_t *o, *ev;
        char *s;
        int r;

        r = alert_id(a, id);
        if (r < 0)
                return r;
        o = json_object();
        ev = json_array();
        if (!o || !ev) {
                json_decref(o);
                json_decref(ev);
                return -ENOMEM;
        }
        for (size_t i = 0; i < a->n_evidence; i++)
                if (json_array_append_new(ev, json_string_lossless(a->evidence[i])) < 0)
                        goto oom;

        if (json_object_set_new(o, "type", json_string(type_table[a->type])) < 0 ||
            json_object_set_new(o, "severity", json_string(severity_table[a->type])) < 0 ||
            json_object_set_new(o, "time",
                                json_string(timeutil_format_rfc3339(a->time_usec, tbuf))) < 0 ||
            json_object_set_new(o, "host", json_string_lossless(a->host)) < 0 ||
            json_object_set_new(o, "machine_id", json_string_lossless(a->machine_id)) < 0 ||
            json_object_set_new(o, "boot_id", json_string_lossless(a->boot_id)) < 0 ||
            json_object_set_new(o, "user", json_string_lossless(a->user)) < 0 ||
            json_object_set_new(o, "fingerprint", json_string_lossless(a->fingerprint)) < 0 ||
            json_object_set_new(o, "key_type", json_string_lossless(a->key_type)) < 0 ||
            json_object_set_new(o, "source_ip", json_string_lossless(a->source_ip)) < 0 ||
            json_object_set_new(o, "source_port",
                                a->source_port >= 0 ? json_integer(a->source_port)
                                                    : json_null()) < 0 ||
            json_object_set_new(o, "sshd_pid",
                                a->sshd_pid > 0 ? json_integer(a->sshd_pid) : json_null()) < 0 ||
            json_object_set_new(o, "session_type", json_string_lossless(a->session_type)) < 0 ||
            json_object_set_new(o, "session_id",
                                a->session_id >= 0 ? json_integer(a->session_id)
                                                   : json_null()) < 0 ||
            json_object_set_new(o, "expected_command",
                                json_string_lossless(a->expected_command)) < 0 ||
            json_object_set_new(o, "observed_command",
                                json_string_lossless(a->observed_command)) < 0 ||
            json_object_set_new(o, "key_location", json_string_lossless(a->key_location)) < 0 ||
            json_object_set_new(o, "reason", json_string_lossless(a->reason)) < 0 ||
            json_object_set_new(o, "rule", json_string_lossless(a->rule_id)) < 0 ||
            json_object_set_new(o, "message", json_string_lossless(a->message)) < 0 ||
            json_object_set_new(o, "evidence", ev) < 0 ||
            json_object_set_new(o, "provenance", json_string(a->provenance ?: "journal")) < 0 ||
            json_object_set_new(o, "id", json_string(id)) < 0) {
                json_decref(o);
                return -ENOMEM;
        }
        s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;

oom:
        json_decref(o);
        json_decref(ev);
        return -ENOMEM;
}

int alert_to_text(const struct alert *a, char **ret) {
        char tbuf[TIMEUTIL_RFC3339_MAX], port[16] = "?";
        char *s = NULL;
        int n;

        if (a->source_port >= 0)
                (void) snprintf(port, sizeof(port), "%d", a->source_port);
        n = asprintf(&s, "%s %-8s %-16s host=%s user=%s from=%s:%s key=%s %s%s",
                     timeutil_format_rfc3339(a->time_usec, tbuf), severity_table[a->type],
                     type_table[a->type], a->host ?: "?", a->user ?: "?", a->source_ip ?: "?",
                     port, a->fingerprint ?: "?", a->message,
                     a->provenance ? " (from a text log: nothing attests who wrote it)" : "");
        if (n < 0)
                return -ENOMEM;
        /* Log bytes may hold control characters: never let them reach a terminal raw. */
        for (char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        *ret = s;
        return 0;
}
