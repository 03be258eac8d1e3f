/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * sshd's effective configuration, as `sshd -T` prints it (one "keyword value..." line each,
 * keywords in lower case), for `keytrail baseline` and `keytrail doctor`. sshd -T needs root, the
 * host keys and /run/sshd; when it fails, the caller says so and falls back on sshd's defaults.
 * Private to src/cmd/.
 */

#include <stddef.h>

#include "macro.h"

#define SSHD_DEFAULT_PATH "/usr/sbin/sshd"
#define SSHD_DEFAULT_AUTHORIZED_KEYS_FILE ".ssh/authorized_keys .ssh/authorized_keys2"

struct sshd_config {
        char **lines; /* owned; "keyword value...", as printed */
        size_t n;
};

void sshd_config_done(struct sshd_config *c);

/*
 * Run `SSHD -T` (no shell; stdin from /dev/null) and keep its output. Returns 0, or -errno when it
 * could not run or exited non-zero, with *reterr_message (may be NULL) set to sshd's first line on
 * stderr or a description (malloc'ed; NULL when none).
 */
int sshd_config_query(const char *sshd, struct sshd_config *ret, char **reterr_message);

/*
 * Run argv[0] (an absolute path; no shell, stdin from /dev/null) and collect its standard output
 * (up to 1 MiB) and error (up to 4 KiB), both NUL-terminated and malloc'ed, and its exit status
 * (128 + N for a signal). A child that keeps its pipes open for 10 s is killed (-ETIMEDOUT).
 * 0, or -errno when it could not be run.
 */
int cmd_run(char *const argv[], char **ret_out, char **ret_err, int *ret_status);

/* The value of keyword (lower case) as printed, or NULL when sshd did not print it. Borrowed. */
const char *sshd_config_get(const struct sshd_config *c, const char *keyword);
