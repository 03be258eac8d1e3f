/* SPDX-License-Identifier: MIT */
/*
 * The file and socket sinks: one line per alert, marks, reading back after a crash (also from a
 * renamed file, and removing a cut line), and a stuck socket reader that never slows an emit.
 * The journal sink needs journald: tests/follow/ covers it.
 */

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"
#include "tap.h"

static const char *tmpdir;
static char out_path[512], sock_path[512];

static struct alert make_alert(unsigned n, char *evidence, size_t size) {
        struct alert a = {
                .type = ALERT_UNKNOWN_KEY,
                .time_usec = 1764200000000000 + n,
                .host = "mirror1",
                .machine_id = "4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8",
                .boot_id = "0b1e5ad2d3c94bd59b4f7a5e0c2b1a01",
                .user = "mirror",
                .fingerprint = "SHA256:v1OYgLqE0uPPeTYTiBk6UCZonQszUikoWIJWyrMJLA0",
                .source_port = 50000,
                .sshd_pid = 7400,
                .session_id = -1,
                .n_evidence = 1,
        };

        (void) snprintf(evidence, size, "s=1;i=%x;b=0b1e;m=1;t=%x;x=2", n, n);
        if (alert_set_message(&a, "Alert number %u.", n) < 0)
                abort();
        a.evidence[0] = evidence;
        return a;
}

static char *slurp(const char *path) {
        static char buf[1 << 16];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return NULL;
        buf[n] = 0;
        return buf;
}

static unsigned count_lines(const char *s) {
        unsigned n = 0;

        for (; s && *s; s++)
                n += *s == '\n';
        return n;
}

static int emit_n(struct sinks *s, unsigned n) {
        char ev[128];
        struct alert a = make_alert(n, ev, sizeof(ev));
        int r = sinks_emit(s, &a);

        alert_done(&a);
        return r;
}

static void test_file(void) {
        _cleanup_(sinks_freep) struct sinks *s = sinks_new(), *t = NULL, *u = NULL;
        _cleanup_(state_freep) struct state *st = NULL;
        _cleanup_free_ char *want = NULL;
        char ev[128], rotated[600];
        struct alert a = make_alert(1, ev, sizeof(ev));
        const char *note = NULL, *text;
        int fd;

        TAP_IS_INT(state_new(&st), 0, "state_new");
        TAP_IS_INT(sinks_add_file(s, out_path), 0, "add a file sink");
        tap_ok(sinks_has(s, SINK_FILE) && !sinks_has(s, SINK_SOCKET), "sinks_has");
        TAP_IS_INT(sinks_emit(s, &a), 0, "emit");
        TAP_IS_INT(alert_to_json(&a, &want), 0, "encode");
        text = slurp(out_path);
        tap_ok(text && strncmp(text, want, strlen(want)) == 0 && text[strlen(want)] == '\n' &&
                       text[strlen(want) + 1] == 0,
               "the file holds the NDJSON line and its newline, nothing else");
        TAP_IS_INT(sinks_save_marks(s, st, NULL), 0, "marks saved");
        tap_ok(state_sink_mark(st, "file") != NULL, "the file sink has a mark");
        tap_ok(state_sink_mark(st, "journal") == NULL, "no journal mark without a journal sink");
        TAP_IS_INT(emit_n(s, 2), 0, "emit past the mark");
        TAP_IS_INT(emit_n(s, 3), 0, "emit past the mark");
        /* A crash in the middle of a write: a cut line at the end. */
        fd = open(out_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        tap_ok(fd >= 0 && write(fd, "{\"boot_id\":\"0b1e", 16) == 16, "a cut line appended");
        if (fd >= 0)
                close(fd);
        s = sinks_free(s);

        t = sinks_new();
        TAP_IS_INT(sinks_add_file(t, out_path), 0, "reopen after the crash");
        TAP_IS_INT(sinks_recover(t, st, &note), 2, "the two alerts past the mark are found");
        TAP_IS_STR(note, NULL, "nothing to say");
        text = slurp(out_path);
        TAP_IS_INT(count_lines(text), 3, "three whole lines");
        tap_ok(text && text[strlen(text) - 1] == '\n', "the cut line is gone");
        TAP_IS_INT(emit_n(t, 2), 0, "alert 2 decided again");
        TAP_IS_INT(emit_n(t, 3), 0, "alert 3 decided again");
        TAP_IS_INT(count_lines(slurp(out_path)), 3, "not written twice");
        TAP_IS_INT(sinks_stats(t)->recovered, 2, "counted as recovered");
        TAP_IS_INT(emit_n(t, 1), 0, "alert 1 (before the mark) again");
        TAP_IS_INT(count_lines(slurp(out_path)), 4,
                   "before the mark is the state's business, not the sink's: written");
        TAP_IS_INT(sinks_save_marks(t, st, NULL), 0, "marks saved");
        TAP_IS_INT(emit_n(t, 4), 0, "emit past the new mark");
        t = sinks_free(t);

        /* logrotate renamed the file before the restart. */
        (void) snprintf(rotated, sizeof(rotated), "%s.1", out_path);
        tap_ok(rename(out_path, rotated) == 0, "rename the output");
        u = sinks_new();
        TAP_IS_INT(sinks_add_file(u, out_path), 0, "a new output file");
        TAP_IS_INT(sinks_recover(u, st, &note), 1, "alert 4 is found in the renamed file");
        TAP_IS_INT(emit_n(u, 4), 0, "alert 4 decided again");
        TAP_IS_INT(count_lines(slurp(out_path)), 0, "not written into the new file");
        TAP_IS_INT(emit_n(u, 5), 0, "alert 5");
        TAP_IS_INT(count_lines(slurp(out_path)), 1, "a new alert goes to the new file");
        (void) unlink(rotated);
        u = sinks_free(u);

        /* The file is gone altogether: said, and nothing recovered. */
        (void) unlink(out_path);
        u = sinks_new();
        TAP_IS_INT(sinks_add_file(u, out_path), 0, "a fresh output file");
        TAP_IS_INT(sinks_recover(u, st, &note), 0, "nothing to find");
        tap_ok(note != NULL, "the loss of the old file is said");
        (void) unlink(out_path);
        alert_done(&a);
}

static int connect_reader(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -1;
        return fd;
}

static void service(struct sinks *s) {
        struct pollfd fds[SINK_SOCKET_READERS_MAX + 1];
        size_t n = sinks_poll_fill(s, fds, ELEMENTSOF(fds));

        (void) poll(fds, n, 100);
        sinks_poll_dispatch(s, fds, n);
}

static double now_sec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_socket(void) {
        _cleanup_(sinks_freep) struct sinks *s = sinks_new();
        _cleanup_free_ char *want = NULL;
        static char buf[1 << 20];
        char ev[128];
        struct alert a = make_alert(1, ev, sizeof(ev));
        struct stat st;
        int fast, slow, fd;
        size_t got = 0;
        double t0, worst = 0;
        bool lines_whole = true;

        fd = open(sock_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        close(fd);
        TAP_IS_INT(sinks_add_socket(s, sock_path), -EEXIST, "a regular file at the path is kept");
        (void) unlink(sock_path);
        TAP_IS_INT(sinks_add_socket(s, sock_path), 0, "listen");
        tap_ok(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0660, "socket mode 0660");
        fast = connect_reader();
        slow = connect_reader();
        tap_ok(fast >= 0 && slow >= 0, "two readers connect");
        service(s);
        TAP_IS_INT(sinks_stats(s)->socket_readers, 2, "both accepted");
        TAP_IS_INT(sinks_emit(s, &a), 0, "emit");
        TAP_IS_INT(alert_to_json(&a, &want), 0, "encode");
        {
                ssize_t n = recv(fast, buf, sizeof(buf) - 1, 0);

                buf[n > 0 ? n : 0] = 0;
                tap_ok(n == (ssize_t) strlen(want) + 1 && strncmp(buf, want, strlen(want)) == 0,
                       "the reader gets the NDJSON line");
        }
        /* The slow reader reads nothing: emits must not wait, and drops are counted. */
        for (unsigned i = 0; i < 20000 && sinks_stats(s)->socket_dropped == 0; i++) {
                t0 = now_sec();
                if (emit_n(s, 100 + i) < 0)
                        break;
                worst = MAX(worst, now_sec() - t0);
                /* the fast reader keeps up */
                while (recv(fast, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                        ;
        }
        tap_ok(sinks_stats(s)->socket_dropped > 0, "a stuck reader's overflow is dropped (%llu)",
               (unsigned long long) sinks_stats(s)->socket_dropped);
        tap_ok(worst < 0.05, "no emit waited for the stuck reader (worst %.6f s)", worst);
        /* What the slow reader gets is whole lines only. */
        for (;;) {
                ssize_t n;

                service(s);
                n = recv(slow, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
                if (n <= 0)
                        break;
                got += (size_t) n;
                if (got >= sizeof(buf) - 1)
                        got = 0;
        }
        buf[got] = 0;
        for (char *p = buf; *p;) {
                char *nl = strchr(p, '\n');

                if (!nl || *p != '{' || nl[-1] != '}') {
                        lines_whole = false;
                        break;
                }
                p = nl + 1;
        }
        tap_ok(lines_whole, "the slow reader's stream is made of whole lines");
        close(slow);
        close(fast);
        service(s);
        service(s);
        TAP_IS_INT(sinks_stats(s)->socket_readers, 0, "readers that left are forgotten");
        s = sinks_free(s);
        tap_ok(access(sock_path, F_OK) < 0, "the socket file is removed at the end");
        alert_done(&a);
}

int main(void) {
        char tmpl[] = "/tmp/test-sink.XXXXXX";

        tmpdir = mkdtemp(tmpl);
        if (!tmpdir)
                return 1;
        (void) snprintf(out_path, sizeof(out_path), "%s/alerts.ndjson", tmpdir);
        (void) snprintf(sock_path, sizeof(sock_path), "%s/alerts.sock", tmpdir);
        test_file();
        test_socket();
        (void) rmdir(tmpdir);
        return tap_done();
}
