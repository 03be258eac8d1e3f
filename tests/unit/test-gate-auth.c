/* SPDX-License-Identifier: MIT */
/*
 * gate_auth_read_file() on real files: the key that completed authentication, and the
 * GATE_AUTH_FILE_MAX boundary (cap - 1, cap, cap + 1): over the cap is -E2BIG, never a file read
 * in part (a cut could drop the last publickey line and name an earlier key).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate-auth.h"
#include "macro.h"
#include "tap.h"

/* ssh-keygen -lf says SHA256:1gFJ1Eot67jeNIEslc6cBs8cazqqgn8LhGaUL1I4Sl8 for this key. */
#define ED_LINE                                                                                    \
        "publickey ssh-ed25519 "                                                                   \
        "AAAAC3NzaC1lZDI1NTE5AAAAIGrj8+AQ/CPz/6TbiA9tFbT9+a7IiSAkg37PAkgeeGIq\n"
#define ED_FP "SHA256:1gFJ1Eot67jeNIEslc6cBs8cazqqgn8LhGaUL1I4Sl8"

static char dir[] = "/tmp/test-gate-auth.XXXXXX";

/* dir/auth: "password\n" padding, then the publickey line last, size bytes in all. */
static int write_auth(size_t size) {
        _cleanup_free_ char *buf = malloc(size);
        _cleanup_free_ char *path = NULL;
        size_t key = strlen(ED_LINE);
        int fd;

        if (!buf || size < key || asprintf(&path, "%s/auth", dir) < 0)
                return -1;
        memset(buf, '\n', size - key);
        if (size - key >= 9)
                memcpy(buf, "password\n", 9);
        memcpy(buf + size - key, ED_LINE, key);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        if (write(fd, buf, size) != (ssize_t) size) {
                (void) close(fd);
                return -1;
        }
        return close(fd);
}

static void read_one(size_t size) {
        _cleanup_free_ char *path = NULL, *fp = NULL, *type = NULL;
        int r;

        if (!tap_ok(write_auth(size) == 0 && asprintf(&path, "%s/auth", dir) >= 0,
                    "an auth file of %zu bytes", size))
                return;
        r = gate_auth_read_file(path, &fp, &type);
        if (size <= GATE_AUTH_FILE_MAX) {
                TAP_IS_INT(r, 1, "%zu bytes (cap %d): read", size, GATE_AUTH_FILE_MAX);
                TAP_IS_STR(fp, ED_FP, "%zu bytes: the last publickey line's fingerprint", size);
                TAP_IS_STR(type, "ED25519", "%zu bytes: its type", size);
        } else {
                TAP_IS_INT(r, -E2BIG, "%zu bytes (cap %d): -E2BIG", size, GATE_AUTH_FILE_MAX);
                tap_ok(!fp && !type, "%zu bytes: outputs untouched", size);
        }
}

int main(void) {
        _cleanup_free_ char *auth = NULL, *link = NULL, *none = NULL;
        char *fp = NULL, *type = NULL;

        if (!mkdtemp(dir))
                return 1;
        read_one(strlen(ED_LINE));
        read_one(GATE_AUTH_FILE_MAX - 1);
        read_one(GATE_AUTH_FILE_MAX);
        read_one(GATE_AUTH_FILE_MAX + 1);

        if (asprintf(&auth, "%s/auth", dir) < 0 || asprintf(&link, "%s/link", dir) < 0 ||
            asprintf(&none, "%s/none", dir) < 0)
                return 1;
        tap_ok(symlink(auth, link) == 0, "a symlink to the auth file");
        TAP_IS_INT(gate_auth_read_file(link, &fp, &type), -ELOOP, "a symlink is not followed");
        TAP_IS_INT(gate_auth_read_file(none, &fp, &type), -ENOENT, "an absent file: -ENOENT");
        TAP_IS_INT(gate_auth_read_file(dir, &fp, &type), -EISDIR, "a directory: -EISDIR");
        tap_ok(!fp && !type, "outputs untouched on errors");

        (void) unlink(link);
        (void) unlink(auth);
        (void) rmdir(dir);
        return tap_done();
}
