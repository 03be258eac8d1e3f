/* SPDX-License-Identifier: MIT */
/*
 * The parallel reader of the journal source (journal-internal.h). Owns the reader processes, one
 * sd_journal per file in the reader that reads it, and the batches they fill.
 *
 * Readers are processes, not threads: every sd_journal call runs systemd's getpid_cached(), a
 * locked compare-and-swap on one libsystemd global (its pid check), about 27 times per entry; two
 * threads of one process on two CPUs bounce that cache line between the CPUs on every call, which
 * cost the readers 15-50 % more CPU than on one CPU (bench/README.md). A forked reader writes its
 * own copy of the page. So journal_par_new() maps one MAP_SHARED region (this struct, the files'
 * state and every batch, at the same address in every process: pointers into it are valid in all)
 * and forks the readers; they die with keytrail (PR_SET_PDEATHSIG) and ignore the signals that
 * stop it, which stops them.
 *
 * Each file is read by one reader, given when the files are opened: the files whose times overlap
 * (those the merge reads at once) go to different readers (assign()). A reader takes the file of
 * its own that the merge waits for first, else the one with the fewest batches ready, reads one
 * batch of its matched entries through its sd_journal, and queues it. Each file has
 * BATCHES_PER_FILE batches, in the map, reused: one the merge reads, the others ready or being
 * filled; a file whose batches are all full waits for the merge (back-pressure), so the memory is
 * bounded by the number of files, never by the input. One process-shared, robust mutex guards the
 * queues and flags; batch contents pass between processes only through it (a reader fills a batch
 * it took from the free list under the lock, and queues it under the lock; the merge returns it
 * under the lock). Nothing else is shared: the merge state is the calling thread's. A reader that
 * dies (killed, out of memory) is seen by the merge while it waits for one of its files (-EPIPE).
 *
 * The merge hands the entries out in exactly the order one sd_journal over all the files does
 * (systemd 252, sd-journal.c: real_journal_next(), next_beyond_location(), compare_with_location();
 * journal-file.c: journal_file_compare_locations()): each step looks at every file's next entry,
 * in the order sd-journal iterates its files, drops those that do not come after the entry handed
 * out last (an entry stored in two files is handed out once: from the first file in that order),
 * and hands out the first smallest. The comparison is not a total order across seqnum ids, boots
 * and clocks (which is why this is a scan over the files, not a heap): it is copied, not improved.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "journal-internal.h"

static_assert(_RECORD_FIELD_MAX <= 32, "an item header holds the field in 5 bits");
static_assert(RECORD_FIELD_MAX_BYTES < (UINT32_C(1) << 27), "and the length in 27");

#define BATCHES_PER_FILE 3                 /* the merge's, one ready, one being filled */
#define BATCH_BYTES_BUDGET (4U << 20)      /* field bytes per batch: this, spread over the files */
#define BATCH_BYTES_MIN (8U << 10)
#define BATCH_BYTES_MAX (128U << 10)
#define BATCH_ENTRIES_MAX 256U
#define BATCH_ENTRIES_MIN 16U
#define ENTRY_KEPT_MAX (8U << 10)           /* field bytes kept per entry; more: read again by
                                              the merge's thread (side), so that a flood of huge
                                              entries cannot fill every file's batches, and a
                                              batch never holds more than BATCH_BYTES_MAX and
                                              this */

/* Readers and the merge run on different CPUs: what one of them writes for every entry must not
 * share a cache line with what another reads or writes, or each such access misses the cache
 * (false sharing). So each batch, the locked part and the merge's part start a line of their
 * own, and a reader counts a batch's entries and bytes in its own variables (struct fill). */
#define LINE 64

/* An id of the cursor before, as text and parsed: a file's cursors all share their s=, and most
 * their b=, so most are compared rather than parsed. */
struct id_cache {
        char text[32];
        sd_id128_t id;
        bool valid;
};

struct batch {
        alignas(LINE) struct journal_par_entry *e; /* in the shared map, batch_entries of them */
        size_t n;                      /* entries filled */
        char *data;                    /* in the shared map: the entries' field items */
        size_t used, alloc;            /* alloc: data's size, the batch budget plus an entry */
        int end;                       /* 0: more may follow; 1: the file ends after these;
                                          < 0: reading failed after these */
        uint64_t ord;                  /* e[0]'s place in the file's stream (0: its first) */
        uint64_t lo, hi;               /* every positioned entry's seqnum lies in [lo, hi] (a
                                          reader's stream never goes back: see the merge) */
        bool all_exact;                /* the merge read every entry's cursor again */
};

struct pfile {
        const char *path;              /* borrowed from journal_par_new()'s caller */
        unsigned owner;                /* the reader that reads it (its sd_journal is that
                                          process's) */
        struct id_cache ids[2];        /* the reader's: the last s= and b= of its cursors */
        sd_id128_t seqnum_id;          /* the reader's: the file's (every cursor's s=) */
        uint64_t ord;                  /* the reader's: entries its handle went to */
        struct batch batches[BATCHES_PER_FILE];
        /* Under the lock: */
        alignas(LINE) struct batch *free_b[BATCHES_PER_FILE];
        size_t n_free;
        struct batch *ready[BATCHES_PER_FILE]; /* a ring, oldest at ready_head */
        size_t ready_head, n_ready;
        bool busy;                     /* a reader is filling one of its batches */
        bool read_done;                /* the batch with end != 0 was queued */
        /* The merge's (calling thread only): */
        alignas(LINE) struct batch *cur; /* taken from ready, read up to next */
        size_t next;                   /* the next entry of cur to look at */
        bool ended;
        int error;
        struct batch *held;            /* read to its end, kept while the last entry handed out
                                          (loc) is in it and not exact */
        sd_journal *side;              /* owned, opened on first use, with the matches: for side
                                          entries and for reading cursors again */
        struct id_cache side_ids[2];
};

/* A reader process: the merge wakes it when one of its files may be read. */
struct reader {
        alignas(LINE) pthread_cond_t work;
        pid_t pid;                     /* the parent's: 0 when not started or reaped */
        bool dead;                     /* the merge's: it ended before it was told to stop */
};

struct journal_par {
        pthread_mutex_t lock;          /* process-shared and robust (a reader may die) */
        pthread_cond_t ready;          /* the merge: a batch was queued */
        bool stop;                     /* under the lock */
        size_t wanted;                 /* under the lock: the file the merge waits for, or
                                          SIZE_MAX */
        struct pfile *files;           /* in the map, n_files, in sd-journal's order */
        size_t n_files;
        struct reader *readers;        /* in the map, n_readers */
        size_t n_readers, n_started;
        size_t batch_bytes, batch_entries;
        pid_t parent;
        void *map;                     /* everything above and the batches: shared with the
                                          readers, made before they are forked */
        size_t map_size;
        struct journal_source_options src; /* copy of the caller's (its strings borrowed) */
        const uint64_t *exact_rt;      /* borrowed, sorted */
        size_t n_exact_rt;

        /* The merge (calling thread only): the entry handed out last. */
        alignas(LINE) struct journal_pos loc;
        bool loc_exact;                /* else loc's seqnum and xor_hash are not known: */
        uint64_t loc_lo, loc_hi;       /* its seqnum's bounds */
        struct batch *loc_b;           /* its batch (the merge's: cur or held), when !loc_exact */
        size_t loc_i;                  /* its index there */
        bool loc_adjacent;             /* nothing of its file was handed out after it */
        size_t loc_file;
        bool has_loc;
        size_t held_file;              /* the file whose held batch is kept, or SIZE_MAX */
        struct journal_pos *scratch;   /* owned, batch_entries: positions read again */
        size_t last;                   /* its file, SIZE_MAX before the first and after the end */
};

static size_t lines(size_t size) {
        return (size + LINE - 1) / LINE * LINE;
}

/* The shared lock: a reader that died holding it leaves it to the others, who notice the death
 * (the merge: reap_readers()). */
static void lock(struct journal_par *p) {
        if (pthread_mutex_lock(&p->lock) == EOWNERDEAD)
                (void) pthread_mutex_consistent(&p->lock);
}

static void unlock(struct journal_par *p) {
        pthread_mutex_unlock(&p->lock);
}

/* Under the lock: wait on c, until *until if given. 0 or ETIMEDOUT. */
static int wait_on(struct journal_par *p, pthread_cond_t *c, const struct timespec *until) {
        int r = until ? pthread_cond_timedwait(c, &p->lock, until) : pthread_cond_wait(c, &p->lock);

        if (r == EOWNERDEAD) {
                (void) pthread_mutex_consistent(&p->lock);
                r = 0;
        }
        return r;
}

/* ---- cursors ---------------------------------------------------------------------------------- */

/* A hex digit's value plus one (0: not a digit): read for every digit of every cursor, so a
 * table rather than escape.h's hex_digit() call. */
static const uint8_t hex1[256] = {
        ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
        ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
        ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_digit(char c) {
        return (int) hex1[(uint8_t) c] - 1;
}

/* Hex digits up to ';' or the end: *ret, and *pp moved past them. 1 to 16 digits. */
static int hex_u64(const char **pp, uint64_t *ret) {
        const char *s = *pp, *start = s;
        uint64_t v = 0;
        uint8_t d;

        /* hex1[] is 0 for ';' and NUL: one table look-up per digit (four numbers per entry) */
        for (; (d = hex1[(uint8_t) *s]) != 0; s++)
                v = v << 4 | (uint64_t) (d - 1);
        if (s == start || s - start > 16 || (*s != 0 && *s != ';'))
                return -EBADMSG;
        *ret = v;
        *pp = s;
        return 0;
}

/* 32 hex digits (sd_id128_to_string()'s form), then ';' or the end. */
static int id128(const char **pp, sd_id128_t *ret) {
        const char *s = *pp;
        sd_id128_t id;

        for (size_t i = 0; i < 16; i++) {
                int a = hex_digit(s[2 * i]), b = a < 0 ? -1 : hex_digit(s[2 * i + 1]);

                if (b < 0)
                        return -EBADMSG;
                id.bytes[i] = (uint8_t) (a << 4 | b);
        }
        if (s[32] && s[32] != ';')
                return -EBADMSG;
        *ret = id;
        *pp = s + 32;
        return 0;
}

/* id128(), or the cached id when the text is the cached one (then updated). */
static int id128_cached(const char **pp, sd_id128_t *ret, struct id_cache *c) {
        const char *s = *pp;
        int r;

        if (c && c->valid && strnlen(s, 32) == 32 && memcmp(s, c->text, 32) == 0 &&
            (s[32] == 0 || s[32] == ';')) {
                *ret = c->id;
                *pp = s + 32;
                return 0;
        }
        r = id128(pp, ret);
        if (r >= 0 && c) {
                memcpy(c->text, s, 32);
                c->id = *ret;
                c->valid = true;
        }
        return r;
}

/* ids: NULL, or the s= and b= of the cursor parsed before. */
static int pos_from_cursor(const char *cursor, struct journal_pos *ret, struct id_cache ids[2]) {
        struct journal_pos p = {};
        unsigned seen = 0;
        const char *c = cursor;
        int r;

        /* Read once per entry by the parallel reader: no strcspn(), no copies. */
        for (;;) {
                char key = c[0];

                if (!key || c[1] != '=')
                        return -EBADMSG;
                c += 2;
                switch (key) {
                case 's':
                        r = id128_cached(&c, &p.seqnum_id, ids ? &ids[0] : NULL);
                        seen |= 1;
                        break;
                case 'i':
                        r = hex_u64(&c, &p.seqnum);
                        seen |= 2;
                        break;
                case 'b':
                        r = id128_cached(&c, &p.boot_id, ids ? &ids[1] : NULL);
                        seen |= 4;
                        break;
                case 'm':
                        r = hex_u64(&c, &p.monotonic);
                        seen |= 8;
                        break;
                case 't':
                        r = hex_u64(&c, &p.realtime);
                        seen |= 16;
                        break;
                case 'x':
                        r = hex_u64(&c, &p.xor_hash);
                        seen |= 32;
                        break;
                default:
                        r = -EBADMSG;
                }
                if (r < 0)
                        return r;
                if (*c == 0)
                        break;
                c++; /* ';' */
        }
        if (seen != 63)
                return -EBADMSG;
        *ret = p;
        return 0;
}

int journal_pos_from_cursor(const char *cursor, struct journal_pos *ret) {
        return pos_from_cursor(cursor, ret, NULL);
}

char *journal_pos_to_cursor(const struct journal_pos *p, char buf[static JOURNAL_CURSOR_MAX]) {
        char s[SD_ID128_STRING_MAX], b[SD_ID128_STRING_MAX];

        /* sd_journal_get_cursor()'s asprintf() in systemd 252, which only the cursors of entries
         * it handed out reach here from (lower-case hex, no leading zeros: what the parser reads
         * back to the same numbers) */
        (void) snprintf(buf, JOURNAL_CURSOR_MAX,
                        "s=%s;i=%" PRIx64 ";b=%s;m=%" PRIx64 ";t=%" PRIx64 ";x=%" PRIx64,
                        sd_id128_to_string(p->seqnum_id, s), p->seqnum,
                        sd_id128_to_string(p->boot_id, b), p->monotonic, p->realtime, p->xor_hash);
        return buf;
}

/* ---- sd-journal's order (systemd 252) --------------------------------------------------------- */

static int cmp_u64(uint64_t a, uint64_t b) {
        return a < b ? -1 : a > b;
}

/* journal_file_compare_locations(): a before b < 0, the same entry 0. */
int journal_pos_compare(const struct journal_pos *a, const struct journal_pos *b) {
        int r;

        if (sd_id128_equal(a->seqnum_id, b->seqnum_id)) {
                r = cmp_u64(a->seqnum, b->seqnum);
                if (r != 0)
                        return r;
        }
        if (sd_id128_equal(a->boot_id, b->boot_id)) {
                r = cmp_u64(a->monotonic, b->monotonic);
                if (r != 0)
                        return r;
        }
        r = cmp_u64(a->realtime, b->realtime);
        if (r != 0)
                return r;
        return cmp_u64(a->xor_hash, b->xor_hash);
}

/* compare_with_location(): f, of another file than the entry at l when other_file. An entry
 * whose boot, realtime, xor hash, seqnum id and seqnum equal l's is l's, stored again. */
static int compare_with_location(const struct journal_pos *f, const struct journal_pos *l,
                                 bool other_file) {
        if (other_file && sd_id128_equal(f->boot_id, l->boot_id) && f->realtime == l->realtime &&
            f->xor_hash == l->xor_hash && sd_id128_equal(f->seqnum_id, l->seqnum_id) &&
            f->seqnum == l->seqnum)
                return 0;
        return journal_pos_compare(f, l);
}

/* ---- readers ---------------------------------------------------------------------------------- */

/* A batch being filled: the reader's own copies of the counters it bumps for every field, kept off
 * the batch (which the merge's CPU reads) until the batch is queued. */
struct fill {
        struct batch *b;
        size_t n, used;
        size_t bytes_max;
        bool exact_seen;               /* an entry's cursor was read (lo is its seqnum) */
        uint64_t lo;
};

static int fill_reserve(struct fill *w, size_t len) {
        struct batch *b = w->b;

        /* never: a batch is filled to under bytes_max, and an entry adds at most ENTRY_KEPT_MAX
         * (read_one()), which alloc holds */
        if (w->used + len > b->alloc)
                return -ENOBUFS;
        return 0;
}

/* The whole position of the entry j is on, from its cursor. 0, -ENOMEM, -errno. */
static int pos_of(sd_journal *j, struct journal_pos *ret, struct id_cache ids[2]) {
        _cleanup_free_ char *cursor = NULL;
        int r;

        r = sd_journal_get_cursor(j, &cursor);
        if (r < 0)
                return r;
        return pos_from_cursor(cursor, ret, ids);
}

static bool same_times(const struct journal_pos *a, const struct journal_pos *b) {
        return a->realtime == b->realtime && a->monotonic == b->monotonic &&
               sd_id128_equal(a->boot_id, b->boot_id) && sd_id128_equal(a->seqnum_id, b->seqnum_id);
}

static bool pos_equal(const struct journal_pos *a, const struct journal_pos *b) {
        return same_times(a, b) && a->seqnum == b->seqnum && a->xor_hash == b->xor_hash;
}

/* Whether entries at this wall clock are to be read exact (journal_par_options). */
static bool exact_realtime(const struct journal_par *p, uint64_t realtime) {
        size_t lo = 0, hi = p->n_exact_rt;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (p->exact_rt[mid] < realtime)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < p->n_exact_rt && p->exact_rt[lo] == realtime;
}

/*
 * The entry sd_journal_next() just moved to, as journal.c's read_entry() reads it. 0, -ENOMEM.
 * Its cursor is read only for the batch's first entry with a place (the batch's lower seqnum
 * bound and the file's seqnum id), an entry with monotonic 0 (its evidence is written out, as
 * with one handle), at a wall clock asked for, and for errors and side entries (their cursor is
 * wanted later); fill() reads the last one's.
 */
static int read_one(const struct journal_par *p, struct pfile *f, sd_journal *j, struct fill *w) {
        struct journal_par_entry *e = &w->b->e[w->n];
        const uint32_t message = UINT32_C(1) << RECORD_MESSAGE;
        size_t mark = w->used;
        struct journal_pos pos;
        const void *data;
        size_t len;
        bool want;
        int r;

        *e = (struct journal_par_entry){ .data_off = (uint32_t) mark };
        r = sd_journal_get_realtime_usec(j, &e->pos.realtime);
        if (r < 0) {
                e->error = r;
                goto done;
        }
        if (sd_journal_get_monotonic_usec(j, &e->pos.monotonic, &e->pos.boot_id) < 0)
                e->pos.monotonic = 0;
        e->has_pos = true;
        want = !w->exact_seen || e->pos.monotonic == 0 ||
               (p->n_exact_rt > 0 && exact_realtime(p, e->pos.realtime));

        sd_journal_restart_data(j);
        for (;;) {
                enum record_field fl;
                size_t off = 0;
                uint32_t bit, h;

                r = sd_journal_enumerate_data(j, &data, &len);
                if (r < 0) {
                        e->error = r;
                        e->present = e->truncated = 0;
                        e->side = false;
                        w->used = mark;
                        break;
                }
                if (r == 0)
                        break;
                fl = record_field_match(data, len, &off);
                if (fl < 0)
                        continue;
                bit = UINT32_C(1) << fl;
                len -= off;
                if (len > RECORD_FIELD_MAX_BYTES) {
                        len = RECORD_FIELD_MAX_BYTES;
                        e->truncated |= bit;
                } else
                        e->truncated &= ~bit;
                e->present |= bit;
                if (e->side)
                        continue; /* too big already: only the bits count from here */
                if (w->used + JOURNAL_PAR_ITEM_HEADER + len + 1 - mark > ENTRY_KEPT_MAX) {
                        /* Copied no further, so that one entry of many big fields cannot make
                         * the batch grow past ENTRY_KEPT_MAX plus a field. */
                        e->side = true;
                        w->used = mark;
                        continue;
                }
                r = fill_reserve(w, JOURNAL_PAR_ITEM_HEADER + len + 1);
                if (r < 0)
                        return r;
                h = (uint32_t) len << 5 | (uint32_t) fl;
                memcpy(w->b->data + w->used, &h, sizeof(h));
                memcpy(w->b->data + w->used + JOURNAL_PAR_ITEM_HEADER, (const char *) data + off, len);
                w->b->data[w->used + JOURNAL_PAR_ITEM_HEADER + len] = 0; /* lent as a record's */
                w->used += JOURNAL_PAR_ITEM_HEADER + len + 1;
        }
        /* journal.c counts these and reads nothing of them but the two bits: keep no bytes. */
        if (!(e->present & message) || (e->truncated & message)) {
                w->used = mark;
                e->side = false;
        }
        if (want || e->error < 0 || e->side) {
                r = pos_of(j, &pos, f->ids);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        e->pos = pos; /* the same times, and the rest */
                        e->exact = true;
                        f->seqnum_id = pos.seqnum_id;
                        if (!w->exact_seen)
                                w->lo = pos.seqnum;
                        w->exact_seen = true;
                } else if (!w->exact_seen)
                        /* no bound for its seqnum: no place (and no cursor), as it always was */
                        e->has_pos = false;
        }
        if (e->has_pos && !e->exact)
                e->pos.seqnum_id = f->seqnum_id;
done:
        e->data_len = (uint32_t) (w->used - mark);
        w->n++;
        return 0;
}

/* Fill b from f's sd_journal j (NULL: it did not open, with error open_error). */
static void fill(struct journal_par *p, struct pfile *f, sd_journal *j, int open_error,
                 struct batch *b) {
        struct fill w = { .b = b, .bytes_max = p->batch_bytes };
        size_t entries_max = p->batch_entries;
        int r = 0;

        b->end = j ? 0 : open_error;
        b->ord = f->ord;
        b->all_exact = false;
        while (j && w.n < entries_max && w.used < w.bytes_max) {
                r = sd_journal_next(j);
                if (r == 0)
                        b->end = 1;
                if (r > 0) {
                        f->ord++;
                        r = read_one(p, f, j, &w);
                }
                if (r < 0)
                        b->end = r;
                if (b->end != 0)
                        break;
        }
        b->n = w.n;
        b->used = w.used;
        b->lo = w.exact_seen ? w.lo : 0;
        b->hi = UINT64_MAX;
        if (b->n > 0) {
                struct journal_par_entry *e = &b->e[b->n - 1];
                struct journal_pos pos;

                /* The handle is still on the last entry (not after the end, where it may be on
                 * one it skipped): its seqnum is the batch's upper bound. */
                if (b->end == 0 && e->has_pos && !e->exact && pos_of(j, &pos, f->ids) >= 0 &&
                    same_times(&pos, &e->pos)) {
                        e->pos = pos;
                        e->exact = true;
                }
                if (e->exact)
                        b->hi = e->pos.seqnum;
        }
}

static bool readable(const struct pfile *f) {
        return !f->busy && !f->read_done && f->n_free > 0;
}

/* Under the lock: the file of reader me to read next, or NULL. */
static struct pfile *pick(struct journal_par *p, unsigned me) {
        struct pfile *best = NULL;

        if (p->wanted != SIZE_MAX && p->files[p->wanted].owner == me &&
            readable(&p->files[p->wanted]))
                return &p->files[p->wanted];
        for (size_t i = 0; i < p->n_files; i++) {
                struct pfile *f = &p->files[i];

                if (f->owner == me && readable(f) && (!best || f->n_ready < best->n_ready))
                        best = f;
        }
        return best;
}

static int open_file(const char *path, const struct journal_source_options *o, sd_journal **ret);

/*
 * Reader me, a child process: opens its files (each its own sd_journal, with the matches and the
 * --since seek), fills their batches as the merge frees them, and exits when told to stop. It dies
 * with the parent (PR_SET_PDEATHSIG) and leaves the signals that stop keytrail to the parent, which
 * stops it. Never returns.
 */
static _Noreturn void reader_main(struct journal_par *p, unsigned me) {
        static const int quiet[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2 };
        sd_journal **h;
        int *errs;

        for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
                (void) signal(quiet[i], SIG_IGN);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != p->parent)
                _exit(0);
        (void) prctl(PR_SET_NAME, "keytrail-read");

        h = calloc(p->n_files, sizeof(sd_journal *));
        errs = calloc(p->n_files, sizeof(int));
        for (size_t i = 0; i < p->n_files; i++) {
                if (p->files[i].owner != me)
                        continue;
                if (!h || !errs) {
                        if (errs)
                                errs[i] = -ENOMEM;
                        continue;
                }
                errs[i] = open_file(p->files[i].path, &p->src, &h[i]);
        }

        for (;;) {
                struct pfile *f;
                struct batch *b;
                size_t i;

                lock(p);
                for (;;) {
                        if (p->stop) {
                                unlock(p);
                                for (size_t k = 0; h && k < p->n_files; k++)
                                        sd_journal_close(h[k]);
                                free(h);
                                free(errs);
                                _exit(0);
                        }
                        f = pick(p, me);
                        if (f)
                                break;
                        (void) wait_on(p, &p->readers[me].work, NULL);
                }
                f->busy = true;
                b = f->free_b[--f->n_free];
                unlock(p);

                i = (size_t) (f - p->files);
                fill(p, f, h ? h[i] : NULL, errs ? errs[i] : -ENOMEM, b);

                lock(p);
                f->ready[(f->ready_head + f->n_ready) % BATCHES_PER_FILE] = b;
                f->n_ready++;
                f->busy = false;
                if (b->end != 0)
                        f->read_done = true;
                pthread_cond_signal(&p->ready);
                unlock(p);
        }
}

/* ---- the merge -------------------------------------------------------------------------------- */

/* Give batch b of f back to the readers. */
static void give_back(struct journal_par *p, struct pfile *f, struct batch *b) {
        lock(p);
        f->free_b[f->n_free++] = b;
        pthread_cond_signal(&p->readers[f->owner].work);
        unlock(p);
}

/* Reap the readers that ended (died: none ends before it is told to stop). ECHILD: one that
 * the kernel reaped itself, as it does when keytrail was started with SIGCHLD ignored. */
static void reap_readers(struct journal_par *p) {
        for (size_t k = 0; k < p->n_started; k++) {
                struct reader *rd = &p->readers[k];
                pid_t r;

                if (rd->pid <= 0)
                        continue;
                r = waitpid(rd->pid, NULL, WNOHANG);
                if (r == rd->pid || (r < 0 && errno == ECHILD)) {
                        rd->pid = 0;
                        rd->dead = true;
                }
        }
}

/* The held batch, unless it is keep. */
static void release_held(struct journal_par *p, const struct batch *keep) {
        struct pfile *f;

        if (p->held_file == SIZE_MAX)
                return;
        f = &p->files[p->held_file];
        if (f->held == keep)
                return;
        if (p->loc_b == f->held)
                p->loc_b = NULL;
        give_back(p, f, f->held);
        f->held = NULL;
        p->held_file = SIZE_MAX;
}

/* File i's next entry: 1 and *ret, 0 when it has no more, -errno when reading it failed. */
static int file_head_slow(struct journal_par *p, size_t i, struct journal_par_entry **ret);

static inline int file_head(struct journal_par *p, size_t i, struct journal_par_entry **ret) {
        struct pfile *f = &p->files[i];

        /* (asked for every file at every step: the common cases without a call) */
        if (f->cur && f->next < f->cur->n) {
                *ret = &f->cur->e[f->next];
                return 1;
        }
        if (!f->cur && f->ended && f->error == 0)
                return 0;
        return file_head_slow(p, i, ret);
}

static int file_head_slow(struct journal_par *p, size_t i, struct journal_par_entry **ret) {
        struct pfile *f = &p->files[i];

        for (;;) {
                if (f->cur) {
                        struct batch *b = f->cur;
                        int end = b->end;

                        if (f->next < b->n) {
                                *ret = &b->e[f->next];
                                return 1;
                        }
                        f->cur = NULL;
                        if (b == p->loc_b && !p->loc_exact) {
                                /* loc may have to be read again: kept until loc moves on */
                                release_held(p, NULL);
                                f->held = b;
                                p->held_file = i;
                        } else {
                                if (b == p->loc_b)
                                        p->loc_b = NULL;
                                give_back(p, f, b);
                        }
                        if (end != 0) {
                                f->ended = true;
                                f->error = MIN(end, 0);
                        }
                }
                if (f->ended)
                        return f->error;

                lock(p);
                while (f->n_ready == 0) {
                        struct timespec until;

                        if (p->wanted != i) {
                                p->wanted = i;
                                pthread_cond_signal(&p->readers[f->owner].work);
                        }
                        /* woken by the reader; every 100 ms it looks whether the reader lives
                         * (one that died after it queued its files' last batches is no loss) */
                        (void) clock_gettime(CLOCK_MONOTONIC, &until);
                        until.tv_nsec += 100 * 1000 * 1000;
                        if (until.tv_nsec >= 1000 * 1000 * 1000) {
                                until.tv_sec++;
                                until.tv_nsec -= 1000 * 1000 * 1000;
                        }
                        if (wait_on(p, &p->ready, &until) != ETIMEDOUT)
                                continue;
                        reap_readers(p);
                        if (p->readers[f->owner].dead) {
                                unlock(p);
                                return -EPIPE; /* a reader died (killed, out of memory) */
                        }
                }
                p->wanted = SIZE_MAX;
                f->cur = f->ready[f->ready_head];
                f->next = 0;
                f->ready_head = (f->ready_head + 1) % BATCHES_PER_FILE;
                f->n_ready--;
                unlock(p);
        }
}

/* f's handle of the calling thread, with the source's matches (opened on first use). */
static int side_handle(struct journal_par *p, struct pfile *f, sd_journal **ret) {
        int r;

        if (!f->side) {
                const char *paths[] = { f->path, NULL };

                r = sd_journal_open_files(&f->side, paths, 0);
                if (r < 0) {
                        f->side = NULL;
                        return r;
                }
                r = journal_add_matches(f->side, &p->src);
                if (r < 0) {
                        sd_journal_close(f->side);
                        f->side = NULL;
                        return r;
                }
        }
        *ret = f->side;
        return 0;
}

/*
 * Read the cursors of b's entries after e[j] (exact) again, into p->scratch, from f's own handle
 * moved to e[j]: by its cursor, or (from_start) by going the reader's way from the start (when the
 * cursor leads elsewhere: a file whose seqnums go back or repeat). Each must have the times the
 * reader read. 0, -ENOMEM, -EAGAIN (not the entries the reader read), -errno.
 */
static int walk(struct journal_par *p, struct pfile *f, struct batch *b, size_t j, bool from_start) {
        char cursor[JOURNAL_CURSOR_MAX];
        struct journal_pos pos;
        sd_journal *h;
        int r;

        r = side_handle(p, f, &h);
        if (r < 0)
                return r;
        if (!from_start) {
                r = sd_journal_seek_cursor(h, journal_pos_to_cursor(&b->e[j].pos, cursor));
                if (r >= 0)
                        r = sd_journal_next(h);
                if (r > 0)
                        r = sd_journal_test_cursor(h, cursor);
        } else {
                r = p->src.since_set || p->src.since_usec > 0
                            ? sd_journal_seek_realtime_usec(h, p->src.since_usec)
                            : sd_journal_seek_head(h);
                for (uint64_t k = 0; r >= 0 && k <= b->ord + j; k++)
                        r = sd_journal_next(h) > 0 ? 0 : -EAGAIN;
                if (r >= 0)
                        r = pos_of(h, &pos, f->side_ids);
                if (r >= 0)
                        r = pos_equal(&pos, &b->e[j].pos);
        }
        if (r == -ENOMEM)
                return r;
        if (r <= 0)
                return -EAGAIN;
        p->scratch[j] = b->e[j].pos;
        for (size_t i = j + 1; i < b->n; i++) {
                const struct journal_par_entry *e = &b->e[i];

                r = sd_journal_next(h);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0)
                        return -EAGAIN;
                if (!e->has_pos)
                        continue; /* the reader could not read it: no place */
                r = pos_of(h, &p->scratch[i], f->side_ids);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !same_times(&p->scratch[i], &e->pos) ||
                    (e->exact && !pos_equal(&p->scratch[i], &e->pos)))
                        return -EAGAIN;
        }
        return 0;
}

/* Every part of the position of each of b's entries (file i's), read again when not known. */
static int make_exact(struct journal_par *p, size_t i, struct batch *b) {
        struct pfile *f = &p->files[i];
        size_t j = 0;
        int r;

        if (b->all_exact)
                return 0;
        /* Before the first exact entry there are only entries without a place (read_one()) */
        while (j < b->n && !b->e[j].exact)
                j++;
        if (j < b->n) {
                r = walk(p, f, b, j, false);
                if (r == -EAGAIN)
                        r = walk(p, f, b, j, true);
                if (r == -EAGAIN)
                        r = -ESTALE; /* the file is not what it was when the reader read it */
                if (r < 0)
                        return r;
                for (size_t k = j; k < b->n; k++)
                        if (b->e[k].has_pos) {
                                b->e[k].pos = p->scratch[k];
                                b->e[k].exact = true;
                        }
                if (b->e[b->n - 1].exact)
                        b->hi = b->e[b->n - 1].pos.seqnum;
        }
        b->all_exact = true;
        if (b == p->loc_b && !p->loc_exact) {
                p->loc = b->e[p->loc_i].pos;
                p->loc_lo = p->loc_hi = p->loc.seqnum;
                p->loc_exact = true;
        }
        return 0;
}

static int make_loc_exact(struct journal_par *p) {
        if (p->loc_exact)
                return 0;
        assert(p->loc_b);
        return make_exact(p, p->loc_file, p->loc_b);
}

/*
 * A position whose seqnum and xor hash may be unknown (!exact): then its seqnum lies in [lo, hi].
 * Within one file the merge never needs them: a reader's own sd_journal already skips every entry
 * that does not come after the one it handed out before (next_beyond_location() with the file's
 * entry as the location), the very comparison the merge would make; so a file's seqnums never go
 * back, and a batch's first and last cursors bound all of its entries'. Between files they decide
 * only when the files share a seqnum id and the batches' ranges overlap (a system and a user
 * file of one journald; copies), and the xor hash only on equal clocks: then the batches are read
 * again, exact (make_exact()), and compared as before.
 */
struct place {
        const struct journal_pos *pos;
        bool exact;
        uint64_t lo, hi;
};

#define UNDECIDED 2

static struct place place_of(const struct journal_par_entry *e, const struct batch *b) {
        if (e->exact)
                return (struct place){ &e->pos, true, e->pos.seqnum, e->pos.seqnum };
        return (struct place){ &e->pos, false, b->lo, b->hi };
}

/* journal_pos_compare(), or UNDECIDED when that depends on a part not known. */
static int compare_partial(const struct place *a, const struct place *b) {
        int r;

        if (a->exact && b->exact)
                return journal_pos_compare(a->pos, b->pos);
        if (sd_id128_equal(a->pos->seqnum_id, b->pos->seqnum_id)) {
                if (a->hi < b->lo)
                        return -1;
                if (a->lo > b->hi)
                        return 1;
                return UNDECIDED;
        }
        if (sd_id128_equal(a->pos->boot_id, b->pos->boot_id)) {
                r = cmp_u64(a->pos->monotonic, b->pos->monotonic);
                if (r != 0)
                        return r;
        }
        r = cmp_u64(a->pos->realtime, b->pos->realtime);
        return r != 0 ? r : UNDECIDED;
}

/* compare_with_location(), or UNDECIDED. */
static int compare_with_location_partial(const struct place *f, const struct place *l,
                                         bool other_file) {
        if (f->exact && l->exact)
                return compare_with_location(f->pos, l->pos, other_file);
        /* l stored again in f's file? Not when the seqnums differ */
        if (other_file && sd_id128_equal(f->pos->boot_id, l->pos->boot_id) &&
            f->pos->realtime == l->pos->realtime &&
            sd_id128_equal(f->pos->seqnum_id, l->pos->seqnum_id) && f->hi >= l->lo && f->lo <= l->hi)
                return UNDECIDED;
        return compare_partial(f, l);
}

/* Whether h, file i's next entry, comes after the entry handed out last: 1, 0, -errno. */
static int after_loc(struct journal_par *p, size_t i, const struct journal_par_entry *h) {
        struct place a, l = { &p->loc, p->loc_exact, p->loc_lo, p->loc_hi };
        int k, r;

        if (i == p->loc_file && p->loc_adjacent)
                return 1; /* its reader's handle put it after loc (the comment above) */
        a = place_of(h, p->files[i].cur);
        k = compare_with_location_partial(&a, &l, i != p->loc_file);
        if (k == UNDECIDED) {
                r = make_exact(p, i, p->files[i].cur);
                if (r >= 0)
                        r = make_loc_exact(p);
                if (r < 0)
                        return r;
                k = compare_with_location(&h->pos, &p->loc, i != p->loc_file);
        }
        return k > 0;
}

/* Whether h (file i's) comes before best (file best_i's): 1, 0, -errno. */
static int before(struct journal_par *p, size_t i, const struct journal_par_entry *h, size_t best_i,
                  const struct journal_par_entry *best) {
        struct place a = place_of(h, p->files[i].cur), b = place_of(best, p->files[best_i].cur);
        int k, r;

        k = compare_partial(&a, &b);
        if (k == UNDECIDED) {
                r = make_exact(p, i, p->files[i].cur);
                if (r >= 0)
                        r = make_exact(p, best_i, p->files[best_i].cur);
                if (r < 0)
                        return r;
                k = journal_pos_compare(&h->pos, &best->pos);
        }
        return k < 0;
}

int journal_par_next(struct journal_par *p, const struct journal_par_entry **ret,
                     const char **ret_data, size_t *ret_file) {
        struct journal_par_entry *best = NULL, *h;
        size_t best_i = SIZE_MAX;
        struct pfile *bf;
        int r;

        if (p->last != SIZE_MAX) {
                p->files[p->last].next++;
                p->last = SIZE_MAX;
        }
        for (size_t i = 0; i < p->n_files; i++) {
                r = file_head(p, i, &h);
                /* next_beyond_location(): past the entry handed out last */
                while (r > 0 && h->has_pos && p->has_loc) {
                        r = after_loc(p, i, h);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                break;
                        p->files[i].next++;
                        r = file_head(p, i, &h);
                }
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (!h->has_pos) {
                        /* Its cursor could not be read, so it has no place: handed out now, as
                         * the unreadable entry it is (journal.c counts it), the order unchanged. */
                        best = h;
                        best_i = i;
                        if (i == p->loc_file)
                                p->loc_adjacent = false;
                        goto out;
                }
                if (best) {
                        r = before(p, i, h, best_i, best);
                        if (r < 0)
                                return r;
                }
                if (!best || r > 0) {
                        best = h;
                        best_i = i;
                }
        }
        if (!best)
                return 0;
        bf = &p->files[best_i];
        p->loc = best->pos;
        p->loc_exact = best->exact;
        p->loc_lo = best->exact ? best->pos.seqnum : bf->cur->lo;
        p->loc_hi = best->exact ? best->pos.seqnum : bf->cur->hi;
        p->loc_b = bf->cur;
        p->loc_i = bf->next;
        p->loc_adjacent = true;
        p->loc_file = best_i;
        p->has_loc = true;
        release_held(p, p->loc_b);
out:
        p->last = best_i;
        *ret = best;
        *ret_data = p->files[best_i].cur->data;
        *ret_file = best_i;
        return 1;
}

int journal_par_exact(struct journal_par *p, const struct journal_pos **ret) {
        struct pfile *f;
        struct journal_par_entry *e;
        int r;

        if (p->last == SIZE_MAX)
                return -EADDRNOTAVAIL;
        f = &p->files[p->last];
        e = &f->cur->e[f->next];
        if (!e->has_pos)
                return -EADDRNOTAVAIL;
        if (!e->exact) {
                r = make_exact(p, p->last, f->cur);
                if (r < 0)
                        return r;
        }
        *ret = &e->pos;
        return 0;
}

int journal_par_side(struct journal_par *p, size_t file, const char *cursor, sd_journal **ret) {
        struct pfile *f = &p->files[file];
        sd_journal *j;
        int r;

        r = side_handle(p, f, &j);
        if (r < 0)
                return r;
        r = sd_journal_seek_cursor(j, cursor);
        if (r >= 0)
                r = sd_journal_next(j);
        if (r == 0)
                return -ESTALE;
        if (r > 0)
                r = sd_journal_test_cursor(j, cursor);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESTALE;
        *ret = j;
        return 0;
}

/* ---- setup ------------------------------------------------------------------------------------ */

struct journal_par *journal_par_free(struct journal_par *p) {
        void *map;
        size_t map_size;

        if (!p)
                return NULL;
        if (p->n_started > 0) {
                lock(p);
                p->stop = true;
                for (size_t k = 0; k < p->n_started; k++)
                        pthread_cond_signal(&p->readers[k].work);
                unlock(p);
                for (size_t k = 0; k < p->n_started; k++)
                        while (p->readers[k].pid > 0 && waitpid(p->readers[k].pid, NULL, 0) < 0 &&
                               errno == EINTR)
                                ;
        }
        for (size_t i = 0; p->files && i < p->n_files; i++)
                sd_journal_close(p->files[i].side);
        free(p->scratch);
        /* The lock and the conditions go with the map, not destroyed: pthread_cond_destroy()
         * would wait for the waiters' wake-ups, and a reader killed while it waited never takes
         * its own. */
        map = p->map;
        map_size = p->map_size;
        (void) munmap(map, map_size);
        return NULL;
}

static int open_file(const char *path, const struct journal_source_options *o, sd_journal **ret) {
        const char *paths[] = { path, NULL };
        sd_journal *j = NULL;
        int r;

        r = sd_journal_open_files(&j, paths, 0);
        if (r < 0)
                return r;
        r = journal_add_matches(j, o);
        if (r >= 0) {
                if (o->since_set || o->since_usec > 0)
                        r = sd_journal_seek_realtime_usec(j, o->since_usec);
                else
                        r = sd_journal_seek_head(j);
        }
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

struct span {
        uint64_t from, to;
        size_t i;
};

static int cmp_span(const void *a, const void *b) {
        const struct span *x = a, *y = b;

        if (x->from != y->from)
                return x->from < y->from ? -1 : 1;
        return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Give each file to a reader, so that the files the merge reads at once (whose times overlap)
 * are read by different readers as far as there are readers: in the order the files start, each
 * goes to the reader whose files end first (then: the one with fewest files).
 */
static int assign(struct journal_par *p, struct span *spans) {
        uint64_t *until = calloc(p->n_readers, sizeof(uint64_t));
        size_t *count = calloc(p->n_readers, sizeof(size_t));

        if (!until || !count) {
                free(until);
                free(count);
                return -ENOMEM;
        }
        qsort(spans, p->n_files, sizeof(struct span), cmp_span);
        for (size_t s = 0; s < p->n_files; s++) {
                size_t best = 0;

                for (size_t k = 1; k < p->n_readers; k++)
                        if (until[k] < until[best] ||
                            (until[k] == until[best] && count[k] < count[best]))
                                best = k;
                p->files[spans[s].i].owner = (unsigned) best;
                until[best] = MAX(until[best], spans[s].to);
                count[best]++;
        }
        free(until);
        free(count);
        return 0;
}

int journal_par_new(char *const *files, size_t n, const struct journal_par_options *o,
                    struct journal_par **ret, size_t *reterr_index) {
        _cleanup_(journal_par_freep) struct journal_par *p = NULL;
        _cleanup_free_ struct span *spans = NULL;
        pthread_mutexattr_t ma;
        pthread_condattr_t ca;
        size_t batch_bytes, batch_entries, readers_off, files_off, batches_off, entries_size,
                data_size, size;
        void *map;
        char *next;
        int r;

        assert(n > 0 && o->jobs > 0);
        batch_bytes = MIN(MAX(BATCH_BYTES_BUDGET / n, (size_t) BATCH_BYTES_MIN),
                          (size_t) BATCH_BYTES_MAX);
        batch_entries = MIN(MAX(batch_bytes / 512, (size_t) BATCH_ENTRIES_MIN),
                            (size_t) BATCH_ENTRIES_MAX);

        /* Every file opens here (so that the one that does not is named), and tells its times;
         * the readers open their own after the fork (an sd_journal is its process's). */
        spans = calloc(n, sizeof(struct span));
        if (!spans)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                sd_journal *j;

                r = open_file(files[i], o->source, &j);
                if (r < 0) {
                        if (r != -ENOMEM && reterr_index)
                                *reterr_index = i;
                        return r;
                }
                spans[i].i = i;
                if (sd_journal_get_cutoff_realtime_usec(j, &spans[i].from, &spans[i].to) <= 0)
                        spans[i].from = spans[i].to = 0;
                sd_journal_close(j);
        }

        /* One shared map, made before the fork, so at the same address in every process: the
         * state, the readers', the files' and their batches (entries and field bytes). */
        readers_off = lines(sizeof(struct journal_par));
        files_off = readers_off + lines(o->jobs * sizeof(struct reader));
        batches_off = files_off + lines(n * sizeof(struct pfile));
        entries_size = lines(batch_entries * sizeof(struct journal_par_entry));
        data_size = lines(batch_bytes + ENTRY_KEPT_MAX);
        size = batches_off + n * BATCHES_PER_FILE * (entries_size + data_size);
        map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED)
                return -errno;
        p = map;
        p->map = map;
        p->map_size = size;
        p->readers = (struct reader *) ((char *) map + readers_off);
        p->n_readers = o->jobs;
        p->files = (struct pfile *) ((char *) map + files_off);
        p->n_files = n;
        p->batch_bytes = batch_bytes;
        p->batch_entries = batch_entries;
        p->wanted = p->last = p->held_file = SIZE_MAX;
        p->src = *o->source;
        p->exact_rt = o->exact_realtimes;
        p->n_exact_rt = o->n_exact_realtimes;
        p->parent = getpid();

        r = -pthread_mutexattr_init(&ma);
        if (r < 0)
                return r;
        r = -pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        if (r >= 0)
                r = -pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
        if (r >= 0)
                r = -pthread_mutex_init(&p->lock, &ma);
        pthread_mutexattr_destroy(&ma);
        if (r < 0)
                return r;
        r = -pthread_condattr_init(&ca);
        if (r < 0)
                return r;
        r = -pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        for (size_t k = 0; r >= 0 && k < p->n_readers; k++)
                r = -pthread_cond_init(&p->readers[k].work, &ca);
        if (r >= 0)
                r = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (r >= 0)
                r = -pthread_cond_init(&p->ready, &ca);
        pthread_condattr_destroy(&ca);
        if (r < 0)
                return r;

        p->scratch = calloc(p->batch_entries, sizeof(struct journal_pos));
        if (!p->scratch)
                return -ENOMEM;
        next = (char *) map + batches_off;
        for (size_t i = 0; i < n; i++) {
                struct pfile *f = &p->files[i];

                f->path = files[i];
                for (size_t k = 0; k < BATCHES_PER_FILE; k++) {
                        struct batch *b = &f->batches[k];

                        b->e = (struct journal_par_entry *) next;
                        b->data = next + entries_size;
                        b->alloc = data_size;
                        next += entries_size + data_size;
                        f->free_b[f->n_free++] = b;
                }
        }
        r = assign(p, spans);
        if (r < 0)
                return r;

        for (unsigned k = 0; k < o->jobs; k++) {
                pid_t pid;

                /* the reader leaves with _exit(): its copy of stdio is never flushed */
                pid = fork();
                if (pid < 0)
                        return -EAGAIN; /* (ENOMEM too) the caller reads with one handle */
                if (pid == 0)
                        reader_main(p, k);
                p->readers[k].pid = pid;
                p->n_started++;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
