/* SPDX-License-Identifier: MIT */
/*
 * bare-loop: the baseline that `keytrail scan` is measured against (see bench/README.md).
 *
 * Opens the same journal files, adds the same matches keytrail uses (SYSLOG_IDENTIFIER sshd,
 * sshd-session, sshd-auth and keytrail-gate, OR'ed as matches on one field are), walks the matched
 * entries with sd_journal_next() and reads MESSAGE and _PID of each. The lengths are summed and
 * printed so that the compiler cannot drop the reads. Nothing else: no parsing, no output per
 * entry.
 *
 *   bare-loop [--keytrail-matches | --sshd-only] FILE...
 *   bare-loop [--keytrail-matches | --sshd-only] --directory DIR
 *
 * --keytrail-matches: the whole match keytrail asks sd-journal for, which reads no other entry on
 * the bench journals but costs sd-journal more per step: the wrappers' identifier (sshdo) too, and
 * OR'ed with it (a disjunction) _COMM=logger, for the "only" wrapper's logger(1) lines.
 *
 * --sshd-only: SYSLOG_IDENTIFIER=sshd alone, the one identifier the bench journals hold: the least
 * a reader of these entries must ask sd-journal for (keytrail leaves the terms no file holds out of
 * its read: docs/hacking.md), so the strictest floor.
 *
 * Prints "ENTRIES entries BYTES bytes SECONDS s" on stdout. Exit 0, or 2 on an error.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

static const char *const match_idents[] = {
        "SYSLOG_IDENTIFIER=sshd",
        "SYSLOG_IDENTIFIER=sshd-session",
        "SYSLOG_IDENTIFIER=sshd-auth",
        "SYSLOG_IDENTIFIER=keytrail-gate",
};

static const char *const keytrail_also[] = { "SYSLOG_IDENTIFIER=sshdo", NULL };
static const char *const keytrail_disjunction[] = { "_COMM=logger", NULL };

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        sd_journal *j = NULL;
        uint64_t n = 0, bytes = 0;
        double t0;
        bool same = false, sshd_only = false;
        size_t n_idents = sizeof(match_idents) / sizeof(match_idents[0]);
        int r;

        if (argc >= 2 && strcmp(argv[1], "--keytrail-matches") == 0)
                same = true;
        else if (argc >= 2 && strcmp(argv[1], "--sshd-only") == 0)
                sshd_only = true;
        if (same || sshd_only) {
                argv++;
                argc--;
        }
        if (sshd_only)
                n_idents = 1;
        if (argc < 2 || strcmp(argv[1], "--help") == 0) {
                fprintf(stderr, "usage: bare-loop [--keytrail-matches | --sshd-only] FILE... | "
                                "--directory DIR\n");
                return 2;
        }

        t0 = now();
        if (strcmp(argv[1], "--directory") == 0) {
                if (argc != 3) {
                        fprintf(stderr, "bare-loop: --directory takes one DIR\n");
                        return 2;
                }
                r = sd_journal_open_directory(&j, argv[2], 0);
        } else
                r = sd_journal_open_files(&j, (const char **) argv + 1, 0);
        if (r < 0) {
                fprintf(stderr, "bare-loop: cannot open the journal: %s\n", strerror(-r));
                return 2;
        }

        for (size_t i = 0; i < n_idents; i++) {
                r = sd_journal_add_match(j, match_idents[i], 0);
                if (r < 0) {
                        fprintf(stderr, "bare-loop: %s: %s\n", match_idents[i], strerror(-r));
                        sd_journal_close(j);
                        return 2;
                }
        }

        for (size_t i = 0; same && keytrail_also[i] && r >= 0; i++)
                r = sd_journal_add_match(j, keytrail_also[i], 0);
        if (same && r >= 0)
                r = sd_journal_add_disjunction(j);
        for (size_t i = 0; same && keytrail_disjunction[i] && r >= 0; i++)
                r = sd_journal_add_match(j, keytrail_disjunction[i], 0);
        if (r < 0) {
                fprintf(stderr, "bare-loop: keytrail's matches: %s\n", strerror(-r));
                sd_journal_close(j);
                return 2;
        }

        for (;;) {
                const void *d;
                size_t l;

                r = sd_journal_next(j);
                if (r < 0) {
                        fprintf(stderr, "bare-loop: sd_journal_next: %s\n", strerror(-r));
                        sd_journal_close(j);
                        return 2;
                }
                if (r == 0)
                        break;
                n++;

                r = sd_journal_get_data(j, "MESSAGE", &d, &l);
                if (r >= 0)
                        bytes += l;
                else if (r != -ENOENT) {
                        fprintf(stderr, "bare-loop: MESSAGE: %s\n", strerror(-r));
                        sd_journal_close(j);
                        return 2;
                }
                r = sd_journal_get_data(j, "_PID", &d, &l);
                if (r >= 0)
                        bytes += l;
                else if (r != -ENOENT) {
                        fprintf(stderr, "bare-loop: _PID: %s\n", strerror(-r));
                        sd_journal_close(j);
                        return 2;
                }
        }

        printf("%" PRIu64 " entries %" PRIu64 " bytes %.3f s\n", n, bytes, now() - t0);
        sd_journal_close(j);
        return 0;
}
