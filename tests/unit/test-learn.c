/* SPDX-License-Identifier: MIT */
/* keytrail learn: what the decisions teach it, and that what it writes always parses back, even
 * from hostile values (forged text lines can put anything where a name or address goes). */

#include <stdio.h>
#include <stdlib.h>

#include "learn.h"
#include "policy-file.h"
#include "tap.h"

#define FP "SHA256:v1OYkP0aXq3fHhK2W7xOa3m8bO0bq6n4sQ2a9eGxJ0c"

static int login(struct learn *l, const char *fp, const char *user, const char *addr,
                 const char *type, const char *cmd, uint64_t usec) {
        struct conn c = { .fingerprint = (char *) fp, .user = (char *) user, .addr = (char *) addr,
                          .key_type = (char *) "ED25519", .port = 1 };
        struct conn_session s = { .type = (char *) type, .command = (char *) cmd };
        struct decision_ctx ctx = { .usec = usec };
        int r = learn_decide(l, DECISION_ACCEPTED, &c, NULL, &ctx);

        if (r >= 0 && type)
                r = learn_decide(l, DECISION_SESSION, &c, &s, &ctx);
        return r;
}

int main(void) {
        struct learn *l = learn_new();
        struct policy_file *pf = NULL;
        struct policy_file_error e = {};
        const struct policy_rule *r;
        char *out = NULL;
        size_t len = 0;
        FILE *f;

        tap_ok(l != NULL, "learn_new");
        for (int i = 0; i < 2; i++)
                TAP_IS_INT(login(l, FP, "backup", "192.0.2.7", "forced-command",
                                 "rsync --server -logDtpre.iLsfxCIvu --delete . /b/", 1000 + i),
                           0, "a push");
        TAP_IS_INT(login(l, FP, "backup", "192.0.2.7", "forced-command",
                         "rsync --server --delete -ogltprDe.LsfxC . /b/", 1002),
                   0, "the same push from another client");
        TAP_IS_INT(login(l, FP, "backup", "2001:db8::1", "forced-command", "tar c caf\\303\\251",
                         2000),
                   0, "another forced command, escaped as sshd logs it");
        TAP_IS_INT(login(l, "SHA256:evil]\n[key x", "bad user\nname", "not an address", "shell",
                         NULL, 3000),
                   0, "hostile values");
        TAP_IS_INT(learn_logins(l), 5, "five logins");

        f = open_memstream(&out, &len);
        TAP_IS_INT(learn_write(l, "a test", f), 0, "learn_write");
        fclose(f);
        TAP_IS_INT(policy_file_parse(out, len, &pf, &e), 0, "what it writes parses back");
        if (e.message)
                tap_diag("line %u: %s", e.line, e.message);
        tap_ok(strstr(out, "# a test\n") != NULL, "the header");
        tap_ok(strstr(out, "\n# ran 3 times\n"
                           "rsync = rsync --server -logDtpre.iLsfxCIvu --delete . /b/\n") != NULL,
               "the rsync push and its count");
        tap_ok(strstr(out, "\ncommand = tar c caf\xc3\xa9\n") != NULL, "the other, unescaped");
        tap_ok(strstr(out, "# logged in from: 192.0.2.7 (3), 2001:db8::1 (1)\n") != NULL,
               "sources with counts, most frequent first");
        tap_ok(strstr(out, "\n# a key logged as 'SHA256:evil]") != NULL,
               "a bad fingerprint is a comment");
        tap_ok(strstr(out, "\n# an account logged as 'bad user") != NULL,
               "a bad account is a comment");
        if (pf) {
                r = policy_file_lookup(pf, FP, NULL);
                tap_ok(r && policy_rule_allows_account(r, "backup") &&
                               !policy_rule_allows_account(r, "root"),
                       "accounts learned");
                tap_ok(r && policy_rule_allows_source(r, "2001:db8::1") &&
                               !policy_rule_allows_source(r, "192.0.2.8"),
                       "sources learned");
                TAP_IS_INT(r ? policy_rule_allows_command(
                                       r, "rsync --server --delete -ogltprDe.LsfxC . /b/", false,
                                       NULL)
                             : -1,
                           1, "the learned rsync, by meaning");
                TAP_IS_INT(r ? policy_rule_allows_command(r, "tar c caf\\303\\251", false, NULL)
                             : -1,
                           1, "the learned command, compared as sshd logs it");
                r = policy_file_account(pf, "backup");
                tap_ok(r && policy_rule_allows_key(r, FP) &&
                               !policy_rule_allows_key(r, "SHA256:x"),
                       "the account's keys");
        }
        policy_file_free(pf);
        free(out);
        learn_free(l);
        return tap_done();
}
