/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The policy: the only place that decides what is an alert. It compares what the correlator saw
 * (struct conn, struct conn_session) with the baseline, and hands each alert to the emit callback
 * exactly once per type per session (per connection for connection-level types).
 *
 * Ownership: the policy borrows the baseline (it must outlive the policy). Alerts passed to emit
 * are valid only during the call.
 */

#include <stdint.h>

#include "alert.h"
#include "baseline.h"
#include "event.h"
#include "macro.h"
#include "policy-file.h"
#include "record.h"
#include "session.h"
#include "trust.h"

typedef int (*alert_fn)(void *userdata, const struct alert *a);

struct policy_config {
        const struct baseline *baseline; /* borrowed */
        const struct policy_file *policy_file; /* borrowed, may be NULL: --policy (policy-file.h) */
        alert_fn emit;
        void *userdata;
        /* The cursor of an entry an alert names as evidence, newly allocated (source_cursor()):
         * asked only for alerts emitted. 0, -ENOENT (none: left out), -ENOMEM. NULL: no evidence. */
        int (*cursor)(void *userdata, const struct entry_ref *ref, char **ret);
        void *cursor_userdata;
};

struct policy;

_warn_unused_ int policy_new(const struct policy_config *cfg, struct policy **ret);
struct policy *policy_free(struct policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy *, policy_free);

/* A decide_fn for the correlator (userdata = the policy). */
int policy_decide(void *policy, enum decision d, struct conn *c, struct conn_session *s,
                  const struct decision_ctx *ctx);

/* An entry claimed to be sshd's (or the gate's) and is not. ev: what it claimed, or NULL. */
_warn_unused_ int policy_spoofed(struct policy *p, const struct log_record *rec,
                                 const struct event *ev, enum trust_verdict v);

/* What a forced-command wrapper (keytrail-gate, sshdo, ...) refused. Borrowed strings. */
struct rejection {
        const char *program;      /* the wrapper's SYSLOG_IDENTIFIER */
        const char *user;
        const char *addr;
        int port;                 /* -1 unknown */
        const char *command;      /* the client's request (SSH_ORIGINAL_COMMAND) */
        const char *reason;
        const char *fingerprint;  /* the key, when the wrapper knew it */
        const char *key_type;
        const char *rule_id;
};

/*
 * A wrapper refused a command: raise command-rejected, once per session. c is the sshd connection
 * the refusal belongs to, or NULL when keytrail has not seen it; s its session (NULL: unknown);
 * rec is the wrapper's entry.
 */
_warn_unused_ int policy_command_rejected(struct policy *p, struct conn *c,
                                          struct conn_session *s, const struct log_record *rec,
                                          const struct rejection *rj);

/* Alerts raised so far. */
uint64_t policy_alerts(const struct policy *p);

/* Judge by another baseline from now on (borrowed; a reload). */
void policy_set_baseline(struct policy *p, const struct baseline *b);
