/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Text logs: syslog files (Debian's auth.log, the RHEL family's secure, rsyslog's RFC 3339 files)
 * and journalctl's short-iso/short-precise output, as a struct source (source.h) that yields the
 * same struct log_record as the journal. A line gives its time, host, tag and PID and the message;
 * nothing attests who wrote it, so every record is marked unattested (record.h) and its cursor is
 * FILE:LINE.
 *
 * The line parser is a pure function over bytes (plus the local time zone for lines without one),
 * so it can be fuzzed and tested alone.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"
#include "source.h"
#include "strview.h"

struct rule_set;

#define TEXT_LINE_MAX (64 * 1024 + 1024) /* longer lines are cut here (and counted) */
#define TEXT_INPUTS_MAX 256

enum text_format {
        TEXT_FORMAT_SYSLOG,         /* "Nov 27 02:52:52 host tag[pid]: msg": local time, no year */
        TEXT_FORMAT_SYSLOG_PRECISE, /* journalctl -o short-precise: "Nov 27 02:52:52.123456 ..." */
        TEXT_FORMAT_RFC3339,        /* rsyslog's "2026-11-27T02:52:52.123456+00:00 host ...",
                                       journalctl -o short-iso and short-iso-precise */
        _TEXT_FORMAT_MAX,
        _TEXT_FORMAT_INVALID = -EINVAL,
};

const char *text_format_to_string(enum text_format f);

/*
 * How lines without a year or time zone are dated. ref_usec is when the log was last written (the
 * file's mtime): a line is put in the latest year that is not more than a day after it, so a file
 * that runs across New Year gets December in one year and January in the next. Local time is the
 * process's time zone (TZ). The rest is a cache of mktime() results, private to the parser.
 */
struct text_clock {
        uint64_t ref_usec;
        int ref_year;               /* local year of ref_usec; set by text_clock_init() */
        int cache_key[4];           /* year, month, day, hour of cache_usec; year 0: empty */
        int64_t cache_usec;
        /* The date and time to the second of the last line parsed, as written ("Nov 27 02:52:52",
         * "2026-11-27T02:52:52"; stamp_len bytes, 0: none) and what they gave: seconds since the
         * epoch for a classic line, seconds before the zone offset for RFC 3339. A log has several
         * lines a second: the next line with the same bytes skips the parse. */
        char stamp[19];
        uint8_t stamp_len;
        int64_t stamp_sec;
};

void text_clock_init(struct text_clock *c, uint64_t ref_usec);

struct text_line {
        enum text_format format;
        uint64_t usec;
        /* Views into the line. ident and pid are absent (ptr NULL) when the line has no "TAG:" or
         * "TAG[PID]:"; then message is everything after the host. */
        struct strview host, ident, pid, message;
        struct strview boot_id;     /* TEXT_LINE_BOOT: the id of journalctl's "-- Boot ID --" */
};

enum {
        TEXT_LINE_NOTHING = 0,      /* empty, a continuation (leading blank), a journalctl note */
        TEXT_LINE_ENTRY = 1,        /* *ret is an entry */
        TEXT_LINE_BOOT = 2,         /* journalctl's "-- Boot ID --": ret->boot_id */
};

/*
 * Parse one line (len bytes, no newline; any bytes, NUL included). Returns TEXT_LINE_* and fills
 * *ret, or -EBADMSG when it is not a line of any known format (*ret untouched).
 */
_warn_unused_ int text_line_parse(const char *line, size_t len, struct text_clock *clock,
                                  struct text_line *ret);

struct text_source_options {
        char **paths;               /* borrowed, NULL-terminated, at most TEXT_INPUTS_MAX; "-" is
                                       standard input. gzip data (by its magic) goes through zlib */
        char **identifiers;         /* borrowed, NULL-terminated tags to read (NULL: every line) */
        uint64_t since_usec;        /* 0: from the start, unless since_set */
        uint64_t until_usec;        /* 0: to the end, unless until_set */
        bool since_set, until_set;  /* the bound was given: then 0 is a time too (--until @0) */
        uint64_t now_usec;          /* the reference time of standard input; 0: now */
};

/*
 * Open every input and read its first entry. Several inputs are merged by time (rotated files of
 * one host, files of several hosts); lines of one file keep their order. Returns 0 and *ret, or
 * -errno with *reterr_path (the input; borrowed from o) and *reterr_line (0: not about one line):
 * unreadable, -EBADMSG when its first line is not a log line in a known format, -EEXIST when "-"
 * is given twice.
 */
_warn_unused_ int text_source_open(const struct text_source_options *o, struct source **ret,
                                   const char **reterr_path, uint64_t *reterr_line);

/*
 * From now on, read the inputs in a thread of its own, a few batches of entries ahead of
 * source_next(), and when rules is not NULL match each entry's message there too (the record's
 * prematch, for rule_set_match_ahead() with the same set): the caller's thread is left the rest of
 * the pipeline. The records, their order, cursors, counters and errors are those of reading in the
 * caller's thread. rules (borrowed) must outlive the source and load nothing meanwhile. Returns 0,
 * or -errno (the source then reads in the caller's thread as before): -EOPNOTSUPP when an input
 * is not a regular file (standard input, a pipe), -EBUSY when the thread runs already.
 */
int text_source_start_thread(struct source *s, struct rule_set *rules);

/* The format of an input's first entry, or _TEXT_FORMAT_INVALID when it had none (yet). */
enum text_format text_source_format(const struct source *s, size_t input);

struct text_source_stats {
        uint64_t lines, entries, ignored, malformed, long_lines;
};
const struct text_source_stats *text_source_stats(const struct source *s);
