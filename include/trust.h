/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Provenance of an entry, first step (docs/security.md). SYSLOG_IDENTIFIER and the text are chosen
 * by the sender and prove nothing. journald's _PID and _UID are the kernel's credentials of the
 * sending socket; _EXE and _COMM are read from /proc at receipt, are missing when the sender has
 * already exited, and _COMM is whatever the process named itself. This module checks what needs no
 * connection state: _EXE (else _COMM) must be one of the program's when journald recorded them
 * (extra evidence, never enough alone), and lines only sshd's privileged monitor writes must carry
 * _UID 0. The second, decisive step is the correlator's: the _PID and _UID must tie the line to the
 * connection (session.h). Root can forge anything and is trusted.
 */

#include <stdbool.h>

#include "event.h"
#include "record.h"

struct trust_config {
        char **exes;  /* borrowed, NULL-terminated: trusted _EXE paths */
        char **comms; /* borrowed, NULL-terminated: trusted _COMM names (used when _EXE is absent) */
        bool ignore_exe; /* judge by _COMM alone (scripts: _EXE is their interpreter) */
};

enum trust_verdict {
        TRUST_OK,
        TRUST_BAD_EXE,   /* _EXE present and not a trusted binary */
        TRUST_BAD_COMM,  /* _EXE absent, _COMM present and not a trusted name */
        TRUST_NOT_ROOT,  /* a monitor-only line from a process that is not uid 0 */
        TRUST_BAD_UID,   /* written by another account (_UID) than the one the line belongs to */
        TRUST_NO_PROVENANCE, /* neither _EXE nor _COMM: nothing says who wrote it */
        TRUST_UNATTESTED, /* from a source with no trusted fields (text logs): taken as written */
        TRUST_NOT_LINKED, /* names an open connection, but its _PID is neither that connection's
                             monitor nor the user child the monitor named */
        TRUST_NOT_SESSION, /* a gate record for a connection with no session that could run it */
        TRUST_NOT_NAMED,  /* held (a user child's line before its monitor named the child), and the
                             input ended with its connection open and no child named */
        _TRUST_VERDICT_MAX,
};

/* Whether this kind of line is written only by sshd's privileged monitor (so needs _UID=0). */
bool trust_kind_needs_root(enum event_kind k);

/* Whether this kind of line is among the last an exiting process writes, when journald may find
 * neither _EXE nor _COMM of it any more. */
bool trust_kind_at_exit(enum event_kind k);

enum {
        TRUST_NEEDS_ROOT = 1 << 0,    /* the line claims to come from a root process */
        TRUST_MAY_BE_BARE = 1 << 1,   /* an entry with neither _EXE nor _COMM is accepted */
};

/* Judge an entry, with TRUST_* flags. Pure function of the record's fields. */
enum trust_verdict trust_check(const struct trust_config *c, const struct log_record *r,
                               unsigned flags);

/* Whether the pipeline goes on with an entry of this verdict: a trusted one, or one no source
 * could attest (text logs; the alerts say where they came from). */
static inline bool trust_verdict_accepted(enum trust_verdict v) {
        return v == TRUST_OK || v == TRUST_UNATTESTED;
}

/* An English phrase for the verdict ("its _EXE is not an sshd binary", ...). */
const char *trust_verdict_to_string(enum trust_verdict v);
