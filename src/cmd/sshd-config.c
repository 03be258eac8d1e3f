/* SPDX-License-Identifier: MIT */
/*
 * Run `sshd -T` and keep its "keyword value" lines. See sshd-config.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshd-config.h"

#define OUTPUT_MAX (1024 * 1024)

void sshd_config_done(struct sshd_config *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->lines[i]);
        free(c->lines);
        *c = (struct sshd_config){};
}

/* Read both pipes to their end (bounded), so that neither can fill and block sshd. */
static int drain(int out_fd, int err_fd, char **ret_out, size_t *ret_len, char **ret_err) {
        _cleanup_free_ char *out = malloc(OUTPUT_MAX + 1), *err = malloc(4096 + 1);
        size_t n_out = 0, n_err = 0;
        struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };

        if (!out || !err)
                return -ENOMEM;
        while (p[0].fd >= 0 || p[1].fd >= 0) {
                int k = poll(p, 2, 10000);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -ETIMEDOUT;
                for (int i = 0; i < 2; i++) {
                        char buf[4096];
                        ssize_t got;

                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        got = read(p[i].fd, buf, sizeof(buf));
                        if (got < 0 && errno == EINTR)
                                continue;
                        if (got <= 0) {
                                p[i].fd = -1;
                                continue;
                        }
                        if (i == 0) {
                                size_t m = MIN((size_t) got, OUTPUT_MAX - n_out);

                                memcpy(out + n_out, buf, m);
                                n_out += m;
                        } else {
                                size_t m = MIN((size_t) got, 4096 - n_err);

                                memcpy(err + n_err, buf, m);
                                n_err += m;
                        }
                }
        }
        out[n_out] = '\0';
        err[n_err] = '\0';
        *ret_out = TAKE_PTR(out);
        *ret_len = n_out;
        *ret_err = TAKE_PTR(err);
        return 0;
}

int cmd_run(char *const argv[], char **ret_out, char **ret_err, int *ret_status) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        _cleanup_close_ int out_r = -1, err_r = -1;
        int out_p[2], err_p[2], status = 0;
        size_t len = 0;
        pid_t pid;
        int r;

        if (pipe2(out_p, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err_p, O_CLOEXEC) < 0) {
                r = -errno;
                (void) close(out_p[0]);
                (void) close(out_p[1]);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void) close(out_p[0]);
                (void) close(out_p[1]);
                (void) close(err_p[0]);
                (void) close(err_p[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_p[1], STDOUT_FILENO) < 0 ||
                    dup2(err_p[1], STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        (void) close(out_p[1]);
        (void) close(err_p[1]);
        out_r = out_p[0];
        err_r = err_p[0];

        r = drain(out_r, err_r, &out, &len, &err);
        if (r < 0)
                (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return r;
        *ret_out = TAKE_PTR(out);
        *ret_err = TAKE_PTR(err);
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

int sshd_config_query(const char *sshd, struct sshd_config *ret, char **reterr_message) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        char *argv[] = { (char *) sshd, (char *) "-T", NULL };
        struct sshd_config c = {};
        int status = 0, r;

        r = cmd_run(argv, &out, &err, &status);
        if (r >= 0 && status != 0)
                r = -EPROTO;
        if (r < 0) {
                if (reterr_message) {
                        size_t l = err ? strcspn(err, "\r\n") : 0;

                        *reterr_message = l > 0 ? strndup(err, l)
                                                : strdup(r == -ETIMEDOUT ? "timed out"
                                                                          : "no message");
                }
                return r;
        }

        for (char *p = out; *p;) {
                size_t l = strcspn(p, "\n");
                char **n;

                if (l > 0) {
                        n = reallocarray(c.lines, c.n + 1, sizeof(char *));
                        if (!n) {
                                sshd_config_done(&c);
                                return -ENOMEM;
                        }
                        c.lines = n;
                        c.lines[c.n] = strndup(p, l);
                        if (!c.lines[c.n]) {
                                sshd_config_done(&c);
                                return -ENOMEM;
                        }
                        c.n++;
                }
                p += l;
                if (*p == '\n')
                        p++;
        }
        *ret = c;
        return 0;
}

const char *sshd_config_get(const struct sshd_config *c, const char *keyword) {
        size_t k = strlen(keyword);

        for (size_t i = 0; i < c->n; i++)
                if (strncmp(c->lines[i], keyword, k) == 0 && c->lines[i][k] == ' ')
                        return c->lines[i] + k + 1;
        return NULL;
}
