/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Where records come from. A source yields records in log order; the same pipeline runs on every
 * source, so correlation never depends on which one it is (issue: text syslog files later).
 *
 * The journal source reads sd-journal: the local system journal, a directory (journal-remote
 * output, many hosts) or explicit files, bounded by --since/--until, and only the entries whose
 * SYSLOG_IDENTIFIER is one of the configured identifiers (journal matches, not a scan).
 */

#include <stdint.h>

#include "macro.h"
#include "record.h"

struct source;

/*
 * What every source implements. Each source's private struct begins with a
 * `const struct source_ops *ops` member, through which source_next() and the others below
 * dispatch; the journal (here) and text logs (text-log.h) are the two.
 */
struct source_ops {
        int (*next)(struct source *s, struct log_record *rec);
        uint64_t (*skipped)(const struct source *s);
        const char *(*first_skipped)(const struct source *s, const char **ret_why);
        void (*free)(struct source *s);
};

struct journal_source_options {
        const char *directory;      /* borrowed; NULL for the local system journal */
        char **files;               /* borrowed, NULL-terminated; NULL for none */
        char **identifiers;         /* borrowed, NULL-terminated; SYSLOG_IDENTIFIER matches */
        char **also;                /* borrowed, NULL-terminated FIELD=VALUE matches that all hold
                                       together: entries read in addition (NULL: none) */
        uint64_t since_usec;        /* 0: from the head, unless since_set */
        uint64_t until_usec;        /* 0: to the tail, unless until_set */
        bool since_set, until_set;  /* the bound was given: then 0 is a time too (--until @0) */
};

/* Open. Returns 0 and *ret, or -errno (the directory or a file unreadable, no journal found). */
_warn_unused_ int journal_source_open(const struct journal_source_options *o, struct source **ret);

/*
 * Read the next record into *rec (reusing its buffers). Returns 1 when a record was read, 0 at the end
 * of the range, -errno on failure. Entries that cannot be read (corrupt) are skipped and counted.
 */
_warn_unused_ int source_next(struct source *s, struct log_record *rec);

/* Entries skipped because they could not be read (a corrupt journal). */
uint64_t source_skipped(const struct source *s);

/* The cursor of the first skipped entry (borrowed, NULL when none or unknown), and in *ret_why
 * (may be NULL) what was wrong with it. */
const char *source_first_skipped(const struct source *s, const char **ret_why);

/* The sd_journal handle of a journal source (borrowed, valid as long as s; NULL for another kind
 * of source), for keytrail follow to seek, wait and test cursors on; records keep coming from
 * source_next(). */
struct sd_journal *journal_source_journal(struct source *s);

struct source *source_free(struct source *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct source *, source_free);
