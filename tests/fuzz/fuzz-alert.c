/* SPDX-License-Identifier: MIT */
/*
 * Alert encoding over hostile field values: the input is split at '\n' into user, host, command,
 * address, fingerprint and reason (a NUL inside stays, as strview_dup() keeps it). Checked: the
 * JSON parses and every field (with raw) gives back its bytes; the message's quoted values read
 * back exactly and nothing in the message or the text line reaches a terminal raw.
 */

#include "fuzz-alert-check.h"
#include "strview.h"

#define N_PARTS 6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *part[N_PARTS] = {};
        const char *p = (const char *) data, *end = p + size;
        struct alert a = {
                .type = ALERT_COMMAND_REJECTED,
                .time_usec = UINT64_C(1764200000123456),
                .source_port = 50500,
                .session_id = 0,
                .evidence = { "s=1;i=2;b=3;m=4;t=5;x=6" },
                .n_evidence = 1,
        };
        char *json = NULL, *text = NULL, *buf;

        if (size > 65536)
                return 0;
        json_t *j;
        json_error_t err;
        const char *m, *q;

        for (size_t i = 0; i < N_PARTS; i++) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *e = i == N_PARTS - 1 || !nl ? end : nl;

                part[i] = strview_dup((struct strview){ p, (size_t) (e - p) });
                FUZZ_ASSERT(part[i]);
                p = e < end ? e + 1 : end;
        }
        a.user = part[0];
        a.host = part[1];
        a.observed_command = part[2];
        a.source_ip = part[3];
        a.fingerprint = part[4];
        a.reason = part[5];

        if (alert_set_message(&a, "Refused %s for %s by %s from %s: %s.", alert_quote(&a, a.observed_command),
                              alert_quote(&a, a.user), alert_token(&a, a.fingerprint),
                              alert_token(&a, a.source_ip), alert_quote(&a, a.reason)) < 0)
                abort();
        FUZZ_ASSERT(a.message);
        fuzz_check_terminal_safe(a.message);

        /* the quoted values read back to their bytes */
        buf = malloc(strlen(a.message) + 1);
        FUZZ_ASSERT(buf);
        m = a.message;
        FUZZ_ASSERT(strncmp(m, "Refused ", 8) == 0);
        q = m + 8;
        {
                char want[size + 1];
                size_t l = fuzz_unquote(&q, buf), wl = fuzz_expected_bytes(a.observed_command, want);

                FUZZ_ASSERT(l == wl && memcmp(buf, want, l) == 0);
                FUZZ_ASSERT(strncmp(q, " for ", 5) == 0);
                q += 5;
                l = fuzz_unquote(&q, buf);
                wl = fuzz_expected_bytes(a.user, want);
                FUZZ_ASSERT(l == wl && memcmp(buf, want, l) == 0);
                FUZZ_ASSERT(strncmp(q, " by ", 4) == 0);
        }
        free(buf);

        FUZZ_ASSERT(alert_to_json(&a, &json) == 0);
        j = json_loads(json, JSON_ALLOW_NUL, &err);
        FUZZ_ASSERT(j);
        fuzz_check_field(j, "user", a.user);
        fuzz_check_field(j, "host", a.host);
        fuzz_check_field(j, "observed_command", a.observed_command);
        fuzz_check_field(j, "source_ip", a.source_ip);
        fuzz_check_field(j, "fingerprint", a.fingerprint);
        fuzz_check_field(j, "reason", a.reason);
        fuzz_check_field(j, "message", a.message);
        json_decref(j);
        free(json);

        FUZZ_ASSERT(alert_to_text(&a, &text) == 0);
        fuzz_check_terminal_safe(text);
        FUZZ_ASSERT(!strchr(text, '\n'));
        free(text);

        alert_done(&a);
        for (size_t i = 0; i < N_PARTS; i++)
                free(part[i]);
        return 0;
}
