/* SPDX-License-Identifier: MIT */
/*
 * The report module: every bounded table overflows into a counted "... and N more"; hostile
 * strings (terminal escapes, C1 controls, bidi overrides, markup, invalid UTF-8) come out inert in
 * text, JSON and HTML. The real-journal tests are in tests/report/.
 */

#include <stdlib.h>
#include <string.h>

#include "src/report/report-internal.h"
#include "tap.h"

#define SEC USEC_PER_SEC

static struct conn conn_of(const char *machine, const char *fp, const char *user,
                           const char *addr) {
        return (struct conn){ .machine_id = machine,
                              .boot_id = "b",
                              .host = machine,
                              .user = (char *) user,
                              .fingerprint = (char *) fp,
                              .key_type = (char *) "ED25519",
                              .addr = (char *) addr,
                              .port = 22,
                              .authenticated = true };
}

static void login(struct report *r, struct conn *c, uint64_t t) {
        TAP_IS_INT(
                report_decide(r, DECISION_ACCEPTED, c, NULL, &(struct decision_ctx){ .usec = t }),
                0, "login of %s as %s", c->fingerprint, c->user);
}

static void session(struct report *r, struct conn *c, const char *type, const char *cmd,
                    uint64_t t) {
        struct conn_session s = { .id = 0, .type = (char *) type, .command = (char *) cmd };

        TAP_IS_INT(report_decide(r, DECISION_SESSION, c, &s, &(struct decision_ctx){ .usec = t }),
                   0, "session of %s", c->fingerprint);
}

static void alert(struct report *r, const char *machine, const char *fp, uint64_t t) {
        struct alert a = { .type = ALERT_UNFORCED_SESSION, .time_usec = t, .host = machine,
                           .machine_id = machine, .user = "u1", .fingerprint = fp,
                           .source_port = -1, .session_id = 0 };

        TAP_IS_INT(alert_set_message(&a, "m"), 0, "message");
        TAP_IS_INT(report_alert(r, &a), 0, "alert on %s", fp);
        alert_done(&a);
}

static json_t *key_of(json_t *doc, const char *fp) {
        json_t *k;
        size_t i;

        json_array_foreach(
                json_object_get(json_array_get(json_object_get(doc, "hosts"), 0), "keys"), i,
                k) if (streq_ptr(doc_str(k, "fingerprint"), fp)) return k;
        return NULL;
}

static void test_bounds(void) {
        struct report *r = NULL;
        struct conn c1 = conn_of("m1", "SHA256:K1", "u1", "10.0.0.1");
        struct conn c2 = conn_of("m1", "SHA256:K1", "u2", "10.0.0.2");
        struct conn c3 = conn_of("m1", "SHA256:K1", "u1", "10.0.0.3");
        struct conn k2 = conn_of("m1", "SHA256:K2", "u1", "10.0.0.1");
        struct conn k3 = conn_of("m1", "SHA256:K3", "u1", "10.0.0.1");
        struct conn other = conn_of("m2", "SHA256:K1", "u1", "10.0.0.1");
        char long_cmd[3000];
        json_t *doc, *k;

        TAP_IS_INT(report_new(&(struct report_config){ .limits = { .hosts = 1,
                                                                   .keys = 2,
                                                                   .accounts = 1,
                                                                   .addrs = 2,
                                                                   .commands = 2,
                                                                   .key_alerts = 1,
                                                                   .alerts = 2,
                                                                   .events = 6 } },
                              &r),
                   0, "report_new with small limits");
        login(r, &c1, 10 * SEC);
        login(r, &c2, 11 * SEC);   /* a second account: over accounts = 1 */
        login(r, &c3, 12 * SEC);   /* a third address: over addrs = 2 */
        session(r, &c1, "forced-command", "rsync a", 13 * SEC);
        session(r, &c1, "forced-command", "rsync a", 14 * SEC);
        session(r, &c1, "shell", NULL, 15 * SEC);
        session(r, &c1, "forced-command", "rsync b", 16 * SEC); /* third pair: over commands = 2 */
        login(r, &k2, 17 * SEC);
        login(r, &k3, 18 * SEC);   /* a third key: over keys = 2 */
        login(r, &other, 19 * SEC); /* a second host: over hosts = 1, not listed */
        for (int i = 0; i < 2; i++) {
                struct log_record rec = { .realtime_usec = (uint64_t) (19 + i) * SEC };

                TAP_IS_INT(record_set(&rec, RECORD_MACHINE_ID, i ? "m2" : "m1", 2), 0, "record");
                TAP_IS_INT(report_record(r, &rec), 0, "an entry of %s", i ? "m2" : "m1");
                record_done(&rec);
        }
        alert(r, "m1", "SHA256:K1", 20 * SEC);
        alert(r, "m1", "SHA256:K1", 21 * SEC); /* over key_alerts = 1 */
        alert(r, "m1", "SHA256:K2", 22 * SEC); /* over alerts = 2: counted, not listed */
        memset(long_cmd, 'x', sizeof(long_cmd) - 1);
        long_cmd[sizeof(long_cmd) - 1] = 0;

        doc = report_to_json(r);
        TAP_IS_INT(doc != NULL, 1, "the document");
        TAP_IS_INT(doc_int(doc, "hosts_more"), 1, "a second host's entry: counted in hosts_more");
        TAP_IS_INT(doc_int(doc, "entries"), 2, "entries: both");
        TAP_IS_INT(doc_int(doc, "keys_more"), 1, "a third key's login: counted in keys_more");
        TAP_IS_INT(doc_int(json_object_get(doc, "totals"), "keys"), 2, "totals.keys: those listed");
        TAP_IS_INT(doc_int(json_object_get(doc, "totals"), "logins"), 6,
                   "totals.logins: all of them, the unlisted key's and host's too");
        TAP_IS_INT(doc_int(json_object_get(doc, "totals"), "sessions"), 4, "totals.sessions");
        TAP_IS_INT(doc_int(doc, "alerts_more"), 1, "a third alert: counted in alerts_more");
        TAP_IS_INT(json_array_size(json_object_get(doc, "alerts")), 2, "two alerts listed");
        TAP_IS_INT(doc_int(json_object_get(doc, "totals"), "alerts"), 3,
                   "totals.alerts: all three");
        TAP_IS_INT(json_array_size(json_object_get(doc, "timeline")), 6, "six events kept");
        TAP_IS_INT(doc_int(doc, "timeline_more"), 5,
                   "the other five (3 logins + 4 sessions + 1 login + 3 alerts = 11) counted");
        k = key_of(doc, "SHA256:K1");
        TAP_IS_INT(k != NULL, 1, "key K1");
        TAP_IS_INT(json_array_size(json_object_get(k, "accounts")), 1, "K1: one account listed");
        TAP_IS_INT(doc_int(k, "accounts_more"), 1, "K1: the other counted");
        TAP_IS_INT(json_array_size(json_object_get(k, "sources")), 2, "K1: two addresses listed");
        TAP_IS_INT(doc_int(k, "sources_more"), 1, "K1: the third counted");
        TAP_IS_INT(json_array_size(json_object_get(k, "commands")), 2, "K1: two commands listed");
        TAP_IS_INT(doc_int(k, "commands_more"), 1, "K1: the third counted");
        TAP_IS_STR(doc_str(json_array_get(json_object_get(k, "commands"), 0), "command"), "rsync a",
                   "K1: the most frequent command first");
        TAP_IS_INT(doc_int(json_array_get(json_object_get(k, "commands"), 0), "count"), 2,
                   "K1: counted twice");
        TAP_IS_INT(doc_int(k, "logins"), 3, "K1: three logins");
        TAP_IS_INT(doc_int(k, "sessions"), 4, "K1: four sessions, listed or not");
        TAP_IS_INT(json_array_size(json_object_get(k, "alerts")), 1, "K1: one alert listed");
        TAP_IS_INT(doc_int(k, "alerts_more"), 1, "K1: the other counted");
        TAP_IS_INT(doc_int(json_object_get(k, "alerts_by_type"), "unforced-session"), 2,
                   "K1: both counted by type");
        TAP_IS_INT(doc_int(key_of(doc, "SHA256:K2"), "alerts_more"), 1,
                   "K2: an alert beyond the report's list is counted under the key");
        json_decref(doc);
        report_free(r);

        /* A command longer than REPORT_COMMAND_BYTES is kept cut, and marked; a fingerprint
         * longer than what is kept of it is still one key. */
        TAP_IS_INT(report_new(&(struct report_config){}, &r), 0, "report_new");
        {
                char fp[REPORT_NAME_BYTES * 2];
                struct conn lk;

                memset(fp, 'A', sizeof(fp) - 1);
                fp[sizeof(fp) - 1] = 0;
                lk = conn_of("m1", fp, "u1", "10.0.0.1");
                login(r, &lk, 5 * SEC);
                login(r, &lk, 6 * SEC);
        }
        login(r, &c1, 10 * SEC);
        session(r, &c1, "forced-command", long_cmd, 11 * SEC);
        session(r, &c1, "forced-command", long_cmd, 12 * SEC);
        doc = report_to_json(r);
        k = json_array_get(json_object_get(key_of(doc, "SHA256:K1"), "commands"), 0);
        TAP_IS_INT(strlen(doc_str(k, "command") ?: ""), REPORT_COMMAND_BYTES,
                   "a long command is cut");
        TAP_IS_INT(json_is_true(json_object_get(k, "cut")), 1, "and marked cut");
        TAP_IS_INT(doc_int(k, "count"), 2, "the same long command is counted as one");
        k = json_array_get(
                json_object_get(json_array_get(json_object_get(doc, "hosts"), 0), "keys"), 0);
        TAP_IS_INT(strlen(doc_str(k, "fingerprint") ?: ""), REPORT_NAME_BYTES,
                   "a long fingerprint is cut");
        TAP_IS_INT(doc_int(k, "logins"), 2, "and its two logins are one key's");
        TAP_IS_INT(json_array_size(json_object_get(json_array_get(json_object_get(doc, "hosts"), 0),
                                                   "keys")), 2, "two keys in all");
        json_decref(doc);
        report_free(r);
}

static void escape_one(const char *in, const char *want, const char *what) {
        char *got = report_escape_terminal(in);

        TAP_IS_STR(got, want, "terminal: %s", what);
        free(got);
}

/* The pieces both renderers share: the key label and the totals line. */
static void test_shared(void) {
        json_auto_t *one = json_pack("{s:i, s:i, s:i, s:i, s:i}", "hosts", 1, "keys", 1, "logins",
                                     1, "sessions", 1, "alerts", 1);
        json_auto_t *many = json_pack("{s:i, s:i, s:i, s:i, s:i}", "hosts", 2, "keys", 0, "logins",
                                      12, "sessions", 3, "alerts", 40);
        _cleanup_free_ char *a = report_key_label("m1", "SHA256:x");
        _cleanup_free_ char *b = report_key_label(NULL, NULL), *c = report_key_label("m1", NULL);
        _cleanup_free_ char *t1 = NULL, *t2 = NULL;

        TAP_IS_STR(a, "m1\nSHA256:x", "key label: machine id, newline, fingerprint");
        TAP_IS_STR(b, "\n", "key label: NULLs as empty");
        TAP_IS_STR(c, "m1\n", "key label: no fingerprint (keyless lane)");
        t1 = report_totals_line(one);
        t2 = report_totals_line(many);
        TAP_IS_STR(t1, "1 host, 1 key, 1 login, 1 session, 1 alert", "totals: singular at 1");
        TAP_IS_STR(t2, "2 hosts, 0 keys, 12 logins, 3 sessions, 40 alerts",
                   "totals: plural otherwise, 0 included");
        TAP_IS_STR(plural(1, "x", "xs"), "x", "plural: 1");
        TAP_IS_STR(plural(-1, "x", "xs"), "xs", "plural: -1");
}

static void test_escapes(void) {
        json_t *j;

        escape_one("plain é ü", "plain é ü", "UTF-8 text is kept");
        escape_one("a\x1b[31mred\x1b]0;title\x07", "a\\u001b[31mred\\u001b]0;title\\u0007",
                   "ESC and BEL are shown, not acted on");
        escape_one("a\tb\nc\rd\x7f", "a\\u0009b\\u000ac\\u000dd\\u007f", "tab, newline, CR, DEL");
        escape_one("x\xc2\x9b" "31m", "x\\u009b31m", "a C1 CSI (U+009B)");
        escape_one("user\xe2\x80\xaetxt.exe", "user\\u202etxt.exe", "a right-to-left override");
        escape_one("\xe2\x81\xa6iso\xe2\x81\xa9", "\\u2066iso\\u2069", "bidi isolates");
        j = report_json_string("bad \xff\xfe byte");
        TAP_IS_STR(json_string_value(j), "bad \xef\xbf\xbd\xef\xbf\xbd byte",
                   "JSON: invalid UTF-8 bytes as U+FFFD");
        json_decref(j);
}

/* Render a report whose every string is hostile, in text and HTML. */
static void test_hostile_render(void) {
        const char *evil = "<script>alert(1)</script>\x1b[2J\"'&\xe2\x80\xae";
        struct conn c =
                conn_of(evil, "SHA256:<img src=x onerror=alert(1)>", evil, "<b>1.2.3.4</b>");
        struct report *r = NULL;
        char *text = NULL, *html = NULL;
        size_t tl = 0, hl = 0;
        FILE *f;

        TAP_IS_INT(
                report_new(&(struct report_config){ .sources = (char *[]){ (char *) evil, NULL } },
                           &r),
                0, "report_new");
        login(r, &c, 10 * SEC);
        session(r, &c, "forced-command", evil, 11 * SEC);
        alert(r, evil, c.fingerprint, 12 * SEC);

        f = open_memstream(&text, &tl);
        TAP_IS_INT(report_write(r, REPORT_FORMAT_TEXT, f), 0, "text written");
        fclose(f);
        TAP_IS_INT(memchr(text, 0x1b, tl) == NULL, 1, "text: no ESC byte");
        TAP_IS_INT(strstr(text, "\xe2\x80\xae") == NULL, 1, "text: no bidi override");
        TAP_IS_INT(strstr(text, "\\u001b[2J") != NULL, 1, "text: the escape shown as \\u001b");

        f = open_memstream(&html, &hl);
        TAP_IS_INT(report_write(r, REPORT_FORMAT_HTML, f), 0, "html written");
        fclose(f);
        TAP_IS_INT(strstr(html, "<script") == NULL, 1, "html: no script element");
        TAP_IS_INT(strstr(html, "<img") == NULL, 1, "html: no img element");
        TAP_IS_INT(strstr(html, "<b>1.2.3.4") == NULL, 1, "html: no markup from an address");
        TAP_IS_INT(
                strstr(html,
                       "&lt;script&gt;alert(1)&lt;/script&gt;\\u001b[2J&quot;&#39;&amp;\\u202e") !=
                        NULL,
                1, "html: the hostile string shown as text");
        TAP_IS_INT(memchr(html, 0x1b, hl) == NULL, 1, "html: no ESC byte");
        TAP_IS_INT(strstr(html, "default-src 'none'") != NULL, 1,
                   "html: a Content-Security-Policy forbids scripts and loads anyway");
        free(text);
        free(html);
        report_free(r);
}

int main(void) {
        test_bounds();
        test_escapes();
        test_shared();
        test_hostile_render();
        TAP_IS_INT(report_format_from_string("html"), REPORT_FORMAT_HTML,
                   "format names round-trip");
        TAP_IS_STR(report_format_to_string(REPORT_FORMAT_JSON), "json", "format table");
        TAP_IS_INT(report_format_from_string("pdf"), _REPORT_FORMAT_INVALID, "unknown format");
        for (int f = 0; f < _REPORT_FORMAT_MAX; f++)
                TAP_IS_INT(report_format_from_string(report_format_to_string(f)), f,
                           "format %d has a name that reads back", f);
        tap_ok(!report_format_to_string(_REPORT_FORMAT_MAX) &&
                       !report_format_to_string(_REPORT_FORMAT_INVALID),
               "no name out of range");
        TAP_IS_INT(report_format_from_string(NULL), _REPORT_FORMAT_INVALID, "no format for NULL");
        return tap_done();
}
