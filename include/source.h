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

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "record.h"

struct source;

/* Counters every source keeps (shown by --stats). */
struct source_stats {
        uint64_t files;         /* files opened for reading */
        uint64_t corrupt;       /* entries that could not be read (source_skipped()) */
        uint64_t malformed;     /* entries skipped: no MESSAGE field (any local process can send
                                   one; sshd never does) */
        uint64_t oversized;     /* entries skipped: a MESSAGE longer than RECORD_FIELD_MAX_BYTES */
        uint64_t unresolved;    /* evidence whose entry was no longer in the files when its alert
                                   was built: given a partial cursor (source_cursor()) */
        uint64_t fd_limited;    /* files that could not be opened again (to look evidence up, to
                                   check them at the end) for the limit of open files */
        uint64_t jobs_limited;  /* reader threads of --jobs not started for the limit of open
                                   files: the journal was read with one handle (journal.c) */
        uint64_t jobs_unforked; /* reader processes of --jobs that fork() could not start (the
                                   limit of processes, memory): read with one handle */
};

#define SOURCE_READERS_MAX 8    /* groups named per unreadable file */
#define SOURCE_PROBLEMS_MAX 64  /* files described; more are only counted */

/* A file the source found but could not read, in whole or in part. */
struct source_problem {
        char *path;             /* owned by the source */
        int error;              /* -EACCES (permission), -EBADMSG (not a journal file, or
                                   corrupt), another -errno */
        bool partly;            /* opened, but part of it could not be read (corrupt entries, or
                                   reading stopped before its last entry) */
        bool note;              /* not a failure, only said (the exit status is unchanged): error
                                   -ESTALE, a file of a live journal written to during the scan
                                   with an entry the read could not take in (journal.c) */
        gid_t readers[SOURCE_READERS_MAX]; /* -EACCES: the groups that may read it (the file's
                                   group, then those of its access ACL) */
        size_t n_readers;
};

/* The digest an ENTRY_REF_SEEK ref carries, of another record (the pipeline's; see record.h). */
typedef uint64_t (*record_digest_fn)(void *userdata, const struct log_record *rec);

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
        int (*cursor)(struct source *s, const struct entry_ref *ref, record_digest_fn digest,
                      void *userdata, char **ret);
        /* Optional (NULL: all zero, no problems; next_borrowed: next into the caller's record). */
        int (*next_borrowed)(struct source *s, const struct log_record **ret);
        const struct log_record *(*peek)(const struct source *s, unsigned k);
        const struct source_stats *(*stats)(const struct source *s);
        const struct source_problem *(*problems)(const struct source *s, size_t *ret_n,
                                                 size_t *ret_more);
};

struct journal_source_options {
        const char *directory;      /* borrowed; NULL for the local system journal */
        char **files;               /* borrowed, NULL-terminated; NULL for none */
        char **identifiers;         /* borrowed, NULL-terminated; SYSLOG_IDENTIFIER matches */
        char **also;                /* borrowed, NULL-terminated FIELD=VALUE matches that all hold
                                       together: entries read in addition (NULL: none) */
        char **also_kept;           /* borrowed, NULL-terminated FIELD=VALUE matches that the
                                       reader checks itself: of the entries read only through
                                       also, it drops those without them (sd-journal would pay
                                       more for them in its match). NULL: none */
        uint64_t since_usec;        /* 0: from the head, unless since_set */
        uint64_t until_usec;        /* 0: to the tail, unless until_set */
        bool since_set, until_set;  /* the bound was given: then 0 is a time too (--until @0) */
        unsigned jobs;              /* threads reading files in parallel: 0 or 1 reads them all
                                       through one sd_journal in this thread; more reads each file
                                       through its own (at most one thread per file), and the
                                       records come in the same order (journal-parallel.c) */
};

/*
 * Open. The local journal (no directory, no files) and a directory are read whole: every journal
 * file of the machine or folder, the system's and each user's (user-UID.journal, where journald
 * puts the lines of sshd's per-user child on a persistent journal). Files there that cannot be
 * opened (permission, not a journal, corrupt) are skipped and listed by source_problems().
 * Explicit files must all open.
 *
 * Read through one handle, and read before anyone took the handle (journal_source_journal()),
 * the files are looked at once reading starts: when none is being written, each term of the
 * match (an identifier; also with also_kept) that no file holds an entry for is left out of
 * sd-journal's match, which pays for every term at every step. The same entries are read. When
 * reading ends the terms left out are looked for again, and a file that now holds one within
 * --since/--until is a note (source_problems(): note, -ESTALE, it was written to during the read:
 * a scan of a live journal always missed some entries written while it ran).
 *
 * Returns 0 and *ret (source_stats()->files == 0 when nothing could be opened: the caller says
 * so), or -errno with *reterr_path (may be NULL) the file or folder at fault (borrowed from o):
 * -ENOENT, -EACCES, ... for the folder or a file; -EBADMSG (or -ENODATA, -EPROTONOSUPPORT) for a
 * file given that is not a journal file, or a corrupt one.
 */
_warn_unused_ int journal_source_open(const struct journal_source_options *o, struct source **ret,
                                      const char **reterr_path);

/* The journal folders of this machine that journal_source_open() reads when neither a directory
 * nor files are given (NULL-terminated, static). */
extern const char *const journal_local_dirs[];

/*
 * Read the next record into *rec (reusing its buffers). Returns 1 when a record was read, 0 at the end
 * of the range, -errno on failure. Entries that cannot be read (corrupt) are skipped and counted.
 */
_warn_unused_ int source_next(struct source *s, struct log_record *rec);

/*
 * As source_next(), but *ret may be a record the source holds (valid until the next call on s,
 * not to be changed): a source that reads ahead hands its records out without a copy. scratch is
 * filled instead when the source does not.
 */
_warn_unused_ int source_next_borrowed(struct source *s, struct log_record *scratch,
                                       const struct log_record **ret);

/* The record k places after the one source_next_borrowed() handed out last, when the source has
 * read it already (NULL otherwise): only to prefetch for it (pipeline_prefetch()). */
const struct log_record *source_peek(const struct source *s, unsigned k);

/*
 * The cursor of the entry ref points at (a ref this source handed out with a record), newly
 * allocated: a journal cursor exactly as sd_journal_get_cursor() gives it, or FILE:LINE for a
 * text log. Asked when an alert is built, not per entry. An ENTRY_REF_SEEK ref is looked up in
 * the files (the current entry is answered at once): digest (with userdata) must give, for the
 * candidates found there, what the ref's digest was computed as (the files are held open from
 * the start, up to 256 of them, so a rotation or vacuum meanwhile changes nothing). When the
 * entry is no longer there all the same (its file emptied or rewritten, or a file not held that
 * went away), a partial cursor "b=...;m=...;t=..." (sd_journal_seek_cursor() still finds the
 * place) and source_stats()->unresolved counts it.
 * Returns 0 and *ret; -ENOENT when the ref has no position (ENTRY_REF_NONE); -ENOMEM.
 */
_warn_unused_ int source_cursor(struct source *s, const struct entry_ref *ref,
                                record_digest_fn digest, void *userdata, char **ret);

/* The source's counters (never NULL; all zero for a source without). */
const struct source_stats *source_stats(const struct source *s);

/*
 * Files found and not read, or read in part (borrowed, valid until source_free()). *ret_n: how
 * many are described, *ret_more (may be NULL): how many more were found beyond
 * SOURCE_PROBLEMS_MAX. Files that stopped early are known only once source_next() returned 0.
 */
const struct source_problem *source_problems(const struct source *s, size_t *ret_n,
                                             size_t *ret_more);

/* Entries skipped because they could not be read (a corrupt journal). */
uint64_t source_skipped(const struct source *s);

/* The cursor of the first skipped entry (borrowed, NULL when none or unknown), and in *ret_why
 * (may be NULL) what was wrong with it. */
const char *source_first_skipped(const struct source *s, const char **ret_why);

/* The sd_journal handle of a journal source (borrowed, valid as long as s; NULL for another kind
 * of source), for keytrail follow to seek, wait and test cursors on; records keep coming from
 * source_next(). Once handed out, the source no longer checks that each file was read to its
 * last entry (the holder may start elsewhere); files that do not open are still listed. */
struct sd_journal *journal_source_journal(struct source *s);

/*
 * keytrail follow, one handle per host (docs/follow.md): a new sd_journal over the files the
 * source opened (the same folder, files or local journal), with the source's matches each joined
 * with _MACHINE_ID=machine_id (32 hex digits). Owned by the caller. 0 and *ret, or -errno
 * (-EMFILE: its files would not all open within the limit of open files).
 */
_warn_unused_ int journal_source_open_host(struct source *s, const char *machine_id,
                                           struct sd_journal **ret);

/*
 * Read the next records through j (a handle of journal_source_open_host(), borrowed: it must
 * outlive its use) instead of the source's own handle (j NULL: the own again). on_next: the
 * caller has already moved j onto the entry to hand out next (sd_journal_next() returned 1).
 */
void journal_source_read_through(struct source *s, struct sd_journal *j, bool on_next);

struct source *source_free(struct source *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct source *, source_free);
