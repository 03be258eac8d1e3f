/* SPDX-License-Identifier: MIT */
/*
 * source-order: every record the journal source hands out, in order, one line each (its cursor,
 * times, which fields it has and a hash of their bytes), then the source's counters and problems.
 * tests/scan-parallel.sh compares the lines of --jobs 1 (one sd_journal) and of more threads.
 *
 *   source-order [--jobs N] [--since USEC] [--until USEC] [--cursors 0] (--directory DIR | FILE...)
 *
 * --cursors 0: "-" for every cursor (none is asked for, so the parallel merge reads none again:
 * its order from what its readers read alone).
 *
 * The matches are keytrail's (sshd's identifiers, keytrail-gate's, sshdo's, or _COMM=logger).
 * Exit 0, or 2 on an error.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

static uint64_t fnv(uint64_t h, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                h ^= (uint8_t) p[i];
                h *= 1099511628211ULL;
        }
        return h;
}

int main(int argc, char *argv[]) {
        static char sshd[] = "sshd", session[] = "sshd-session", auth[] = "sshd-auth",
                    gate[] = "keytrail-gate", sshdo[] = "sshdo", logger[] = "_COMM=logger";
        char *ids[] = { sshd, session, auth, gate, sshdo, NULL };
        char *also[] = { logger, NULL };
        struct journal_source_options o = { .identifiers = ids, .also = also };
        struct source *src = NULL;
        struct log_record rec = {};
        const struct source_problem *pr;
        const char *why = NULL, *path = NULL;
        size_t n = 0, more = 0;
        bool cursors = true;
        int i = 1, r;

        for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
                char *end = NULL;
                unsigned long long v;

                if (i + 1 >= argc)
                        return fprintf(stderr, "%s needs a value\n", argv[i]), 2;
                if (streq(argv[i], "--directory")) {
                        o.directory = argv[i + 1];
                        continue;
                }
                errno = 0;
                v = strtoull(argv[i + 1], &end, 10);
                if (errno != 0 || !end || *end)
                        return fprintf(stderr, "%s: not a number\n", argv[i]), 2;
                if (streq(argv[i], "--jobs"))
                        o.jobs = (unsigned) v;
                else if (streq(argv[i], "--since"))
                        o.since_usec = v, o.since_set = true;
                else if (streq(argv[i], "--until"))
                        o.until_usec = v, o.until_set = true;
                else if (streq(argv[i], "--cursors"))
                        cursors = v != 0;
                else
                        return fprintf(stderr, "unknown option %s\n", argv[i]), 2;
        }
        if (i < argc)
                o.files = argv + i;

        r = journal_source_open(&o, &src, &path);
        if (r < 0)
                return fprintf(stderr, "open: %s: %s\n", path ?: "?", strerror(-r)), 2;
        for (;;) {
                char *cursor = NULL;
                uint64_t h = 14695981039346656037ULL;

                r = source_next(src, &rec);
                if (r < 0) {
                        fprintf(stderr, "next: %s\n", strerror(-r));
                        break;
                }
                if (r == 0)
                        break;
                for (int f = 0; f < _RECORD_FIELD_MAX; f++) {
                        struct strview v = record_field(&rec, (enum record_field) f);

                        if (v.ptr)
                                h = fnv(fnv(h, (const char *) &f, sizeof(f)), v.ptr, v.len);
                }
                if (cursors && source_cursor(src, &rec.ref, NULL, NULL, &cursor) < 0)
                        cursor = NULL;
                printf("%s %" PRIu64 " %" PRIu64 " %08" PRIx32 " %08" PRIx32 " %016" PRIx64 "\n",
                       cursor ?: "-", rec.realtime_usec, rec.monotonic_usec, rec.present,
                       rec.truncated, h);
                free(cursor);
        }
        printf("stats files=%" PRIu64 " corrupt=%" PRIu64 " malformed=%" PRIu64
               " oversized=%" PRIu64 " skipped=%" PRIu64 " first_skipped=%s (%s)\n",
               source_stats(src)->files, source_stats(src)->corrupt, source_stats(src)->malformed,
               source_stats(src)->oversized, source_skipped(src),
               source_first_skipped(src, &why) ?: "-", why ?: "-");
        pr = source_problems(src, &n, &more);
        for (size_t k = 0; k < n; k++)
                printf("problem %s %d%s\n", pr[k].path, pr[k].error, pr[k].partly ? " partly" : "");
        printf("problems more=%zu\n", more);
        record_done(&rec);
        source_free(src);
        return r < 0 ? 2 : 0;
}
