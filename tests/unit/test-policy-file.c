/* SPDX-License-Identifier: MIT */
/* Policy files: the parser and its FILE:LINE errors, lookups, and every matcher. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-file.h"
#include "tap.h"

#define FP1 "SHA256:v1OYkP0aXq3fHhK2W7xOa3m8bO0bq6n4sQ2a9eGxJ0c"
#define FP2 "SHA256:2222222222222222222222222222222222222222222"

static const char good[] =
        "# backups\n"
        "[key " FP1 "]\n"
        "label = db1 nightly backup\n"
        "accounts = backup, backup2\n"
        "rsync = rsync --server -logDtpre.iLsfxCIvu --delete . /srv/backup/db1/\n"
        "command = /usr/local/bin/report --daily\n"
        "command-pattern = borg serve --restrict-to-path /srv/borg/[a-z0-9]+\n"
        "from = 192.0.2.0/24, 2001:db8::/32\n"
        "from = 198.51.100.7\n"
        "\n"
        "  [account deploy]   \n"
        "\tlabel=deploys\r\n"
        "keys = " FP2 "\n"
        "from = 10.0.0.0/8\n";

static void test_parse(void) {
        struct policy_file *f = NULL;
        struct policy_file_error e = {};
        const struct policy_rule *r;
        const char *exp = NULL;

        TAP_IS_INT(policy_file_parse(good, sizeof(good) - 1, &f, &e), 0, "a good file parses");
        if (!f)
                return;
        TAP_IS_INT(policy_file_size(f), 2, "two sections");

        r = policy_file_lookup(f, FP1, "deploy");
        tap_ok(r != NULL, "the key's section governs before the account's");
        TAP_IS_STR(r ? policy_rule_name(r) : NULL, "key " FP1, "its name");
        TAP_IS_INT(r ? policy_rule_line(r) : 0, 2, "its line");
        TAP_IS_STR(r ? policy_rule_label(r) : NULL, "db1 nightly backup", "its label");
        tap_ok(policy_rule_allows_account(r, "backup2") && !policy_rule_allows_account(r, "root"),
               "accounts");
        tap_ok(policy_rule_allows_source(r, "192.0.2.200"), "IPv4 in a /24");
        tap_ok(!policy_rule_allows_source(r, "192.0.3.1"), "IPv4 outside it");
        tap_ok(policy_rule_allows_source(r, "198.51.100.7"), "a single address");
        tap_ok(!policy_rule_allows_source(r, "198.51.100.8"), "its neighbour");
        tap_ok(policy_rule_allows_source(r, "2001:db8:1::5"), "IPv6 in a /32");
        tap_ok(!policy_rule_allows_source(r, "2001:db9::5"), "IPv6 outside it");
        tap_ok(policy_rule_allows_source(r, "::ffff:192.0.2.9"), "IPv4-mapped IPv6 as IPv4");
        tap_ok(!policy_rule_allows_source(r, "not-an-address"), "garbage is outside");
        tap_ok(!policy_rule_allows_source(r, NULL), "no address is outside");

        TAP_IS_INT(policy_rule_allows_command(
                           r, "rsync --server -logDtpre.iLsfxCIvu --delete . /srv/backup/db1/", false,
                           &exp),
                   1, "rsync as written");
        TAP_IS_STR(exp, "/usr/local/bin/report --daily",
                   "the expected command for messages: the first exact one");
        TAP_IS_INT(policy_rule_allows_command(
                           r, "rsync --server --delete -tpglro e.LsfxCIvu . /srv/backup/db1/",
                           false, NULL),
                   0, "a stray word is no option");
        TAP_IS_INT(policy_rule_allows_command(
                           r, "rsync --delete --server -ogltprDe.iLsfxC . /srv/backup/db1/", false,
                           NULL),
                   1, "rsync: other option order, other capability string");
        TAP_IS_INT(policy_rule_allows_command(
                           r, "rsync --server -logDtpre.iLsfxCIvu --delete . /srv/backup/db2/", false,
                           NULL),
                   0, "rsync: another folder");
        TAP_IS_INT(policy_rule_allows_command(
                           r, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/backup/db1/", false,
                           NULL),
                   0, "rsync: --sender is another direction");
        TAP_IS_INT(policy_rule_allows_command(
                           r, "rsync --server -vlogDtpre.iLsfxCIvu --delete . /srv/backup/db1/",
                           false, NULL),
                   0, "rsync: an extra option letter");
        TAP_IS_INT(policy_rule_allows_command(r, "/usr/local/bin/report --daily", false, NULL), 1,
                   "exact");
        TAP_IS_INT(policy_rule_allows_command(r, "/usr/local/bin/report --daily ", false, NULL), 0,
                   "exact means exact");
        TAP_IS_INT(policy_rule_allows_command(r, "/usr/local/bin/rep", true, NULL), 1,
                   "a cut line agrees as far as it goes");
        TAP_IS_INT(policy_rule_allows_command(r, "/usr/local/bin/rm", true, NULL), 0,
                   "a cut line that disagrees");
        TAP_IS_INT(policy_rule_allows_command(r, "borg serve --restrict-to-path /srv/borg/x9",
                                              false, NULL),
                   1, "pattern");
        TAP_IS_INT(policy_rule_allows_command(r, "borg serve --restrict-to-path /srv/borg/x9; sh",
                                              false, NULL),
                   0, "patterns are anchored at the end");
        TAP_IS_INT(policy_rule_allows_command(r, "sh -c 'borg serve --restrict-to-path /srv/borg/x'",
                                              false, NULL),
                   0, "and at the start");
        TAP_IS_INT(policy_rule_allows_command(r, "borg serve --restrict-to-pa", true, NULL), 1,
                   "a cut line matches a pattern partially");
        TAP_IS_INT(policy_rule_allows_command(r, NULL, false, NULL), 0, "no command");

        r = policy_file_lookup(f, FP2, "deploy");
        TAP_IS_STR(r ? policy_rule_name(r) : NULL, "account deploy", "else the account's section");
        TAP_IS_STR(r ? policy_rule_label(r) : NULL, "deploys", "label with no blanks, CRLF");
        tap_ok(policy_rule_allows_key(r, FP2) && !policy_rule_allows_key(r, FP1), "keys");
        TAP_IS_INT(policy_rule_allows_command(r, "anything", false, NULL), 1,
                   "no commands: any command");
        tap_ok(policy_file_account(f, "deploy") == r, "the account's section");
        tap_ok(policy_file_lookup(f, FP2, "other") == NULL, "nothing for other keys and accounts");
        tap_ok(policy_file_lookup(NULL, FP1, "deploy") == NULL, "no policy file");
        policy_file_free(f);
}

static void expect_error_n(const char *text, size_t len, unsigned line, const char *want,
                           const char *what) {
        struct policy_file *f = NULL;
        struct policy_file_error e = {};
        int r = policy_file_parse(text, len, &f, &e);

        if (!tap_ok(r == -EBADMSG && e.line == line && e.message && strstr(e.message, want),
                    "error: %s", what))
                tap_diag("r=%d line=%u message=%s", r, e.line, e.message ?: "(null)");
        policy_file_free(f);
}

static void expect_error(const char *text, unsigned line, const char *want, const char *what) {
        expect_error_n(text, strlen(text), line, want, what);
}

static void test_errors(void) {
        static const char nul[] = "[account a]\nlabel = a\0b\n";

        expect_error("label = x\n", 1, "before any [key", "a setting outside a section");
        expect_error("[key SHA256:short]\n", 1, "not a key fingerprint", "a bad fingerprint");
        expect_error("[account a b]\n", 1, "not an account name", "a bad account");
        expect_error("[host x]\n", 1, "[key FINGERPRINT] or [account NAME]", "a bad section");
        expect_error("[account a\n", 1, "must end in ']'", "an open section");
        expect_error("# c\n[account a]\nfrom = 10.0.0.0/33\n", 3, "'10.0.0.0/33'", "a bad prefix");
        expect_error("[account a]\nfrom = 10.0.0.300\n", 2, "not an IPv4 or IPv6", "a bad address");
        expect_error("[account a]\nfrom = ::ffff:1.2.3.4/96\n", 2, "not an IPv4",
                     "a mapped network");
        expect_error("[account a]\nfrom = , ,\n", 2, "an empty list", "an empty list");
        expect_error("[account a]\nfrom =\n", 2, "empty value", "an empty value");
        expect_error("[account a]\ncommand-pattern = (unclosed\n", 2, "command-pattern: ",
                     "a bad PCRE2 pattern");
        expect_error("[account a]\nrsync = tar cf - /\n", 2, "not an rsync --server",
                     "rsync that is not rsync");
        expect_error("[account a]\naccounts = b\n", 2, "only in a [key", "accounts in an account");
        expect_error("[key " FP1 "]\nkeys = " FP2 "\n", 2, "only in an [account",
                     "keys in a key section");
        expect_error("[account a]\nlabel = x\nlabel = y\n", 3, "a second label", "two labels");
        expect_error("[account a]\ncolour = red\n", 2, "unknown setting 'colour'", "unknown");
        expect_error("[account a]\njust words\n", 2, "expected NAME = VALUE", "no '='");
        expect_error("[account a]\n[account b]\n[account a]\n", 3, "the first at line 1",
                     "a second section for the same account");
        expect_error_n(nul, sizeof(nul) - 1, 2, "a NUL byte", "a NUL byte");
        {
                size_t n = POLICY_LINE_MAX + 100;
                char *big = malloc(n + 32);

                strcpy(big, "[account a]\nlabel = ");
                memset(big + strlen(big), 'x', n);
                big[n + 20] = 0;
                expect_error(big, 2, "longer than", "a line too long");
                free(big);
        }
}

static void test_rsync_canonical(void) {
        char *a = NULL, *b = NULL, *c = NULL;

        TAP_IS_INT(rsync_canonical("rsync --server --sender -vlogDtprze.iLsfxCIvu . /x/", &a), 0,
                   "canonical form");
        TAP_IS_STR(a, "rsync --sender --server -Dgloprtvz . /x/",
                   "long options sorted, letters sorted, capability string dropped");
        TAP_IS_INT(rsync_canonical("/usr/bin/rsync --sender --server -zrtplogvDe.LsfxC . /x/", &b),
                   0, "absolute path, other order");
        TAP_IS_STR(b, a, "same meaning, same form");
        TAP_IS_INT(rsync_canonical("rsync --server -e.x -- -a . /b", &c), 0, "after --");
        TAP_IS_STR(c, "rsync --server -- -a . /b", "an argument that looks like an option keeps --");
        free(c);
        TAP_IS_INT(rsync_canonical("rsync --server -vl-gDte.x . /b", &c), 0, "a strange cluster");
        TAP_IS_STR(c, "rsync --server -vl-gDte.x . /b", "is kept whole");
        free(c);
        TAP_IS_INT(rsync_canonical("rsync -av src/ host:dst/", &c), -EINVAL, "not --server");
        TAP_IS_INT(rsync_canonical("rsyncx --server . /", &c), -EINVAL, "not rsync");
        TAP_IS_INT(rsync_canonical("", &c), -EINVAL, "empty");
        free(a);
        free(b);
}

static void test_unvis(void) {
        char *s = NULL;

        TAP_IS_INT(sshd_unvis("a\\\\b\\tc\\303\\251d", &s), 0, "unvis");
        TAP_IS_STR(s, "a\\b\tc\xc3\xa9" "d", "backslash, tab, octal");
        free(s);
        TAP_IS_INT(sshd_unvis("bad\\q", &s), -EINVAL, "an unknown escape");
        TAP_IS_INT(sshd_unvis("nul\\000", &s), -EINVAL, "a NUL");
        TAP_IS_INT(sshd_unvis("end\\", &s), -EINVAL, "a lone backslash at the end");
}

/* A file on disk at the size cap and one byte over it. */
static void test_load_cap(void) {
        char path[] = "/tmp/kt-policy-XXXXXX";
        struct policy_file *f = NULL;
        struct policy_file_error e = {};
        size_t line = 64, n = POLICY_FILE_MAX;
        char *buf = malloc(n + 1);
        FILE *o;
        int fd, r;

        if (!tap_ok(buf != NULL, "a buffer for the cap"))
                return;
        for (size_t i = 0; i < n; i += line) {
                memset(buf + i, ' ', line - 1);
                buf[i] = '#';
                buf[i + line - 1] = '\n';
        }
        memcpy(buf, "[account a]\n", 12);
        fd = mkstemp(path);
        o = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!tap_ok(o && fwrite(buf, 1, n, o) == n && fflush(o) == 0, "a file at the cap")) {
                free(buf);
                return;
        }
        r = policy_file_load(path, &f, &e);
        TAP_IS_INT(r, 0, "a policy file of exactly POLICY_FILE_MAX bytes loads");
        f = policy_file_free(f);
        tap_ok(fputc('#', o) != EOF && fflush(o) == 0, "one byte added");
        r = policy_file_load(path, &f, &e);
        TAP_IS_INT(r, -E2BIG, "one byte more is refused");
        TAP_IS_STR(e.message, "the file is too large", "and says why");
        fclose(o);
        unlink(path);
        free(buf);
}

int main(void) {
        test_parse();
        test_load_cap();
        test_errors();
        test_rsync_canonical();
        test_unvis();
        return tap_done();
}
