/* SPDX-License-Identifier: MIT */
/*
 * The baseline file: write, read back, every malformed line named by its line number, diffs, and
 * the keys fed to struct baseline. Every key line of tests/unit/authkeys-cases.txt goes through
 * write and read (its text re-parsed must be the same key with the same options).
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "baseline-file.h"
#include "tap.h"

#define ED "AAAAC3NzaC1lZDI1NTE5AAAAIC62c5TheazUNe4pSiOd0ibR9bQawBvP0nRlmK7Qs1RT"
#define ED_FP "SHA256:v1OYgLqE0uPPeTYTiBk6UCZonQszUikoWIJWyrMJLA0"
#define ED2 "AAAAC3NzaC1lZDI1NTE5AAAAIJoYGBofIXxLsm3Pv7atX0gPypGKYIWtiTKkBwPgUfg9"
#define ED2_FP "SHA256:An9OTQWddv2ZHO/HQ8EyD0+RDYrfkMRFJoHh68fO3nk"

static struct authkey *key(const char *line, const char *file, unsigned lineno) {
        struct authkey *k = NULL;
        const char *what = NULL;

        if (authkeys_parse_line(line, strlen(line), &k, &what) != 1) {
                tap_diag("test key does not parse: %s", what ?: "?");
                abort();
        }
        k->file = strdup(file);
        k->line = lineno;
        return k;
}

static void add(struct baseline_file *bf, const char *user, struct authkey *k) {
        if (baseline_file_add_key(bf, user, k) < 0)
                abort();
}

static char *write_to_string(const struct baseline_file *bf, const char *comment, int *ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        *ret = baseline_file_write(bf, comment, f);
        fclose(f);
        return buf;
}

static int read_bytes(const char *text, size_t len, struct baseline_file **ret, unsigned *line,
                      const char **what) {
        FILE *f = fmemopen((void *) text, len, "r");
        int r;

        r = baseline_file_read(f, ret, line, what);
        fclose(f);
        return r;
}

static int read_string(const char *text, struct baseline_file **ret, unsigned *line,
                       const char **what) {
        return read_bytes(text, strlen(text), ret, line, what);
}

static void bad(const char *text, int want_r, unsigned want_line, const char *want_what,
                const char *name) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = NULL;
        unsigned line = 0;
        const char *what = NULL;
        int r;

        r = read_string(text, &bf, &line, &what);
        TAP_IS_INT(r, want_r, "%s: error", name);
        TAP_IS_INT(line, want_line, "%s: line", name);
        TAP_IS_STR(what, want_what, "%s: what", name);
        tap_ok(bf == NULL, "%s: nothing returned", name);
}

struct changes {
        char log[2048];
};

static int record_change(void *userdata, enum baseline_change c, const struct baseline_key *o,
                         const struct baseline_key *n) {
        struct changes *ch = userdata;
        size_t l = strlen(ch->log);

        snprintf(ch->log + l, sizeof(ch->log) - l, "%s %s:%u->%s:%u;",
                 baseline_change_to_string(c), o ? o->user : "-", o ? o->key->line : 0,
                 n ? n->user : "-", n ? n->key->line : 0);
        return 0;
}

static void test_round_trip(void) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = baseline_file_new(), *back = NULL;
        _cleanup_free_ char *text = NULL, *again = NULL;
        unsigned line = 0;
        const char *what = NULL;
        int r;

        TAP_IS_INT(baseline_file_set_sshd(bf, ".ssh/authorized_keys %h/.ssh/other keys", false,
                                          "/usr/bin/lookup %u"),
                   0, "sshd records set");
        TAP_IS_INT(baseline_file_add_account(bf, "root"), 0, "account root");
        TAP_IS_INT(baseline_file_add_account(bf, "we ird\\\x01\xc3\xa9"), 0, "odd account name");
        TAP_IS_INT(baseline_file_add_account(bf, "root"), 0, "a repeated account is ignored");
        TAP_IS_INT(bf->n_accounts, 2, "two accounts");
        TAP_IS_INT(baseline_file_add_account(bf, ""), -EINVAL, "empty account refused");
        TAP_IS_INT(baseline_file_add_account(bf, "a\nb"), -EINVAL, "newline in account refused");
        TAP_IS_INT(baseline_file_add_path(bf, "root", "/root/.ssh/authorized_keys",
                                          BASELINE_PATH_READ, NULL),
                   0, "path read");
        TAP_IS_INT(baseline_file_add_path(bf, "mirror", "/home/my mirror/.ssh/authorized_keys2",
                                          BASELINE_PATH_ABSENT, NULL),
                   0, "path absent");
        TAP_IS_INT(baseline_file_add_path(bf, "mirror", "/home/my mirror/.ssh/authorized_keys",
                                          BASELINE_PATH_REFUSED, "symbolic link"),
                   0, "path refused");
        TAP_IS_INT(baseline_file_add_key(bf, "root",
                                         key("command=\"rsync --server . /srv/a b\",restrict "
                                             "ssh-ed25519 " ED " push key",
                                             "/root/.ssh/authorized_keys", 3)),
                   0, "key with options");
        TAP_IS_INT(baseline_file_add_key(bf, "we ird\\\x01\xc3\xa9",
                                         key("ssh-ed25519 " ED2, "/home/x:y/.ssh/a k", 1)),
                   0, "key of the odd account, in a path with ':' and a space");

        text = write_to_string(bf, "written by a test\nsecond line", &r);
        TAP_IS_INT(r, 0, "written");
        TAP_IS_STR(text,
                   "keytrail-baseline 1\n"
                   "# written by a test\n"
                   "# second line\n"
                   "authorized-keys-file sshd .ssh/authorized_keys %h/.ssh/other keys\n"
                   "authorized-keys-command /usr/bin/lookup %u\n"
                   "account root\n"
                   "account we\\x20ird\\x5c\\x01\\xc3\\xa9\n"
                   "account mirror\n"
                   "file root /root/.ssh/authorized_keys read\n"
                   "file mirror /home/my\\x20mirror/.ssh/authorized_keys2 absent\n"
                   "file mirror /home/my\\x20mirror/.ssh/authorized_keys refused symbolic link\n"
                   "key root /root/.ssh/authorized_keys:3 " ED_FP " ED25519 command=\"rsync "
                   "--server . /srv/a b\",restrict ssh-ed25519 " ED " push key\n"
                   "key we\\x20ird\\x5c\\x01\\xc3\\xa9 /home/x:y/.ssh/a\\x20k:1 " ED2_FP
                   " ED25519 ssh-ed25519 " ED2 "\n",
                   "the documented format, byte for byte");

        r = read_string(text, &back, &line, &what);
        TAP_IS_INT(r, 0, "read back");
        if (r < 0) {
                tap_diag("line %u: %s", line, what);
                return;
        }
        TAP_IS_STR(back->authorized_keys_file, ".ssh/authorized_keys %h/.ssh/other keys",
                   "AuthorizedKeysFile back");
        tap_ok(!back->authorized_keys_file_default, "from sshd, not the default");
        TAP_IS_STR(back->authorized_keys_command, "/usr/bin/lookup %u", "command back");
        TAP_IS_INT(back->n_accounts, 3, "accounts back");
        TAP_IS_STR(back->accounts[1], "we ird\\\x01\xc3\xa9", "odd account name back");
        TAP_IS_INT(back->n_paths, 3, "paths back");
        TAP_IS_STR(back->paths[1].path, "/home/my mirror/.ssh/authorized_keys2", "path back");
        TAP_IS_INT(back->paths[1].state, BASELINE_PATH_ABSENT, "absent back");
        TAP_IS_STR(back->paths[2].reason, "symbolic link", "reason back");
        TAP_IS_INT(back->n_keys, 2, "keys back");
        TAP_IS_STR(back->keys[0].key->command, "rsync --server . /srv/a b", "command= back");
        tap_ok(back->keys[0].key->restrict_, "restrict back");
        TAP_IS_STR(back->keys[0].key->comment, "push key", "comment back");
        TAP_IS_STR(back->keys[0].key->file, "/root/.ssh/authorized_keys", "file back");
        TAP_IS_INT(back->keys[0].key->line, 3, "line back");
        TAP_IS_STR(back->keys[1].key->file, "/home/x:y/.ssh/a k", "file with ':' back");
        TAP_IS_STR(back->keys[1].user, "we ird\\\x01\xc3\xa9", "odd user back");
        TAP_IS_INT(baseline_file_diff(bf, back, NULL, NULL), 0, "no difference after the trip");

        again = write_to_string(back, "written by a test\nsecond line", &r);
        TAP_IS_STR(again, text, "written again: the same bytes");
}

static void test_default_and_apply(void) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = NULL;
        _cleanup_(baseline_freep) struct baseline *b = baseline_new();
        const struct baseline_entry *e, *other = NULL;
        unsigned line = 0;
        const char *what = NULL;
        int r;

        r = read_string("# hand-written\n"
                        "\n"
                        "keytrail-baseline 1\r\n"
                        "authorized-keys-file default .ssh/authorized_keys .ssh/authorized_keys2\n"
                        "account nobody\n"
                        "key mirror /home/mirror/.ssh/authorized_keys:2 " ED_FP " ED25519 "
                        "command=\"rsync --server . /srv\" ssh-ed25519 " ED " m\n"
                        "key ops /home/ops/.ssh/authorized_keys:1 " ED2_FP " ED25519 "
                        "ssh-ed25519 " ED2 "\n",
                        &bf, &line, &what);
        TAP_IS_INT(r, 0, "hand-written file with comments, a blank line and CRLF reads");
        if (r < 0) {
                tap_diag("line %u: %s", line, what);
                return;
        }
        tap_ok(bf->authorized_keys_file_default, "default AuthorizedKeysFile recorded");
        TAP_IS_INT(bf->n_accounts, 3, "keys' accounts are covered too");

        TAP_IS_INT(baseline_file_apply(bf, b), 0, "applied");
        TAP_IS_INT(bf->n_keys, 0, "keys moved out");
        TAP_IS_INT(baseline_size(b), 2, "two keys in the baseline");
        tap_ok(baseline_covers_user(b, "nobody"), "an account with no key is covered");
        tap_ok(baseline_covers_user(b, "mirror") && baseline_covers_user(b, "ops"),
               "the keys' accounts are covered");
        tap_ok(!baseline_covers_user(b, "root"), "an account not recorded is not");
        e = baseline_lookup(b, ED_FP, "mirror", "/home/mirror/.ssh/authorized_keys:2", NULL);
        TAP_IS_STR(e ? e->key->command : NULL, "rsync --server . /srv",
                   "lookup by fingerprint and location");
        e = baseline_lookup(b, ED2_FP, "mirror", NULL, &other);
        tap_ok(!e && other && streq(other->user, "ops"), "ops' key into mirror: another account's");
        e = baseline_lookup_location(b, "/home/ops/.ssh/authorized_keys:1");
        TAP_IS_STR(e ? e->user : NULL, "ops", "lookup by location alone");
}

static void test_errors(void) {
        const char *h = "keytrail-baseline 1\n";
        char buf[8192];

        bad("", -EBADMSG, 1, "not a keytrail baseline file (no 'keytrail-baseline 1' first)",
            "empty file");
        bad("# only a comment\n", -EBADMSG, 1,
            "not a keytrail baseline file (no 'keytrail-baseline 1' first)", "only comments");
        bad("account root\n", -EBADMSG, 1,
            "not a keytrail baseline file (no 'keytrail-baseline 1' first)", "no header");
        bad("keytrail-baseline 2\n", -EBADMSG, 1, "unsupported baseline file version",
            "future version");
        bad("keytrail-baseline one\n", -EBADMSG, 1, "invalid version in the header",
            "bad version");
        bad("keytrail-baseline 1 extra\n", -EBADMSG, 1, "invalid version in the header",
            "header with an extra field");
        snprintf(buf, sizeof(buf), "%s#\nkeytrail-baseline 1\n", h);
        bad(buf, -EBADMSG, 3, "repeated header", "repeated header");
        snprintf(buf, sizeof(buf), "%saccount root\nkeys root\n", h);
        bad(buf, -EBADMSG, 3, "unknown record", "unknown record");
        snprintf(buf, sizeof(buf), "%saccount\n", h);
        bad(buf, -EBADMSG, 2, "missing field", "account without a name");
        snprintf(buf, sizeof(buf), "%saccount a b\n", h);
        bad(buf, -EBADMSG, 2, "unexpected field at the end of the line", "account, two names");
        snprintf(buf, sizeof(buf), "%saccount a\\x4\n", h);
        bad(buf, -EBADMSG, 2, "invalid byte or escape in a field", "truncated escape");
        snprintf(buf, sizeof(buf), "%saccount a\\n\n", h);
        bad(buf, -EBADMSG, 2, "invalid byte or escape in a field", "C escape is not the format's");
        snprintf(buf, sizeof(buf), "%saccount a\\x00b\n", h);
        bad(buf, -EBADMSG, 2, "invalid byte or escape in a field", "escaped NUL");
        snprintf(buf, sizeof(buf), "%saccount a\tb\n", h);
        bad(buf, -EBADMSG, 2, "invalid byte or escape in a field", "raw tab in a token");
        {
                static const char nul[] = "keytrail-baseline 1\naccount a\0b\n";
                struct baseline_file *bf = NULL;
                unsigned line = 0;
                const char *what = NULL;

                TAP_IS_INT(read_bytes(nul, sizeof(nul) - 1, &bf, &line, &what), -EBADMSG,
                           "NUL byte: error");
                TAP_IS_INT(line, 2, "NUL byte: line");
                TAP_IS_STR(what, "NUL byte in line", "NUL byte: what");
        }
        snprintf(buf, sizeof(buf), "%sfile root relative/path read\n", h);
        bad(buf, -EBADMSG, 2, "file is not an absolute path", "relative file");
        snprintf(buf, sizeof(buf), "%sfile root /x gone\n", h);
        bad(buf, -EBADMSG, 2, "unknown file state (read, absent or refused)", "unknown state");
        snprintf(buf, sizeof(buf), "%sfile root /x read now\n", h);
        bad(buf, -EBADMSG, 2, "unexpected field at the end of the line", "extra after state");
        snprintf(buf, sizeof(buf), "%sfile root /x refused\n", h);
        bad(buf, -EBADMSG, 2, "missing field", "refused without a reason");
        snprintf(buf, sizeof(buf), "%sauthorized-keys-file\n", h);
        bad(buf, -EBADMSG, 2, "authorized-keys-file needs 'sshd' or 'default' and patterns",
            "AuthorizedKeysFile without a source");
        snprintf(buf, sizeof(buf), "%sauthorized-keys-file sshd\n", h);
        bad(buf, -EBADMSG, 2, "missing field", "AuthorizedKeysFile without patterns");
        snprintf(buf, sizeof(buf),
                 "%sauthorized-keys-file sshd a\nauthorized-keys-file sshd b\n", h);
        bad(buf, -EBADMSG, 3, "repeated authorized-keys-file record", "repeated AKF");
        snprintf(buf, sizeof(buf), "%sauthorized-keys-command a\nauthorized-keys-command b\n", h);
        bad(buf, -EBADMSG, 3, "repeated authorized-keys-command record", "repeated AKC");

        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:1 %s ED25519\n", h, ED_FP);
        bad(buf, -EBADMSG, 2, "missing field", "key record without the line");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a %s ED25519 ssh-ed25519 %s\n", h, ED_FP,
                 ED);
        bad(buf, -EBADMSG, 2, "location is not an absolute FILE:LINE", "location without line");
        snprintf(buf, sizeof(buf), "%skey root r/.ssh/a:1 %s ED25519 ssh-ed25519 %s\n", h, ED_FP,
                 ED);
        bad(buf, -EBADMSG, 2, "location is not an absolute FILE:LINE", "relative location");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:0 %s ED25519 ssh-ed25519 %s\n", h, ED_FP,
                 ED);
        bad(buf, -EBADMSG, 2, "location is not an absolute FILE:LINE", "line 0");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:1 %s ED25519 ssh-ed25519 %s\n", h, ED2_FP,
                 ED);
        bad(buf, -EBADMSG, 2, "fingerprint does not match the key", "another key's fingerprint");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:1 %s RSA ssh-ed25519 %s\n", h, ED_FP, ED);
        bad(buf, -EBADMSG, 2, "type does not match the key", "wrong type");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:1 %s ED25519 # ssh-ed25519 %s\n", h,
                 ED_FP, ED);
        bad(buf, -EBADMSG, 2, "no key in the key record", "commented-out key");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:1 %s ED25519 command=\"x ssh-ed25519 %s\n",
                 h, ED_FP, ED);
        bad(buf, -EBADMSG, 2, "unterminated quote in options", "the parser's own phrase");
        snprintf(buf, sizeof(buf), "%skey root /r/.ssh/a:1 %s ED25519 ssh-ed25519 %.40s\n", h,
                 ED_FP, ED);
        bad(buf, -EBADMSG, 2, "truncated key blob", "truncated key");

        {
                size_t n = BASELINE_FILE_LINE_MAX + 10;
                _cleanup_free_ char *big = malloc(n + 64);

                strcpy(big, h);
                memset(big + strlen(h), 'a', n);
                strcpy(big + strlen(h) + n, "\n");
                bad(big, -E2BIG, 2, "line too long", "overlong line");
        }
}

static void test_diff(void) {
        _cleanup_(baseline_file_freep) struct baseline_file *old = baseline_file_new();
        _cleanup_(baseline_file_freep) struct baseline_file *new = baseline_file_new();
        struct changes ch = {};
        const char *f = "/home/m/.ssh/authorized_keys";

        /* old: a forced key, an admin key, the same forced key twice in one file */
        add(old, "m", key("command=\"a\" ssh-ed25519 " ED " one", f, 1));
        add(old, "m", key("ssh-ed25519 " ED2 " admin", f, 2));
        add(old, "m", key("command=\"b\" ssh-ed25519 " ED " two", f, 3));
        add(old, "o", key("from=\"10.0.0.1\" ssh-ed25519 " ED2, "/o", 1));
        /* new: command stripped from the first, admin moved and renamed, third unchanged, o's key
         * from= dropped, a new key for root */
        add(new, "m", key("ssh-ed25519 " ED " one", f, 1));
        add(new, "m", key("command=\"b\" ssh-ed25519 " ED " two", f, 3));
        add(new, "m", key("ssh-ed25519 " ED2 " admin2", f, 4));
        add(new, "o", key("ssh-ed25519 " ED2, "/o", 1));
        add(new, "root", key("restrict ssh-ed25519 " ED, "/r", 1));

        /* The two ED keys of m pair in file order: line 1 with line 1, line 3 with line 3 (which
         * is unchanged and not reported). */
        TAP_IS_INT(baseline_file_diff(old, new, record_change, &ch), 4, "four differences");
        TAP_IS_STR(ch.log,
                   "options-changed m:1->m:1;moved m:2->m:4;options-changed o:1->o:1;"
                   "added -:0->root:1;",
                   "changes in order");
        TAP_IS_INT(baseline_file_diff(new, old, NULL, NULL), 4, "four the other way");
        TAP_IS_INT(baseline_file_diff(old, old, NULL, NULL), 0, "none against itself");
}

#define CASES_ED "AAAAC3NzaC1lZDI1NTE5AAAAIGrj8+AQ/CPz/6TbiA9tFbT9+a7IiSAkg37PAkgeeGIq"

/* Every key line of authkeys-cases.txt (%XX bytes, @ED@ a fixed key) is written and read back:
 * the same key, options and comment. */
static void test_cases_file(void) {
        const char *srcdir = getenv("SOURCE_DIR");
        _cleanup_(baseline_file_freep) struct baseline_file *bf = baseline_file_new(), *back = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        char buf[32768], line[32768];
        unsigned lineno = 0, what_line = 0;
        const char *what = NULL;
        FILE *f;
        int r;

        if (asprintf(&path, "%s/tests/unit/authkeys-cases.txt", srcdir ?: ".") < 0)
                abort();
        f = fopen(path, "re");
        if (!tap_ok(f != NULL, "cases file opens"))
                return;
        while (fgets(buf, sizeof(buf), f)) {
                struct authkey *k = NULL;
                const char *sep = strstr(buf, " | "), *s;
                size_t n = 0;

                lineno++;
                if (strncmp(buf, "key ", 4) != 0 || !sep)
                        continue;
                for (s = sep + 3; *s && *s != '\n' && n + sizeof(CASES_ED) < sizeof(line);) {
                        if (s[0] == '%' && s[1] && s[2]) {
                                char hex[3] = { s[1], s[2], 0 };

                                line[n++] = (char) strtoul(hex, NULL, 16);
                                s += 3;
                        } else if (strncmp(s, "@ED@", 4) == 0) {
                                memcpy(line + n, CASES_ED, strlen(CASES_ED));
                                n += strlen(CASES_ED);
                                s += 4;
                        } else
                                line[n++] = *s++;
                }
                if (authkeys_parse_line(line, n, &k, &what) != 1) {
                        tap_ok(false, "case line %u parses", lineno);
                        continue;
                }
                k->file = strdup("/home/c/.ssh/authorized_keys");
                k->line = lineno;
                add(bf, "c", k);
        }
        fclose(f);
        TAP_IS_INT(bf->n_keys, 19, "every key case taken");
        text = write_to_string(bf, NULL, &r);
        TAP_IS_INT(r, 0, "cases written");
        r = read_string(text, &back, &what_line, &what);
        TAP_IS_INT(r, 0, "cases read back");
        if (r < 0) {
                tap_diag("line %u: %s", what_line, what);
                return;
        }
        TAP_IS_INT(back->n_keys, bf->n_keys, "as many keys back");
        TAP_IS_INT(baseline_file_diff(bf, back, NULL, NULL), 0,
                   "the same keys, options and comments back");
        for (size_t i = 0; i < bf->n_keys && i < back->n_keys; i++)
                TAP_IS_STR(back->keys[i].key->text, bf->keys[i].key->text, "case %u: text back",
                           bf->keys[i].key->line);
}

int main(void) {
        test_round_trip();
        test_cases_file();
        test_default_and_apply();
        test_errors();
        test_diff();
        for (int s = 0; s < _BASELINE_PATH_STATE_MAX; s++)
                TAP_IS_INT(baseline_path_state_from_string(baseline_path_state_to_string(s)), s,
                           "path state %d has a name that reads back", s);
        TAP_IS_INT(baseline_path_state_from_string("gone"), _BASELINE_PATH_STATE_INVALID,
                   "unknown path state");
        TAP_IS_INT(baseline_path_state_from_string(NULL), _BASELINE_PATH_STATE_INVALID,
                   "no path state for NULL");
        for (int c = 0; c < _BASELINE_CHANGE_MAX; c++)
                tap_ok(baseline_change_to_string(c) != NULL, "change %d has a name", c);
        tap_ok(!baseline_change_to_string(_BASELINE_CHANGE_MAX), "no change name out of range");
        return tap_done();
}
