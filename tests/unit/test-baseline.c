/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "baseline.h"
#include "tap.h"

#define PUSH "AAAAC3NzaC1lZDI1NTE5AAAAIC62c5TheazUNe4pSiOd0ibR9bQawBvP0nRlmK7Qs1RT"
#define PUSH_FP "SHA256:v1OYgLqE0uPPeTYTiBk6UCZonQszUikoWIJWyrMJLA0"
#define ADMIN "AAAAC3NzaC1lZDI1NTE5AAAAIJoYGBofIXxLsm3Pv7atX0gPypGKYIWtiTKkBwPgUfg9"
#define ADMIN_FP "SHA256:An9OTQWddv2ZHO/HQ8EyD0+RDYrfkMRFJoHh68fO3nk"

static char *write_file(const char *text) {
        char *path = strdup("/tmp/keytrail-test-baseline-XXXXXX");
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");

        fputs(text, f);
        fclose(f);
        return path;
}

/*
 * Many keys added by hand, several under one fingerprint and in several accounts, looked up by
 * every fingerprint, near misses and unknown ones: each answer is the one of a plain walk over the
 * entries in load order (what baseline_lookup() promises: the first entry for the account, the
 * one at the location first), whatever the index and its hash table do.
 */
static void test_many_keys(void) {
        _cleanup_(baseline_freep) struct baseline *b = baseline_new();
        static const char *const users[] = { "alice", "bob", NULL };
        char fp[64], loc[64];
        unsigned bad = 0, n = 0;

        for (unsigned i = 0; i < 300; i++) {
                struct authkey *k = calloc(1, sizeof(*k));

                /* 100 fingerprints, each three times; "SHA256:k1" is a prefix of "SHA256:k10" */
                (void) snprintf(fp, sizeof(fp), "SHA256:k%u", (i * 37) % 100);
                k->fingerprint = strdup(fp);
                k->file = strdup("/keys");
                k->line = i + 1;
                if (!k->fingerprint || !k->file ||
                    baseline_add_key(b, users[i % ELEMENTSOF(users)], k) < 0) {
                        tap_ok(false, "key %u added", i);
                        return;
                }
        }
        for (unsigned f = 0; f < 120; f++)
                for (unsigned u = 0; u < ELEMENTSOF(users) + 1; u++)
                        for (unsigned l = 0; l < 3; l++) {
                                const char *user = u < ELEMENTSOF(users) ? users[u] : "carol";
                                const struct baseline_entry *e, *o = NULL, *want = NULL,
                                                                   *want_o = NULL, *at = NULL;

                                (void) snprintf(fp, sizeof(fp),
                                                f < 100 ? "SHA256:k%u" : "SHA256:x%u", f);
                                (void) snprintf(loc, sizeof(loc), "/keys:%u", l == 0 ? 0 : f + l);
                                for (size_t i = 0; i < baseline_size(b); i++) {
                                        const struct baseline_entry *x = baseline_entry_at(b, i);

                                        if (!streq(x->key->fingerprint, fp))
                                                continue;
                                        if (!x->user || (user && streq(x->user, user))) {
                                                if (!at && x->key->line == (l == 0 ? 0 : f + l))
                                                        at = x;
                                                if (!want)
                                                        want = x;
                                        } else if (!want_o)
                                                want_o = x;
                                }
                                if (at)
                                        want = at;
                                e = baseline_lookup(b, fp, user, loc, &o);
                                n++;
                                if (e != want || o != (want ? NULL : want_o))
                                        bad++;
                        }
        tap_ok(n == 120 * 4 * 3 && bad == 0,
               "%u lookups of 300 keys as a walk finds them: %u differ", n, bad);
}

int main(void) {
        _cleanup_(baseline_freep) struct baseline *b = baseline_new();
        const struct baseline_entry *e, *other;
        char *mirror = write_file("# mirror\n"
                                  "command=\"rsync --server . /srv/a\",restrict ssh-ed25519 " PUSH
                                  " push\n"
                                  "command=\"rsync --server . /srv/b\" ssh-ed25519 " PUSH " again\n");
        char *ops = write_file("ssh-ed25519 " ADMIN " admin\n");
        char *broken = write_file("ssh-ed25519 " ADMIN " ok\n"
                                  "command=\"unterminated ssh-ed25519 " ADMIN "\n");
        char loc[256];
        unsigned keys = 0, skipped = 0, line = 0;
        const char *what = NULL;

        TAP_IS_INT(baseline_add_file(b, "mirror", mirror, true, &keys, NULL, &line, &what), 0,
                   "mirror's file loads");
        TAP_IS_INT(keys, 2, "two keys from mirror's file");
        TAP_IS_INT(baseline_add_file(b, "ops", ops, true, &keys, NULL, &line, &what), 0,
                   "ops' file loads");
        TAP_IS_INT(baseline_size(b), 3, "three entries");

        tap_ok(baseline_covers_user(b, "mirror") && baseline_covers_user(b, "ops"),
               "named accounts are covered");
        tap_ok(!baseline_covers_user(b, "nobody"), "other accounts are not");

        e = baseline_lookup(b, PUSH_FP, "mirror", NULL, &other);
        tap_ok(e != NULL, "push key found for mirror");
        TAP_IS_STR(e ? e->key->command : NULL, "rsync --server . /srv/a",
                   "first matching line governs, as in sshd");
        (void) snprintf(loc, sizeof(loc), "%s:3", mirror);
        e = baseline_lookup(b, PUSH_FP, "mirror", loc, NULL);
        TAP_IS_STR(e ? e->key->command : NULL, "rsync --server . /srv/b",
                   "the line sshd named (FILE:LINE) governs when it is known");

        other = NULL;
        e = baseline_lookup(b, PUSH_FP, "ops", NULL, &other);
        tap_ok(e == NULL, "push key is not ops'");
        TAP_IS_STR(other ? other->user : NULL, "mirror", "but it is mirror's: a wrong-user case");

        other = (void *) 1;
        e = baseline_lookup(b, "SHA256:nothere", "mirror", NULL, &other);
        tap_ok(e == NULL && other == NULL, "an unknown key is nowhere");

        (void) snprintf(loc, sizeof(loc), "%s:2", mirror);
        e = baseline_lookup_location(b, loc);
        TAP_IS_STR(e ? e->key->fingerprint : NULL, PUSH_FP, "lookup by FILE:LINE");
        /* sshd's location is attacker-influenced text: only "FILE:LINE" exactly names a line */
        {
                /* { before the file name, after it } */
                static const char *const near[][2] = { { "", ":02" }, { "", ":2 " }, { "", ":20" },
                                                       { "", ":" },   { "", "" },    { "", ":2x" },
                                                       { "", "x:2" }, { "", "::2" }, { " ", ":2" },
                                                       { "", ":1" } };

                for (size_t i = 0; i < ELEMENTSOF(near); i++) {
                        (void) snprintf(loc, sizeof(loc), "%s%s%s", near[i][0], mirror, near[i][1]);
                        tap_ok(baseline_lookup_location(b, loc) == NULL, "'%sFILE%s' names no line",
                               near[i][0], near[i][1]);
                }
                (void) snprintf(loc, sizeof(loc), "%.*s:2", (int) strlen(mirror) - 1, mirror);
                tap_ok(baseline_lookup_location(b, loc) == NULL, "nor a shorter file name");
                (void) snprintf(loc, sizeof(loc), "%s:3", mirror);
                e = baseline_lookup_location(b, loc);
                TAP_IS_STR(e ? e->key->command : NULL, "rsync --server . /srv/b", "line 3 is line 3");
        }

        /* strict: the broken line is reported with its number, the good one before it is kept */
        TAP_IS_INT(baseline_add_file(b, "x", broken, true, &keys, NULL, &line, &what), -EBADMSG,
                   "strict load fails on a broken line");
        TAP_IS_INT(line, 2, "and names line 2");
        tap_ok(what != NULL, "with a reason: '%s'", what ? what : "(none)");
        tap_ok(baseline_lookup(b, ADMIN_FP, "x", NULL, NULL) != NULL,
               "the good line before it is kept");

        /* lenient: skipped and counted */
        TAP_IS_INT(baseline_add_file(b, "y", broken, false, &keys, &skipped, &line, &what), 0,
                   "lenient load succeeds");
        TAP_IS_INT(keys, 1, "one key kept");
        TAP_IS_INT(skipped, 1, "one line skipped");

        /* no user: the entry applies to every account, and every account is covered */
        TAP_IS_INT(baseline_add_file(b, NULL, ops, true, NULL, NULL, &line, &what), 0,
                   "file without a user");
        tap_ok(baseline_covers_user(b, "anyone"), "an entry without a user covers every account");
        tap_ok(baseline_lookup(b, ADMIN_FP, "anyone", NULL, NULL) != NULL,
               "and applies to every account");

        TAP_IS_INT(baseline_add_file(b, "z", "/nonexistent/keys", true, NULL, NULL, &line, &what),
                   -ENOENT, "a missing file is -ENOENT");

        test_many_keys();

        unlink(mirror);
        unlink(ops);
        unlink(broken);
        free(mirror);
        free(ops);
        free(broken);
        return tap_done();
}
