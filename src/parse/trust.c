/* SPDX-License-Identifier: MIT */
/* Provenance checks on journald's trusted fields; see trust.h for the policy. */

#include <string.h>

#include "string-table.h"
#include "trust.h"

bool trust_kind_needs_root(enum event_kind k) {
        switch (k) {
        case EVENT_CONNECTION:
        case EVENT_KEY_FOUND:
        case EVENT_AUTH_ACCEPTED:
        case EVENT_AUTH_FAILED:
        case EVENT_AUTH_PARTIAL:
        case EVENT_AUTH_POSTPONED:
        case EVENT_INVALID_USER:
        case EVENT_USER_CHILD:
        case EVENT_SOURCE_REFUSED:
        case EVENT_KEYOPTS_REFUSED:
        case EVENT_PAM_SESSION_CLOSE:
                return true;
        default:
                return false;
        }
}

bool trust_kind_at_exit(enum event_kind k) {
        return IN_SET(k, EVENT_DISCONNECT, EVENT_SESSION_CLOSE, EVENT_PAM_SESSION_CLOSE);
}

static bool in_list(char **l, const char *s) {
        for (char **i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

enum trust_verdict trust_check(const struct trust_config *c, const struct log_record *r,
                               unsigned flags) {
        const char *exe = record_str(r, RECORD_EXE), *comm = record_str(r, RECORD_COMM);
        uid_t uid;
        bool root = record_uid(r, &uid) >= 0 && uid == 0;

        if (r->unattested)
                return TRUST_UNATTESTED;
        if (exe && !c->ignore_exe) {
                if (!in_list(c->exes, exe))
                        return TRUST_BAD_EXE;
        } else if (comm || c->ignore_exe) {
                if (!comm)
                        return TRUST_BAD_COMM;
                if (!in_list(c->comms, comm))
                        return TRUST_BAD_COMM;
        } else if (!(flags & TRUST_MAY_BE_BARE))
                /* A forger that exits at once can leave neither; so can sshd's last lines. */
                return TRUST_NO_PROVENANCE;
        if ((flags & TRUST_NEEDS_ROOT) && !root)
                return TRUST_NOT_ROOT;
        return TRUST_OK;
}

static const char *const trust_verdict_table[_TRUST_VERDICT_MAX] = {
        [TRUST_OK] = "it was written by a trusted binary",
        [TRUST_BAD_EXE] = "journald recorded another program (_EXE) as its writer",
        [TRUST_BAD_COMM] = "journald recorded another process name (_COMM) as its writer",
        [TRUST_NOT_ROOT] = "only sshd's root monitor writes it, but its writer was not root",
        [TRUST_BAD_UID] = "its writer's account (_UID) is not the account it belongs to",
        [TRUST_NO_PROVENANCE] =
                "journald recorded neither its program (_EXE) nor its process name (_COMM)",
        [TRUST_UNATTESTED] = "it comes from a text log, which records no writer",
        [TRUST_NOT_LINKED] = ("it names an open connection, but its writer (_PID) is neither "
                              "that connection's sshd monitor nor the user child it named"),
        [TRUST_NOT_SESSION] = "it names a connection that has started no session",
        [TRUST_NOT_NAMED] = ("it names an open connection whose sshd monitor had named no user "
                             "child when the input ended"),
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(trust_verdict, enum trust_verdict, trust_verdict_table)
