/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The pipeline wires the stages for one stream of records: provenance (trust) → rules → correlator
 * → policy → the alert callback. keytrail's commands and the tests drive it the same way, so a test
 * exercises exactly what a user runs. Borrows the rule set and baseline; owns the correlator and
 * the policy.
 */

#include <stdint.h>

#include "baseline.h"
#include "macro.h"
#include "policy.h"
#include "record.h"
#include "rules.h"
#include "trust.h"

struct pipeline_config {
        struct rule_set *rules;            /* borrowed */
        const struct baseline *baseline;   /* borrowed */
        struct trust_config trust;         /* borrowed lists */
        uint64_t session_timeout_usec;
        unsigned max_connections;
        alert_fn emit;
        void *userdata;
};

struct pipeline_stats {
        uint64_t records, matched, unmatched, spoofed, match_errors;
};

struct pipeline;

_warn_unused_ int pipeline_new(const struct pipeline_config *cfg, struct pipeline **ret);
struct pipeline *pipeline_free(struct pipeline *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pipeline *, pipeline_free);

/* Process one record (borrowed for the call). Returns 0, or -errno from a stage or the sink. */
_warn_unused_ int pipeline_feed(struct pipeline *p, const struct log_record *rec);

const struct pipeline_stats *pipeline_stats(const struct pipeline *p);
const struct correlator_stats *pipeline_correlator_stats(const struct pipeline *p);
uint64_t pipeline_alerts(const struct pipeline *p);
