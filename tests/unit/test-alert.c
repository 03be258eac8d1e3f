/* SPDX-License-Identifier: MIT */
/* Alert encoding: the contract of docs/alerts.md (fields, nulls, sorted keys, UTF-8, stable ids). */
#include <jansson.h>
#include <stdlib.h>

#include "alert.h"
#include "escape.h"
#include "strview.h"
#include "tap.h"

static struct alert sample(void) {
        return (struct alert){
                .type = ALERT_COMMAND_MISMATCH,
                .time_usec = UINT64_C(1764200000123456),
                .host = "mirror1",
                .user = "mirror",
                .fingerprint = "SHA256:v1OYgLqE0uPPeTYTiBk6UCZonQszUikoWIJWyrMJLA0",
                .key_type = "ED25519",
                .source_ip = "203.0.113.9",
                .source_port = 50500,
                .sshd_pid = 7500,
                .session_type = "forced-command",
                .session_id = 0,
                .expected_command = "rsync --server --sender . /srv",
                .observed_command = "rsync --server . /srv",
                .key_location = "/home/mirror/.ssh/authorized_keys:2",
                .machine_id = "4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8",
                .boot_id = "0b1e5ad2d3c94bd59b4f7a5e0c2b1a01",
                .rule_id = "sshd.session.start-forced-command",
                .evidence = { "s=aaaa;i=5;b=bbbb;m=10;t=20;x=cc", "s=aaaa;i=8;b=bbbb;m=11;t=21;x=dd" },
                .n_evidence = 2,
        };
}

int main(void) {
        struct alert a = sample(), b;
        char *s = NULL, id1[33], id2[33];
        json_t *j;
        json_error_t err;
        const char *prev = "", *key;
        json_t *v;
        bool sorted = true;

        TAP_IS_INT(alert_to_json(&a, &s), 0, "encodes");
        tap_ok(s && !strchr(s, '\n'), "one line");
        j = json_loads(s, 0, &err);
        tap_ok(j != NULL, "valid JSON");
        TAP_IS_STR(json_string_value(json_object_get(j, "type")), "command-mismatch", "type");
        TAP_IS_STR(json_string_value(json_object_get(j, "severity")), "high", "severity");
        TAP_IS_STR(json_string_value(json_object_get(j, "time")), "2025-11-26T23:33:20.123456Z",
                   "time: RFC 3339, UTC, microseconds");
        TAP_IS_INT(json_integer_value(json_object_get(j, "source_port")), 50500,
                   "source_port is an integer");
        TAP_IS_INT(json_array_size(json_object_get(j, "evidence")), 2, "evidence: two cursors");
        tap_ok(json_is_null(json_object_get(j, "reason")), "absent fields are null, not missing");
        TAP_IS_INT(json_integer_value(json_object_get(j, "session_id")), 0, "session_id");
        TAP_IS_STR(json_string_value(json_object_get(j, "rule")), "sshd.session.start-forced-command",
                   "rule: the id of the deciding rule");
        TAP_IS_STR(json_string_value(json_object_get(j, "boot_id")), "0b1e5ad2d3c94bd59b4f7a5e0c2b1a01",
                   "boot_id");
        TAP_IS_STR(json_string_value(json_object_get(j, "key_location")),
                   "/home/mirror/.ssh/authorized_keys:2", "key_location");
        {
                const char *idv = json_string_value(json_object_get(j, "id"));

                tap_ok(idv && strlen(idv) == 32 && strspn(idv, "0123456789abcdef") == 32,
                       "id: 32 hex digits");
        }
        json_object_foreach(j, key, v) {
                (void) v;
                if (strcmp(prev, key) > 0)
                        sorted = false;
                prev = key;
        }
        tap_ok(sorted, "keys are sorted");
        static const char *const fields[] = { "type", "severity", "time", "host", "user",
                "fingerprint", "key_type", "source_ip", "source_port", "sshd_pid", "session_type",
                "expected_command", "observed_command", "key_location", "message", "evidence", "id",
                "machine_id", "boot_id", "session_id", "reason", "rule" };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                tap_ok(json_object_get(j, fields[i]) != NULL, "field '%s' is there", fields[i]);
        json_decref(j);
        free(s);

        /* log bytes that are not UTF-8: U+FFFD in the field, the exact bytes in raw; a literal
         * backslash-x in the input stays just that, and has no raw entry */
        a.observed_command = "caf\xe9 \xff ok \xc3\xa9";
        a.user = "caf\\xe9";
        TAP_IS_INT(alert_to_json(&a, &s), 0, "encodes invalid UTF-8");
        j = json_loads(s, 0, &err);
        TAP_IS_STR(j ? json_string_value(json_object_get(j, "observed_command")) : NULL,
                   "caf\xef\xbf\xbd \xef\xbf\xbd ok \xc3\xa9",
                   "invalid bytes as U+FFFD, valid UTF-8 kept");
        TAP_IS_STR(j ? json_string_value(json_object_get(json_object_get(j, "raw"),
                                                         "observed_command")) : NULL,
                   "636166e920ff206f6b20c3a9", "raw.observed_command: the exact bytes in hex");
        TAP_IS_STR(j ? json_string_value(json_object_get(j, "user")) : NULL, "caf\\xe9",
                   "a literal backslash-x is kept as text");
        tap_ok(j && !json_object_get(json_object_get(j, "raw"), "user"),
               "... and has no raw entry: it cannot pass for an invalid byte");
        json_decref(j);
        free(s);
        a = sample();
        TAP_IS_INT(alert_to_json(&a, &s), 0, "encodes valid UTF-8");
        j = json_loads(s, 0, &err);
        tap_ok(j && json_is_null(json_object_get(j, "raw")), "raw is null when every field is UTF-8");
        json_decref(j);
        free(s);

        /* a NUL inside a log field (strview_dup() keeps it as C0 80) does not cut the field */
        {
                static const char name[] = "root\0 (not really)";
                _cleanup_free_ char *user = strview_dup((struct strview){ name, sizeof(name) - 1 });

                a = sample();
                a.user = user;
                TAP_IS_INT(alert_to_json(&a, &s), 0, "encodes a user name holding a NUL");
                j = json_loads(s, JSON_ALLOW_NUL, &err);
                TAP_IS_INT(j ? json_string_length(json_object_get(j, "user")) : 0, 18,
                           "user keeps all 18 bytes");
                tap_ok(j && memcmp(json_string_value(json_object_get(j, "user")), name, 18) == 0,
                       "... with the NUL as U+0000");
                TAP_IS_STR(j ? json_string_value(json_object_get(json_object_get(j, "raw"), "user"))
                             : NULL,
                           "726f6f740020286e6f74207265616c6c7929", "... and raw.user");
                json_decref(j);
                free(s);
                TAP_IS_INT(alert_set_message(&a, "account %s", alert_quote(&a, user)), 0,
                           "message with that user");
                TAP_IS_STR(a.message, "account \"root\\u0000 (not really)\"",
                           "the message shows the NUL and the rest");
                alert_done(&a);
        }

        /* messages: attacker text quoted JSON-style, never cut, never able to write the sentence */
        {
                static const char req[] = "x' asked for by key SHA256:fake of account 'backup";
                char *big = malloc(5001);

                a = sample();
                TAP_IS_INT(alert_set_message(&a, "refused %s by %s of %s", alert_quote(&a, req),
                                             alert_token(&a, "SHA256:abc+/="),
                                             alert_quote(&a, "a \"b\" \\ c")),
                           0, "message");
                TAP_IS_STR(a.message,
                           "refused \"x' asked for by key SHA256:fake of account 'backup\" by "
                           "SHA256:abc+/= of \"a \\\"b\\\" \\\\ c\"",
                           "quoted values: quotes and backslashes escaped, tokens bare");
                TAP_IS_STR(alert_token(&a, "1.2.3.4 and more"), "\"1.2.3.4 and more\"",
                           "a token with a space is quoted");
                TAP_IS_STR(alert_quote(&a, "\\xff\xff\x9b\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\x1b\n\t"),
                           "\"\\\\xff\\xff\\x9b\\u009b\\u202e\\u2066\\u001b\\n\\t\"",
                           "backslash-x vs a real invalid byte; C1, bidi, ESC escaped");
                TAP_IS_STR(alert_quote(&a, NULL), NULL, "NULL quotes to NULL");
                if (!big)
                        return 1;
                memset(big, 'a', 5000);
                big[5000] = 0;
                TAP_IS_INT(alert_set_message(&a, "long %s end", alert_quote(&a, big)), 0,
                           "a 5000-byte value");
                TAP_IS_INT(strlen(a.message), 5000 + 2 + 9, "... is never cut");
                TAP_IS_INT(alert_to_json(&a, &s), 0, "... and encodes");
                j = json_loads(s, 0, &err);
                TAP_IS_INT(j ? json_string_length(json_object_get(j, "message")) : 0, 5011,
                           "... whole in JSON");
                json_decref(j);
                free(s);
                free(big);
                for (int i = 0; i < ALERT_QUOTED_MAX + 1; i++)
                        (void) alert_quote(&a, "x");
                TAP_IS_INT(alert_set_message(&a, "x"), -E2BIG,
                           "more quoted values than the alert holds: an error, not a cut");
                alert_done(&a);
        }
        a = sample();
        a.source_port = -1;
        a.sshd_pid = 0;
        a.session_id = -1;
        TAP_IS_INT(alert_to_json(&a, &s), 0, "encodes unknowns");
        j = json_loads(s, 0, &err);
        tap_ok(j && json_is_null(json_object_get(j, "source_port")) &&
                       json_is_null(json_object_get(j, "sshd_pid")) &&
                       json_is_null(json_object_get(j, "session_id")),
               "unknown port, pid and session are null");
        json_decref(j);
        free(s);

        /* ids: stable, and the same for the same entries copied into another journal file */
        a = sample();
        b = sample();
        b.evidence[0] = "s=ffff;i=99;b=bbbb;m=10;t=20;x=cc";
        b.evidence[1] = "s=ffff;i=100;b=bbbb;m=11;t=21;x=dd";
        TAP_IS_INT(alert_id(&a, id1), 0, "id");
        TAP_IS_INT(alert_id(&b, id2), 0, "id of the copy");
        TAP_IS_STR(id1, id2, "same entries in another file (other s=, i=): same id");
        TAP_IS_INT(strlen(id1), 32, "32 hex digits");
        b.evidence[1] = "s=ffff;i=100;b=bbbb;m=12;t=22;x=ee";
        TAP_IS_INT(alert_id(&b, id2), 0, "id of other evidence");
        tap_ok(strcmp(id1, id2) != 0, "other entries: another id");
        b = sample();
        b.session_id = 1;
        TAP_IS_INT(alert_id(&b, id2), 0, "id of another session");
        tap_ok(strcmp(id1, id2) != 0, "another session: another id");
        b = sample();
        b.type = ALERT_UNFORCED_SESSION;
        TAP_IS_INT(alert_id(&b, id2), 0, "id of another type");
        tap_ok(strcmp(id1, id2) != 0, "another type: another id");

        /* the text line never carries control characters to a terminal */
        a = sample();
        a.user = "evil\x1b[31m\x9b\xc2\x9b\xe2\x80\xae";
        a.host = "h\nx";
        TAP_IS_INT(alert_set_message(&a, "evil\x1b[31m\nline\xc2\x9b\xe2\x81\xa9"), 0, "message");
        TAP_IS_INT(alert_to_text(&a, &s), 0, "text");
        tap_ok(s && !strchr(s, '\x1b') && !strchr(s, '\n') && !strstr(s, "\xc2\x9b") &&
                       !strstr(s, "\xe2\x80\xae") && !strstr(s, "\xe2\x81\xa9") && !strchr(s, '\x9b'),
               "no ESC, newline, C1 or bidi control in the text line");
        tap_ok(s && strstr(s, " user=\"evil\\u001b[31m\\x9b\\u009b\\u202e\" "),
               "user quoted and escaped");
        tap_ok(s && strstr(s, " host=\"h\\nx\" "), "host quoted and escaped");
        tap_ok(s && strstr(s, "key=SHA256:v1OYgLqE0uPPeTYTiBk6UCZonQszUikoWIJWyrMJLA0 "),
               "tokens bare");
        free(s);
        alert_done(&a);

        for (int t = 0; t < _ALERT_TYPE_MAX; t++) {
                const char *n = alert_type_to_string((enum alert_type) t);

                TAP_IS_INT(alert_type_from_string(n), t, "type '%s' round-trips", n ? n : "?");
                tap_ok(alert_type_severity((enum alert_type) t) != NULL, "and has a severity");
        }
        return tap_done();
}
