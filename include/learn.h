/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * keytrail learn: what history says each key does, written as a proposed policy file
 * (policy-file.h, docs/policy.md) for a person to review. Fed the correlator's decisions (the
 * pipeline's observe hook): per fingerprint the accounts it logged into, its session types, the
 * forced commands it ran and how often, the addresses it came from; per account the keys that
 * logged in. Every table is bounded; what does not fit is counted and said in the output.
 *
 * The learner owns everything in it.
 */

#include <stdint.h>
#include <stdio.h>

#include "macro.h"
#include "session.h"

#define LEARN_KEYS_MAX 65536
#define LEARN_ACCOUNTS_MAX 65536
#define LEARN_VALUES_MAX 1024    /* accounts, commands, sources, keys: per key or account */

struct learn;

struct learn *learn_new(void); /* NULL on OOM only */
struct learn *learn_free(struct learn *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct learn *, learn_free);

/* A decide_fn (session.h) for the pipeline's observe hook; userdata is the learner. */
int learn_decide(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                 const struct decision_ctx *ctx);

/* What it saw: logins learned, and values that did not fit a bounded table. */
uint64_t learn_logins(const struct learn *l);
uint64_t learn_dropped(const struct learn *l);

/* Write the proposed policy. header: a comment line (no newline) saying what was read, or NULL.
 * Returns 0, -EIO. Deterministic: sections and values sorted. */
_warn_unused_ int learn_write(const struct learn *l, const char *header, FILE *f);
