/* SPDX-License-Identifier: MIT */
/*
 * ref-lookup: the evidence cursors the journal source looks up when an alert is built
 * (source_cursor() on an ENTRY_REF_SEEK ref) are exactly the cursors of the entries read.
 *
 *   ref-lookup [--renamed | --emptied] FILE...
 *
 * Reads FILE... twice in step: through one sd_journal (--jobs 1: each record carries a ref with
 * its boot and clocks only) and through the parallel reader (--jobs 2: the cursor of the entry
 * its merge just handed out, read from the file, the truth). Each record's cursor is asked at once (the entry being read), and
 * again for every record once all are read (looked up in the files: same clocks, other boots,
 * copies in other files). With --renamed the files are renamed away before the second round (a
 * rotation or vacuum during the scan): the source holds them open, so the answers must not change.
 * With --emptied they are truncated in place (nothing left to find): then each answer must be
 * the partial cursor "b=...;m=...;t=..." and be counted. The digest is this program's own hash of the fields the pipeline's covers; an entry
 * stored again (equal in all of them to one read before) is expected to name that first one, as
 * the pipeline never takes it.
 * Prints one line per disagreement and a summary; exit 0 when all agree, 1 when not, 2 on error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                h ^= ((const uint8_t *) p)[i];
                h *= 1099511628211ULL;
        }
        return h;
}

static uint64_t digest(void *userdata, const struct log_record *rec) {
        static const enum record_field f[] = { RECORD_BOOT_ID, RECORD_PID,
                                               RECORD_SYSLOG_IDENTIFIER, RECORD_MESSAGE };
        uint64_t h = 14695981039346656037ULL;

        (void) userdata;
        h = fnv(h, &rec->realtime_usec, sizeof(rec->realtime_usec));
        h = fnv(h, &rec->monotonic_usec, sizeof(rec->monotonic_usec));
        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
                struct strview v = record_field(rec, f[i]);
                uint64_t len = v.ptr ? v.len : UINT64_MAX;

                h = fnv(h, &len, sizeof(len));
                if (v.ptr)
                        h = fnv(h, v.ptr, v.len);
        }
        return h | 1;
}

struct seen {
        struct entry_ref ref;
        char *truth;
};

int main(int argc, char *argv[]) {
        static char sshd[] = "sshd", session[] = "sshd-session", auth[] = "sshd-auth",
                    gate[] = "keytrail-gate", sshdo[] = "sshdo", logger[] = "_COMM=logger";
        char *ids[] = { sshd, session, auth, gate, sshdo, NULL };
        char *also[] = { logger, NULL };
        struct journal_source_options o1 = { .identifiers = ids, .also = also, .jobs = 1 }, o2;
        struct source *one = NULL, *par = NULL;
        struct log_record r1 = {}, r2 = {};
        struct seen *seen = NULL;
        size_t n = 0, alloc = 0, now_bad = 0, later_bad = 0, seek = 0, dups = 0;
        bool gone = false, renamed = false;
        const char *path = NULL;
        int i = 1, k1, k2, r;

        if (i < argc && (streq(argv[i], "--emptied") || streq(argv[i], "--renamed"))) {
                gone = streq(argv[i], "--emptied");
                renamed = !gone;
                i++;
        }
        if (i >= argc)
                return fprintf(stderr, "usage: ref-lookup [--renamed | --emptied] FILE...\n"), 2;
        o1.files = argv + i;
        o2 = o1;
        o2.jobs = 2;
        r = journal_source_open(&o1, &one, &path);
        if (r >= 0)
                r = journal_source_open(&o2, &par, &path);
        if (r < 0)
                return fprintf(stderr, "open: %s: %s\n", path ?: "?", strerror(-r)), 2;

        for (;;) {
                char *now = NULL, *truth = NULL;

                k1 = source_next(one, &r1);
                k2 = source_next(par, &r2);
                if (k1 != k2)
                        return fprintf(stderr, "the readers disagree: %d %d\n", k1, k2), 2;
                if (k1 <= 0)
                        break;
                if (source_cursor(par, &r2.ref, NULL, NULL, &truth) < 0)
                        return fprintf(stderr, "entry %zu: no cursor from the parallel reader\n",
                                       n), 2;
                if (r1.ref.kind == ENTRY_REF_SEEK)
                        seek++;
                r1.ref.seek.digest = r1.ref.kind == ENTRY_REF_SEEK ? digest(NULL, &r1) : 0;
                r = source_cursor(one, &r1.ref, digest, NULL, &now);
                if (r < 0 || !streq(now, truth)) {
                        printf("now %zu: %s, not %s\n", n, r < 0 ? strerror(-r) : now, truth);
                        now_bad++;
                }
                free(now);
                if (n == alloc) {
                        alloc = alloc ? alloc * 2 : 64;
                        seen = realloc(seen, alloc * sizeof(*seen));
                        if (!seen)
                                return 2;
                }
                seen[n++] = (struct seen){ .ref = r1.ref, .truth = truth };
        }
        if (k1 < 0)
                return fprintf(stderr, "next: %s\n", strerror(-k1)), 2;
        for (char **f = o1.files; (gone || renamed) && *f; f++) {
                char to[4096];

                (void) snprintf(to, sizeof(to), "%s.gone", *f);
                if (renamed ? rename(*f, to) < 0 : truncate(*f, 0) < 0)
                        return fprintf(stderr, "%s: %m\n", *f), 2;
        }
        /* Now that the reader has passed them all: looked up. */
        for (size_t j = 0; j < n; j++) {
                char *later = NULL, want[128];
                const char *b;
                size_t first = j;

                /* An entry equal to one handed out before in all that the digest covers (stored
                 * again) never becomes evidence: the pipeline skips it as a duplicate, and its
                 * lookup may name the first. */
                for (size_t k = 0; k < j && first == j; k++)
                        if (seen[k].ref.kind == ENTRY_REF_SEEK && seen[j].ref.kind == ENTRY_REF_SEEK &&
                            seen[k].ref.realtime_usec == seen[j].ref.realtime_usec &&
                            seen[k].ref.monotonic_usec == seen[j].ref.monotonic_usec &&
                            memcmp(seen[k].ref.boot_id, seen[j].ref.boot_id, 16) == 0 &&
                            seen[k].ref.seek.digest == seen[j].ref.seek.digest)
                                first = k;
                if (first != j)
                        dups++;
                b = strstr(seen[first].truth, ";b=");

                r = source_cursor(one, &seen[j].ref, digest, NULL, &later);
                if (gone && seen[j].ref.kind == ENTRY_REF_SEEK) {
                        /* the partial cursor: b=, m=, t= of the truth */
                        (void) snprintf(want, sizeof(want), "%.*s", (int) (strstr(b, ";x=") - b - 1),
                                        b + 1);
                } else
                        (void) snprintf(want, sizeof(want), "%s", seen[first].truth);
                if (r >= 0 && first != j && !gone && streq(later, seen[j].truth))
                        r = 0; /* or itself, exactly (found by reading the files again) */
                else if (r < 0 || !streq(later, want)) {
                        printf("later %zu: %s, not %s\n", j, r < 0 ? strerror(-r) : later, want);
                        later_bad++;
                }
                free(later);
        }
        for (size_t j = 0; j < n; j++)
                free(seen[j].truth);
        printf("entries=%zu seek=%zu stored_again=%zu now_differ=%zu later_differ=%zu "
               "unresolved=%" PRIu64 "\n",
               n, seek, dups, now_bad, later_bad, source_stats(one)->unresolved);
        free(seen);
        record_done(&r1);
        record_done(&r2);
        source_free(one);
        source_free(par);
        return now_bad || later_bad ? 1 : 0;
}
