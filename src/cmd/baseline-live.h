/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The live baseline: every account's authorized_keys as sshd finds them now (src/cmd/baseline.c),
 * for `keytrail baseline` to write and `keytrail doctor` to compare with the recorded one. Private
 * to src/cmd/. Needs root to see every account's files.
 */

#include <stdbool.h>

#include "baseline-file.h"

struct baseline_totals {
        bool quiet; /* in: do not log per file (refused files, malformed lines, sshd -T) */
        unsigned accounts, files_read, files_refused, keys, skipped;
};

/* Query sshd -T (falling back on sshd's default AuthorizedKeysFile), read every account's files.
 * 0 and *ret, or -errno after logging. */
int baseline_collect(const char *sshd, struct baseline_file **ret, struct baseline_totals *t);
