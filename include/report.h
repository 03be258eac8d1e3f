/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The forensic report (keytrail report): what every key did, host by host, built from what the
 * pipeline sees: each correlator decision (report_decide(), the pipeline's observe hook), each
 * alert (report_alert(), its emit callback) and each record read (report_record(), for the time
 * covered). Rendered as text (80 columns, terminal-safe), one JSON document (docs/report.md) or
 * one self-contained HTML page with the timeline as inline SVG.
 *
 * Ownership: the report copies what it keeps; the conns, sessions, alerts and records it is shown
 * are borrowed for the call only. It borrows the baseline, which must outlive it. Every table is
 * bounded (the limits below): what does not fit is counted, and the report says "... and N more".
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alert.h"
#include "baseline.h"
#include "macro.h"
#include "record.h"
#include "session.h"

#define REPORT_HOSTS_MAX 1024      /* hosts (machine ids) */
#define REPORT_KEYS_MAX 4096       /* keys, over all hosts (a key used on two hosts counts twice) */
#define REPORT_ACCOUNTS_MAX 16     /* accounts listed per key */
#define REPORT_ADDRS_MAX 32        /* source addresses listed per key */
#define REPORT_COMMANDS_MAX 32     /* (session type, command) pairs listed per key */
#define REPORT_KEY_ALERTS_MAX 32   /* alerts listed under each key */
#define REPORT_ALERTS_MAX 10000    /* alerts listed in full */
#define REPORT_ALERT_BYTES (64u << 20) /* and at most this much of their JSON */
#define REPORT_EVENTS_MAX 50000    /* timeline events */
#define REPORT_SOURCES_MAX 256     /* sources named in the header */
#define REPORT_COMMAND_BYTES 1024  /* a longer command is kept cut, and marked so */
#define REPORT_NAME_BYTES 256      /* the same for account names, addresses, key types */

enum report_format {
        REPORT_FORMAT_TEXT,
        REPORT_FORMAT_JSON,
        REPORT_FORMAT_HTML,
        _REPORT_FORMAT_MAX,
        _REPORT_FORMAT_INVALID = -EINVAL,
};

const char *report_format_to_string(enum report_format f);
enum report_format report_format_from_string(const char *s);

/* Bounds; 0 (or more than the maximum above) means the maximum. Tests lower them. */
struct report_limits {
        unsigned hosts, keys, accounts, addrs, commands, key_alerts, alerts, events;
};

struct report_config {
        const struct baseline *baseline; /* borrowed, may be NULL */
        char **sources;                  /* borrowed for report_new() (copied): what was read, as
                                            named on the command line; NULL-terminated or NULL */
        uint64_t since_usec, until_usec; /* the range asked for; 0: unbounded */
        struct report_limits limits;
};

struct report;

_warn_unused_ int report_new(const struct report_config *cfg, struct report **ret);
struct report *report_free(struct report *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct report *, report_free);

/* Count one record read (borrowed for the call): entries and time covered, per host, and those
 * no source could attest (text logs: the report says it has no trusted fields). */
_warn_unused_ int report_record(struct report *r, const struct log_record *rec);

/* A decide_fn (userdata = the report): logins, sessions, refusals of the keys. Returns 0 or
 * -ENOMEM. */
int report_decide(void *report, enum decision d, struct conn *c, struct conn_session *s,
                  const struct decision_ctx *ctx);

/* An alert_fn (userdata = the report). Returns 0 or -ENOMEM. */
int report_alert(void *report, const struct alert *a);

/* Write the report in format f to out. Returns 0, -ENOMEM, or -EIO when writing failed. */
_warn_unused_ int report_write(struct report *r, enum report_format f, FILE *out);

/* Counts so far, for progress and exit statuses. */
uint64_t report_entries(const struct report *r);
uint64_t report_alerts(const struct report *r);
/* The log time of the first and last record (0 when none). */
void report_time_covered(const struct report *r, uint64_t *ret_first, uint64_t *ret_last);
