/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The pipeline wires the stages for one stream of records: provenance (trust) → rules → correlator
 * → policy → the alert callback. Entries are told apart by the program they claim to come from
 * (SYSLOG_IDENTIFIER): sshd's go through the rules and the correlator; keytrail-gate's carry
 * structured fields (gate-log.h) and are joined to their sshd connection by SSH_CONNECTION; those of
 * other forced-command wrappers (sshdo; "only", which logs through logger(1) under the account's
 * name) go through the rules and are joined by user (and address, when they log it). keytrail's commands and the tests drive it the same way, so a test
 * exercises exactly what a user runs. Borrows the rule set and baseline; owns the correlator and
 * the policy.
 */

#include <stdint.h>

#include "baseline.h"
#include "macro.h"
#include "policy.h"
#include "record.h"
#include "rules.h"
#include "source.h"
#include "trust.h"

struct pipeline_config {
        struct rule_set *rules;            /* borrowed */
        const struct baseline *baseline;   /* borrowed */
        const struct policy_file *policy_file; /* borrowed, may be NULL: --policy */
        char **sshd_identifiers;           /* borrowed; SYSLOG_IDENTIFIERs that claim to be sshd */
        struct trust_config trust;         /* borrowed lists: who may write sshd's lines */
        struct trust_config gate_trust;    /* borrowed lists: who may write keytrail-gate's */
        uint64_t session_timeout_usec;
        unsigned max_connections;
        alert_fn emit;
        void *userdata;
        decide_fn observe;                 /* optional: told every correlator decision before the
                                              policy (keytrail report); gets userdata too */
        struct source *source;             /* borrowed, outlives the pipeline: the records' source,
                                              asked for the evidence cursors of the alerts (journal
                                              refs with every part known need none: NULL then) */
};

struct pipeline_stats {
        uint64_t records, matched, unmatched, spoofed, match_errors, gate, wrapper;
        uint64_t duplicates; /* entries stored twice (same boot, timestamps, _PID, message): skipped */
};

/* The SYSLOG_IDENTIFIERs of the forced-command wrappers keytrail reads, NULL-terminated. */
extern const char *const pipeline_wrapper_identifiers[];

/* Journal matches (ANDed) for wrappers that log through logger(1) without a tag, whose
 * SYSLOG_IDENTIFIER is then the account's name (the "only" script), NULL-terminated. The match is
 * wider than the lines wanted (every logger(1) entry): pipeline_feed() drops the others as if
 * never read (see pipeline.c for why). */
extern const char *const pipeline_logger_matches[];

/* What pipeline_feed() keeps of the entries read only through pipeline_logger_matches: those with
 * these too (FIELD=VALUE, ANDed, NULL-terminated). A journal none of whose entries has both is
 * read without that term (journal_source_options.also_kept). */
extern const char *const pipeline_logger_kept[];

struct pipeline;

_warn_unused_ int pipeline_new(const struct pipeline_config *cfg, struct pipeline **ret);
struct pipeline *pipeline_free(struct pipeline *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pipeline *, pipeline_free);

/* Process one record (borrowed for the call). Returns 0, or -errno from a stage or the sink. */
_warn_unused_ int pipeline_feed(struct pipeline *p, const struct log_record *rec);

/* The input ended (scan, report, learn: never follow): the lines still held for a monitor that
 * has not named its child are judged now (correlator_finish()). Returns 0, or -errno. */
_warn_unused_ int pipeline_finish(struct pipeline *p);

/* A record that will be fed soon (source_peek()): fetch the memory its duplicate check will read,
 * so that the cache miss overlaps the records fed before it. Changes nothing. */
void pipeline_prefetch(const struct pipeline *p, const struct log_record *rec);

const struct pipeline_stats *pipeline_stats(const struct pipeline *p);
const struct correlator_stats *pipeline_correlator_stats(const struct pipeline *p);
uint64_t pipeline_alerts(const struct pipeline *p);

/* For keytrail follow. Wall time usec has come with no entry (the clock, once live): each boot's
 * clock moves on by the time elapsed since its last entry (correlator_tick()), deciding the
 * timeouts that passed; machine_id: only that machine's (NULL: every one). 0 or the sink's
 * -errno. */
_warn_unused_ int pipeline_advance(struct pipeline *p, const char *machine_id, uint64_t usec);

/* Open connections now, and the log time of the oldest one's first entry (0: none). */
unsigned pipeline_open_connections(const struct pipeline *p);
uint64_t pipeline_oldest_open_usec(const struct pipeline *p);

/* Use another rule set and baseline from the next record on (both borrowed, as in the config; the
 * old ones may be freed once this returns). Open connections are kept. */
void pipeline_set_rules(struct pipeline *p, struct rule_set *rules, const struct baseline *b);
