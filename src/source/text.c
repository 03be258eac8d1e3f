/* SPDX-License-Identifier: MIT */
/*
 * The text-log source (text-log.h): the line parser, and a reader that merges several files (plain
 * or gzip) by time. Each input reads into its own bounded buffer; a line longer than TEXT_LINE_MAX
 * is cut there and the rest of it dropped (counted). Lines that are not log lines are skipped and
 * counted, the first one remembered as FILE:LINE, like the journal's unreadable entries.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rules.h"
#include "sigbus.h"
#include "string-table.h"
#include "text-log.h"
#include "timeutil.h"

#define TEXT_BUF_SIZE (256 * 1024)

/* ---- the line parser ------------------------------------------------------------------------- */

static const char *const text_format_table[_TEXT_FORMAT_MAX] = {
        [TEXT_FORMAT_SYSLOG] = "syslog",
        [TEXT_FORMAT_SYSLOG_PRECISE] = "short-precise",
        [TEXT_FORMAT_RFC3339] = "rfc3339",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(text_format, enum text_format, text_format_table)

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* n decimal digits at p (caller checked the length). -1 when one is not a digit. */
static int digits(const char *p, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (!is_digit(p[i]))
                        return -1;
                v = v * 10 + (p[i] - '0');
        }
        return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned) (y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static bool leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
        static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return m == 2 && leap(y) ? 29 : d[m - 1];
}

void text_clock_init(struct text_clock *c, uint64_t ref_usec) {
        time_t t = (time_t) (ref_usec / USEC_PER_SEC);
        struct tm tm;

        *c = (struct text_clock){ .ref_usec = ref_usec, .ref_year = 1970 };
        if (localtime_r(&t, &tm))
                c->ref_year = tm.tm_year + 1900;
}

/* The start of a local hour, in seconds since the epoch; mktime() once per hour of log. */
static int local_hour(struct text_clock *c, int y, int mon, int d, int h, int64_t *ret) {
        struct tm tm;
        time_t t;

        if (c->cache_key[0] == y && c->cache_key[1] == mon && c->cache_key[2] == d &&
            c->cache_key[3] == h) {
                *ret = c->cache_usec;
                return 0;
        }
        tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
                          .tm_isdst = -1 };
        t = mktime(&tm);
        if (t == (time_t) -1)
                return -EBADMSG;
        c->cache_key[0] = y;
        c->cache_key[1] = mon;
        c->cache_key[2] = d;
        c->cache_key[3] = h;
        c->cache_usec = (int64_t) t;
        *ret = (int64_t) t;
        return 0;
}

/* ".123456": up to 9 digits of fraction, as microseconds. Returns the bytes used (0: none). */
static size_t parse_fraction(const char *p, size_t len, uint64_t *ret_usec) {
        uint64_t us = 0;
        size_t n = 0, i;

        if (len < 2 || p[0] != '.' || !is_digit(p[1]))
                return 0;
        for (i = 1; i < len && is_digit(p[i]) && n < 9; i++, n++)
                if (n < 6)
                        us = us * 10 + (uint64_t) (p[i] - '0');
        for (; n < 6; n++)
                us *= 10;
        *ret_usec = us;
        return i;
}

#define M3(a, b, c) ((uint32_t) (a) << 16 | (uint32_t) (b) << 8 | (uint32_t) (c))

/* The month "Jan".."Dec" at p (3 bytes), 1-12; 0 when it is none. */
static int month_of(const char *p) {
        switch (M3((unsigned char) p[0], (unsigned char) p[1], (unsigned char) p[2])) {
        case M3('J', 'a', 'n'): return 1;
        case M3('F', 'e', 'b'): return 2;
        case M3('M', 'a', 'r'): return 3;
        case M3('A', 'p', 'r'): return 4;
        case M3('M', 'a', 'y'): return 5;
        case M3('J', 'u', 'n'): return 6;
        case M3('J', 'u', 'l'): return 7;
        case M3('A', 'u', 'g'): return 8;
        case M3('S', 'e', 'p'): return 9;
        case M3('O', 'c', 't'): return 10;
        case M3('N', 'o', 'v'): return 11;
        case M3('D', 'e', 'c'): return 12;
        default: return 0;
        }
}

/* Whether p starts with the date-time of the clock's last line, n bytes of it (15 classic, 19
 * RFC 3339; p has at least n). Those bytes passed every check then and give the same second now. */
static bool stamp_cached(const struct text_clock *c, const char *p, size_t n) {
        uint64_t a[3], b[3];

        if (c->stamp_len != n)
                return false;
        /* Two or three overlapping 8-byte loads instead of a call to memcmp(). */
        memcpy(&a[0], p, 8);
        memcpy(&b[0], c->stamp, 8);
        memcpy(&a[1], p + n - 8, 8);
        memcpy(&b[1], c->stamp + n - 8, 8);
        if (n <= 16)
                return a[0] == b[0] && a[1] == b[1];
        memcpy(&a[2], p + 8, 8);
        memcpy(&b[2], c->stamp + 8, 8);
        return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static void stamp_remember(struct text_clock *c, const char *p, size_t n, int64_t sec) {
        memcpy(c->stamp, p, n);
        c->stamp_len = (uint8_t) n;
        c->stamp_sec = sec;
}

/* "Nov 27 02:52:52" (day space-padded or not), at least 16 bytes of line: the seconds since the
 * epoch in *ret_sec. Returns the bytes used (14-16), 0 when not. */
static size_t parse_classic_seconds(const char *p, size_t len, struct text_clock *clock,
                                    int64_t *ret_sec) {
        int mon, day, hh, mm, ss, year;
        int64_t hour, t;
        size_t i = 4;

        mon = month_of(p);
        if (mon == 0)
                return 0;
        if (p[i] == ' ')
                i++;
        if (i + 1 >= len || !is_digit(p[i]))
                return 0;
        day = p[i++] - '0';
        if (is_digit(p[i]))
                day = day * 10 + (p[i++] - '0');
        if (day < 1 || day > 31 || i + 9 > len || p[i] != ' ' || p[i + 3] != ':' || p[i + 6] != ':')
                return 0;
        hh = digits(p + i + 1, 2);
        mm = digits(p + i + 4, 2);
        ss = digits(p + i + 7, 2);
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
                return 0;
        i += 9;

        /* The year: the ref's, or the one before when that puts the line over a day later. */
        year = clock->ref_year;
        for (int k = 0; k < 2; k++, year--) {
                if (day > days_in_month(year, mon))
                        continue; /* Feb 29: a leap year */
                if (local_hour(clock, year, mon, day, hh, &hour) < 0)
                        return 0;
                t = hour + mm * 60 + ss;
                if (k == 0 && t > 0 && (uint64_t) t > clock->ref_usec / USEC_PER_SEC + 86400)
                        continue;
                if (t < 0)
                        return 0;
                *ret_sec = t;
                return i;
        }
        return 0;
}

/* "Nov 27 02:52:52[.123456] " (day space-padded or not). Returns the bytes used, 0 when not. */
static size_t parse_classic_time(const char *p, size_t len, struct text_clock *clock,
                                 uint64_t *ret_usec, bool *ret_precise) {
        uint64_t frac = 0;
        int64_t t;
        size_t i, f;

        if (len < 16 || p[3] != ' ')
                return 0;
        if (stamp_cached(clock, p, 15)) {
                i = 15;
                t = clock->stamp_sec;
        } else {
                i = parse_classic_seconds(p, len, clock, &t);
                if (i == 0)
                        return 0;
                if (i == 15) /* the usual "Nov 27 02:52:52" or "Nov  7 02:52:52" */
                        stamp_remember(clock, p, 15, t);
        }
        f = parse_fraction(p + i, len - i, &frac);
        *ret_usec = (uint64_t) t * USEC_PER_SEC + frac;
        *ret_precise = f > 0;
        return i + f;
}

/* "2026-11-27T02:52:52[.frac](Z|+HH:MM|+HHMM)". Returns the bytes used, 0 when not. */
static size_t parse_rfc3339(const char *p, size_t len, struct text_clock *clock,
                            uint64_t *ret_usec) {
        int y, mon, d, hh, mm, ss, oh = 0, om = 0, sign = 0;
        uint64_t frac = 0;
        int64_t t, local;
        size_t i = 19;

        if (len < 20)
                return 0;
        if (stamp_cached(clock, p, 19))
                local = clock->stamp_sec;
        else {
                if (p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' ') ||
                    p[13] != ':' || p[16] != ':')
                        return 0;
                y = digits(p, 4);
                mon = digits(p + 5, 2);
                d = digits(p + 8, 2);
                hh = digits(p + 11, 2);
                mm = digits(p + 14, 2);
                ss = digits(p + 17, 2);
                if (y < 1970 || mon < 1 || mon > 12 || d < 1 || d > days_in_month(y, mon) ||
                    hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
                        return 0;
                local = days_from_civil(y, (unsigned) mon, (unsigned) d) * 86400 + hh * 3600 +
                        mm * 60 + ss;
                stamp_remember(clock, p, 19, local);
        }
        i += parse_fraction(p + i, len - i, &frac);
        if (i < len && p[i] == 'Z')
                i++;
        else if (i < len && (p[i] == '+' || p[i] == '-')) {
                sign = p[i] == '+' ? 1 : -1;
                if (i + 6 <= len && p[i + 3] == ':') {
                        oh = digits(p + i + 1, 2);
                        om = digits(p + i + 4, 2);
                        i += 6;
                } else if (i + 5 <= len) {
                        oh = digits(p + i + 1, 2);
                        om = digits(p + i + 3, 2);
                        i += 5;
                } else
                        return 0;
                if (oh < 0 || oh > 23 || om < 0 || om > 59)
                        return 0;
        } else
                return 0;
        t = local - sign * (oh * 3600 + om * 60);
        if (t < 0)
                return 0;
        *ret_usec = (uint64_t) t * USEC_PER_SEC + frac;
        return i;
}

/* journalctl's "-- Boot 0123...cdef --": the boot id. */
static bool parse_boot_marker(const char *p, size_t len, struct strview *ret) {
        static const char prefix[] = "-- Boot ";

        if (len != sizeof(prefix) - 1 + 32 + 3 || memcmp(p, prefix, sizeof(prefix) - 1) != 0 ||
            memcmp(p + len - 3, " --", 3) != 0)
                return false;
        p += sizeof(prefix) - 1;
        if (strspn(p, "0123456789abcdef") < 32)
                return false;
        *ret = (struct strview){ p, 32 };
        return true;
}

/* The bytes that end a tag. */
static const bool tag_end[256] = { ['['] = true, [':'] = true, [' '] = true };

/*
 * The date, time and host of a line, into *l (format, usec, host; boot_id for TEXT_LINE_BOOT):
 * TEXT_LINE_* or -EBADMSG as text_line_parse(). For TEXT_LINE_ENTRY, *ret_tag is where the tag
 * starts: nothing after it can make the line anything but an entry.
 */
static int parse_head(const char *p, size_t len, struct text_clock *clock, struct text_line *l,
                      size_t *ret_tag) {
        bool precise = false;
        const char *sp;
        size_t i, h;

        if (len == 0 || p[0] == ' ' || p[0] == '\t')
                return TEXT_LINE_NOTHING; /* empty, or journalctl's continuation of a message */
        if (len >= 3 && memcmp(p, "-- ", 3) == 0) {
                if (parse_boot_marker(p, len, &l->boot_id))
                        return TEXT_LINE_BOOT;
                return TEXT_LINE_NOTHING; /* "-- No entries --", "-- Logs begin at ..." */
        }
        if (is_digit(p[0])) {
                i = parse_rfc3339(p, len, clock, &l->usec);
                l->format = TEXT_FORMAT_RFC3339;
        } else {
                i = parse_classic_time(p, len, clock, &l->usec, &precise);
                l->format = precise ? TEXT_FORMAT_SYSLOG_PRECISE : TEXT_FORMAT_SYSLOG;
        }
        if (i == 0 || i >= len || p[i] != ' ')
                return -EBADMSG;
        i++;

        /* The host: one word. */
        h = i;
        sp = memchr(p + i, ' ', len - i);
        if (!sp || sp == p + h)
                return -EBADMSG;
        i = (size_t) (sp - p);
        l->host = (struct strview){ p + h, i - h };
        *ret_tag = i + 1;
        return TEXT_LINE_ENTRY;
}

/* The tag (ident, pid) and the message of an entry whose tag starts at i, into *l. */
static void parse_tag(const char *p, size_t len, size_t i, struct text_line *l) {
        size_t t = i;

        /* "TAG[PID]: " or "TAG: ". A tag is a word ending at '[' or ':'; anything else is part of
         * the message (sysklogd's "last message repeated N times"). */
        l->ident = l->pid = STRVIEW_NULL;
        while (i < len && !tag_end[(unsigned char) p[i]])
                i++;
        if (i > t && i < len && p[i] == '[') {
                size_t ps = ++i;

                while (i < len && is_digit(p[i]))
                        i++;
                if (i > ps && i + 1 < len && p[i] == ']' && p[i + 1] == ':') {
                        l->ident = (struct strview){ p + t, ps - 1 - t };
                        l->pid = (struct strview){ p + ps, i - ps };
                        i += 2;
                } else
                        i = t;
        } else if (i > t && i < len && p[i] == ':') {
                l->ident = (struct strview){ p + t, i - t };
                i++;
        } else
                i = t;
        if (l->ident.ptr && i < len && p[i] == ' ')
                i++;
        l->message = (struct strview){ p + i, len - i };
}

static bool holds_tag_end(struct strview v) {
        for (size_t i = 0; i < v.len; i++)
                if (tag_end[(unsigned char) v.ptr[i]])
                        return true;
        return false;
}

int text_line_parse(const char *p, size_t len, struct text_clock *clock, struct text_line *ret) {
        struct text_line l = {};
        size_t tag = 0;
        int r;

        r = parse_head(p, len, clock, &l, &tag);
        if (r == TEXT_LINE_ENTRY)
                parse_tag(p, len, tag, &l);
        if (r == TEXT_LINE_ENTRY || r == TEXT_LINE_BOOT)
                *ret = l;
        return r;
}

/* ---- the source ------------------------------------------------------------------------------ */

struct text_input {
        const char *name;           /* borrowed from the options, "-" shown as "(stdin)" */
        size_t name_len;            /* of input_name() */
        int fd;                     /* owned; -1 when read through gz */
        gzFile gz;                  /* owned, or NULL */
        char *buf;                  /* owned, TEXT_BUF_SIZE */
        size_t start, end;
        bool eof, discarding, done;
        bool regular;               /* a regular file: a read() of it never waits for a writer */
        uint64_t lineno;
        struct text_clock clock;
        char boot_id[33];
        enum text_format format;    /* of its first entry; _TEXT_FORMAT_INVALID before */

        const char *map;            /* owned: a regular file mapped as it was at open, or NULL */
        size_t map_len, map_pos;    /* its bytes, and the offset of the next line in them */
        size_t map_dropped;         /* the pages before this offset are let go (MADV_DONTNEED) */
        struct sigbus_map *slot;    /* map's entry in the SIGBUS handler's table (sigbus.h) */
        bool in_map;                /* lines come from map; once used up, or cut short under us,
                                       read() goes on from map_pos (the file may have grown) */

        bool pending;               /* line: the next entry, views into buf or map */
        struct text_line line;
        uint64_t line_no;
};

/* ---- the reader thread (text_source_start_thread()) ---------------------------------------- */

#define READER_BATCHES 4U
#define BATCH_ENTRIES 2048U
#define BATCH_BYTES (512U * 1024U)     /* full past this; it has room for one more line */
/*
 * Who runs the rules on a message: the reader thread, or the pipeline in the consumer's thread
 * (rule_set_match_ahead() matches what was not matched ahead). Both threads have work of their
 * own, and which one has more depends on the log and the machine, so the reader moves the split:
 * one step towards itself each time it had to wait for the consumer to release a batch, one step
 * away each time it queued a batch the consumer was waiting for. The outcome is the same either
 * way (same event, same counters), and the alerts cannot change.
 */
#define MATCH_SHARE_STEPS 16U

/* One entry read ahead: its fields are offsets into the batch's data, each followed by a NUL. */
struct ahead_entry {
        uint64_t usec;
        uint64_t line_no;
        const struct text_input *input;  /* borrowed from the source: its name for the cursor */
        uint32_t message, message_len, host, host_len, ident, ident_len, pid, pid_len, boot_id;
        bool has_ident, has_pid, has_boot_id, has_match; /* has_match: the batch's match[] of
                                                            this entry holds the rules' outcome */
};

/* Cache-line aligned: the reader writes the batch it fills, and the calling thread the one it
 * reads, per entry. */
struct batch {
        _Alignas(64) struct ahead_entry *e;           /* owned, BATCH_ENTRIES */
        struct rule_match *match;        /* owned, BATCH_ENTRIES: match[i] goes with e[i] */
        size_t n, next;                  /* entries filled; the consumer's next one */
        char *data;                      /* owned, BATCH_BYTES + TEXT_LINE_MAX + 64: the fields,
                                            a line's host to its message, each NUL-terminated
                                            (batch_put_line()), then its boot id (read in
                                            order by the consumer: text_next_borrowed() hands
                                            them out in place) */
        size_t used;
        int end;                         /* 0: more follow; 1: the inputs end after these; < 0:
                                            reading failed after these */
        struct text_source_stats stats;  /* the source's counters when the batch was queued */
        uint64_t skipped;
};

/*
 * Batches go round a ring in order: the reader fills batch k (k % READER_BATCHES) once the consumer
 * has released batch k - READER_BATCHES (consumed > k - READER_BATCHES), and queues it (filled =
 * k + 1); the consumer reads batch k once filled > k, and releases it (consumed = k + 1) when it
 * asks for the entry after its last. filled, consumed and stop are under lock; a batch's contents
 * belong to the reader between its release and its queuing, to the consumer between its queuing
 * and its release. Everything the reader touches in struct text_source (inputs, last, stats,
 * skipped, first_skipped) is the reader's from the start of the thread to its end; the consumer
 * sees the counters through the batches' copies.
 */
struct reader {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t released, queued;
        uint64_t filled, consumed;       /* under lock */
        bool stop;                       /* under lock */
        bool starved;                    /* under lock: the consumer waits for a batch */
        struct batch batches[READER_BATCHES];
        struct rule_matcher *matcher;    /* owned, the reader's; NULL: no matching ahead */
        unsigned share;                  /* the reader's: of every MATCH_SHARE_STEPS entries, how
                                            many it matches (the pipeline matches the others) */
        /* The consumer's: */
        struct batch *cur;
        /* text_next_borrowed()'s record: its fields' data point into cur->data (owned by the
         * batch, never freed here). Written per entry: 64 bytes on each side keep it off the
         * cache lines of what the reader thread reads per entry (share, matcher). */
        char pad_before[64];
        struct log_record rec;
        char pad_after[64];
        int ended;                       /* 0, 1: the end was handed out, < 0: that error */
        struct text_source_stats stats;  /* of the last batch taken */
        uint64_t skipped;
};

struct text_source {
        const struct source_ops *ops; /* first: see source.h */
        struct reader *reader;        /* owned; NULL: records are read in the caller's thread.
                                         Read by the calling thread for every record: kept away
                                         from what the reader thread writes per line (below). */
        struct text_input *inputs;    /* owned */
        size_t n_inputs;
        struct strview *identifiers;  /* owned array of views borrowed from the options; NULL:
                                         every line */
        size_t n_identifiers;
        size_t n_direct;              /* identifiers[0..n_direct) hold no byte that ends a tag;
                                         the others can never be a tag */
        bool tag_direct;              /* no identifier is empty: tag_wanted() applies */
        uint64_t identifier_lens;     /* bit n: an identifier is n bytes long (n < 64) */
        uint32_t *identifier_heads;   /* owned, n_identifiers: each one's first bytes (up to 4,
                                         as loaded from memory), and the mask of those bytes; */
        uint32_t *identifier_masks;   /* NULL: no tag is ruled out by its first bytes */
        size_t n_heads;               /* distinct (head, mask) pairs in them */
        uint64_t since_usec, until_usec;
        bool since_set, until_set;
        struct log_record rec;        /* text_next_borrowed()'s without the reader (owned buffers) */

        /* Written per line, by the reader thread when it runs: 64 bytes apart from the rest. */
        char pad[64];
        struct text_input *last;      /* the input of the entry read last */
        uint64_t skipped;
        char *first_skipped;          /* owned: FILE:LINE */
        const char *first_skipped_why;
        struct text_source_stats stats;
};

static const struct source_ops text_ops;
static int text_next(struct source *src, struct log_record *rec);
static struct reader *reader_free(struct reader *t);

static const char *input_name(const struct text_input *in) {
        return streq(in->name, "-") ? "(stdin)" : in->name;
}

/* FILE:LINE of a record this source handed out, newly allocated (source_cursor()). */
static int text_cursor(struct source *src, const struct entry_ref *ref, record_digest_fn digest,
                       void *userdata, char **ret) {
        const struct text_input *in = ref->text.input;
        char digits_buf[20], *c;
        size_t nd = 0;
        uint64_t v;

        (void) src;
        (void) digest;
        (void) userdata;
        if (ref->kind != ENTRY_REF_TEXT || !in)
                return -ENOENT;
        v = ref->text.line;
        do {
                digits_buf[sizeof(digits_buf) - ++nd] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
        c = malloc(in->name_len + 1 + nd + 1);
        if (!c)
                return -ENOMEM;
        memcpy(c, input_name(in), in->name_len);
        c[in->name_len] = ':';
        memcpy(c + in->name_len + 1, digits_buf + sizeof(digits_buf) - nd, nd);
        c[in->name_len + 1 + nd] = 0;
        *ret = c;
        return 0;
}

/*
 * Regular files are mapped, not read(): one copy less per byte. A file cut short under the scan
 * (copytruncate, or an attacker with write access) makes the pages past its new end raise SIGBUS
 * when touched. The handler (sigbus.h) maps zeroes over the rest of such a mapping and marks it;
 * the reader finds the mark after it scanned a line's bytes (every byte of a line is scanned for
 * its end before the line is used), drops that line and goes on with read() from its start, as if
 * it had read the file cut short from there on: what read() alone would have seen. A cut that
 * lands between that scan and the copy of the line leaves zeroes in that one line (as if the file
 * had held NUL bytes there: hostile input is handled as such).
 */
#define MAP_DROP_STEP (2U * 1024U * 1024U)

/* Map in's regular file (fd, size bytes) when that can be done safely; else leave it to read(). */
static void input_map(struct text_input *in, int fd, uint64_t size) {
        struct sigbus_map *slot;
        void *p;

        if (size == 0 || size > SIZE_MAX / 2)
                return;
        p = mmap(NULL, (size_t) size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
                return;
        slot = sigbus_map_add(p, (size_t) size);
        if (!slot) {
                /* that many files mapped at once, or no handler: read() the rest */
                (void) munmap(p, (size_t) size);
                return;
        }
        (void) madvise(p, (size_t) size, MADV_SEQUENTIAL);
        in->map = p;
        in->map_len = (size_t) size;
        in->slot = slot;
        in->in_map = true;
}

static void input_unmap(struct text_input *in) {
        if (!in->map)
                return;
        sigbus_map_remove(in->slot);
        (void) munmap((void *) in->map, in->map_len);
        in->map = NULL;
        in->slot = NULL;
        in->in_map = false;
}

/* Lines from map_pos on are read() from the file. 0, or -errno. */
static int map_leave(struct text_input *in) {
        in->in_map = false;
        in->start = in->end = 0;
        in->eof = false;
        if (lseek(in->fd, (off_t) in->map_pos, SEEK_SET) < 0)
                return -errno;
        return 0;
}

/* input_line() from the map: 1 with a line, as there; 0 when read() is to go on (map_leave()
 * done), -errno. */
static int map_line(struct text_input *in, const char **ret_p, size_t *ret_len, bool *ret_cut) {
        /* The lines before map_pos are copied out by now: their pages are let go now and then,
         * so that a scan of a huge file does not keep it all mapped (resident) to its end. */
        if (in->map_pos - in->map_dropped >= MAP_DROP_STEP) {
                size_t to = in->map_pos & ~(sigbus_page_size() - 1);

                (void) madvise((char *) in->map + in->map_dropped, to - in->map_dropped,
                               MADV_DONTNEED);
                in->map_dropped = to;
        }
        for (;;) {
                const char *b = in->map + in->map_pos;
                size_t avail = in->map_len - in->map_pos, len;
                const char *nl;

                if (in->discarding) {
                        /* The rest of a cut line. */
                        nl = memchr(b, '\n', avail);
                        if (sigbus_map_hit(in->slot))
                                return map_leave(in);
                        if (!nl) {
                                in->map_pos = in->map_len;
                                return map_leave(in);
                        }
                        in->map_pos += (size_t) (nl + 1 - b);
                        in->discarding = false;
                        continue;
                }
                nl = memchr(b, '\n', MIN(avail, (size_t) TEXT_LINE_MAX + 1));
                if (sigbus_map_hit(in->slot))
                        return map_leave(in);
                if (nl) {
                        len = (size_t) (nl - b);
                        *ret_cut = false;
                        in->map_pos += len + 1;
                } else if (avail > TEXT_LINE_MAX) {
                        len = TEXT_LINE_MAX;
                        *ret_cut = true;
                        in->map_pos += len;
                        in->discarding = true;
                } else
                        return map_leave(in); /* a last line without its newline (yet) */
                in->lineno++;
                *ret_p = b;
                *ret_len = len;
                return 1;
        }
}

static int note_skipped(struct text_source *s, struct text_input *in, uint64_t line,
                        const char *why) {
        if (s->skipped++ > 0)
                return 0;
        s->first_skipped_why = why;
        if (asprintf(&s->first_skipped, "%s:%" PRIu64, input_name(in), line) < 0) {
                s->first_skipped = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* More bytes into in->buf after in->end. 0, or -errno (-EBADMSG: corrupt gzip data). */
static int input_fill(struct text_input *in) {
        ssize_t n;

        if (in->start > 0) {
                memmove(in->buf, in->buf + in->start, in->end - in->start);
                in->end -= in->start;
                in->start = 0;
        }
        if (in->gz) {
                int k = gzread(in->gz, in->buf + in->end, (unsigned) (TEXT_BUF_SIZE - in->end));
                int err = Z_OK;

                if (k < 0) {
                        (void) gzerror(in->gz, &err);
                        return err == Z_ERRNO ? -errno : err == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
                }
                n = k;
                if (n == 0) {
                        /* gzread() says 0 at the end, and at a truncated stream. */
                        (void) gzerror(in->gz, &err);
                        if (err == Z_BUF_ERROR || err == Z_DATA_ERROR)
                                return -EBADMSG;
                }
        } else {
                do
                        n = read(in->fd, in->buf + in->end, TEXT_BUF_SIZE - in->end);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return -errno;
        }
        if (n == 0)
                in->eof = true;
        in->end += (size_t) n;
        return 0;
}

/* The next raw line of in: 1 and *ret_p, *ret_len (in buf, valid until the next call), 0 at the
 * end, -errno. *ret_cut: the line was longer than TEXT_LINE_MAX and is cut. */
static int input_line(struct text_input *in, const char **ret_p, size_t *ret_len, bool *ret_cut) {
        if (in->in_map) {
                int r = map_line(in, ret_p, ret_len, ret_cut);

                if (r != 0)
                        return r;
        }
        for (;;) {
                char *b = in->buf + in->start;
                size_t avail = in->end - in->start;
                char *nl = memchr(b, '\n', avail);
                int r;

                if (in->discarding) {
                        /* The rest of a cut line. */
                        in->start = nl ? (size_t) (nl + 1 - in->buf) : in->end;
                        if (nl)
                                in->discarding = false;
                        else if (in->eof)
                                return 0;
                        else {
                                r = input_fill(in);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (nl || (in->eof && avail > 0) || avail >= TEXT_LINE_MAX) {
                        size_t full = nl ? (size_t) (nl - b) : avail;
                        size_t len = MIN(full, (size_t) TEXT_LINE_MAX);

                        *ret_cut = full > TEXT_LINE_MAX || (!nl && !in->eof);
                        if (*ret_cut) {
                                in->start += len;
                                in->discarding = true;
                        } else
                                in->start += nl ? len + 1 : len;
                        in->lineno++;
                        *ret_p = b;
                        *ret_len = len;
                        return 1;
                }
                if (in->eof)
                        return 0;
                r = input_fill(in);
                if (r < 0)
                        return r;
        }
}

/*
 * Whether a line whose tag starts at p (n bytes to the line's end) may be wanted: false only when
 * its first bytes are none of the identifiers' first bytes, so that no tag parsed from there can
 * equal one (wanted()). Half the lines of a syslog file are other programs': they are counted as
 * entries without their tag parsed.
 */
static bool maybe_wanted(const struct text_source *s, const char *p, size_t n) {
        uint32_t w;

        if (!s->identifier_masks || n < 4)
                return true;
        memcpy(&w, p, 4);
        for (size_t i = 0; i < s->n_heads; i++)
                if ((w & s->identifier_masks[i]) == s->identifier_heads[i])
                        return true;
        return false;
}

static bool wanted(const struct text_source *s, struct strview ident) {
        if (!s->identifiers)
                return true;
        /* Half the lines of a syslog file are other programs': most fail on the length alone. */
        if (ident.len < 64 && !(s->identifier_lens & UINT64_C(1) << ident.len))
                return false;
        for (size_t i = 0; i < s->n_identifiers; i++)
                if (strview_eq(ident, s->identifiers[i]))
                        return true;
        return false;
}

/*
 * parse_tag() and wanted() in one, without the loop over the tag: for a source whose identifiers
 * are none of them empty (s->tag_direct). An identifier that holds a byte that ends a tag never
 * equals a tag; one that holds none is the tag of the line exactly when the line has it at i,
 * followed by '[' or ':' (where parse_tag() ends the tag). Returns whether the tag is one of the
 * identifiers, with l's ident, pid and message then as parse_tag() sets them.
 */
static bool tag_wanted(const struct text_source *s, const char *p, size_t len, size_t i,
                       struct text_line *l) {
        const char *t = p + i;
        size_t n = len - i;

        for (size_t k = 0; k < s->n_direct; k++) {
                struct strview id = s->identifiers[k];
                size_t j = id.len + 1, ps = j;

                if (n <= id.len || (t[id.len] != '[' && t[id.len] != ':') ||
                    memcmp(t, id.ptr, id.len) != 0)
                        continue;
                l->pid = STRVIEW_NULL;
                if (t[id.len] == '[') {
                        while (j < n && is_digit(t[j]))
                                j++;
                        if (j == ps || j + 1 >= n || t[j] != ']' || t[j + 1] != ':')
                                return false; /* no tag: parse_tag() leaves ident NULL */
                        l->pid = (struct strview){ t + ps, j - ps };
                        j += 2;
                }
                l->ident = (struct strview){ t, id.len };
                if (j < n && t[j] == ' ')
                        j++;
                l->message = (struct strview){ t + j, n - j };
                return true;
        }
        return false;
}

static void view_move(struct strview *v, const char *from, const char *to) {
        if (v->ptr)
                v->ptr = to + (v->ptr - from);
}

/*
 * l's views (into the map, the line at p, len bytes) moved to a copy of the line in in->buf
 * (unused while lines come from the map: map_leave() empties it). With several inputs a line
 * waits while the others' come first, as long as the merge says: mapped, a cut of its file in
 * that time (copytruncate) would turn its bytes into zeroes, or into what was written there
 * since. read() keeps a line in buf; so does this.
 */
static void line_keep(struct text_input *in, const char *p, size_t len, struct text_line *l) {
        _Static_assert(TEXT_LINE_MAX <= TEXT_BUF_SIZE, "a line fits in buf");
        memcpy(in->buf, p, len);
        view_move(&l->host, p, in->buf);
        view_move(&l->ident, p, in->buf);
        view_move(&l->pid, p, in->buf);
        view_move(&l->message, p, in->buf);
}

/*
 * Read up to in's next wanted entry into in->line. Returns 0 (in->pending says whether there is
 * one), or -errno. A corrupt gzip stream ends the input (counted as skipped), never the scan.
 * first: a bad line before any entry is -EBADMSG (in->lineno): the input is no text log at all.
 */
static int input_advance(struct text_source *s, struct text_input *in, bool first) {
        in->pending = false;
        while (!in->done) {
                struct text_line l;
                const char *p = NULL;
                size_t len = 0, tag = 0;
                bool cut = false;
                int r;

                r = input_line(in, &p, &len, &cut);
                if (r == -EBADMSG) {
                        in->done = true;
                        return note_skipped(s, in, in->lineno + 1,
                                            "corrupt or truncated gzip data");
                }
                if (r < 0)
                        return r;
                if (r == 0) {
                        in->done = true;
                        break;
                }
                s->stats.lines++;
                if (cut)
                        s->stats.long_lines++;
                if (len > 0 && p[len - 1] == '\r')
                        len--; /* a file that went through Windows */
                r = parse_head(p, len, &in->clock, &l, &tag);
                if (r == -EBADMSG && first && in->format < 0)
                        return -EBADMSG;
                if (r == -EBADMSG) {
                        s->stats.malformed++;
                        r = note_skipped(s, in, in->lineno, "not a log line in a known format");
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r == TEXT_LINE_BOOT) {
                        memcpy(in->boot_id, l.boot_id.ptr, 32);
                        in->boot_id[32] = 0;
                        s->stats.ignored++;
                        continue;
                }
                if (r == TEXT_LINE_NOTHING) {
                        s->stats.ignored++;
                        continue;
                }
                s->stats.entries++;
                if (in->format < 0)
                        in->format = l.format;
                if (!maybe_wanted(s, p + tag, len - tag))
                        continue;
                if (s->tag_direct) {
                        if (!tag_wanted(s, p, len, tag, &l))
                                continue;
                } else {
                        parse_tag(p, len, tag, &l);
                        if (!wanted(s, l.ident))
                                continue;
                }
                if (in->in_map && s->n_inputs > 1)
                        line_keep(in, p, len, &l);
                in->line = l;
                in->line_no = in->lineno;
                in->pending = true;
                break;
        }
        return 0;
}

/*
 * Open in's file. A regular file named by its path is peeked at for gzip's magic bytes (pread()):
 * a plain one is mapped or read(), a gzip one read through zlib. Anything else (standard input "-",
 * a pipe such as /dev/stdin or <(zcat ...), a FIFO, a character device) cannot be peeked at
 * without consuming its bytes: it is read through zlib, which decompresses gzip data and passes
 * anything else through unchanged. A FIFO with no writer makes open() wait for one, as `cat FIFO`
 * does (a signal such as SIGINT ends the wait); the inputs are opened in the order given, each
 * read up to its first entry before the next is opened.
 */
static int open_input(struct text_input *in, const char *path, uint64_t now_usec) {
        _cleanup_close_ int fd = -1;
        unsigned char magic[2];
        struct stat st;
        ssize_t n;
        bool gz = true;

        in->name = path;
        in->name_len = strlen(input_name(in));
        in->fd = -1;
        in->format = _TEXT_FORMAT_INVALID;
        if (streq(path, "-"))
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && !streq(path, "-")) {
                /* Standard input may have been read from already: its offset need not be 0. */
                n = pread(fd, magic, sizeof(magic), 0);
                if (n < 0)
                        return -errno;
                gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        }
        in->regular = S_ISREG(st.st_mode);
        text_clock_init(&in->clock, S_ISREG(st.st_mode) && st.st_mtime > 0
                                            ? (uint64_t) st.st_mtime * USEC_PER_SEC
                                            : now_usec);
        in->buf = malloc(TEXT_BUF_SIZE);
        if (!in->buf)
                return -ENOMEM;
        if (gz) {
                in->gz = gzdopen(fd, "rb");
                if (!in->gz)
                        return -ENOMEM;
                TAKE_FD(fd);
                (void) gzbuffer(in->gz, 128 * 1024);
        } else {
                if (S_ISREG(st.st_mode))
                        input_map(in, fd, (uint64_t) st.st_size);
                in->fd = TAKE_FD(fd);
        }
        return 0;
}

static void text_free(struct source *src) {
        struct text_source *s = (struct text_source *) src;

        s->reader = reader_free(s->reader);
        for (size_t i = 0; i < s->n_inputs; i++) {
                struct text_input *in = &s->inputs[i];

                if (in->gz)
                        (void) gzclose(in->gz);
                input_unmap(in);
                if (in->fd >= 0)
                        (void) close(in->fd);
                free(in->buf);
        }
        free(s->inputs);
        free(s->identifiers);
        free(s->identifier_heads);
        free(s->identifier_masks);
        free(s->first_skipped);
        record_done(&s->rec);
        free(s);
}

/* maybe_wanted()'s table; none (every tag may be wanted) when an identifier is empty. */
static int identifier_heads_init(struct text_source *s) {
        for (size_t i = 0; i < s->n_identifiers; i++)
                if (s->identifiers[i].len == 0)
                        return 0;
        s->identifier_heads = calloc(MAX(s->n_identifiers, (size_t) 1), sizeof(uint32_t));
        s->identifier_masks = calloc(MAX(s->n_identifiers, (size_t) 1), sizeof(uint32_t));
        if (!s->identifier_heads || !s->identifier_masks) {
                free(s->identifier_heads);
                free(s->identifier_masks);
                s->identifier_heads = s->identifier_masks = NULL;
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_identifiers; i++) {
                unsigned char head[4] = {}, mask[4] = {};
                size_t n = MIN(s->identifiers[i].len, (size_t) 4), k;
                uint32_t h, m;

                memcpy(head, s->identifiers[i].ptr, n);
                memset(mask, 0xff, n);
                memcpy(&h, head, 4);
                memcpy(&m, mask, 4);
                /* once each: sshd, sshd-session, sshd-auth and sshdo are one "sshd" */
                for (k = 0; k < s->n_heads; k++)
                        if (s->identifier_heads[k] == h && s->identifier_masks[k] == m)
                                break;
                if (k == s->n_heads) {
                        s->identifier_heads[k] = h;
                        s->identifier_masks[k] = m;
                        s->n_heads++;
                }
        }
        return 0;
}

int text_source_open(const struct text_source_options *o, struct source **ret,
                     const char **reterr_path, uint64_t *reterr_line) {
        struct text_source *s;
        uint64_t now = o->now_usec ?: timeutil_now_usec();
        size_t n = 0;
        int r;

        for (; o->paths && o->paths[n]; n++)
                if (streq(o->paths[n], "-") && n > 0)
                        for (size_t i = 0; i < n; i++)
                                if (streq(o->paths[i], "-")) {
                                        /* Two readers of one pipe would each get half of it. */
                                        *reterr_path = o->paths[n];
                                        *reterr_line = 0;
                                        return -EEXIST;
                                }
        if (n == 0 || n > TEXT_INPUTS_MAX)
                return n == 0 ? -EINVAL : -E2BIG;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->ops = &text_ops;
        if (o->identifiers) {
                while (o->identifiers[s->n_identifiers])
                        s->n_identifiers++;
                s->identifiers = calloc(MAX(s->n_identifiers, (size_t) 1), sizeof(struct strview));
                if (!s->identifiers) {
                        free(s);
                        return -ENOMEM;
                }
                /* Those that can be a tag first (tag_wanted() looks at them alone), then the
                 * others (wanted() compares them in vain: a tag parsed never equals them). */
                s->tag_direct = true;
                for (int pass = 0, k = 0; pass < 2; pass++)
                        for (size_t i = 0; i < s->n_identifiers; i++) {
                                struct strview v = strview_from(o->identifiers[i]);

                                if (holds_tag_end(v) != (pass == 1))
                                        continue;
                                s->identifiers[k++] = v;
                                if (pass == 0)
                                        s->n_direct++;
                                if (v.len < 64)
                                        s->identifier_lens |= UINT64_C(1) << v.len;
                                if (v.len == 0)
                                        s->tag_direct = false;
                        }
                r = identifier_heads_init(s);
                if (r < 0) {
                        free(s->identifiers);
                        free(s);
                        return r;
                }
        }
        s->since_usec = o->since_usec;
        s->until_usec = o->until_usec;
        s->since_set = o->since_set || o->since_usec > 0;
        s->until_set = o->until_set || o->until_usec > 0;
        s->inputs = calloc(n, sizeof(*s->inputs));
        if (!s->inputs) {
                text_free((struct source *) s);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct text_input *in = &s->inputs[i];

                s->n_inputs = i + 1;
                r = open_input(in, o->paths[i], now);
                if (r < 0) {
                        *reterr_path = o->paths[i];
                        *reterr_line = 0;
                        text_free((struct source *) s);
                        return r;
                }
                r = input_advance(s, in, true);
                if (r < 0) {
                        *reterr_path = o->paths[i];
                        *reterr_line = r == -EBADMSG ? in->lineno : 0;
                        text_free((struct source *) s);
                        return r;
                }
        }
        *ret = (struct source *) s;
        return 0;
}

/* The next entry in time order within --since/--until: 1 and *ret_in, whose in->line views into
 * in->buf stay valid until the next call; 0 at the end; -errno. */
static int next_entry(struct text_source *s, struct text_input **ret_in) {
        struct text_input *best;
        const struct text_line *l;
        int r;

        for (;;) {
                if (s->last) {
                        r = input_advance(s, s->last, false);
                        if (r < 0)
                                return r;
                        s->last = NULL;
                }
                best = NULL;
                for (size_t i = 0; i < s->n_inputs; i++) {
                        struct text_input *in = &s->inputs[i];

                        if (in->pending && (!best || in->line.usec < best->line.usec))
                                best = in;
                }
                if (!best)
                        return 0;
                s->last = best;
                l = &best->line;
                if ((s->since_set && l->usec < s->since_usec) ||
                    (s->until_set && l->usec > s->until_usec))
                        continue;
                *ret_in = best;
                return 1;
        }
}

/* record_set() of a view (the record's one buffer takes it at its end: st's record.h). */
static int set_field(struct log_record *rec, enum record_field f, struct strview v) {
        return record_set(rec, f, v.ptr, v.len);
}

/* rec from the parts of line line_no of in (its position: rec->ref). */
static int fill_record(struct log_record *rec, const struct text_input *in, uint64_t line_no,
                       uint64_t usec, struct strview message, struct strview host,
                       struct strview ident, struct strview pid, const char *boot_id) {
        int r;

        record_reset(rec);
        rec->realtime_usec = usec;
        rec->unattested = true;
        r = set_field(rec, RECORD_MESSAGE, message);
        if (r >= 0)
                r = set_field(rec, RECORD_HOSTNAME, host);
        if (r >= 0 && ident.ptr)
                r = set_field(rec, RECORD_SYSLOG_IDENTIFIER, ident);
        if (r >= 0 && pid.ptr)
                r = set_field(rec, RECORD_SYSLOG_PID, pid);
        if (r >= 0 && boot_id)
                r = set_field(rec, RECORD_BOOT_ID, (struct strview){ boot_id, 32 });
        if (r < 0)
                return r;
        rec->ref = (struct entry_ref){ .kind = ENTRY_REF_TEXT,
                                       .text = { .input = in, .line = line_no } };
        return 1;
}

/* ---- the reader thread ----------------------------------------------------------------------- */

static struct reader *reader_free(struct reader *t) {
        if (!t)
                return NULL;
        if (t->thread) {
                pthread_mutex_lock(&t->lock);
                t->stop = true;
                pthread_cond_broadcast(&t->released);
                pthread_mutex_unlock(&t->lock);
                (void) pthread_join(t->thread, NULL);
        }
        pthread_cond_destroy(&t->released);
        pthread_cond_destroy(&t->queued);
        pthread_mutex_destroy(&t->lock);
        for (size_t i = 0; i < READER_BATCHES; i++) {
                free(t->batches[i].e);
                free(t->batches[i].match);
                free(t->batches[i].data);
        }
        rule_matcher_free(t->matcher);
        free(t);
        return NULL;
}

/* v into b's data, NUL-terminated (as a record's field is). */
static uint32_t batch_put(struct batch *b, struct strview v) {
        uint32_t off = (uint32_t) b->used;

        if (v.len > 0)
                memcpy(b->data + b->used, v.ptr, v.len);
        b->data[b->used + v.len] = 0;
        b->used += v.len + 1;
        return off;
}

/*
 * The fields of l into b's data for e, with one copy: they are parts of one line, in the order
 * host, ident, pid, message (parse_head(), parse_tag()), each followed in the line by at least
 * one byte that is none of the next one's (' ', '[', ']', ':'). That byte is a NUL in the copy,
 * and one follows the message: each field NUL-terminated, as a record's is.
 */
static void batch_put_line(struct batch *b, const struct text_line *l, struct ahead_entry *e) {
        const char *from = l->host.ptr, *to = l->message.ptr + l->message.len;
        char *d = b->data + b->used;
        uint32_t at = (uint32_t) b->used;

        assert(l->message.ptr > from + l->host.len && to >= l->message.ptr);
        memcpy(d, from, (size_t) (to - from));
        e->host = at;
        d[l->host.len] = 0;
        if (l->ident.ptr) {
                e->ident = at + (uint32_t) (l->ident.ptr - from);
                d[l->ident.ptr + l->ident.len - from] = 0;
        }
        if (l->pid.ptr) {
                e->pid = at + (uint32_t) (l->pid.ptr - from);
                d[l->pid.ptr + l->pid.len - from] = 0;
        }
        e->message = at + (uint32_t) (l->message.ptr - from);
        d[to - from] = 0;
        b->used += (size_t) (to - from) + 1;
}

/* Fill b with the next entries (the reader thread). */
static void batch_fill(struct text_source *s, struct reader *t, struct batch *b) {
        *b = (struct batch){ .e = b->e, .match = b->match, .data = b->data };
        while (b->n < BATCH_ENTRIES && b->used < BATCH_BYTES) {
                struct ahead_entry *e = &b->e[b->n];
                struct text_input *in;
                const struct text_line *l;
                int r;

                r = next_entry(s, &in);
                if (r <= 0) {
                        b->end = r < 0 ? r : 1;
                        break;
                }
                l = &in->line;
                /* The fields are parts of one line: host to message at most TEXT_LINE_MAX bytes;
                 * with a NUL, and the boot id and its NUL, less than 64 more. */
                *e = (struct ahead_entry){
                        .usec = l->usec,
                        .line_no = in->line_no,
                        .input = in,
                        .message_len = (uint32_t) l->message.len,
                        .host_len = (uint32_t) l->host.len,
                        .ident_len = (uint32_t) l->ident.len,
                        .has_ident = l->ident.ptr,
                        .pid_len = (uint32_t) l->pid.len,
                        .has_pid = l->pid.ptr,
                        .has_boot_id = in->boot_id[0],
                };
                batch_put_line(b, l, e);
                if (e->has_boot_id)
                        e->boot_id = batch_put(b, (struct strview){ in->boot_id, 32 });
                if (t->matcher && e->has_ident) {
                        /* As the record will hold it: cut at RECORD_FIELD_MAX_BYTES. A message
                         * left to the pipeline is still answered here when the matcher's memo
                         * has it (a hash and a compare, far less than running a pattern). */
                        const char *msg = b->data + e->message;
                        size_t len = MIN((size_t) e->message_len, (size_t) RECORD_FIELD_MAX_BYTES);

                        e->has_match = true;
                        if (b->n % MATCH_SHARE_STEPS < t->share)
                                rule_matcher_run(t->matcher, msg, len, &b->match[b->n]);
                        else
                                e->has_match = rule_matcher_recall(t->matcher, msg, len,
                                                                   &b->match[b->n]);
                }
                b->n++;
        }
        b->stats = s->stats;
        b->skipped = s->skipped;
}

static void *reader_main(void *userdata) {
        struct text_source *s = userdata;
        struct reader *t = s->reader;

        for (uint64_t k = 0;; k++) {
                struct batch *b = &t->batches[k % READER_BATCHES];
                bool stop;

                bool waited = false, starved;

                pthread_mutex_lock(&t->lock);
                while (!t->stop && k >= t->consumed + READER_BATCHES) {
                        waited = true;
                        pthread_cond_wait(&t->released, &t->lock);
                }
                stop = t->stop;
                pthread_mutex_unlock(&t->lock);
                if (stop)
                        break;
                if (waited && t->share < MATCH_SHARE_STEPS)
                        t->share++;

                batch_fill(s, t, b);

                pthread_mutex_lock(&t->lock);
                t->filled = k + 1;
                starved = t->starved;
                pthread_cond_signal(&t->queued);
                pthread_mutex_unlock(&t->lock);
                if (starved && t->share > 0)
                        t->share--;
                if (b->end != 0)
                        break;
        }
        return NULL;
}

int text_source_start_thread(struct source *src, struct rule_set *rules) {
        struct text_source *s = (struct text_source *) src;
        struct reader *t;
        int r;

        if (s->reader)
                return -EBUSY;
        /* Freeing the source joins the reader: a reader waiting on a pipe (standard input) could
         * keep a scan that failed from ending until its writer writes or closes. */
        for (size_t i = 0; i < s->n_inputs; i++)
                if (!s->inputs[i].regular)
                        return -EOPNOTSUPP;
        /* aligned for its batches (_Alignas) */
        t = aligned_alloc(_Alignof(struct reader), sizeof(*t));
        if (!t)
                return -ENOMEM;
        memset(t, 0, sizeof(*t));
        if (pthread_mutex_init(&t->lock, NULL) != 0 || pthread_cond_init(&t->released, NULL) != 0 ||
            pthread_cond_init(&t->queued, NULL) != 0) {
                /* cannot fail on Linux; the destroys in reader_free() are no-ops on zeroes */
                reader_free(t);
                return -ENOMEM;
        }
        for (size_t i = 0; i < READER_BATCHES; i++) {
                t->batches[i].e = calloc(BATCH_ENTRIES, sizeof(struct ahead_entry));
                /* match[i] is read only when e[i].has_match: no zeroing */
                t->batches[i].match = aligned_alloc(_Alignof(struct rule_match),
                                                    BATCH_ENTRIES * sizeof(struct rule_match));
                t->batches[i].data = malloc(BATCH_BYTES + TEXT_LINE_MAX + 64);
                if (!t->batches[i].e || !t->batches[i].match || !t->batches[i].data) {
                        reader_free(t);
                        return -ENOMEM;
                }
        }
        if (rules) {
                r = rule_matcher_new(rules, &t->matcher);
                if (r < 0) {
                        reader_free(t);
                        return r;
                }
        }
        t->stats = s->stats;
        t->skipped = s->skipped;
        t->share = MATCH_SHARE_STEPS;
        s->reader = t;
        r = -pthread_create(&t->thread, NULL, reader_main, s);
        if (r < 0) {
                t->thread = 0;
                s->reader = reader_free(t);
                return r;
        }
        return 0;
}

/* The consumer's next entry read ahead: 1 with *ret_e, *ret_m (in t->cur, valid until the next
 * call), 0 at the end, -errno. */
static int reader_take(struct text_source *s, const struct ahead_entry **ret_e,
                       const struct rule_match **ret_m) {
        struct reader *t = s->reader;

        for (;;) {
                if (t->cur && t->cur->next < t->cur->n)
                        break;
                if (t->cur) {
                        if (t->cur->end != 0)
                                t->ended = t->cur->end;
                        pthread_mutex_lock(&t->lock);
                        t->consumed++;
                        pthread_cond_signal(&t->released);
                        pthread_mutex_unlock(&t->lock);
                        t->cur = NULL;
                }
                if (t->ended != 0)
                        return t->ended < 0 ? t->ended : 0;
                pthread_mutex_lock(&t->lock);
                while (t->filled <= t->consumed) {
                        t->starved = true;
                        pthread_cond_wait(&t->queued, &t->lock);
                }
                t->starved = false;
                t->cur = &t->batches[t->consumed % READER_BATCHES];
                pthread_mutex_unlock(&t->lock);
                t->stats = t->cur->stats;
                t->skipped = t->cur->skipped;
        }

        *ret_e = &t->cur->e[t->cur->next];
        *ret_m = &t->cur->match[t->cur->next++];
        return 1;
}

/* The consumer's side of text_next(): the entry copied into rec. */
static int reader_next(struct text_source *s, struct log_record *rec) {
        const struct ahead_entry *e;
        const struct rule_match *m;
        const char *d;
        int r;

        r = reader_take(s, &e, &m);
        if (r <= 0)
                return r;
        d = s->reader->cur->data;
        r = fill_record(rec, e->input, e->line_no, e->usec,
                        (struct strview){ d + e->message, e->message_len },
                        (struct strview){ d + e->host, e->host_len },
                        e->has_ident ? (struct strview){ d + e->ident, e->ident_len }
                                     : STRVIEW_NULL,
                        e->has_pid ? (struct strview){ d + e->pid, e->pid_len } : STRVIEW_NULL,
                        e->has_boot_id ? d + e->boot_id : NULL);
        if (r >= 0 && e->has_match)
                rec->prematch = m;
        return r;
}

/* A field of t->rec: len bytes at d + off (NUL-terminated there), cut as record_set() cuts. */
static void lend_field(struct log_record *rec, enum record_field f, char *d, uint32_t off,
                       size_t len) {
        if (len > RECORD_FIELD_MAX_BYTES) {
                len = RECORD_FIELD_MAX_BYTES;
                d[off + len] = 0; /* the batch is the consumer's until it releases it */
                rec->truncated |= UINT32_C(1) << f;
        }
        rec->field[f] = (struct record_span){ .off = off, .len = (uint32_t) len };
        rec->present |= UINT32_C(1) << f;
}

/*
 * text_next() without the copy when the reader thread runs: the record handed out is the
 * reader's, its fields in the batch's data, as fill_record() would set them (valid until the next
 * call, which may release the batch).
 */
static int text_next_borrowed(struct source *src, const struct log_record **ret) {
        struct text_source *s = (struct text_source *) src;
        struct reader *t = s->reader;
        const struct ahead_entry *e;
        const struct rule_match *m;
        struct log_record *rec;
        char *d;
        int r;

        if (!t) {
                /* No reader thread: the record is the source's own, filled as text_next()'s. */
                *ret = &s->rec;
                return text_next(src, &s->rec);
        }
        r = reader_take(s, &e, &m);
        if (r <= 0)
                return r;
        rec = &t->rec;
        d = t->cur->data;
        /* The record's buffer is the batch's data, lent (record.h: fields are offsets in it) */
        rec->buf = d;
        rec->buf_len = rec->buf_alloc = 0;
        /* Member by member: the fields not present are never read (record_field()). */
        rec->realtime_usec = e->usec;
        rec->monotonic_usec = 0;
        rec->present = rec->truncated = 0;
        rec->unattested = true;
        rec->large = false;
        rec->ref = (struct entry_ref){ .kind = ENTRY_REF_TEXT,
                                       .text = { .input = e->input, .line = e->line_no } };
        rec->prematch = e->has_match ? m : NULL;
        lend_field(rec, RECORD_MESSAGE, d, e->message, e->message_len);
        lend_field(rec, RECORD_HOSTNAME, d, e->host, e->host_len);
        if (e->has_ident)
                lend_field(rec, RECORD_SYSLOG_IDENTIFIER, d, e->ident, e->ident_len);
        if (e->has_pid)
                lend_field(rec, RECORD_SYSLOG_PID, d, e->pid, e->pid_len);
        if (e->has_boot_id)
                lend_field(rec, RECORD_BOOT_ID, d, e->boot_id, 32);
        /* The pipeline reads the fields here, not in a copy: fetch the next entry's while it
         * works on this one (the reader thread wrote them, on another core). */
        if (t->cur->next < t->cur->n) {
                const struct ahead_entry *x = &t->cur->e[t->cur->next];
                const char *xm = (const char *) &t->cur->match[t->cur->next];

                for (uint32_t o = x->host & ~63U; o < x->message + x->message_len; o += 64)
                        __builtin_prefetch(d + o);
                /* what rule_set_match_ahead() reads of an outcome with up to 13 captures */
                __builtin_prefetch(xm);
                __builtin_prefetch(xm + 64);
        }
        *ret = rec;
        return 1;
}

static int text_next(struct source *src, struct log_record *rec) {
        struct text_source *s = (struct text_source *) src;
        struct text_input *in;
        int r;

        if (s->reader)
                return reader_next(s, rec);
        r = next_entry(s, &in);
        if (r <= 0)
                return r;
        return fill_record(rec, in, in->line_no, in->line.usec, in->line.message, in->line.host,
                           in->line.ident, in->line.pid, in->boot_id[0] ? in->boot_id : NULL);
}

static uint64_t text_skipped(const struct source *src) {
        const struct text_source *s = (const struct text_source *) src;

        return s->reader ? s->reader->skipped : s->skipped;
}

static const char *text_first_skipped(const struct source *src, const char **ret_why) {
        const struct text_source *s = (const struct text_source *) src;

        /* The reader sets them once, before it queues the batch that counts the first skip. */
        if (s->reader && s->reader->skipped == 0) {
                if (ret_why)
                        *ret_why = NULL;
                return NULL;
        }
        if (ret_why)
                *ret_why = s->first_skipped_why;
        return s->first_skipped;
}

enum text_format text_source_format(const struct source *src, size_t input) {
        const struct text_source *s = (const struct text_source *) src;

        if (input >= s->n_inputs)
                return _TEXT_FORMAT_INVALID;
        return s->inputs[input].format;
}

const struct text_source_stats *text_source_stats(const struct source *src) {
        const struct text_source *s = (const struct text_source *) src;

        return s->reader ? &s->reader->stats : &s->stats;
}

static const struct source_ops text_ops = {
        .next = text_next,
        .next_borrowed = text_next_borrowed,
        .skipped = text_skipped,
        .first_skipped = text_first_skipped,
        .free = text_free,
        .cursor = text_cursor,
};

