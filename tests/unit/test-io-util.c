/* SPDX-License-Identifier: MIT */
/*
 * loop_write() and read_full_fd() against real files and pipes: short writes through a pipe with
 * a one-page buffer, EINTR from a timer signal while blocked, the cap boundary (cap - 1, cap,
 * cap + 1), and the errors passed through.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io-util.h"
#include "tap.h"

static volatile sig_atomic_t n_alarms;

static void on_alarm(int sig) {
        (void) sig;
        n_alarms++;
}

/* A SIGALRM every 200 us, without SA_RESTART: blocked write()s and read()s return short, or
 * fail with EINTR. */
static void alarms_start(void) {
        struct sigaction sa = { .sa_handler = on_alarm };
        struct itimerval it = { .it_interval = { 0, 200 }, .it_value = { 0, 200 } };

        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGALRM, &sa, NULL);
        n_alarms = 0;
        (void) setitimer(ITIMER_REAL, &it, NULL);
}

static void alarms_stop(void) {
        struct itimerval it = {};

        (void) setitimer(ITIMER_REAL, &it, NULL);
        (void) signal(SIGALRM, SIG_DFL);
}

static void fill(char *p, size_t n, unsigned seed) {
        for (size_t i = 0; i < n; i++)
                p[i] = (char) ((i * 131 + seed) & 0xff);
}

static int tmp_file(const char *data, size_t n) {
        char path[] = "/tmp/test-io-util.XXXXXX";
        int fd = mkstemp(path);

        if (fd < 0)
                return -1;
        (void) unlink(path);
        if (n > 0 && write(fd, data, n) != (ssize_t) n) {
                (void) close(fd);
                return -1;
        }
        (void) lseek(fd, 0, SEEK_SET);
        return fd;
}

/* A child that reads the pipe slowly, in small pieces, and writes what it got to out_fd. */
static pid_t slow_reader(int rfd, int wfd, int out_fd) {
        pid_t pid = fork();

        if (pid != 0)
                return pid;
        (void) close(wfd); /* else the pipe never ends */
        for (;;) {
                char buf[512];
                ssize_t n = read(rfd, buf, sizeof(buf));

                if (n <= 0)
                        _exit(n < 0 ? 1 : 0);
                if (write(out_fd, buf, (size_t) n) != n)
                        _exit(1);
                (void) usleep(50);
        }
}

static void test_write_pipe(void) {
        size_t n = 1024 * 1024;
        _cleanup_free_ char *data = malloc(n), *back = NULL;
        _cleanup_close_ int out = -1;
        int p[2], status = 0, r;
        size_t back_len = 0;
        pid_t pid;

        fill(data, n, 7);
        out = tmp_file(NULL, 0);
        if (!tap_ok(data && out >= 0 && pipe(p) == 0, "write: a pipe and a file"))
                return;
        /* The smallest pipe buffer (one page), so every write(2) of the megabyte is cut short. */
        tap_ok(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0, "write: pipe buffer set to 4096 bytes");
        pid = slow_reader(p[0], p[1], out);
        (void) close(p[0]);
        alarms_start();
        r = loop_write(p[1], data, n);
        alarms_stop();
        (void) close(p[1]);
        (void) waitpid(pid, &status, 0);
        TAP_IS_INT(r, 0, "write: 1 MiB through a one-page pipe, interrupted by signals");
        tap_ok(n_alarms > 10, "write: signals arrived while writing (%d)", (int) n_alarms);
        tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "write: the reader read to the end");
        (void) lseek(out, 0, SEEK_SET);
        r = read_full_fd(out, n, &back, &back_len);
        TAP_IS_INT(r, 0, "write: read back");
        TAP_IS_INT(back_len, n, "write: every byte arrived");
        tap_ok(back && memcmp(back, data, n) == 0, "write: in order, unchanged");
}

static void test_write_errors(void) {
        _cleanup_close_ int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
        char buf[8192];
        int p[2], r;
        size_t total = 0;

        fill(buf, sizeof(buf), 1);
        if (full >= 0)
                TAP_IS_INT(loop_write(full, buf, 10), -ENOSPC, "write: /dev/full gives -ENOSPC");
        else
                tap_ok(1, "# SKIP no /dev/full");
        TAP_IS_INT(loop_write(STDOUT_FILENO, buf, 0), 0, "write: nothing to write is success");

        /* A non-blocking pipe that fills: -EAGAIN, what fitted stays written. */
        if (!tap_ok(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "write: a non-blocking pipe"))
                return;
        (void) fcntl(p[1], F_SETPIPE_SZ, 4096);
        r = loop_write(p[1], buf, sizeof(buf));
        TAP_IS_INT(r, -EAGAIN, "write: a full non-blocking pipe gives -EAGAIN");
        for (;;) {
                ssize_t k = read(p[0], buf, sizeof(buf));

                if (k <= 0)
                        break;
                total += (size_t) k;
        }
        TAP_IS_INT(total, 4096, "write: the bytes that fitted were written");

        /* The reader gone: -EPIPE (SIGPIPE ignored, as the callers' programs do). */
        (void) close(p[0]);
        (void) signal(SIGPIPE, SIG_IGN);
        TAP_IS_INT(loop_write(p[1], buf, 10), -EPIPE, "write: no reader gives -EPIPE");
        (void) signal(SIGPIPE, SIG_DFL);
        (void) close(p[1]);
}

/* A file of size bytes read with cap max: 0 and every byte, or -EFBIG. */
static void read_file_one(size_t size, size_t max) {
        _cleanup_free_ char *data = calloc(size + 1, 1);
        _cleanup_close_ int fd = -1;
        char *got = (char *) "untouched";
        size_t len = 12345;
        int r;

        if (!tap_ok(data != NULL, "read: %zu bytes allocated", size))
                return;
        fill(data, size, (unsigned) size);
        fd = tmp_file(data, size);
        if (!tap_ok(fd >= 0, "read: file of %zu bytes", size))
                return;
        r = read_full_fd(fd, max, &got, &len);
        if (size <= max) {
                TAP_IS_INT(r, 0, "read: %zu bytes, cap %zu: read", size, max);
                TAP_IS_INT(len, size, "read: %zu bytes, cap %zu: length", size, max);
                tap_ok(r == 0 && memcmp(got, data, size) == 0 && got[size] == '\0',
                       "read: %zu bytes, cap %zu: every byte, then a NUL", size, max);
                if (r == 0)
                        free(got);
        } else {
                TAP_IS_INT(r, -EFBIG, "read: %zu bytes, cap %zu: -EFBIG, not cut short", size,
                           max);
                tap_ok(streq(got, "untouched") && len == 12345,
                       "read: %zu bytes, cap %zu: outputs untouched", size, max);
        }
}

static void test_read_cap(void) {
        /* Around the first allocation (4096), a doubling step (8192) and an odd cap. */
        static const size_t caps[] = { 1, 4095, 4096, 4097, 8192, 10000, 65536 };

        read_file_one(0, 0);
        read_file_one(1, 0);
        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                read_file_one(caps[i] - 1, caps[i]);
                read_file_one(caps[i], caps[i]);
                read_file_one(caps[i] + 1, caps[i]);
        }
}

static void test_read_nul(void) {
        static const char data[] = "ab\0cd";
        _cleanup_close_ int fd = tmp_file(data, 5);
        _cleanup_free_ char *got = NULL;
        size_t len = 0;

        TAP_IS_INT(read_full_fd(fd, 100, &got, &len), 0, "read: a file with a NUL");
        tap_ok(len == 5 && got && memcmp(got, data, 6) == 0, "read: the NUL is kept, length 5");
}

/* A child that writes size bytes into the pipe in 100-byte pieces, pausing between them. */
static pid_t slow_writer(int wfd, size_t size) {
        pid_t pid = fork();
        char buf[100];

        if (pid != 0)
                return pid;
        for (size_t done = 0; done < size;) {
                size_t m = MIN(sizeof(buf), size - done);

                fill(buf, m, (unsigned) done);
                if (write(wfd, buf, m) != (ssize_t) m)
                        _exit(1);
                done += m;
                (void) usleep(100);
        }
        _exit(0);
}

static void read_pipe_one(size_t size, size_t max) {
        _cleanup_free_ char *got = NULL;
        int p[2], status = 0, r;
        size_t len = 0;
        bool same = true;
        pid_t pid;

        if (!tap_ok(pipe(p) == 0, "read: a pipe"))
                return;
        pid = slow_writer(p[1], size);
        (void) close(p[1]);
        alarms_start();
        r = read_full_fd(p[0], max, &got, &len);
        alarms_stop();
        (void) close(p[0]);
        (void) waitpid(pid, &status, 0);
        tap_ok(n_alarms > 0, "read: pipe, %zu bytes: signals arrived while reading (%d)", size,
               (int) n_alarms);
        if (size > max) {
                TAP_IS_INT(r, -EFBIG, "read: pipe, %zu bytes, cap %zu: -EFBIG", size, max);
                return;
        }
        TAP_IS_INT(r, 0, "read: pipe, %zu bytes, cap %zu: read through EINTR", size, max);
        TAP_IS_INT(len, size, "read: pipe, %zu bytes, cap %zu: length", size, max);
        for (size_t i = 0; r == 0 && i < len; i++)
                if (got[i] != (char) ((i % 100 * 131 + i / 100 * 100) & 0xff))
                        same = false;
        tap_ok(r == 0 && same, "read: pipe, %zu bytes: in order, unchanged", size);
}

static void test_read_errors(void) {
        _cleanup_close_ int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *got = (char *) "untouched";
        size_t len = 7;

        TAP_IS_INT(read_full_fd(dir, 100, &got, &len), -EISDIR, "read: a directory: -EISDIR");
        tap_ok(streq(got, "untouched") && len == 7, "read: a directory: outputs untouched");
}

int main(void) {
        test_write_pipe();
        test_write_errors();
        test_read_cap();
        test_read_nul();
        read_pipe_one(20000, 20000);
        read_pipe_one(20001, 20000);
        test_read_errors();
        return tap_done();
}
