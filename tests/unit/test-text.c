/* SPDX-License-Identifier: MIT */
/* Text logs: the line parser (every format, years, zones, hostile lines) and the source (plain and
 * gzip files, merging, FILE:LINE cursors, skipped lines, cut lines). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "tap.h"
#include "config.h"
#include "rules.h"
#include "text-log.h"
#include "timeutil.h"
#include "trust.h"

static char tmpdir[] = "/tmp/test-text-XXXXXX";

static uint64_t utc(int y, int mon, int d, int h, int mi, int s) {
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h,
                         .tm_min = mi, .tm_sec = s };
        return (uint64_t) timegm(&tm) * USEC_PER_SEC;
}

static int parse(const char *line, uint64_t ref, struct text_line *l) {
        struct text_clock c;

        text_clock_init(&c, ref);
        return text_line_parse(line, strlen(line), &c, l);
}

static char *sv(struct strview v) {
        static char buf[8][256];
        static unsigned n;
        char *b = buf[n++ % 8];

        if (!v.ptr)
                return NULL;
        (void) snprintf(b, 256, "%.*s", (int) v.len, v.ptr);
        return b;
}

static void test_formats(void) {
        struct text_line l;
        uint64_t ref = utc(2026, 12, 3, 0, 0, 0);

        TAP_IS_INT(parse("Nov 27 02:52:52 mirror1 sshd[812]: Accepted publickey for u from 1.2.3.4 "
                         "port 5 ssh2: ED25519 SHA256:x", ref, &l),
                   TEXT_LINE_ENTRY, "classic syslog line");
        TAP_IS_INT(l.format, TEXT_FORMAT_SYSLOG, "format syslog");
        TAP_IS_INT(l.usec, utc(2026, 11, 27, 2, 52, 52), "time in the ref's year (TZ=UTC)");
        TAP_IS_STR(sv(l.host), "mirror1", "host");
        TAP_IS_STR(sv(l.ident), "sshd", "tag");
        TAP_IS_STR(sv(l.pid), "812", "pid");
        TAP_IS_STR(sv(l.message),
                   "Accepted publickey for u from 1.2.3.4 port 5 ssh2: ED25519 SHA256:x", "message");

        TAP_IS_INT(parse("Nov  7 02:52:52 h CRON[9]: x", ref, &l), TEXT_LINE_ENTRY,
                   "space-padded day");
        TAP_IS_INT(l.usec, utc(2026, 11, 7, 2, 52, 52), "its time");

        TAP_IS_INT(parse("Nov 27 02:52:52.123456 h sshd-session[1234]: Close session", ref, &l),
                   TEXT_LINE_ENTRY, "journalctl short-precise");
        TAP_IS_INT(l.format, TEXT_FORMAT_SYSLOG_PRECISE, "format short-precise");
        TAP_IS_INT(l.usec, utc(2026, 11, 27, 2, 52, 52) + 123456, "microseconds");
        TAP_IS_STR(sv(l.ident), "sshd-session", "tag with a dash");

        TAP_IS_INT(parse("2026-11-27T02:52:52.123456+01:00 h sshd[5]: m", ref, &l), TEXT_LINE_ENTRY,
                   "rsyslog RFC 3339");
        TAP_IS_INT(l.format, TEXT_FORMAT_RFC3339, "format rfc3339");
        TAP_IS_INT(l.usec, utc(2026, 11, 27, 1, 52, 52) + 123456, "offset applied");
        TAP_IS_INT(parse("2026-11-27T02:52:52-0530 h sshd[5]: m", ref, &l), TEXT_LINE_ENTRY,
                   "journalctl short-iso (+HHMM)");
        TAP_IS_INT(l.usec, utc(2026, 11, 27, 8, 22, 52), "negative offset");
        TAP_IS_INT(parse("2026-11-27T02:52:52.5Z h sshd[5]: m", ref, &l), TEXT_LINE_ENTRY, "Z");
        TAP_IS_INT(l.usec, utc(2026, 11, 27, 2, 52, 52) + 500000, "short fraction");

        TAP_IS_INT(parse("Nov 27 02:52:52 h sshd: no pid", ref, &l), TEXT_LINE_ENTRY,
                   "tag, no pid");
        TAP_IS_STR(sv(l.ident), "sshd", "tag");
        tap_ok(!l.pid.ptr, "no pid");
        TAP_IS_STR(sv(l.message), "no pid", "message");
        TAP_IS_INT(parse("Nov 27 02:52:52 h last message repeated 3 times", ref, &l),
                   TEXT_LINE_ENTRY, "no tag at all");
        tap_ok(!l.ident.ptr, "no tag");
        TAP_IS_STR(sv(l.message), "last message repeated 3 times", "message is the rest");
        TAP_IS_INT(parse("Nov 27 02:52:52 h sshd[12x]: m", ref, &l), TEXT_LINE_ENTRY,
                   "a bad pid is no tag");
        tap_ok(!l.ident.ptr && !l.pid.ptr, "no tag, no pid");
        TAP_IS_INT(parse("Nov 27 02:52:52 h sshd[1]:", ref, &l), TEXT_LINE_ENTRY, "empty message");
        TAP_IS_STR(sv(l.message), "", "message empty");

        TAP_IS_INT(parse("-- Boot 0123456789abcdef0123456789abcdef --", ref, &l), TEXT_LINE_BOOT,
                   "journalctl boot marker");
        TAP_IS_STR(sv(l.boot_id), "0123456789abcdef0123456789abcdef", "boot id");
        TAP_IS_INT(parse("-- No entries --", ref, &l), TEXT_LINE_NOTHING, "journalctl note");
        TAP_IS_INT(parse("", ref, &l), TEXT_LINE_NOTHING, "empty line");
        TAP_IS_INT(parse("    continued", ref, &l), TEXT_LINE_NOTHING, "continuation line");
}

static void test_bad(void) {
        static const char *const bad[] = {
                "Foo 27 02:52:52 h sshd[1]: m",
                "Nov 32 02:52:52 h sshd[1]: m",
                "Nov 27 24:52:52 h sshd[1]: m",
                "Nov 27 02:52 h sshd[1]: m",
                "Nov 27 02:52:52",
                "Nov 27 02:52:52 ",
                "Nov 27 02:52:52 host",
                "2026-13-27T02:52:52Z h s: m",
                "2026-02-30T02:52:52Z h s: m",
                "2026-11-27T02:52:52 h s: m",
                "2026-11-27T02:52:52+1 h s: m",
                "2026-11-27T02:52:52+01:0",
                "1969-12-31T23:59:59Z h s: m",
                "garbage",
                "\x1f\x8b\x08",
        };
        struct text_line l;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                TAP_IS_INT(parse(bad[i], utc(2026, 12, 3, 0, 0, 0), &l), -EBADMSG, "bad: '%s'",
                           bad[i]);
        /* with a NUL in it: the parser takes bytes, not C strings */
        {
                static const char nul[] = "Nov 27 02:52:52 h sshd[1]: a\0b";
                struct text_clock c;

                text_clock_init(&c, utc(2026, 12, 3, 0, 0, 0));
                TAP_IS_INT(text_line_parse(nul, sizeof(nul) - 1, &c, &l), TEXT_LINE_ENTRY,
                           "a NUL byte in the message");
                TAP_IS_INT(l.message.len, 3, "kept in the view");
        }
}

static void test_years(void) {
        struct text_line l;

        /* The log was written on 2 January 2027: December is 2026's, January 2027's. */
        uint64_t ref = utc(2027, 1, 2, 10, 0, 0);

        TAP_IS_INT(parse("Dec 31 23:59:59 h sshd[1]: m", ref, &l), TEXT_LINE_ENTRY, "December");
        TAP_IS_INT(l.usec, utc(2026, 12, 31, 23, 59, 59), "December of the year before");
        TAP_IS_INT(parse("Jan  1 00:00:01 h sshd[1]: m", ref, &l), TEXT_LINE_ENTRY, "January");
        TAP_IS_INT(l.usec, utc(2027, 1, 1, 0, 0, 1), "January of the ref's year");
        TAP_IS_INT(parse("Jan  3 00:00:01 h sshd[1]: m", ref, &l), TEXT_LINE_ENTRY,
                   "within a day after the ref");
        TAP_IS_INT(l.usec, utc(2027, 1, 3, 0, 0, 1), "still the ref's year");
        TAP_IS_INT(parse("Feb 29 10:00:00 h sshd[1]: m", utc(2027, 3, 1, 0, 0, 0), &l), -EBADMSG,
                   "Feb 29 with no leap year in reach");
        TAP_IS_INT(parse("Feb 29 10:00:00 h sshd[1]: m", utc(2029, 1, 1, 0, 0, 0), &l),
                   TEXT_LINE_ENTRY, "Feb 29 of the year before");
        TAP_IS_INT(l.usec, utc(2028, 2, 29, 10, 0, 0), "2028");
}

/* One clock across many lines, as a file is read: a line with the date and time of the line before
 * reuses its second (text.c's stamp cache), and must come out as a fresh parse would. */
static void test_clock_cache(void) {
        static const char *const lines[] = {
                "Nov 27 02:52:52 h sshd[1]: a",
                "Nov 27 02:52:52 h sshd[1]: same second",
                "Nov 27 02:52:52.250000 h sshd[1]: same second, precise",
                "Nov 27 02:52:52x h sshd[1]: same bytes, then junk",
                "Nov 27 02:52:5",
                "Nov 27 02:52:53 h sshd[1]: the next second",
                "Nov  7 02:52:53 h sshd[1]: padded day",
                "Nov 7 02:52:53 h sshd[1]: unpadded day",
                "Nov 7 02:52:53 h sshd[1]: unpadded day again",
                "2026-11-27T02:52:52+01:00 h sshd[1]: RFC 3339",
                "2026-11-27T02:52:52Z h sshd[1]: same stamp, another zone",
                "2026-11-27T02:52:52.5-0030 h sshd[1]: and a fraction",
                "2026-11-27T02:52:52 h sshd[1]: no zone",
                "Nov 27 02:52:52 h sshd[1]: classic after RFC 3339",
                "Dec 31 23:59:59 h sshd[1]: the year before",
                "Dec 31 23:59:59 h sshd[1]: the year before, cached",
                "Feb 29 10:00:00 h sshd[1]: no leap year in reach",
                "Feb 29 10:00:00 h sshd[1]: still none",
        };
        uint64_t refs[] = { utc(2026, 12, 3, 0, 0, 0), utc(2027, 1, 2, 10, 0, 0) };
        unsigned n_entries = 0;

        for (size_t k = 0; k < ELEMENTSOF(refs); k++) {
                struct text_clock shared;

                text_clock_init(&shared, refs[k]);
                for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                        struct text_line a = {}, b = {};
                        int ra, rb;

                        ra = text_line_parse(lines[i], strlen(lines[i]), &shared, &a);
                        rb = parse(lines[i], refs[k], &b);
                        tap_ok(ra == rb && a.usec == b.usec && a.format == b.format &&
                                       a.message.len == b.message.len,
                               "ref %zu, '%s': %d %" PRIu64 " as a fresh clock's %d %" PRIu64, k,
                               lines[i], ra, a.usec, rb, b.usec);
                        if (ra == TEXT_LINE_ENTRY)
                                n_entries++;
                }
        }
        TAP_IS_INT(n_entries, 2 * 13, "13 of the lines are entries, with either ref");
}

static char *write_file(const char *name, const char *content, bool gz, time_t mtime) {
        char *path = NULL;
        struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

        if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
                abort();
        if (gz) {
                gzFile g = gzopen(path, "wb");

                if (!g || gzwrite(g, content, (unsigned) strlen(content)) != (int) strlen(content))
                        abort();
                gzclose(g);
        } else {
                FILE *f = fopen(path, "we");

                if (!f || fputs(content, f) < 0)
                        abort();
                fclose(f);
        }
        if (utimes(path, tv) < 0)
                abort();
        return path;
}

/* Everything a record carries, as one string, to compare two reads. */
static char *record_dump(struct source *src, const struct log_record *rec) {
        char *cursor = NULL, *d = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&d, &size);

        if (!f)
                return NULL;
        fprintf(f, "%" PRIu64 " %d", rec->realtime_usec, rec->unattested);
        for (int i = 0; i < _RECORD_FIELD_MAX; i++)
                if (record_has(rec, i))
                        fprintf(f, " %d=%zu:%.*s%s", i, record_field(rec, i).len,
                                (int) record_field(rec, i).len, record_field(rec, i).ptr,
                                record_truncated(rec, i) ? "(cut)" : "");
        if (source_cursor(src, &rec->ref, NULL, NULL, &cursor) >= 0)
                fprintf(f, " @%s", cursor);
        free(cursor);
        fclose(f);
        return d;
}

/* The reader thread (text_source_start_thread()) hands out the records, cursors, counters and
 * matches that reading in the caller's thread does: several batches' worth, cut lines, junk,
 * boot markers, two files merged, --since. */
static void test_thread(void) {
        time_t ref = (time_t) (utc(2026, 12, 3, 0, 0, 0) / USEC_PER_SEC);
        _cleanup_(rule_set_freep) struct rule_set *rules = rule_set_new();
        struct rule_load_error err = {};
        char *paths[3], *ids[] = { (char *) "sshd", (char *) "sshd-session", NULL };
        size_t big_len = 3 * 1024 * 1024;
        char *big = malloc(big_len), *p = big;
        char *small, *path_big;
        unsigned long long want_n = 0;

        if (!big || !rules)
                return (void) tap_ok(false, "allocate");
        TAP_IS_INT(rule_set_load_dir(rules, SOURCE_RULESDIR, &err), 0, "the shipped rules load");
        for (unsigned i = 0; p < big + big_len - 80 * 1024; i++) {
                int sec = (int) (i / 7) % 60, min = (int) (i / 420) % 60;

                if (i % 997 == 0)
                        p += sprintf(p, "-- Boot %032x --\n", i);
                else if (i % 1009 == 0)
                        p += sprintf(p, "junk line %u\n", i);
                else if (i % 4001 == 0) {
                        /* a line longer than TEXT_LINE_MAX: cut, and the cut message refused */
                        p += sprintf(p, "Nov 27 02:%02d:%02d h sshd[%u]: Accepted ", min, sec, i);
                        memset(p, 'x', TEXT_LINE_MAX + 10);
                        p += TEXT_LINE_MAX + 10;
                        *p++ = '\n';
                } else
                        p += sprintf(p, "Nov 27 02:%02d:%02d host%u %s[%u]: %s %u from 10.0.0.%u "
                                        "port %u ssh2\n",
                                     min, sec, i % 3, i % 5 == 0 ? "CRON" : "sshd", 100 + i % 50,
                                     i % 2 ? "Failed password for" : "Accepted password for", i,
                                     i % 250, 1024 + i);
        }
        path_big = write_file("big.log", (*p = 0, big), false, ref);
        small = write_file("small.log",
                           "Nov 27 02:00:30 other sshd[7]: Connection closed by 10.0.0.9 port 22\n"
                           "Nov 27 02:00:31 other sshd-session[7]: Close session: user u from "
                           "10.0.0.9 port 22 id 0\n",
                           false, ref);
        paths[0] = path_big;
        paths[1] = small;
        paths[2] = NULL;

        for (int since = 0; since < 2; since++) {
                struct text_source_options o = { .paths = paths, .identifiers = ids };
                struct source *a = NULL, *b = NULL;
                struct log_record ra = {}, rb = {};
                const char *ep = NULL, *wa = NULL, *wb = NULL;
                uint64_t el = 0;
                unsigned long long same = 0, differ = 0, ahead = 0, matched = 0, too_long = 0;
                int ka, kb;

                if (since) {
                        o.since_usec = utc(2026, 11, 27, 2, 10, 0);
                        o.since_set = true;
                }
                TAP_IS_INT(text_source_open(&o, &a, &ep, &el), 0, "open, one thread");
                TAP_IS_INT(text_source_open(&o, &b, &ep, &el), 0, "open, reader thread");
                TAP_IS_INT(text_source_start_thread(b, rules), 0, "start the reader thread");
                TAP_IS_INT(text_source_start_thread(b, rules), -EBUSY, "only one");
                for (;;) {
                        char *da, *db;

                        ka = source_next(a, &ra);
                        kb = source_next(b, &rb);
                        if (ka <= 0 || kb <= 0)
                                break;
                        da = record_dump(a, &ra);
                        db = record_dump(b, &rb);
                        if (da && db && streq(da, db))
                                same++;
                        else if (differ++ < 3)
                                tap_diag("differ: '%.100s' and '%.100s'", da, db);
                        if (rb.prematch) {
                                struct event ea = {}, eb = {};
                                struct rule_set_stats s0, s1, s2;
                                int ma, mb;

                                ahead++;
                                rule_set_get_stats(rules, &s0);
                                ma = rule_set_match(rules, record_str(&ra, RECORD_MESSAGE),
                                                    ra.field[RECORD_MESSAGE].len, &ea);
                                rule_set_get_stats(rules, &s1);
                                mb = rule_set_match_ahead(rules, rb.prematch,
                                                          record_str(&rb, RECORD_MESSAGE),
                                                          rb.field[RECORD_MESSAGE].len, &eb);
                                rule_set_get_stats(rules, &s2);
                                matched += ma == 1;
                                too_long += ma == -E2BIG;
                                if (ma != mb || ea.kind != eb.kind || ea.rule_id != eb.rule_id ||
                                    s1.messages - s0.messages != s2.messages - s1.messages ||
                                    s1.attempts - s0.attempts != s2.attempts - s1.attempts ||
                                    s1.too_long - s0.too_long != s2.too_long - s1.too_long)
                                        differ++;
                                for (int f = 0; f < _EVENT_FIELD_MAX; f++)
                                        if (!ea.field[f].ptr != !eb.field[f].ptr ||
                                            ea.field[f].len != eb.field[f].len ||
                                            (ea.field[f].ptr &&
                                             ea.field[f].ptr - record_str(&ra, RECORD_MESSAGE) !=
                                                     eb.field[f].ptr -
                                                             record_str(&rb, RECORD_MESSAGE)))
                                                differ++;
                        }
                        free(da);
                        free(db);
                }
                TAP_IS_INT(ka, 0, "one thread: the end");
                TAP_IS_INT(kb, 0, "reader thread: the end, at the same record");
                TAP_IS_INT(differ, 0, "no record, cursor or match differs");
                tap_ok(same > (since ? 8000 : 20000), "%llu records alike", same);
                /* the reader matches ahead its share; the pipeline matches the rest itself */
                tap_ok(ahead > 0 && ahead <= same, "matched ahead: %llu of %llu", ahead, same);
                tap_ok(matched > same / 2 && too_long > 0, "%llu matched a rule, %llu too long",
                       matched, too_long);
                if (!since)
                        want_n = same;
                else
                        tap_ok(same < want_n, "--since drops the earlier ones (%llu < %llu)", same,
                               want_n);
                TAP_IS_INT(text_source_stats(b)->lines, text_source_stats(a)->lines, "lines");
                TAP_IS_INT(text_source_stats(b)->entries, text_source_stats(a)->entries, "entries");
                TAP_IS_INT(text_source_stats(b)->malformed, text_source_stats(a)->malformed,
                           "malformed");
                tap_ok(text_source_stats(b)->malformed > 10, "some malformed");
                TAP_IS_INT(text_source_stats(b)->long_lines, text_source_stats(a)->long_lines,
                           "long lines");
                TAP_IS_INT(source_skipped(b), source_skipped(a), "skipped");
                TAP_IS_STR(source_first_skipped(b, &wb), source_first_skipped(a, &wa),
                           "first skipped");
                TAP_IS_STR(wb, wa, "why");
                record_done(&ra);
                record_done(&rb);
                source_free(a);
                source_free(b);
        }

        /* Not from a pipe: a reader blocked on it would hold up the end of a failed scan. */
        {
                struct source *b = NULL;
                char *dash[] = { (char *) "-", NULL };
                const char *ep = NULL;
                uint64_t el = 0;
                int fds[2], saved = dup(STDIN_FILENO);

                if (pipe(fds) == 0) {
                        ssize_t w = write(fds[1], "Nov 27 02:00:30 h sshd[7]: x\n", 29);

                        (void) w;
                        close(fds[1]);
                        dup2(fds[0], STDIN_FILENO);
                        close(fds[0]);
                        TAP_IS_INT(text_source_open(&(struct text_source_options){ .paths = dash },
                                                    &b, &ep, &el),
                                   0, "open standard input (a pipe)");
                        TAP_IS_INT(text_source_start_thread(b, rules), -EOPNOTSUPP,
                                   "no reader thread on a pipe");
                        source_free(b);
                        dup2(saved, STDIN_FILENO);
                }
                close(saved);
        }

        /* Stopped early: freeing the source stops and joins its reader. */
        {
                struct source *b = NULL;
                struct log_record rb = {};
                const char *ep = NULL;
                uint64_t el = 0;

                TAP_IS_INT(text_source_open(&(struct text_source_options){ .paths = paths },
                                            &b, &ep, &el),
                           0, "open again");
                TAP_IS_INT(text_source_start_thread(b, NULL), 0, "a reader without rules");
                TAP_IS_INT(source_next(b, &rb), 1, "one record");
                tap_ok(!rb.prematch, "not matched ahead without rules");
                record_done(&rb);
                source_free(b);
        }
        (void) unlink(path_big);
        (void) unlink(small);
        free(path_big);
        free(small);
        free(big);
}

static void test_source(void) {
        time_t jan2 = (time_t) (utc(2027, 1, 2, 10, 0, 0) / USEC_PER_SEC);
        char *old = write_file("auth.log.1.gz",
                               "Dec 31 23:59:58 h1 sshd[10]: first\n"
                               "Dec 31 23:59:59 h1 CRON[11]: not wanted\n"
                               "this is not a log line\n"
                               "Jan  1 00:00:02 h1 sshd[10]: third\n",
                               true, jan2);
        char *cur = write_file("auth.log",
                               "2027-01-01T00:00:01+00:00 h2 sshd[20]: second\n"
                               "2027-01-01T00:00:03+00:00 h2 sshd-session[21]: fourth",
                               false, jan2);
        char *bin = write_file("binary", "\x01\x02\x03 not a log\n", false, jan2);
        char *paths[] = { cur, old, NULL };
        char *ids[] = { (char *) "sshd", (char *) "sshd-session", NULL };
        static const char *const want[] = { "first", "second", "third", "fourth" };
        static const char *const want_cursor[] = { "auth.log.1.gz:1", "auth.log:1",
                                                   "auth.log.1.gz:4", "auth.log:2" };
        struct source *s = NULL;
        struct log_record rec = {};
        const char *errpath = NULL, *why = NULL;
        uint64_t errline = 0;
        char *cursor;
        unsigned n = 0;
        int r;

        r = text_source_open(&(struct text_source_options){ .paths = paths, .identifiers = ids },
                             &s, &errpath, &errline);
        TAP_IS_INT(r, 0, "open a plain and a gzip file");
        TAP_IS_STR(text_format_to_string(text_source_format(s, 0)), "rfc3339", "auth.log: rfc3339");
        TAP_IS_STR(text_format_to_string(text_source_format(s, 1)), "syslog", "gz: syslog");
        while ((r = source_next(s, &rec)) > 0 && n < 4) {
                TAP_IS_STR(record_str(&rec, RECORD_MESSAGE), want[n], "entry %u in time order", n);
                tap_ok(rec.unattested, "entry %u is unattested", n);
                TAP_IS_INT(source_cursor(s, &rec.ref, NULL, NULL, &cursor), 0, "cursor");
                tap_ok(strstr(cursor, want_cursor[n]) != NULL, "cursor %s is FILE:LINE", cursor);
                free(cursor);
                n++;
        }
        TAP_IS_INT(r, 0, "then the end");
        TAP_IS_INT(n, 4, "four wanted entries");
        TAP_IS_INT(source_skipped(s), 1, "one line skipped");
        tap_ok(strstr(source_first_skipped(s, &why) ?: "", "auth.log.1.gz:3") != NULL,
               "the skipped line as FILE:LINE");
        tap_ok(why != NULL, "and why");
        TAP_IS_INT(text_source_stats(s)->entries, 5, "five entries read");
        s = source_free(s);

        /* The last record's fields */
        {
                char *one[] = { old, NULL };

                r = text_source_open(&(struct text_source_options){ .paths = one }, &s, &errpath,
                                     &errline);
                TAP_IS_INT(r, 0, "open without identifiers");
                TAP_IS_INT(source_next(s, &rec), 1, "an entry");
                TAP_IS_STR(record_str(&rec, RECORD_HOSTNAME), "h1", "HOSTNAME");
                TAP_IS_STR(record_str(&rec, RECORD_SYSLOG_IDENTIFIER), "sshd", "SYSLOG_IDENTIFIER");
                TAP_IS_INT(record_pid(&rec), 10, "the PID from SYSLOG_PID");
                tap_ok(!record_has(&rec, RECORD_PID) && !record_has(&rec, RECORD_EXE) &&
                               !record_has(&rec, RECORD_MACHINE_ID),
                       "no trusted field");
                TAP_IS_INT(rec.realtime_usec, utc(2026, 12, 31, 23, 59, 58), "the year before");
                {
                        char *exes[] = { (char *) "/usr/sbin/sshd", NULL };
                        struct trust_config t = { .exes = exes, .comms = exes };

                        TAP_IS_INT(trust_check(&t, &rec, TRUST_NEEDS_ROOT), TRUST_UNATTESTED,
                                   "the trust stage: unattested, not spoofed");
                        tap_ok(trust_verdict_accepted(TRUST_UNATTESTED) &&
                                       !trust_verdict_accepted(TRUST_NO_PROVENANCE),
                               "unattested goes on; no provenance in the journal does not");
                }
                TAP_IS_INT(source_next(s, &rec), 1, "CRON is read without a filter");
                s = source_free(s);
        }

        /* not a text log */
        {
                char *one[] = { bin, NULL };

                r = text_source_open(&(struct text_source_options){ .paths = one }, &s, &errpath,
                                     &errline);
                TAP_IS_INT(r, -EBADMSG, "a binary file is refused");
                TAP_IS_STR(errpath, bin, "naming it");
                TAP_IS_INT(errline, 1, "and its line");
        }
        {
                char *missing[] = { (char *) "/nonexistent/auth.log", NULL };

                TAP_IS_INT(text_source_open(&(struct text_source_options){ .paths = missing }, &s,
                                            &errpath, &errline),
                           -ENOENT, "a missing file");
        }

        /* A line longer than TEXT_LINE_MAX is cut, and the next line still read. */
        {
                size_t big = TEXT_LINE_MAX * 3;
                char *content = malloc(big + 200), *p;
                char *one[2] = { NULL, NULL };

                p = content + sprintf(content, "Nov 27 02:52:52 h sshd[1]: ");
                memset(p, 'A', big);
                strcpy(p + big, "\nNov 27 02:52:53 h sshd[1]: after\n");
                one[0] = write_file("long", content, false, jan2);
                free(content);
                r = text_source_open(&(struct text_source_options){ .paths = one }, &s, &errpath,
                                     &errline);
                TAP_IS_INT(r, 0, "open the long line");
                TAP_IS_INT(source_next(s, &rec), 1, "the cut line");
                tap_ok(rec.field[RECORD_MESSAGE].len < TEXT_LINE_MAX, "cut");
                TAP_IS_INT(source_next(s, &rec), 1, "the next line");
                TAP_IS_STR(record_str(&rec, RECORD_MESSAGE), "after", "read whole");
                TAP_IS_INT(source_cursor(s, &rec.ref, NULL, NULL, &cursor), 0, "its cursor");
                tap_ok(strstr(cursor, "long:2") != NULL, "line 2 (%s)", cursor);
                free(cursor);
                TAP_IS_INT(text_source_stats(s)->long_lines, 1, "one long line counted");
                s = source_free(s);
                unlink(one[0]);
                free(one[0]);
        }

        /* A truncated gzip stream: counted as skipped, what came before is read. */
        {
                char *path = NULL, *one[2];
                FILE *f;
                long size;
                char *data;

                if (asprintf(&path, "%s/trunc.gz", tmpdir) < 0)
                        abort();
                f = fopen(old, "re");
                fseek(f, 0, SEEK_END);
                size = ftell(f);
                rewind(f);
                data = malloc((size_t) size);
                if (fread(data, 1, (size_t) size, f) != (size_t) size)
                        abort();
                fclose(f);
                f = fopen(path, "we");
                fwrite(data, 1, (size_t) size - 12, f);
                fclose(f);
                free(data);
                one[0] = path;
                one[1] = NULL;
                r = text_source_open(&(struct text_source_options){ .paths = one }, &s, &errpath,
                                     &errline);
                TAP_IS_INT(r, 0, "open a truncated gzip file");
                while ((r = source_next(s, &rec)) > 0)
                        ;
                TAP_IS_INT(r, 0, "read to its end");
                tap_ok(source_skipped(s) >= 1, "the truncation counted");
                tap_ok(strstr(source_first_skipped(s, &why) ?: "", "trunc.gz:") != NULL,
                       "naming the file (%s: %s)", source_first_skipped(s, NULL), why);
                s = source_free(s);
                unlink(path);
                free(path);
        }

        record_done(&rec);
        unlink(old);
        unlink(cur);
        unlink(bin);
        free(old);
        free(cur);
        free(bin);
}

/* Where a tag ends: every length up to 24 bytes, each end byte, bytes with the high bit set and
 * bytes one bit away from the end bytes in the tag, a line that ends inside the tag. */
static void test_tags(void) {
        static const char fill[] = "a\xff\x80{;!\x1b\x5a\x3b\x21z";
        static const struct {
                const char *suffix;
                bool ident;
                const char *pid;
        } ends[] = {
                { "[42]: msg", true, "42" }, { ": msg", true, NULL }, { " msg", false, NULL },
                { "", false, NULL }, { "[x]: msg", false, NULL },
        };
        bool all = true;

        for (size_t n = 0; n <= 24; n++)
                for (size_t e = 0; e < ELEMENTSOF(ends); e++) {
                        char line[128], tag[32];
                        struct text_line l = {};
                        int r;

                        for (size_t k = 0; k < n; k++)
                                tag[k] = fill[(k * 7 + e) % (sizeof(fill) - 1)];
                        tag[n] = 0;
                        (void) snprintf(line, sizeof(line), "Nov 27 02:52:52 host %s%s", tag,
                                        ends[e].suffix);
                        r = parse(line, utc(2026, 11, 28, 0, 0, 0), &l);
                        bool want_ident = ends[e].ident && n > 0;
                        bool ok = r == TEXT_LINE_ENTRY &&
                                  (want_ident ? l.ident.ptr && l.ident.len == n &&
                                                        memcmp(l.ident.ptr, tag, n) == 0
                                              : !l.ident.ptr) &&
                                  (want_ident && ends[e].pid
                                           ? l.pid.ptr && streq(sv(l.pid), ends[e].pid)
                                           : !l.pid.ptr) &&
                                  (want_ident ? streq(sv(l.message), "msg")
                                              : l.message.ptr == line + 21);
                        if (!ok) {
                                tap_diag("tag of %zu bytes, end \"%s\": r=%d ident=%s message=%s",
                                         n, ends[e].suffix, r, sv(l.ident) ?: "(none)",
                                         sv(l.message) ?: "(none)");
                                all = false;
                        }
                }
        tap_ok(all, "tags of 0 to 24 bytes end at the first '[', ':' or ' '");
}

/* n bytes of content into tmpdir/name, plain or gzip (NUL bytes included). */
static char *write_bytes(const char *name, const char *content, size_t n, bool gz) {
        char *path = NULL;

        if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
                abort();
        if (gz) {
                gzFile g = gzopen(path, "wb");

                if (!g || (n > 0 && gzwrite(g, content, (unsigned) n) != (int) n))
                        abort();
                gzclose(g);
        } else {
                FILE *f = fopen(path, "we");

                if (!f || (n > 0 && fwrite(content, 1, n, f) != n))
                        abort();
                fclose(f);
        }
        return path;
}

/* Every entry of path (all identifiers) and the counters, as one string; NULL when it cannot be
 * opened. thread: with the reader thread. */
static char *read_all(const char *path, bool thread) {
        char *paths[] = { (char *) path, NULL }, *d = NULL;
        const struct text_source_stats *st;
        struct log_record rec = {};
        struct source *s = NULL;
        const char *errpath = NULL;
        uint64_t errline = 0;
        size_t size = 0;
        FILE *f;
        int r;

        if (text_source_open(&(struct text_source_options){ .paths = paths }, &s, &errpath,
                             &errline) < 0)
                return NULL;
        if (thread && text_source_start_thread(s, NULL) < 0)
                abort();
        f = open_memstream(&d, &size);
        if (!f)
                abort();
        while ((r = source_next(s, &rec)) > 0) {
                struct strview m = record_field(&rec, RECORD_MESSAGE);

                fprintf(f, "%" PRIu64 " %" PRIu64 " %s %s %x|", rec.ref.text.line,
                        rec.realtime_usec, record_str(&rec, RECORD_HOSTNAME),
                        record_str(&rec, RECORD_SYSLOG_IDENTIFIER) ?: "-", rec.truncated);
                for (size_t i = 0; i < m.len; i++)
                        if (m.ptr[i] == 0 || m.ptr[i] == '\\')
                                fputs(m.ptr[i] ? "\\\\" : "\\0", f); /* the dump is a string */
                        else
                                fputc(m.ptr[i], f);
                fputc('\n', f);
        }
        st = text_source_stats(s);
        fprintf(f, "end %d lines %" PRIu64 " entries %" PRIu64 " ignored %" PRIu64
                   " malformed %" PRIu64 " long %" PRIu64 " skipped %" PRIu64 "\n",
                r, st->lines, st->entries, st->ignored, st->malformed, st->long_lines,
                source_skipped(s));
        fclose(f);
        record_done(&rec);
        source_free(s);
        return d;
}

/*
 * Regular files are mapped, gzip goes through read()'s buffer: the same lines either way, at every
 * length about TEXT_LINE_MAX and the buffer's, with NUL bytes, CRs and no last newline; a file that
 * grows after it was opened; a file cut short under the reader, with and without the thread.
 */
static void test_mapped(void) {
        static const size_t lens[] = { 0, 1, 15, 40, 100, 4095, 4096, 4097, TEXT_LINE_MAX - 1,
                                       TEXT_LINE_MAX, TEXT_LINE_MAX + 1, TEXT_LINE_MAX + 2,
                                       2 * TEXT_LINE_MAX, 256 * 1024 - 1, 256 * 1024, 300000 };
        size_t cap = 8 * 1024 * 1024;
        char *buf = malloc(cap);
        uint64_t x = 88172645463325252ULL;

        if (!buf)
                return (void) tap_ok(false, "allocate");
        for (unsigned round = 0; round < 12; round++) {
                size_t n = 0;
                char *plain, *gz, *a, *b, *c;

                for (unsigned i = 0; i < 60 && n < cap - 400000; i++) {
                        size_t len, k;

                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        len = i == 0    ? 100 /* a log line first, or the open fails */
                              : x % 4 == 0 ? lens[(x >> 8) % ELEMENTSOF(lens)]
                                           : 30 + (x >> 8) % 120;
                        if (i == 59 && round >= 10)
                                len = TEXT_LINE_MAX + round - 10; /* the last, no newline */
                        k = (size_t) snprintf(buf + n, 64, "Nov 27 02:52:%02u h%u sshd[%u]: ",
                                              (unsigned) (i % 60), round, i);
                        if (len < k)
                                k = len; /* a line too short to be one: malformed */
                        for (size_t j = k; j < len; j++) {
                                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                                buf[n + j] = "ab \r\0\xff:[]x"[x % 10];
                        }
                        n += len;
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                        if (i < 59 || (round < 10 && x % 2))
                                buf[n++] = '\n';
                }
                plain = write_bytes("m.log", buf, n, false);
                gz = write_bytes("m.log.gz", buf, n, true);
                a = read_all(plain, false);
                b = read_all(gz, false);
                c = read_all(plain, true);
                tap_ok(a && b && streq(a, b), "round %u: %zu bytes, mapped as read()", round, n);
                tap_ok(a && c && streq(a, c), "round %u: the same with the reader thread", round);
                unlink(plain), unlink(gz);
                free(a), free(b), free(c), free(plain), free(gz);
        }

        /* 40,000 lines of 100 bytes: line i at offset 100 * i */
        for (unsigned i = 0; i < 40000; i++) {
                char l[160];

                (void) snprintf(l, sizeof(l), "Nov 27 02:52:52 h sshd[1]: line %06u %60s\n", i,
                                "padding");
                memcpy(buf + 100 * i, l, 100);
        }
        for (unsigned mode = 0; mode < 5; mode++) {
                /* 0: grows after the open; 1-4: cut short after 10 lines were read, at a page
                 * boundary (1, 3) or within a page (2, 4), without (1, 2) or with the thread */
                static const size_t cut[] = { 0, 1024 * 1024, 1024 * 1024 + 17, 2 * 1024 * 1024,
                                              2 * 1024 * 1024 + 4001 };
                char *path = write_bytes("cut.log", buf, mode == 0 ? 100 * 20000 : 100 * 40000,
                                         false);
                char *paths[] = { path, NULL }, last[128] = "";
                struct log_record rec = {};
                struct source *s = NULL;
                const char *errpath = NULL;
                uint64_t errline = 0, n = 0;
                size_t want_n, last_len = 0;
                int r;

                TAP_IS_INT(text_source_open(&(struct text_source_options){ .paths = paths }, &s,
                                            &errpath, &errline),
                           0, "mode %u: open", mode);
                if (!s)
                        continue;
                if (mode >= 3)
                        TAP_IS_INT(text_source_start_thread(s, NULL), 0, "the reader thread");
                while (n < 10 && source_next(s, &rec) > 0)
                        n++;
                if (mode == 0) {
                        FILE *f = fopen(path, "ae");

                        tap_ok(f && fwrite(buf + 100 * 20000, 1, 100 * 20000, f) == 100 * 20000,
                               "append 20,000 lines");
                        if (f)
                                fclose(f);
                } else
                        TAP_IS_INT(truncate(path, (off_t) cut[mode]), 0, "cut to %zu bytes",
                                   cut[mode]);
                while ((r = source_next(s, &rec)) > 0) {
                        struct strview m = record_field(&rec, RECORD_MESSAGE);

                        (void) snprintf(last, sizeof(last), "%.*s", (int) m.len, m.ptr);
                        last_len = m.len;
                        n++;
                }
                TAP_IS_INT(r, 0, "mode %u: the end, no error", mode);
                TAP_IS_INT(source_skipped(s), 0, "nothing skipped");
                TAP_IS_INT(text_source_stats(s)->long_lines, 0, "no line cut");
                TAP_IS_INT(last_len, strlen(last), "the last message holds no NUL byte");
                want_n = mode == 0 ? 40000 : (cut[mode] + 99) / 100;
                TAP_IS_INT(n, (long long) want_n, "mode %u: every line up to the end", mode);
                if (mode == 0 || cut[mode] % 100 == 0)
                        tap_ok(strncmp(last, "line ", 5) == 0 &&
                                       strtoul(last + 5, NULL, 10) == want_n - 1,
                               "the last line whole: %.12s", last);
                else {
                        /* the cut line as read() sees it: its first bytes */
                        char want[128];

                        (void) snprintf(want, sizeof(want), "%.*s",
                                        (int) (cut[mode] % 100) - 27, buf + 100 * (want_n - 1) + 27);
                        TAP_IS_STR(last, want, "the cut line's bytes before the cut");
                }
                record_done(&rec);
                source_free(s);
                unlink(path);
                free(path);
        }
        free(buf);
}

/*
 * Two mapped inputs: the second one's first line is read (and waits) while the first input's lines
 * come first; the second file is then cut short under the scan (logrotate's copytruncate), and
 * written again, as rsyslog goes on after it. The waiting line is handed out as it was read, as
 * read() gives it (review2's T1: it came out as NUL bytes, or as the new bytes at its offsets).
 */
static void test_mapped_waiting(void) {
        static const char a_text[] = "Nov 27 02:52:01 h sshd[10]: first of a\n"
                                     "Nov 27 02:52:02 h sshd[10]: second of a\n";
        static const char b_text[] = "Nov 27 02:52:09 h sshd[20]: Accepted publickey for root from "
                                     "192.0.2.7 port 4242 ssh2: ED25519 SHA256:AAAA\n";
        static const char later[] = "Dec  1 00:00:00 h logger: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";

        for (unsigned regrow = 0; regrow < 2; regrow++)
                for (unsigned thread = 0; thread < 2; thread++) {
                        char *a = write_bytes("wa.log", a_text, strlen(a_text), false);
                        char *b = write_bytes("wb.log", b_text, strlen(b_text), false);
                        char *paths[] = { a, b, NULL };
                        struct log_record rec = {};
                        struct source *s = NULL;
                        const char *errpath = NULL;
                        uint64_t errline = 0;
                        unsigned n = 0;
                        bool cut = false;
                        int r;

                        TAP_IS_INT(text_source_open(&(struct text_source_options){ .paths = paths },
                                                    &s, &errpath, &errline),
                                   0, "waiting line, regrow %u, thread %u: open", regrow, thread);
                        if (!s)
                                continue;
                        if (thread) {
                                /* the reader may fill its batch before the cut: cut first */
                                TAP_IS_INT(truncate(b, 0), 0, "cut the second file");
                                cut = true;
                                TAP_IS_INT(text_source_start_thread(s, NULL), 0, "the thread");
                        }
                        while ((r = source_next(s, &rec)) > 0) {
                                struct strview m = record_field(&rec, RECORD_MESSAGE);
                                struct strview id = record_field(&rec, RECORD_SYSLOG_IDENTIFIER);

                                n++;
                                if (!cut) {
                                        TAP_IS_INT(truncate(b, 0), 0, "cut the second file");
                                        cut = true;
                                }
                                if (regrow && n == 1) {
                                        FILE *f = fopen(b, "ae");

                                        tap_ok(f && fputs(later, f) >= 0, "written again");
                                        if (f)
                                                fclose(f);
                                }
                                if (n == 3) {
                                        TAP_IS_INT(id.len, 4, "its tag as read");
                                        tap_ok(id.ptr && strncmp(id.ptr, "sshd", 4) == 0,
                                               "its tag: sshd");
                                        tap_ok(m.len > 8 && memcmp(m.ptr, "Accepted", 8) == 0 &&
                                                       !memchr(m.ptr, 0, m.len),
                                               "its message as read: %.8s", m.len ? m.ptr : "");
                                }
                        }
                        TAP_IS_INT(r, 0, "the end, no error");
                        TAP_IS_INT(n, 3, "three lines");
                        record_done(&rec);
                        source_free(s);
                        unlink(a), unlink(b);
                        free(a), free(b);
                }
}

/*
 * Lines of other programs are counted as entries without their tag parsed when its first bytes
 * rule every identifier out (text.c, maybe_wanted()): the source with identifiers hands out
 * exactly the lines text_line_parse() gives a wanted identifier, with the same counters, for tags
 * that share first bytes with the identifiers, are shorter than 4 bytes, end the line early, or
 * hold the bytes that end a tag. An identifier of 1, 3, 4 and 12 bytes, and one with a ':'.
 */
static void test_filter(void) {
        static const char *const tags[] = { "sshd", "sshd-session", "sshdo", "ssh", "sshd-", "s",
                                            "x", "x:", "x:y", "ab", "abc", "a", "", "systemd",
                                            "CRON", "sshd-sessionx", "SSHD", "ss hd", "ssh[",
                                            "\xff\xfe", "sshd\x00" };
        static const char *const ends[] = { "[42]: ", "[42]:", ": ", ":", "[]: ", "[4x]: ", " ",
                                            "", "[", "[42", "[42]", "x" };
        char *ids[] = { (char *) "sshd", (char *) "sshd-session", (char *) "x:y", (char *) "a",
                        (char *) "abc", NULL };
        size_t cap = 4 * 1024 * 1024, n = 0;
        char *buf = malloc(cap), *want = NULL, *got = NULL, *path, *paths[2];
        size_t want_size = 0, got_size = 0;
        uint64_t x = 2463534242ULL, entries = 0, malformed = 0, lineno = 0;
        struct text_clock c;
        FILE *fw, *fg;
        struct source *src = NULL;
        struct log_record rec = {};
        const char *errpath = NULL;
        uint64_t errline = 0;
        int r;

        if (!buf)
                return (void) tap_ok(false, "allocate");
        fw = open_memstream(&want, &want_size);
        fg = open_memstream(&got, &got_size);
        if (!fw || !fg)
                abort();
        text_clock_init(&c, utc(2026, 12, 3, 0, 0, 0));
        for (unsigned i = 0; i < 40000; i++) {
                const char *tag = tags[i % ELEMENTSOF(tags)], *end;
                size_t start = n, tl = strlen(tag);
                struct text_line l;

                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                end = ends[x % ELEMENTSOF(ends)];
                if (streq(tag, "sshd") && x % 7 == 0)
                        tl = 5; /* "sshd\0" */
                n += (size_t) sprintf(buf + n, "%s 27 02:52:%02u h ",
                                      i > 0 && x % 13 == 0 ? "Nox" : "Nov", /* malformed */
                                      (unsigned) (x >> 8) % 60);
                memcpy(buf + n, tag, tl);
                n += tl;
                n += (size_t) sprintf(buf + n, "%s%s", end, (x >> 16) % 3 ? "msg" : "");
                lineno++;
                r = text_line_parse(buf + start, n - start, &c, &l);
                if (r < 0)
                        malformed++;
                if (r == TEXT_LINE_ENTRY) {
                        entries++;
                        for (char **id = ids; *id; id++)
                                if (l.ident.ptr && strview_eq(l.ident, strview_from(*id))) {
                                        fprintf(fw, "%" PRIu64 " %.*s %.*s%s %.*s\n", lineno,
                                                (int) l.ident.len, l.ident.ptr,
                                                (int) l.pid.len, l.pid.ptr ?: "",
                                                l.pid.ptr ? "" : "-", (int) l.message.len,
                                                l.message.ptr);
                                        break;
                                }
                }
                buf[n++] = '\n';
        }
        fprintf(fw, "entries %" PRIu64 " malformed %" PRIu64 "\n", entries, malformed);
        fclose(fw);

        path = write_bytes("filter.log", buf, n, false);
        paths[0] = path;
        paths[1] = NULL;
        TAP_IS_INT(text_source_open(&(struct text_source_options){ .paths = paths,
                                                                   .identifiers = ids },
                                    &src, &errpath, &errline),
                   0, "open with identifiers");
        while (src && (r = source_next(src, &rec)) > 0) {
                struct strview m = record_field(&rec, RECORD_MESSAGE),
                               id = record_field(&rec, RECORD_SYSLOG_IDENTIFIER),
                               pid = record_field(&rec, RECORD_SYSLOG_PID);

                fprintf(fg, "%" PRIu64 " %.*s %.*s%s %.*s\n", rec.ref.text.line, (int) id.len,
                        id.ptr, (int) pid.len, pid.ptr ?: "", pid.ptr ? "" : "-", (int) m.len,
                        m.ptr);
        }
        if (src)
                fprintf(fg, "entries %" PRIu64 " malformed %" PRIu64 "\n",
                        text_source_stats(src)->entries, text_source_stats(src)->malformed);
        fclose(fg);
        tap_ok(want && got && streq(want, got),
               "40,000 lines: the wanted ones (tag, PID, message), the same counters");
        tap_ok(want && strlen(want) > 10000, "many of them wanted (%zu bytes)", want ? strlen(want) : 0);
        record_done(&rec);
        source_free(src);
        unlink(path);
        free(path);
        free(want);
        free(got);
        free(buf);
}

int main(void) {
        setenv("TZ", "UTC", 1);
        tzset();
        if (!mkdtemp(tmpdir))
                return 1;
        test_formats();
        test_tags();
        test_bad();
        test_years();
        test_clock_cache();
        test_source();
        test_thread();
        test_mapped();
        test_mapped_waiting();
        test_filter();
        rmdir(tmpdir);
        return tap_done();
}
