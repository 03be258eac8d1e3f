/* SPDX-License-Identifier: MIT */
/*
 * The shipped rules (rules/NAME.rules) over one MESSAGE: any bytes, as journald stores them. Checked:
 * a match's captures lie inside the message, and an alert made of them encodes within its
 * contract (fuzz-alert-check.h); a matcher's outcome, replayed, and its memo's answer to the same
 * message again, equal matching.
 */

#include "config.h"
#include "fuzz-alert-check.h"
#include "rules.h"
#include "strview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct rule_set *rules;
        const char *msg = (const char *) data;
        struct event ev;
        int r;

        if (!rules) {
                struct rule_load_error e = {};

                rules = rule_set_new();
                FUZZ_ASSERT(rules);
                if (rule_set_load_dir(rules, SOURCE_RULESDIR, &e) < 0) {
                        fprintf(stderr, "%s:%u: %s\n", e.file, e.line, e.message);
                        abort();
                }
                rule_load_error_done(&e);
        }
        r = rule_set_match(rules, msg, size, &ev);
        FUZZ_ASSERT(r == 0 || r == 1 || r == -ELOOP || r == -E2BIG);
        {
                /* Matched ahead by a matcher (the text reader thread's way) and replayed: the
                 * same outcome, event and counters as rule_set_match(). */
                static struct rule_matcher *m;
                struct rule_set_stats s0, s1, s2;
                struct rule_match ahead;
                struct event ev2;
                int r2;

                if (!m)
                        FUZZ_ASSERT(rule_matcher_new(rules, &m) == 0);
                rule_set_get_stats(rules, &s0);
                (void) !rule_set_match(rules, msg, size, &ev2);
                rule_set_get_stats(rules, &s1);
                rule_matcher_run(m, msg, size, &ahead);
                r2 = rule_set_match_ahead(rules, &ahead, msg, size, &ev2);
                rule_set_get_stats(rules, &s2);
                FUZZ_ASSERT(r2 == r);
                FUZZ_ASSERT(s2.messages - s1.messages == s1.messages - s0.messages &&
                            s2.matched - s1.matched == s1.matched - s0.matched &&
                            s2.attempts - s1.attempts == s1.attempts - s0.attempts &&
                            s2.match_limit - s1.match_limit == s1.match_limit - s0.match_limit &&
                            s2.too_long - s1.too_long == s1.too_long - s0.too_long);
                if (r == 1) {
                        FUZZ_ASSERT(ev2.kind == ev.kind && ev2.rule_id == ev.rule_id);
                        for (int f = 0; f < _EVENT_FIELD_MAX; f++)
                                FUZZ_ASSERT(ev2.field[f].ptr == ev.field[f].ptr &&
                                            ev2.field[f].len == ev.field[f].len);
                }
                {
                        /* Again: now (up to 224 bytes) the matcher's memo answers, and must
                         * answer the same, counters included. */
                        struct rule_match again;

                        if (rule_matcher_recall(m, msg, size, &again))
                                FUZZ_ASSERT(size > 0 && size <= 224 &&
                                            (ahead.result == 0 || ahead.result == 1));
                        else
                                FUZZ_ASSERT(size == 0 || size > 224 || ahead.stats.retried > 0 ||
                                            ahead.result < 0);
                        rule_matcher_run(m, msg, size, &again);
                        FUZZ_ASSERT(again.result == ahead.result &&
                                    again.generation == ahead.generation && again.len == ahead.len);
                        FUZZ_ASSERT(memcmp(&again.stats, &ahead.stats, sizeof(again.stats)) == 0);
                        if (ahead.result == 1) {
                                FUZZ_ASSERT(again.rule == ahead.rule && again.skip == ahead.skip &&
                                            again.n_fields == ahead.n_fields);
                                for (unsigned i = 0; i < ahead.n_fields; i++)
                                        FUZZ_ASSERT(again.field[i].field == ahead.field[i].field &&
                                                    again.field[i].start == ahead.field[i].start &&
                                                    again.field[i].len == ahead.field[i].len);
                        }
                }
        }
        if (r != 1)
                return 0;
        FUZZ_ASSERT(ev.rule_id && ev.kind >= 0 && ev.kind < _EVENT_MAX);
        for (int f = 0; f < _EVENT_FIELD_MAX; f++) {
                struct strview v = ev.field[f];

                if (!v.ptr)
                        continue;
                FUZZ_ASSERT(v.ptr >= msg && v.ptr + v.len <= msg + size);
        }
        {
                char *user = strview_dup(ev.field[EVENT_FIELD_USER]);
                char *addr = strview_dup(ev.field[EVENT_FIELD_ADDR]);
                char *cmd = strview_dup(ev.field[EVENT_FIELD_COMMAND]);
                char *fp = strview_dup(ev.field[EVENT_FIELD_FINGERPRINT]);
                struct alert a = {
                        .type = ALERT_UNFORCED_SESSION,
                        .user = user,
                        .source_ip = addr,
                        .observed_command = cmd,
                        .fingerprint = fp,
                        .source_port = -1,
                        .session_id = -1,
                        .rule_id = ev.rule_id,
                };
                char *json = NULL, *text = NULL;
                json_t *j;

                FUZZ_ASSERT(alert_set_message(&a, "Key %s of account %s ran %s from %s.",
                                              alert_token(&a, fp) ?: "-", alert_quote(&a, user) ?: "-",
                                              alert_quote(&a, cmd) ?: "-",
                                              alert_token(&a, addr) ?: "-") == 0);
                fuzz_check_terminal_safe(a.message);
                FUZZ_ASSERT(alert_to_json(&a, &json) == 0);
                j = json_loads(json, JSON_ALLOW_NUL, NULL);
                FUZZ_ASSERT(j);
                fuzz_check_field(j, "user", user);
                fuzz_check_field(j, "observed_command", cmd);
                json_decref(j);
                FUZZ_ASSERT(alert_to_text(&a, &text) == 0);
                fuzz_check_terminal_safe(text);
                free(json);
                free(text);
                alert_done(&a);
                free(user);
                free(addr);
                free(cmd);
                free(fp);
        }
        return 0;
}
