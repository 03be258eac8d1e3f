/* SPDX-License-Identifier: MIT */
/*
 * keytrail-gate: the fingerprint of the key that authenticated, from sshd's ExposeAuthInfo file.
 * Owns nothing beyond what it returns.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "authkeys.h"
#include "gate-auth.h"
#include "io-util.h"

#define PUBLICKEY_PREFIX "publickey "

int gate_auth_parse(const char *buf, size_t len, char **ret_fingerprint, char **ret_key_type) {
        _cleanup_(authkey_freep) struct authkey *k = NULL;
        _cleanup_free_ char *fp = NULL, *type = NULL;
        const char *last = NULL, *what = NULL, *log_name;
        size_t last_len = 0;
        int r;

        assert(buf || len == 0);
        assert(ret_fingerprint);
        assert(ret_key_type);

        /* Lines are in the order the methods succeeded; with AuthenticationMethods
         * "publickey,publickey" the last one is the key that completed authentication. */
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(buf + i, '\n', len - i);
                size_t n = nl ? (size_t) (nl - (buf + i)) : len - i;

                if (n > strlen(PUBLICKEY_PREFIX) &&
                    memcmp(buf + i, PUBLICKEY_PREFIX, strlen(PUBLICKEY_PREFIX)) == 0) {
                        last = buf + i + strlen(PUBLICKEY_PREFIX);
                        last_len = n - strlen(PUBLICKEY_PREFIX);
                }
                i += n + 1;
        }
        if (!last)
                return 0;

        r = authkeys_parse_line(last, last_len, &k, &what);
        if (r == -ENOMEM)
                return r;
        if (r <= 0 || !k->fingerprint)
                return 0;
        fp = strdup(k->fingerprint);
        if (!fp)
                return -ENOMEM;
        log_name = authkey_type_log_name(k->key_type);
        if (log_name) {
                type = strdup(log_name);
                if (!type)
                        return -ENOMEM;
        }
        *ret_fingerprint = TAKE_PTR(fp);
        *ret_key_type = TAKE_PTR(type);
        return 1;
}

int gate_auth_read_file(const char *path, char **ret_fingerprint, char **ret_key_type) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        assert(path);

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_full_fd(fd, GATE_AUTH_FILE_MAX, &buf, &len);
        if (r == -EFBIG)
                return -E2BIG; /* this module's word for "over the cap" (gate-auth.h) */
        if (r < 0)
                return r;
        return gate_auth_parse(buf, len, ret_fingerprint, ret_key_type);
}
