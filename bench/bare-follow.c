/* SPDX-License-Identifier: MIT */
/*
 * bench/bare-follow.c: the floor for bench/follow-latency.sh. The least a journal follower does to
 * see an sshd line: sd-journal on the local journal with SYSLOG_IDENTIFIER=IDENT, from now on;
 * read each new entry's MESSAGE; when it holds NEEDLE, write a one-line JSON record naming the
 * entry's cursor to stdout, as keytrail's alert names it in "evidence". It polls the journal's
 * descriptor every millisecond whatever comes (keytrail backs off when the journal is quiet), and
 * says READY=1 (sd_notify) once it is positioned.
 *
 *   bare-follow IDENT NEEDLE
 *
 * Runs until SIGTERM. Not a product: no rules, no correlation, no state.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) {
        (void) sig;
        stop = 1;
}

static int fail(const char *what, int r) {
        fprintf(stderr, "bare-follow: %s: %s\n", what, strerror(-r));
        return 2;
}

int main(int argc, char **argv) {
        struct sigaction sa = { .sa_handler = on_term };
        struct timespec ts;
        sd_journal *j;
        char match[512];
        int r, fd;

        if (argc != 3) {
                fprintf(stderr, "usage: bare-follow IDENT NEEDLE\n");
                return 2;
        }
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return fail("sd_journal_open", r);
        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", argv[1]);
        r = sd_journal_add_match(j, match, 0);
        if (r < 0)
                return fail("sd_journal_add_match", r);
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        r = sd_journal_seek_realtime_usec(j, (uint64_t) ts.tv_sec * 1000000 +
                                                     (uint64_t) ts.tv_nsec / 1000);
        if (r < 0)
                return fail("sd_journal_seek_realtime_usec", r);
        fd = sd_journal_get_fd(j);
        if (fd < 0)
                return fail("sd_journal_get_fd", fd);
        (void) sd_notify(0, "READY=1");
        while (!stop) {
                const void *d;
                size_t n;

                r = sd_journal_next(j);
                if (r < 0)
                        return fail("sd_journal_next", r);
                if (r == 0) {
                        struct pollfd p = { .fd = fd, .events = (short) sd_journal_get_events(j) };

                        if (poll(&p, 1, 1) < 0 && errno != EINTR)
                                return fail("poll", -errno);
                        (void) sd_journal_process(j);
                        continue;
                }
                if (sd_journal_get_data(j, "MESSAGE", &d, &n) < 0 || !memmem(d, n, argv[2], strlen(argv[2])))
                        continue;
                {
                        char *cursor = NULL;

                        r = sd_journal_get_cursor(j, &cursor);
                        if (r < 0)
                                return fail("sd_journal_get_cursor", r);
                        printf("{\"evidence\":[\"%s\"],\"type\":\"unknown-key\"}\n", cursor);
                        fflush(stdout);
                        free(cursor);
                }
        }
        sd_journal_close(j);
        return 0;
}
