/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Private to src/source/: the parallel reader of the journal source (journal-parallel.c). Each
 * journal file gets its own sd_journal; reader threads read the files' matched entries ahead,
 * copying what keytrail uses into preallocated batches; the calling thread merges the files'
 * entries in exactly the order one sd_journal over all of them hands them out (systemd 252's
 * real_journal_next()), entries stored in two files included. journal.c turns them into records.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "macro.h"
#include "record.h"
#include "source.h"

struct sd_journal;

/* The source's matches (journal.c): o's identifiers, OR'ed, then o->also. 0 or -errno. */
_warn_unused_ int journal_add_matches(struct sd_journal *j, const struct journal_source_options *o);

/* An entry's place among the journal's entries: the parts of its cursor. */
struct journal_pos {
        sd_id128_t seqnum_id, boot_id;
        uint64_t seqnum, monotonic, realtime, xor_hash;
};

/* sd-journal's journal_file_compare_locations() (systemd 252): a before b < 0, the same entry 0.
 * Not a total order across seqnum ids, boots and clocks. */
int journal_pos_compare(const struct journal_pos *a, const struct journal_pos *b);

/* "s=...;i=...;b=...;m=...;t=...;x=..." -> *ret. 0, or -EBADMSG. */
_warn_unused_ int journal_pos_from_cursor(const char *cursor, struct journal_pos *ret);

/* sd_journal_get_cursor()'s text (systemd 252's format, byte for byte) for p. */
#define JOURNAL_CURSOR_MAX (2 + 32 + 3 + 16 + 3 + 32 + 3 + 16 + 3 + 16 + 3 + 16 + 1)
char *journal_pos_to_cursor(const struct journal_pos *p, char buf[static JOURNAL_CURSOR_MAX]);

/*
 * One entry as a reader thread read it. Its fields are a run of items in the batch's data
 * (journal_par_next()'s *ret_data), from data_off, data_len bytes: each a 4-byte header
 * (journal_par_item()) then the value's bytes and a NUL, in the order sd-journal enumerated them.
 *
 * A reader does not read every entry's cursor (its asprintf() was a tenth of the CPU): pos's
 * seqnum and xor_hash are known only when exact. The merge reads them again when its order
 * depends on them (journal-parallel.c); journal_par_exact() does so for the entry handed out.
 */
struct journal_par_entry {
        struct journal_pos pos;        /* realtime and monotonic are the entry's times even
                                          without has_pos (monotonic 0: unknown); boot_id and
                                          seqnum_id are known when has_pos, seqnum and xor_hash
                                          when exact */
        int error;                     /* < 0: the entry could not be read (no fields) */
        bool has_pos;                  /* it has a place in the order (its times were read) */
        bool exact;                    /* every part of pos is known (its cursor was read): so for
                                          every entry with monotonic 0, an error or side */
        bool side;                     /* its fields were too big to keep: read them again with
                                          journal_par_side() */
        uint32_t present, truncated;   /* bits per enum record_field, as struct log_record's */
        uint32_t data_off, data_len;
};

#define JOURNAL_PAR_ITEM_HEADER 4
/* The item at *data: its field and value (len bytes, then a NUL); returns the next item's start. */
static inline const char *journal_par_item(const char *data, enum record_field *ret_field,
                                           const char **ret_value, size_t *ret_len) {
        uint32_t h;

        memcpy(&h, data, sizeof(h));
        *ret_field = (enum record_field) (h & 31);
        *ret_len = h >> 5;
        *ret_value = data + JOURNAL_PAR_ITEM_HEADER;
        return data + JOURNAL_PAR_ITEM_HEADER + (h >> 5) + 1;
}

struct journal_par_options {
        const struct journal_source_options *source; /* borrowed for the reader's lifetime:
                                                        matches and --since */
        unsigned jobs;                               /* reader threads, >= 1 */
        const uint64_t *exact_realtimes;             /* borrowed likewise, sorted, n of them:
                                                        entries at these wall clocks are read
                                                        exact (the files' last entries) */
        size_t n_exact_realtimes;
};

struct journal_par;

/*
 * Open each of files (borrowed, n of them, in the order sd-journal would iterate them) alone and
 * start o->jobs reader processes. Returns 0, or -errno with *reterr_index the file that did not
 * open (none for -ENOMEM); -EAGAIN, no file named, when fork() failed (the limit of processes,
 * memory).
 */
_warn_unused_ int journal_par_new(char *const *files, size_t n, const struct journal_par_options *o,
                                  struct journal_par **ret, size_t *reterr_index);

/*
 * The next entry in sd-journal's order: 1 with *ret (valid until the next call) and *ret_data
 * (the bytes its offsets point into), and *ret_file the index of its file; 0 at the end; -errno
 * when a file could not be read on (as sd_journal_next() would fail).
 */
_warn_unused_ int journal_par_next(struct journal_par *p, const struct journal_par_entry **ret,
                                   const char **ret_data, size_t *ret_file);

/*
 * The entry journal_par_next() handed out last, every part of its position known (read again when
 * the reader did not read it): 0 and *ret (valid as that entry is), -EADDRNOTAVAIL when it has no
 * place, or -errno.
 */
_warn_unused_ int journal_par_exact(struct journal_par *p, const struct journal_pos **ret);

/*
 * For an entry marked side: file's sd_journal of the calling thread (opened on first use, owned by
 * p), positioned on the entry at cursor. 0 and *ret, or -errno (-ESTALE: the entry is not there).
 */
_warn_unused_ int journal_par_side(struct journal_par *p, size_t file, const char *cursor,
                                   struct sd_journal **ret);

/* More files than this are read by one sd_journal (their batches would take too much memory). */
#define JOURNAL_PAR_FILES_MAX 1024

/* Stop the threads and free everything. */
struct journal_par *journal_par_free(struct journal_par *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct journal_par *, journal_par_free);
