/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Drift: the authorized_keys files keytrail follow may read, compared with the baseline file
 * (--baseline FILE) before any key is used. A change raises one baseline-drift alert: a key added
 * (a file that appears for an account that had none included), removed, or whose options
 * (command=, from=, restrict, ...) changed. inotify on the files' folders wakes a rescan; a
 * periodic rescan covers what inotify cannot see. Files keytrail cannot read are not judged (a key
 * is never said removed because its file could not be read); how many is said once. Each change
 * is alerted once per process. The live files can also come as a snapshot file (drift_new()).
 * Private to src/cmd/; logs through cmd-common.
 */

#include <stdint.h>

#include "alert.h"
#include "policy.h"

#define DRIFT_RESCAN_USEC (60 * USEC_PER_SEC)  /* without an inotify event */
#define DRIFT_SETTLE_USEC (200 * USEC_PER_MSEC) /* after one: let the editor finish */
#define DRIFT_ALERTED_MAX 65536                 /* changes remembered (then forgotten, oldest first) */

struct drift;

/*
 * Load baseline_path (strict; errors logged) and watch its files. With live_path (may be NULL),
 * the live keys are not read from the homes but from that file, a snapshot `keytrail baseline`
 * writes as root (contrib/keytrail-keys.service), which is watched instead: the service then needs
 * no access to any home. 0 and *ret, or -errno.
 */
int drift_new(const char *baseline_path, const char *live_path, const char *sshd,
              struct drift **ret);
struct drift *drift_free(struct drift *d);

/*
 * Rescan when due (first call, an inotify event DRIFT_SETTLE_USEC ago, or DRIFT_RESCAN_USEC since
 * the last scan) and hand each new change to emit as a baseline-drift alert. Never blocks. Returns
 * 0, or emit's negative value, -ENOMEM.
 */
int drift_tick(struct drift *d, uint64_t now_mono_usec, alert_fn emit, void *userdata);
