/* SPDX-License-Identifier: MIT */
/* Provenance: which entries count as sshd's, judged on journald's trusted fields. */
#include <stdlib.h>

#include "tap.h"
#include "trust.h"

static char *exes[] = { (char *) "/usr/sbin/sshd", (char *) "/usr/lib/openssh/sshd-session", NULL };
static char *comms[] = { (char *) "sshd", (char *) "sshd-session", NULL };
static const struct trust_config cfg = { .exes = exes, .comms = comms };

/* fields: NULL to leave out */
static enum trust_verdict judge(const char *exe, const char *comm, const char *uid, unsigned flags,
                                const struct trust_config *c) {
        struct log_record r = {};
        enum trust_verdict v;

        if ((exe && record_set(&r, RECORD_EXE, exe, strlen(exe)) < 0) ||
            (comm && record_set(&r, RECORD_COMM, comm, strlen(comm)) < 0) ||
            (uid && record_set(&r, RECORD_UID, uid, strlen(uid)) < 0))
                abort();
        v = trust_check(c, &r, flags);
        record_done(&r);
        return v;
}

int main(void) {
        static char *wcomms[] = { (char *) "sshdo", NULL };
        const struct trust_config wrapper = { .comms = wcomms, .ignore_exe = true };

        TAP_IS_INT(judge("/usr/sbin/sshd", "sshd", "0", TRUST_NEEDS_ROOT, &cfg), TRUST_OK,
                   "the monitor: sshd binary, root");
        TAP_IS_INT(judge("/usr/lib/openssh/sshd-session", "sshd-session", "1001", 0, &cfg), TRUST_OK,
                   "a user child of OpenSSH 10");
        TAP_IS_INT(judge("/usr/bin/logger", "logger", "1000", 0, &cfg), TRUST_BAD_EXE,
                   "logger -t sshd: _EXE gives it away");
        TAP_IS_INT(judge("/usr/bin/logger", "sshd", "0", 0, &cfg), TRUST_BAD_EXE,
                   "a renamed process (prctl) is still caught by _EXE");
        TAP_IS_INT(judge(NULL, "sshd", "1001", 0, &cfg), TRUST_OK,
                   "an exiting child without _EXE: _COMM decides");
        TAP_IS_INT(judge(NULL, "logger", "1000", 0, &cfg), TRUST_BAD_COMM,
                   "an exiting logger without _EXE: _COMM decides");
        TAP_IS_INT(judge("/usr/sbin/sshd", "sshd", "1001", TRUST_NEEDS_ROOT, &cfg), TRUST_NOT_ROOT,
                   "a monitor-only line from a user's sshd process");
        TAP_IS_INT(judge(NULL, "sshd", "1000", TRUST_NEEDS_ROOT, &cfg), TRUST_NOT_ROOT,
                   "a monitor-only line from a process renamed sshd");
        TAP_IS_INT(judge(NULL, NULL, "0", 0, &cfg), TRUST_NO_PROVENANCE,
                   "neither _EXE nor _COMM: not trusted, even from root");
        TAP_IS_INT(judge(NULL, NULL, "1001", TRUST_MAY_BE_BARE, &cfg), TRUST_OK,
                   "neither, on an exit-time line: accepted");
        TAP_IS_INT(judge(NULL, NULL, "1001", TRUST_MAY_BE_BARE | TRUST_NEEDS_ROOT, &cfg),
                   TRUST_NOT_ROOT, "but the root requirement still holds");
        TAP_IS_INT(judge("/usr/bin/python3.11", "sshdo", "1001", 0, &wrapper), TRUST_OK,
                   "a script wrapper: judged by _COMM, its _EXE is the interpreter");
        TAP_IS_INT(judge("/usr/bin/python3.11", "python3", "1001", 0, &wrapper), TRUST_BAD_COMM,
                   "a script wrapper: another _COMM");
        TAP_IS_INT(judge("/usr/bin/python3.11", NULL, "1001", 0, &wrapper), TRUST_BAD_COMM,
                   "a script wrapper: no _COMM");
        tap_ok(trust_kind_needs_root(EVENT_AUTH_ACCEPTED) && trust_kind_needs_root(EVENT_USER_CHILD),
               "accepted and user-child lines are the monitor's");
        tap_ok(!trust_kind_needs_root(EVENT_SESSION_START), "session lines are the user child's");
        tap_ok(trust_kind_at_exit(EVENT_DISCONNECT) && !trust_kind_at_exit(EVENT_SESSION_START),
               "disconnects are exit-time lines, session starts are not");
        for (int v = 0; v < _TRUST_VERDICT_MAX; v++)
                tap_ok(trust_verdict_to_string((enum trust_verdict) v) != NULL, "verdict %d has text",
                       v);
        return tap_done();
}
