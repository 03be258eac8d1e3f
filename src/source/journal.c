/* SPDX-License-Identifier: MIT */
/*
 * The sd-journal source. Owns the sd_journal handle. Only entries matching one of the configured
 * SYSLOG_IDENTIFIERs are read (sd-journal matches, OR'ed); each entry's fields are enumerated once
 * and the ones keytrail uses are copied into the record, since sd_journal data is only valid until
 * the next data call.
 *
 * sd-journal is quiet about what it cannot read: a file it cannot open (permission, not a journal)
 * is left out of the set, and a file whose entry objects are corrupt is dropped in the middle of
 * the iteration. So the source looks for itself: it lists the journal files of the folders it reads
 * (as sd-journal does: the folder, and its machine-id subfolders), opens each one alone, and notes
 * every one that fails (with the groups that may read it, for a permission problem); and for each
 * file it remembers the last entry in range, and checks at the end that the merged read got
 * there. Entries without a MESSAGE (anyone can send one) or with an over-long one are counted and
 * skipped; entries sd-journal cannot read are counted and their file named. Never fatal.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "journal-internal.h"
#include "source.h"
#include "strview.h"

#define JOURNAL_FILES_MAX 65536 /* journal files listed per source */
#define READ_AHEAD 32 /* entries read at a time (bench/README.md: cache misses) */
#define SD_JOURNAL_FILES_MAX 7168 /* sd-journal's own JOURNAL_FILES_MAX: it opens no more */
#define FD_ROOM_PROBE_MAX 65536   /* fd_room() without /proc: descriptors asked at most */
#define JOURNAL_HELD_FILES_MAX 256 /* files held open for evidence lookups (beside sd-journal's) */

/* A file as a lookup handle last saw it (seen_file_check()). */
struct seen_file {
        dev_t dev;
        ino_t ino;
        off_t size; /* the largest size seen since the handle opened it */
};

const char *const journal_local_dirs[] = { "/run/log/journal", "/var/log/journal", NULL };

/* The last entry in range of one file: reading must get there, or the file stopped early. */
struct tail {
        uint64_t realtime_usec;
        char *cursor;                 /* owned */
        struct journal_pos pos;       /* the cursor's parts, when has_pos (the parallel read) */
        bool has_pos;
        size_t file;                  /* index into files */
        bool seen;
};

struct source {
        const struct source_ops *ops; /* first: see source.h */
        sd_journal *j;                /* the handle read: own, or one of follow's per-host handles
                                         (journal_source_read_through()); NULL when par reads */
        sd_journal *own;              /* owned: the handle opened (j before any read_through) */
        bool next_ready;              /* j is already on the entry to hand out next */
        char *open_dir;               /* owned copies of how the files were opened, for
                                         journal_source_open_host(): a folder, or */
        char **open_files;            /* the files given, or neither: the local journal */
        struct journal_par *par;      /* owned: the parallel reader, or NULL */
        const struct journal_par_entry *par_entry; /* par's current entry (valid until the next
                                                      journal_par_next()), or NULL */
        const char *par_data;
        struct log_record lent;       /* journal_next_borrowed()'s with the parallel reader: its
                                         fields point into the merge's batch (never freed) */
        bool lend;                    /* next_entry() may fill lent */
        struct log_record *handed;    /* the record next_entry() filled last */
        uint64_t until_usec;
        bool until_set;               /* --until given (then 0 is a time too) */
        struct source_stats stats;
        char *first_skipped;          /* owned: cursor of the first unreadable entry, or NULL */
        const char *first_skipped_why;
        bool located;                 /* the file of the first unreadable entry was looked for */
        bool ended;                   /* the end was reached once (tails checked) */
        bool handed_out;         /* the handle was handed out: no tail check */

        char **files;                 /* owned: the files that opened, sorted */
        size_t n_files;
        struct tail *tails;           /* owned, sorted by realtime_usec */
        size_t n_tails;
        struct source_problem problems[SOURCE_PROBLEMS_MAX];
        size_t n_problems;
        size_t more_problems;         /* problems beyond SOURCE_PROBLEMS_MAX, only counted */

        /* Evidence cursors (source_cursor()): each record carries an entry_ref, and the cursor of
         * an entry that an alert names is looked up only then, in handles of their own. */
        uint64_t serial;              /* entries the reading handle went to (sd_journal_next()
                                         that returned one): the current one's ref.serial */
        uint64_t since_usec;          /* where reading started (--since), for the replay */
        bool since_set;
        sd_journal *replay;           /* owned, opened on first use: the files read again as the
                                         reading handle reads them (copies of one entry) */
        struct seen_file *replay_seen; /* owned, n_order: each file as the replay last saw it */
        uint64_t replay_serial;       /* the entry it is on (0: before the first) */
        bool on_entry;                /* j is on the record of serial (cursor of the current entry) */
        bool eager;                   /* every record's whole position is read at once (the
                                         handle was handed out: keytrail follow) */
        char **order;                 /* owned array of paths borrowed from files: the order
                                         sd-journal iterates them (ties between copies) */
        int *order_fds;               /* owned, n_order: each file held open from the start (-1:
                                         not held), so that one renamed or deleted meanwhile
                                         (rotated, vacuumed) is still looked in */
        size_t n_order;
        sd_journal **sides;           /* owned, n_order, each opened on first use: one file each */
        struct seen_file *side_seen;  /* owned, n_order: each file as its side last saw it */
        char **match_identifiers;     /* owned copies of the options' matches, for the sides */
        char **match_also;
        char **match_also_kept;
        bool par_off;                 /* --jobs N, without the descriptors for it (par_fit()) */
        bool hold_none;               /* no file held open (order_fds): the descriptors are the
                                         parallel reader's (par_fit()) */
        struct journal_source_options par_options; /* the parallel reader's: these matches */
        uint64_t *tail_realtimes;     /* owned: the parallel reader's copy of the tails' times */
        char **par_identifiers;       /* owned array (strings borrowed): the identifiers kept */
        struct log_record scratch;    /* a candidate read by a side */

        /* The match's terms no file held an entry for when reading started, left out of j's
         * match (prune_match()): absent[i] for match_identifiers[i], absent[n] for also. */
        bool match_checked;           /* looked at (once, before the first read) */
        bool *absent;                 /* owned, NULL: every term kept */
        bool match_rechecked;         /* looked for again at the end */

        /* Read-ahead (one handle, not handed out): entries are read READ_AHEAD at a time, then
         * handed out one by one, so that sd-journal's code and the pipeline's stop evicting each
         * other from the instruction cache at every entry. */
        struct log_record ahead[READ_AHEAD];
        unsigned ahead_n, ahead_i;    /* read ahead; handed out of them */
        bool ahead_done;              /* reading ended: ahead_r is what comes after the last */
        int ahead_r;
};

static const struct source_ops journal_ops;

/* The cursor of the record handed out last (newly allocated). */
static int current_cursor(struct source *s, char **ret) {
        char *c = NULL;
        int r;

        if (s->par) {
                const struct journal_pos *pos;
                char buf[JOURNAL_CURSOR_MAX];

                if (!s->par_entry)
                        return -EADDRNOTAVAIL;
                r = journal_par_exact(s->par, &pos);
                if (r < 0)
                        return r;
                c = strdup(journal_pos_to_cursor(pos, buf));
                if (!c)
                        return -ENOMEM;
                *ret = c;
                return 0;
        }

        r = sd_journal_get_cursor(s->j, &c);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

/* ---- what could not be read --------------------------------------------------------------- */

/* The groups that may read path: its group when the group may read, then the named groups of
 * its POSIX access ACL (the xattr's layout: a 4-byte version 2, then 8-byte entries of tag,
 * permissions, id, little endian). */
static void readers_of(const char *path, struct source_problem *p) {
        enum { ACL_EA_VERSION = 2, ACL_READ = 4, ACL_GROUP_OBJ = 0x04, ACL_GROUP = 0x08,
               ACL_MASK = 0x10 };
        uint8_t buf[4 + 8 * 64];
        unsigned mask = 7;
        struct stat st;
        ssize_t n;

        if (stat(path, &st) < 0)
                return;
        n = getxattr(path, "system.posix_acl_access", buf, sizeof(buf));
        if (n >= 4 && (n - 4) % 8 == 0 &&
            (buf[0] | buf[1] << 8 | (unsigned) buf[2] << 16 | (unsigned) buf[3] << 24) ==
                    ACL_EA_VERSION) {
                for (ssize_t i = 4; i < n; i += 8)
                        if ((buf[i] | buf[i + 1] << 8) == ACL_MASK)
                                mask = buf[i + 2] | buf[i + 3] << 8;
                /* With an ACL, the group bits of the mode are the mask; the owning group's
                 * own entry says what it may do. */
                for (ssize_t i = 4; i < n && p->n_readers < SOURCE_READERS_MAX; i += 8) {
                        unsigned tag = buf[i] | buf[i + 1] << 8, perm = buf[i + 2] | buf[i + 3] << 8;
                        gid_t id = (gid_t) (buf[i + 4] | buf[i + 5] << 8 |
                                            (uint32_t) buf[i + 6] << 16 |
                                            (uint32_t) buf[i + 7] << 24);

                        if (!(perm & mask & ACL_READ))
                                continue;
                        if (tag == ACL_GROUP_OBJ)
                                p->readers[p->n_readers++] = st.st_gid;
                        else if (tag == ACL_GROUP && id != st.st_gid)
                                p->readers[p->n_readers++] = id;
                }
                return;
        }
        if (st.st_mode & S_IRGRP)
                p->readers[p->n_readers++] = st.st_gid;
}

static int add_problem(struct source *s, const char *path, int error, bool partly) {
        struct source_problem *p;

        for (size_t i = 0; i < s->n_problems; i++)
                if (streq(s->problems[i].path, path)) {
                        /* a failure said of a file replaces a note of it */
                        if (s->problems[i].note) {
                                free(s->problems[i].path);
                                s->problems[i] = (struct source_problem){ .path = strdup(path),
                                                                          .error = error,
                                                                          .partly = partly };
                                if (!s->problems[i].path)
                                        return -ENOMEM;
                                if (error == -EACCES || error == -EPERM)
                                        readers_of(path, &s->problems[i]);
                        }
                        return 0;
                }
        if (s->n_problems >= ELEMENTSOF(s->problems)) {
                s->more_problems++;
                return 0;
        }
        p = &s->problems[s->n_problems];
        *p = (struct source_problem){ .path = strdup(path), .error = error, .partly = partly };
        if (!p->path)
                return -ENOMEM;
        if (error == -EACCES || error == -EPERM)
                readers_of(path, p);
        s->n_problems++;
        return 0;
}

/* A note about path (source_problem's note): said, not a failure. */
static int add_note(struct source *s, const char *path, int error) {
        size_t n = s->n_problems;
        int r;

        /* A file said already, as a note or a failure, stays as it is (add_problem() would turn
         * a note into a failure, unsaid: an exit status 2 with no line for it) */
        for (size_t i = 0; i < s->n_problems; i++)
                if (streq(s->problems[i].path, path))
                        return 0;
        r = add_problem(s, path, error, true);
        if (r >= 0 && s->n_problems > n)
                s->problems[n].note = true;
        return r;
}

/* A failure for the limit of open files: the process's (RLIMIT_NOFILE) or the system's. */
static bool fd_limited(int r) {
        return r == -EMFILE || r == -ENFILE;
}

/*
 * Whether n more descriptors fit under the soft limit of open files (keytrail raises it to the
 * hard one at its start), besides those open now: sd-journal keeps one per file it reads, and one
 * it cannot open it leaves out without a word (the file would look cut short, or changed). 0, or
 * -EMFILE.
 */
static int fd_room(size_t n) {
        struct rlimit rl;
        struct dirent *de;
        size_t open_now = 0;
        DIR *d;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return 0;
        d = opendir("/proc/self/fd");
        if (!d && fd_limited(-errno))
                return -EMFILE;
        if (!d) {
                /* No /proc (a chroot, a container without it): each descriptor asked, up to a
                 * limit that n fits under in any case; +1 stands for opendir()'s below */
                if (rl.rlim_cur > (rlim_t) n + FD_ROOM_PROBE_MAX)
                        return 0;
                for (int fd = 0; (rlim_t) fd < rl.rlim_cur; fd++)
                        open_now += fcntl(fd, F_GETFD) >= 0;
                return open_now + 1 + n > rl.rlim_cur ? -EMFILE : 0;
        }
        while ((de = readdir(d)))
                open_now += de->d_name[0] != '.';
        (void) closedir(d);
        /* (open_now counts opendir()'s own descriptor: it stands for the one sd-journal holds
         * while it lists a folder) */
        return open_now + n > rl.rlim_cur ? -EMFILE : 0;
}

/* ---- which files ---------------------------------------------------------------------------- */

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static bool is_journal_name(const char *name) {
        return endswith(name, ".journal") || endswith(name, ".journal~");
}

struct file_list {
        char **paths;
        size_t n, alloc;
};

static void file_list_done(struct file_list *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->paths[i]);
        free(l->paths);
        *l = (struct file_list){};
}

/* Append path (taken: freed on failure too). */
static int file_list_push(struct file_list *l, char *path) {
        if (!path)
                return -ENOMEM;
        if (l->n >= JOURNAL_FILES_MAX) {
                free(path);
                return -ENOSPC;
        }
        if (l->n == l->alloc) {
                size_t n = MAX(l->alloc * 2, (size_t) 16);
                char **a = realloc(l->paths, n * sizeof(char *));

                if (!a) {
                        free(path);
                        return -ENOMEM;
                }
                l->paths = a;
                l->alloc = n;
        }
        l->paths[l->n++] = path;
        return 0;
}

static int file_list_add(struct file_list *l, const char *dir, const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        return file_list_push(l, p);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The journal files of dir as sd-journal finds them: files named *.journal or *.journal~ in dir,
 * and in its subfolders named by a machine id (only machine_id's when not NULL). A subfolder or
 * (top) folder that cannot be listed is a problem, except a missing one when missing_ok.
 */
static int list_dir(struct source *s, const char *dir, const char *machine_id, bool top,
                    bool missing_ok, struct file_list *l) {
        DIR *d;
        struct dirent *de;
        int r = 0;

        d = opendir(dir);
        if (!d) {
                r = -errno;
                if (r == -ENOENT && missing_ok)
                        return 0;
                if (top && !missing_ok)
                        return r;
                return add_problem(s, dir, r, false);
        }
        for (;;) {
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = add_problem(s, dir, -errno, true);
                        break;
                }
                if (de->d_name[0] == '.')
                        continue;
                if (IN_SET(de->d_type, DT_REG, DT_LNK, DT_UNKNOWN) && is_journal_name(de->d_name))
                        r = file_list_add(l, dir, de->d_name);
                else if (top && IN_SET(de->d_type, DT_DIR, DT_LNK, DT_UNKNOWN) &&
                         strview_is_id128(strview_from(de->d_name)) &&
                         (!machine_id || streq(de->d_name, machine_id))) {
                        _cleanup_free_ char *sub = NULL;

                        if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = list_dir(s, sub, NULL, false, true, l);
                }
                if (r == -ENOSPC) {
                        s->more_problems++;   /* more files than we list: counted */
                        r = 0;
                        break;
                }
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

/* ---- opening -------------------------------------------------------------------------------- */

/* journal_add_matches(), each conjunction joined with also_and (a FIELD=value term; NULL: none,
 * and with neither identifiers nor also: nothing but it). */
static int add_matches(sd_journal *j, char *const *identifiers, char *const *also,
                       const char *also_and) {
        bool ids = identifiers && identifiers[0], more = also && also[0];
        int r;

        for (char *const *i = identifiers; ids && *i; i++) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "SYSLOG_IDENTIFIER=%s", *i) < 0)
                        return -ENOMEM;
                r = sd_journal_add_match(j, m, 0);
                if (r < 0)
                        return r;
        }
        if (also_and && (ids || !more)) {
                r = sd_journal_add_match(j, also_and, 0);
                if (r < 0)
                        return r;
        }
        if (more) {
                r = sd_journal_add_disjunction(j); /* (none before: nothing to close) */
                for (char *const *i = also; r >= 0 && *i; i++)
                        r = sd_journal_add_match(j, *i, 0);
                if (r >= 0 && also_and)
                        r = sd_journal_add_match(j, also_and, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

int journal_add_matches(sd_journal *j, const struct journal_source_options *o) {
        return add_matches(j, o->identifiers, o->also, NULL);
}

static int add_tail(struct source *s, uint64_t realtime_usec, char *cursor) {
        struct tail *t = realloc(s->tails, (s->n_tails + 1) * sizeof(struct tail));

        if (!t) {
                free(cursor);
                return -ENOMEM;
        }
        s->tails = t;
        s->tails[s->n_tails] = (struct tail){
                .realtime_usec = realtime_usec, .cursor = cursor, .file = s->n_files,
        };
        s->tails[s->n_tails].has_pos = journal_pos_from_cursor(cursor, &s->tails[s->n_tails].pos) >= 0;
        s->n_tails++;
        return 0;
}

/* The last entry of j (with its match) at or after since: 0 with *ret_cursor (NULL: none) and
 * *ret_realtime, or -errno. */
static int last_in_range(sd_journal *j, bool since_set, uint64_t since, uint64_t *ret_realtime,
                         char **ret_cursor) {
        int r;

        *ret_cursor = NULL;
        r = sd_journal_seek_tail(j);
        if (r >= 0)
                r = sd_journal_previous(j);
        if (r > 0) {
                r = sd_journal_get_realtime_usec(j, ret_realtime);
                if (r >= 0 && !(since_set && *ret_realtime < since))
                        r = sd_journal_get_cursor(j, ret_cursor);
        }
        return r < 0 ? r : 0;
}

/*
 * Open path alone. Returns 0 when it opened (and, with o, remembers its last entry in range),
 * or -errno why not. A file that cannot even be opened for reading is never handed to
 * sd_journal_open_files() (it would block on a FIFO).
 */
static int probe_file(struct source *s, const char *path, const struct journal_source_options *o) {
        const char *paths[] = { path, NULL };
        sd_journal *j = NULL;
        struct stat st;
        char *cursor = NULL;
        uint64_t rt;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        r = fstat(fd, &st) < 0 ? -errno : 0;
        (void) close(fd);
        if (r < 0)
                return r;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;

        r = sd_journal_open_files(&j, paths, 0);
        if (r < 0)
                return r;
        if (!o || o->until_set || o->until_usec > 0) {
                /* With --until the read stops at the first entry past it, and a clock that
                 * went back within a file would look like a file cut short: not checked. */
                sd_journal_close(j);
                return 0;
        }
        r = journal_add_matches(j, o);
        if (r >= 0)
                r = last_in_range(j, o->since_set || o->since_usec > 0, o->since_usec, &rt, &cursor);
        sd_journal_close(j);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                /* Its end cannot be read: reading it whole will not get there either. */
                return add_problem(s, path, r, true);
        if (cursor)
                return add_tail(s, rt, cursor);
        return 0;
}

/* A copy of l (NULL: *ret NULL). 0, -ENOMEM. */
static int strv_copy(char **l, char ***ret) {
        size_t n = 0;
        char **c;

        *ret = NULL;
        if (!l)
                return 0;
        while (l[n])
                n++;
        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return -ENOMEM;
                }
        *ret = c;
        return 0;
}

static int cmp_tail(const void *a, const void *b) {
        const struct tail *x = a, *y = b;

        return x->realtime_usec < y->realtime_usec ? -1 : x->realtime_usec > y->realtime_usec;
}

/*
 * Probe every listed file; keep those that open. Found in a folder (!given): a file that does not
 * open is a problem, one gone meanwhile (rotated, vacuumed) nothing. Given: the first that does
 * not open is the error, *ret_failed its index.
 */
static int probe_files(struct source *s, struct file_list *l, const struct journal_source_options *o,
                       bool given, size_t *ret_failed) {
        int r;

        s->files = calloc(l->n + 1, sizeof(char *));
        if (!s->files)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                r = probe_file(s, l->paths[i], o);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && given) {
                        *ret_failed = i;
                        return r;
                }
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        r = add_problem(s, l->paths[i], r, false);
                        if (r < 0)
                                return r;
                        continue;
                }
                s->files[s->n_files++] = TAKE_PTR(l->paths[i]);
        }
        s->stats.files = s->n_files;
        if (s->n_files > SD_JOURNAL_FILES_MAX) {
                /* sd-journal opens no more than that: the rest would look cut short */
                for (size_t i = 0; i < s->n_tails; i++)
                        free(s->tails[i].cursor);
                free(s->tails);
                s->tails = NULL;
                s->n_tails = 0;
        }
        if (s->n_tails > 1)
                qsort(s->tails, s->n_tails, sizeof(struct tail), cmp_tail);
        return 0;
}

static const char *local_machine_id(char buf[static 33]) {
        sd_id128_t id;

        if (sd_id128_get_machine(&id) < 0)
                return NULL;
        return sd_id128_to_string(id, buf);
}

/*
 * The files that opened (s->files), in the order of paths (the order sd-journal iterates them:
 * as given, or as the folders list them), each once: *ret (owned array of pointers borrowed from
 * s->files) and *ret_n.
 */
static int iteration_order(struct source *s, char *const *paths, size_t n, char ***ret,
                           size_t *ret_n) {
        _cleanup_free_ char **sorted = NULL, **order = NULL;
        _cleanup_free_ bool *taken = NULL;
        size_t k = 0;

        sorted = malloc(MAX(s->n_files, (size_t) 1) * sizeof(char *));
        order = malloc(MAX(s->n_files, (size_t) 1) * sizeof(char *));
        taken = calloc(MAX(s->n_files, (size_t) 1), sizeof(bool));
        if (!sorted || !order || !taken)
                return -ENOMEM;
        memcpy(sorted, s->files, s->n_files * sizeof(char *));
        qsort(sorted, s->n_files, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n && k < s->n_files; i++) {
                char **hit = bsearch(&paths[i], sorted, s->n_files, sizeof(char *), cmp_str);

                if (!hit || taken[hit - sorted])
                        continue;
                taken[hit - sorted] = true;
                order[k++] = *hit;
        }
        *ret = TAKE_PTR(order);
        *ret_n = k;
        return 0;
}

/* Files read by threads (o->jobs > 1): one sd_journal per file, merged in journal-parallel.c. */
static bool parallel_wanted(const struct source *s, const struct journal_source_options *o) {
        return !s->par_off && o->jobs > 1 && s->n_files > 0 &&
               s->n_files <= JOURNAL_PAR_FILES_MAX;
}

/*
 * The parallel reader holds a handle per file for its readers and opens, on the merge's thread, up
 * to one more per file (journal-parallel.c's side handles: cursors read exact, entries too big for
 * a batch); one that cannot open for the limit of open files stops the scan halfway. The lookup
 * handles of evidence (side_of(): one more per file) let go of theirs at the limit, but only when
 * one of them fails to open: until then they can take what a side handle needs. And the files
 * held open for lookups (order_fds, up to JOURNAL_HELD_FILES_MAX) take one more per file. So,
 * with the n files under the limit (fd_room(n), checked before): room for four per file, all of
 * that; for three, the readers without held files (looked up by name, as past
 * JOURNAL_HELD_FILES_MAX); else one handle, as --jobs 1 (which lets go of its lookup handles and
 * held files at the limit), counted.
 */
static void par_fit(struct source *s, const struct journal_source_options *o, size_t n) {
        if (!parallel_wanted(s, o) || n == 0 ||
            fd_room((n > JOURNAL_HELD_FILES_MAX ? 3 : 4) * n) >= 0)
                return;
        if (fd_room(3 * n) >= 0) {
                s->hold_none = true;
                return;
        }
        s->par_off = true;
        s->stats.jobs_limited = MIN((size_t) o->jobs, n) - 1;
}

static size_t n_identifiers(const struct source *s);
static int find_absent(struct source *s, sd_journal *j);
static int open_files(struct source *s, size_t from, size_t n, sd_journal **ret);

static int open_parallel(struct source *s, const struct journal_source_options *o, char **order,
                         size_t n, const char **reterr_path, size_t *reterr_index) {
        size_t failed = SIZE_MAX, k = 0;
        int r;

        /* The readers leave the terms no file holds out too (prune_match()) */
        s->match_checked = true;
        if (n > 0) {
                sd_journal *all = NULL;

                r = open_files(s, 0, n, &all);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        r = find_absent(s, all);
                        sd_journal_close(all);
                        if (r < 0)
                                return r;
                }
        }
        s->par_identifiers = calloc(n_identifiers(s) + 1, sizeof(char *));
        if (!s->par_identifiers)
                return -ENOMEM;
        for (size_t i = 0; i < n_identifiers(s); i++)
                if (!s->absent || !s->absent[i])
                        s->par_identifiers[k++] = s->match_identifiers[i];

        /* The files' last entries (check_tails()) are read exact; the matches from the source's
         * copies, which live as long as the reader. */
        s->tail_realtimes = malloc(MAX(s->n_tails, (size_t) 1) * sizeof(uint64_t));
        if (!s->tail_realtimes)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_tails; i++)
                s->tail_realtimes[i] = s->tails[i].realtime_usec;
        s->par_options = (struct journal_source_options){
                .identifiers = s->match_identifiers ? s->par_identifiers : NULL,
                .also = s->absent && s->absent[n_identifiers(s)] ? NULL : s->match_also,
                .since_usec = s->since_usec, .since_set = s->since_set,
        };
        r = journal_par_new(order, n,
                            &(struct journal_par_options){
                                    .source = &s->par_options,
                                    .jobs = (unsigned) MIN((size_t) o->jobs, n),
                                    .exact_realtimes = s->tail_realtimes,
                                    .n_exact_realtimes = s->n_tails },
                            &s->par, &failed);
        if (r < 0)
                *reterr_index = failed;
        if (r < 0 && r != -ENOMEM && reterr_path && o->files && o->files[0] && failed < n) {
                /* the path as given */
                for (char **f = o->files; *f; f++)
                        if (streq(*f, order[failed]))
                                *reterr_path = *f;
        }
        return r;
}

/* A new handle over what the source was opened on: the files given, the folder, or the local
 * journal (the parallel reader's fallback, follow's handles per host). 0, or -errno. */
static int open_again(const struct source *s, sd_journal **ret) {
        if (s->open_files)
                return sd_journal_open_files(ret, (const char **) s->open_files, 0);
        if (s->open_dir)
                return sd_journal_open_directory(ret, s->open_dir, 0);
        return sd_journal_open(ret, SD_JOURNAL_LOCAL_ONLY);
}

/*
 * A file of a folder (or of the local journal) gone or damaged between the listing and the
 * readers' open made the parallel open fail, and with it the whole read ("cannot open" the
 * folder): journald vacuums and truncates its files, and any account that makes it rotate can
 * time that. Or fork() could not start the reader processes (failed: none; given files too).
 * Read with one handle then, as --jobs 1 does (it lists the folder again); the file
 * that failed (failed, an index of order, if known) is said as a file written to during the scan,
 * as --jobs 1 says it. The parallel open's state is let go; *ret: the handle. 0, or -errno.
 */
static int par_abandon(struct source *s, size_t failed, sd_journal **ret) {
        int r;

        if (failed < s->n_order) {
                /* said as --jobs 1 says a file that changed under it */
                r = add_note(s, s->order[failed], -ESTALE);
                if (r < 0)
                        return r;
        }
        s->par_off = true;
        s->match_checked = false; /* prune_match() looks again, at the new handle's files */
        free(s->absent);
        s->absent = NULL;
        free(s->par_identifiers);
        s->par_identifiers = NULL;
        free(s->tail_realtimes);
        s->tail_realtimes = NULL;
        return open_again(s, ret);
}

int journal_source_open(const struct journal_source_options *o, struct source **ret,
                        const char **reterr_path) {
        _cleanup_(source_freep) struct source *s = NULL;
        _cleanup_free_ char **listed = NULL, **order = NULL;
        size_t n_order = 0;
        struct file_list l = {};
        sd_journal *j = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->ops = &journal_ops;
        s->until_usec = o->until_usec;
        s->until_set = o->until_set || o->until_usec > 0;

        if (o->files && o->files[0]) {
                /* Given files must all open: say which does not. */
                size_t failed = 0;

                for (char **f = o->files; *f; f++) {
                        r = file_list_push(&l, strdup(*f));
                        if (r < 0) {
                                file_list_done(&l);
                                return r;
                        }
                }
                r = probe_files(s, &l, o, true, &failed);
                file_list_done(&l);
                if (r < 0) {
                        if (reterr_path && r != -ENOMEM)
                                *reterr_path = o->files[failed];
                        return r;
                }
                {
                        size_t n = 0;

                        while (o->files[n])
                                n++;
                        r = iteration_order(s, o->files, n, &order, &n_order);
                        if (r < 0)
                                return r;
                }
                r = fd_room(n_order);
                if (r < 0) {
                        if (reterr_path)
                                *reterr_path = o->files[0];
                        return r;
                }
                par_fit(s, o, n_order);
                if (!parallel_wanted(s, o)) {
                        r = sd_journal_open_files(&j, (const char **) o->files, 0);
                        if (r < 0) {
                                if (reterr_path)
                                        *reterr_path = o->files[0];
                                return r;
                        }
                }
        } else {
                /* A folder, or the local journal: every file of this machine, the system's and
                 * the users' (journalctl's default; SD_JOURNAL_SYSTEM would leave out
                 * user-UID.journal). sd-journal iterates them in the order the folders list
                 * them: kept for the parallel read. */
                char id[33];
                const char *mid = o->directory ? NULL : local_machine_id(id);

                if (o->directory)
                        r = list_dir(s, o->directory, NULL, true, false, &l);
                else {
                        r = 0;
                        for (const char *const *d = journal_local_dirs; r >= 0 && *d; d++)
                                r = list_dir(s, *d, mid ?: "-", true, true, &l);
                }
                if (r >= 0 && l.n > 0) {
                        listed = malloc(l.n * sizeof(char *));
                        if (!listed)
                                r = -ENOMEM;
                        else
                                memcpy(listed, l.paths, l.n * sizeof(char *));
                }
                if (r >= 0) {
                        if (l.n > 1)
                                qsort(l.paths, l.n, sizeof(char *), cmp_str);
                        r = probe_files(s, &l, o, false, NULL);
                }
                /* listed[] points into l and s->files: compared while both live */
                if (r >= 0)
                        r = iteration_order(s, listed, l.n, &order, &n_order);
                file_list_done(&l);
                if (r >= 0)
                        r = fd_room(n_order);
                if (r < 0) {
                        if (reterr_path && o->directory)
                                *reterr_path = o->directory;
                        return r;
                }
                par_fit(s, o, n_order);
                if (!parallel_wanted(s, o) && o->directory) {
                        r = sd_journal_open_directory(&j, o->directory, 0);
                        if (r < 0) {
                                if (reterr_path)
                                        *reterr_path = o->directory;
                                return r;
                        }
                } else if (!parallel_wanted(s, o)) {
                        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
                        if (r < 0)
                                return r;
                }
        }

        s->j = s->own = j;
        if (o->directory) {
                s->open_dir = strdup(o->directory);
                if (!s->open_dir)
                        return -ENOMEM;
        }
        if (o->files && o->files[0]) {
                r = strv_copy(o->files, &s->open_files);
                if (r < 0)
                        return r;
        }
        s->since_usec = o->since_usec;
        s->since_set = o->since_set || o->since_usec > 0;
        /* For looking evidence up later (source_cursor()): the files in sd-journal's order, and
         * the matches. */
        s->order = TAKE_PTR(order);
        s->n_order = n_order;
        s->order_fds = malloc(MAX(n_order, (size_t) 1) * sizeof(int));
        if (!s->order_fds)
                return -ENOMEM;
        for (size_t i = 0; i < n_order; i++)
                s->order_fds[i] = n_order > JOURNAL_HELD_FILES_MAX || s->hold_none ? -1
                                  : open(s->order[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        r = strv_copy(o->identifiers, &s->match_identifiers);
        if (r >= 0)
                r = strv_copy(o->also, &s->match_also);
        if (r >= 0)
                r = strv_copy(o->also_kept, &s->match_also_kept);
        if (r < 0)
                return r;
        if (parallel_wanted(s, o)) {
                /* (evidence is looked up as with one handle: the same files, order and matches) */
                size_t failed = SIZE_MAX;

                r = open_parallel(s, o, s->order, n_order, reterr_path, &failed);
                if (r >= 0) {
                        *ret = TAKE_PTR(s);
                        return 0;
                }
                if (r == -EAGAIN && failed == SIZE_MAX)
                        /* no reader processes (fork(): ulimit -u, memory): one handle, said */
                        s->stats.jobs_unforked = MIN((size_t) o->jobs, n_order) - 1;
                else if (r == -ENOMEM || fd_limited(r) || (o->files && o->files[0]))
                        return r; /* (given files must all open, as with one handle) */
                r = par_abandon(s, failed, &j);
                if (r < 0)
                        return r;
                s->j = s->own = j; /* (closed with the source) */
        }
        r = journal_add_matches(j, o);
        if (r < 0)
                return r;
        if (o->since_set || o->since_usec > 0)
                r = sd_journal_seek_realtime_usec(j, o->since_usec);
        else
                r = sd_journal_seek_head(j);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- reading -------------------------------------------------------------------------------- */

/* A JOURNAL ref from a cursor's parts. */
static void ref_from_pos(const struct journal_pos *p, uint64_t serial, struct entry_ref *ret) {
        *ret = (struct entry_ref){
                .kind = ENTRY_REF_JOURNAL,
                .serial = serial,
                .realtime_usec = p->realtime,
                .monotonic_usec = p->monotonic,
                .journal = { .seqnum = p->seqnum, .xor_hash = p->xor_hash },
        };
        memcpy(ret->boot_id, p->boot_id.bytes, 16);
        memcpy(ret->journal.seqnum_id, p->seqnum_id.bytes, 16);
}

/* The whole position of the entry j is on: its cursor, read now (an allocation). */
static int pos_of(sd_journal *j, struct journal_pos *ret) {
        _cleanup_free_ char *c = NULL;
        int r;

        r = sd_journal_get_cursor(j, &c);
        if (r < 0)
                return r;
        return journal_pos_from_cursor(c, ret);
}

/* The entry j is on, into rec: times and fields (rec->ref untouched). */
static int read_fields(sd_journal *j, struct log_record *rec, sd_id128_t *ret_boot) {
        const void *data;
        size_t len;
        int r;

        record_reset(rec);
        r = sd_journal_get_realtime_usec(j, &rec->realtime_usec);
        if (r < 0)
                return r;
        /* Orders the entries of one boot whatever the wall clock did. (Without a place for the
         * boot id, sd-journal refuses entries of other boots than the running one.) */
        if (sd_journal_get_monotonic_usec(j, &rec->monotonic_usec, ret_boot) < 0)
                rec->monotonic_usec = 0;

        sd_journal_restart_data(j);
        for (;;) {
                enum record_field f;
                size_t off = 0;

                r = sd_journal_enumerate_data(j, &data, &len);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                f = record_field_match(data, len, &off);
                if (f < 0)
                        continue;
                r = record_set(rec, f, (const char *) data + off, len - off);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* The entry j is on, into rec, with its ref: boot and clocks, looked up in the files when an alert
 * wants its cursor (no allocation); its whole position at once when the handle was handed out or
 * the entry has no monotonic time to be looked up by. */
static int read_entry(struct source *s, sd_journal *j, uint64_t serial, struct log_record *rec) {
        sd_id128_t boot = SD_ID128_NULL;
        struct journal_pos pos;
        int r;

        r = read_fields(j, rec, &boot);
        if (r < 0)
                return r;
        rec->ref = (struct entry_ref){
                .kind = ENTRY_REF_SEEK,
                .serial = serial,
                .realtime_usec = rec->realtime_usec,
                .monotonic_usec = rec->monotonic_usec,
        };
        memcpy(rec->ref.boot_id, boot.bytes, 16);
        s->on_entry = j == s->j;
        if (s->eager || rec->monotonic_usec == 0) {
                r = pos_of(j, &pos);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        ref_from_pos(&pos, serial, &rec->ref);
                else
                        rec->ref.kind = ENTRY_REF_NONE;
        }
        return 1;
}

/* The file among those read that holds the entry at cursor, or NULL. */
static const char *locate(struct source *s, const char *cursor) {
        for (size_t i = 0; i < s->n_files; i++) {
                const char *paths[] = { s->files[i], NULL };
                sd_journal *j = NULL;
                int r;

                if (sd_journal_open_files(&j, paths, 0) < 0)
                        continue;
                r = sd_journal_seek_cursor(j, cursor);
                if (r >= 0)
                        r = sd_journal_next(j);
                if (r > 0)
                        r = sd_journal_test_cursor(j, cursor);
                sd_journal_close(j);
                if (r > 0)
                        return s->files[i];
        }
        return NULL;
}

static int note_corrupt(struct source *s, int error) {
        const char *path;

        if (s->stats.corrupt++ > 0)
                return 0;
        s->first_skipped_why = error == -EBADMSG ? "corrupt entry" : "unreadable fields";
        if (current_cursor(s, &s->first_skipped) < 0)
                s->first_skipped = NULL;
        if (!s->first_skipped || s->located)
                return 0;
        s->located = true;
        path = locate(s, s->first_skipped);
        return path ? add_problem(s, path, error, true) : 0;
}

/* ---- the match's terms ---------------------------------------------------------------------- */

static int open_files(struct source *s, size_t from, size_t n, sd_journal **ret);
static int retail(struct source *s);

static size_t n_identifiers(const struct source *s) {
        size_t n = 0;

        while (s->match_identifiers && s->match_identifiers[n])
                n++;
        return n;
}

/* The match the reading handle reads with, on j: the source's, less the terms left out. */
static int add_read_match(struct source *s, sd_journal *j) {
        size_t n = n_identifiers(s), k = 0;
        _cleanup_free_ char **kept = NULL;

        if (!s->absent)
                return journal_add_matches(j, &(struct journal_source_options){
                                                      .identifiers = s->match_identifiers,
                                                      .also = s->match_also });
        kept = calloc(n + 1, sizeof(char *));
        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!s->absent[i])
                        kept[k++] = s->match_identifiers[i];
        return journal_add_matches(j, &(struct journal_source_options){
                                              .identifiers = kept,
                                              .also = s->absent[n] ? NULL : s->match_also });
}

/* Whether a file of j holds an entry of term i of the match alone (i < n_identifiers(): that
 * identifier; else also, with also_kept), anywhere or (in_range) within --since/--until: 1, 0, or
 * -errno. Leaves j with that match. */
static int term_held(struct source *s, sd_journal *j, size_t i, bool in_range) {
        int r = 0;

        sd_journal_flush_matches(j);
        if (i < n_identifiers(s)) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "SYSLOG_IDENTIFIER=%s", s->match_identifiers[i]) < 0)
                        return -ENOMEM;
                r = sd_journal_add_match(j, m, 0);
        } else {
                for (char **m = s->match_also; r >= 0 && m && *m; m++)
                        r = sd_journal_add_match(j, *m, 0);
                for (char **m = s->match_also_kept; r >= 0 && m && *m; m++)
                        r = sd_journal_add_match(j, *m, 0);
        }
        if (r >= 0)
                r = in_range && s->since_set ? sd_journal_seek_realtime_usec(j, s->since_usec)
                                             : sd_journal_seek_head(j);
        if (r >= 0)
                r = sd_journal_next(j);
        if (r > 0 && in_range && s->until_set) {
                uint64_t rt;

                r = sd_journal_get_realtime_usec(j, &rt);
                if (r >= 0)
                        r = rt <= s->until_usec;
        }
        return r;
}

/* Whether a file read may be written to while it is read, as far as its header tells: the byte at
 * offset 16 says offline (0), online (1) or archived (2). (journald marks its file offline between
 * writes too: the look at the end, recheck_match(), covers that.) Unreadable: as if online. */
static bool some_file_online(struct source *s) {
        if (s->n_order == 0)
                return true;
        for (size_t i = 0; i < s->n_order; i++) {
                int fd = s->order_fds[i], own = -1;
                uint8_t state = 1;
                ssize_t n;

                if (fd < 0)
                        fd = own = open(s->order[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd < 0)
                        return true;
                n = pread(fd, &state, 1, 16);
                if (own >= 0)
                        (void) close(own);
                if (n != 1 || !IN_SET(state, 0, 2))
                        return true;
        }
        return false;
}

/*
 * Before the first read (j: a handle on every file; its match is replaced: 1, else 0, or -ENOMEM):
 * sd-journal evaluates every term of the match at every step (a term no
 * file holds costs a hash lookup per file and step, the "also" disjunction more: bench/README.md),
 * so the terms no file holds an entry for are left out. The same entries are read: an entry of a
 * term left out would have to be written meanwhile, and no file is being written (its header), or
 * the look at the end names the file. A term "also" is held only by an entry with also_kept as
 * well: the entries read through it alone without them are dropped by the reader anyway.
 */
static int find_absent(struct source *s, sd_journal *j) {
        size_t n = n_identifiers(s);
        bool any = false, all = true;
        int r;

        if (n + !!s->match_also < 2 || some_file_online(s))
                return 0;
        s->absent = calloc(n + 1, sizeof(bool));
        if (!s->absent)
                return -ENOMEM;
        for (size_t i = 0; i < n + !!s->match_also; i++) {
                r = term_held(s, j, i, false);
                if (r == -ENOMEM)
                        return r;
                s->absent[i] = r == 0; /* an error: kept */
                any = any || s->absent[i];
                all = all && s->absent[i];
        }
        if (!s->match_also)
                s->absent[n] = true;
        if (!any || all) {
                /* (all: nothing is read, and no match at all would read everything) */
                free(s->absent);
                s->absent = NULL;
        }
        if (s->absent) {
                r = retail(s);
                if (r < 0)
                        return r;
        }
        return 1;
}

/* find_absent() on the reading handle, which then reads with what is kept. */
static int prune_match(struct source *s) {
        int r;

        s->match_checked = true;
        r = find_absent(s, s->j);
        if (r <= 0)
                return r;
        sd_journal_flush_matches(s->j);
        r = add_read_match(s, s->j);
        if (r < 0)
                return r;
        return s->since_set ? sd_journal_seek_realtime_usec(s->j, s->since_usec)
                            : sd_journal_seek_head(s->j);
}

/*
 * The files' last entries (check_tails()) under the match the reading handle now reads with: the
 * one probe_file() found under every term may be an entry only a term left out holds (a logger(1)
 * line of another priority), which the read never reaches: the file would look cut short.
 */
static int retail(struct source *s) {
        size_t k = 0;
        int r = 0;

        for (size_t i = 0; i < s->n_tails; i++) {
                struct tail *t = &s->tails[i];
                const char *paths[] = { s->files[t->file], NULL };
                _cleanup_(sd_journal_closep) sd_journal *j = NULL;
                _cleanup_free_ char *cursor = NULL;
                uint64_t rt = 0;

                r = sd_journal_open_files(&j, paths, 0);
                if (r >= 0)
                        r = add_read_match(s, j);
                if (r >= 0)
                        r = last_in_range(j, s->since_set, s->since_usec, &rt, &cursor);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !cursor) {
                        /* none read now (or unreadable: the read says so), none to check */
                        free(t->cursor);
                        continue;
                }
                free(t->cursor);
                s->tails[k] = (struct tail){ .realtime_usec = rt, .cursor = TAKE_PTR(cursor),
                                             .file = t->file };
                s->tails[k].has_pos = journal_pos_from_cursor(s->tails[k].cursor,
                                                              &s->tails[k].pos) >= 0;
                k++;
        }
        s->n_tails = k;
        if (s->n_tails > 1)
                qsort(s->tails, s->n_tails, sizeof(struct tail), cmp_tail);
        return 0;
}

/* When reading ends: a file that holds an entry of a term left out now was written to during the
 * read, and what was written there may not have been read: a problem, said. */
static int recheck_match(struct source *s) {
        _cleanup_(sd_journal_closep) sd_journal *all = NULL;
        size_t n = n_identifiers(s);
        bool found = false;
        int r;

        if (!s->absent || s->match_rechecked)
                return 0;
        s->match_rechecked = true;
        r = open_files(s, 0, s->n_order, &all);
        for (size_t i = 0; r >= 0 && i <= n && !found; i++)
                found = s->absent[i] && term_held(s, all, i, true) != 0;
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && !found)
                return 0;
        for (size_t f = 0; f < s->n_order; f++) {
                _cleanup_(sd_journal_closep) sd_journal *j = NULL;

                r = open_files(s, f, 1, &j);
                if (r == -ENOMEM)
                        return r;
                if (fd_limited(r)) {
                        /* Not for a change of the file: said as what it is */
                        r = add_problem(s, s->order[f], r, true);
                        if (r < 0)
                                return r;
                        continue;
                }
                found = r < 0; /* cannot be looked at: may have changed */
                for (size_t i = 0; r >= 0 && i <= n && !found; i++)
                        found = s->absent[i] && term_held(s, j, i, true) != 0;
                if (found) {
                        r = add_note(s, s->order[f], -ESTALE);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The files whose last entry in range the read has just passed. 0, or -ENOMEM. */
static int check_tails(struct source *s, uint64_t realtime_usec) {
        size_t lo = 0, hi = s->n_tails;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (s->tails[mid].realtime_usec < realtime_usec)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < s->n_tails && s->tails[lo].realtime_usec == realtime_usec; lo++) {
                struct tail *t = &s->tails[lo];

                if (t->seen)
                        continue;
                /* The entry, or the same entry stored in another file (the same boot, times and
                 * content hash: sd-journal hands a copy out once, from the first file), so
                 * sd_journal_test_cursor() without the file's s= and i= */
                if (s->par) {
                        const struct journal_pos *a = &t->pos, *b = &s->par_entry->pos;
                        int r;

                        if (!t->has_pos || !s->par_entry->has_pos ||
                            !sd_id128_equal(a->boot_id, b->boot_id) ||
                            a->monotonic != b->monotonic || a->realtime != b->realtime)
                                continue;
                        /* (the reader read entries at the tails' times exact) */
                        r = journal_par_exact(s->par, &b);
                        if (r == -ENOMEM)
                                return r;
                        t->seen = r >= 0 && a->xor_hash == b->xor_hash;
                } else {
                        const char *b = strstr(t->cursor, ";b=");

                        t->seen = sd_journal_test_cursor(s->j, b ? b + 1 : t->cursor) > 0;
                }
        }
        return 0;
}

static int reached_end(struct source *s) {
        int r;

        if (s->ended || s->handed_out)
                return 0;
        s->ended = true;
        r = recheck_match(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_tails; i++)
                if (!s->tails[i].seen && access(s->files[s->tails[i].file], F_OK) >= 0) {
                        /* sd-journal dropped the file in the middle: a corrupt entry object.
                         * (One vacuumed before sd-journal opened it was not read: no matter.) */
                        r = add_problem(s, s->files[s->tails[i].file], -EBADMSG, true);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* The parallel reader's next entry into rec: as read_entry() after sd_journal_next(). 1, 0 at
 * the end, or -errno; with *ret_error the entry's own error (it could not be read), and *ret_rec
 * the record filled: rec, or (s->lend) s->lent, whose fields are lent from the batch. */
static int par_next(struct source *s, struct log_record *rec, struct log_record **ret_rec,
                    int *ret_error) {
        const struct journal_par_entry *e;
        const char *data;
        size_t file;
        int r;

        s->par_entry = NULL;
        r = journal_par_next(s->par, &e, &data, &file);
        if (r <= 0)
                return r;
        s->par_entry = e;
        s->par_data = data;
        /* The merge hands the entries out as one sd_journal over the files would: each ref's
         * serial is the one that handle's would have (the evidence lookup's replay). */
        s->serial++;
        *ret_error = e->error;
        if (e->error < 0)
                return 1;
        if (e->side) {
                /* Too big to be kept by the reader: read here, from the file's other handle
                 * (read_entry(): its ref as with one handle). */
                char cursor[JOURNAL_CURSOR_MAX];
                sd_journal *j;

                r = -EADDRNOTAVAIL;
                if (e->exact)
                        r = journal_par_side(s->par, file, journal_pos_to_cursor(&e->pos, cursor), &j);
                if (r >= 0)
                        r = read_entry(s, j, s->serial, rec);
                if (r == -ENOMEM)
                        return r;
                *ret_error = MIN(r, 0);
                return 1;
        }
        if (s->lend)
                *ret_rec = rec = &s->lent;
        record_reset(rec);
        rec->realtime_usec = e->pos.realtime;
        rec->monotonic_usec = e->pos.monotonic;
        /* As read_entry(): looked up when an alert names it; written out when it has no
         * monotonic time (the reader read those exact). */
        if (!e->has_pos)
                rec->ref = (struct entry_ref){ .kind = ENTRY_REF_NONE, .serial = s->serial };
        else if (e->pos.monotonic == 0 && e->exact)
                ref_from_pos(&e->pos, s->serial, &rec->ref);
        else if (e->pos.monotonic == 0)
                rec->ref = (struct entry_ref){ .kind = ENTRY_REF_NONE, .serial = s->serial };
        else {
                rec->ref = (struct entry_ref){
                        .kind = ENTRY_REF_SEEK,
                        .serial = s->serial,
                        .realtime_usec = e->pos.realtime,
                        .monotonic_usec = e->pos.monotonic,
                };
                memcpy(rec->ref.boot_id, e->pos.boot_id.bytes, 16);
        }
        /* Fields of entries journal_next() skips were not kept: only their bits count. */
        if (!(e->present & UINT32_C(1) << RECORD_MESSAGE) ||
            (e->truncated & UINT32_C(1) << RECORD_MESSAGE)) {
                rec->present = e->present & UINT32_C(1) << RECORD_MESSAGE;
                rec->truncated = e->truncated & UINT32_C(1) << RECORD_MESSAGE;
                return 1;
        }
        if (s->lend) {
                /* The lent record's buffer is the batch's data (record.h: offsets in it) */
                rec->buf = (char *) data;
                rec->buf_len = rec->buf_alloc = 0;
        }
        for (const char *d = data + e->data_off, *end = d + e->data_len; d < end;) {
                enum record_field f;
                const char *v;
                size_t len;

                d = journal_par_item(d, &f, &v, &len);
                if (s->lend) {
                        /* no copy: NUL-terminated in the batch, cut by the reader */
                        rec->field[f] = (struct record_span){ .off = (uint32_t) (v - data),
                                                              .len = (uint32_t) len };
                        rec->present |= UINT32_C(1) << f;
                        continue;
                }
                r = record_set(rec, f, v, len);
                if (r < 0)
                        return r;
        }
        rec->truncated = e->truncated;
        return 1;
}

/* The next entry to hand out into rec, read now. */
static int next_entry(struct source *s, struct log_record *rec0) {
        int r;

        for (;;) {
                struct log_record *rec = rec0;

                if (s->par) {
                        int error = 0;

                        r = par_next(s, rec0, &rec, &error);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                r = reached_end(s);
                                return r < 0 ? r : 0;
                        }
                        r = error;
                } else {
                        s->on_entry = false;
                        r = s->next_ready ? 1 : sd_journal_next(s->j);
                        s->next_ready = false;
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                r = reached_end(s);
                                return r < 0 ? r : 0;
                        }
                        r = read_entry(s, s->j, ++s->serial, rec);
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = note_corrupt(s, r);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (s->n_tails > 0 && !s->handed_out) {
                        r = check_tails(s, rec->realtime_usec);
                        if (r < 0)
                                return r;
                }
                if (!record_has(rec, RECORD_MESSAGE)) {
                        /* Any local process can send an entry without one (native protocol);
                         * sshd never does. sd-journal also hides a corrupt data object so. */
                        s->stats.malformed++;
                        continue;
                }
                if (record_truncated(rec, RECORD_MESSAGE)) {
                        /* syslog(3) lines are short; a MESSAGE over 64 KiB is nobody's sshd */
                        s->stats.oversized++;
                        continue;
                }
                if (s->until_set && rec->realtime_usec > s->until_usec) {
                        r = s->handed_out ? 0 : recheck_match(s);
                        return r < 0 ? r : 0;
                }
                s->handed = rec;
                return 1;
        }
}

/* Reads up to READ_AHEAD entries ahead. Everything a read decides on the handle's position (the
 * files' last entries, the cursor of an unreadable one, each ref's serial) is decided here, as
 * the handle passes the entry; an error or the end is kept for after the entries read before it. */
static void read_ahead(struct source *s) {
        s->ahead_i = s->ahead_n = 0;
        while (!s->ahead_done && s->ahead_n < READ_AHEAD) {
                struct log_record *rec = &s->ahead[s->ahead_n];
                int r;

                /* A huge entry's buffers are not kept in its slot once it is reused, and a read
                 * ends at a huge entry: at most two slots hold them (this read's, the last one's),
                 * whatever a flood of entries with 64 KiB fields does. */
                record_trim(rec);
                r = next_entry(s, rec);
                if (r <= 0) {
                        s->ahead_done = true;
                        s->ahead_r = r;
                } else {
                        s->ahead_n++;
                        if (rec->large)
                                break;
                }
        }
}

static int journal_next_borrowed(struct source *s, const struct log_record **ret) {
        if (s->par || s->handed_out) {
                /* No read-ahead: the parallel reader batches already (and lends its records'
                 * fields from them); follow's handle must stay on the entry handed out. */
                int r;

                s->handed = &s->ahead[0];
                s->lend = s->par;
                r = next_entry(s, &s->ahead[0]);
                s->lend = false;
                *ret = s->handed;
                return r;
        }
        if (!s->match_checked) {
                int r = prune_match(s);

                if (r < 0)
                        return r;
        }
        if (s->ahead_i == s->ahead_n)
                read_ahead(s);
        if (s->ahead_i == s->ahead_n)
                return s->ahead_r;
        *ret = &s->ahead[s->ahead_i++];
        return 1;
}

static const struct log_record *journal_peek(const struct source *s, unsigned k) {
        /* ahead_i is one past the record handed out last (0: none handed out from ahead[]) */
        if (s->ahead_i == 0 || k == 0 || s->ahead_i - 1 + k >= s->ahead_n)
                return NULL;
        return &s->ahead[s->ahead_i - 1 + k];
}

static int journal_next(struct source *s, struct log_record *rec) {
        /* What was read ahead for journal_next_borrowed() comes first. */
        if (s->ahead_i < s->ahead_n)
                return record_copy(rec, &s->ahead[s->ahead_i++]);
        if (s->ahead_done)
                return s->ahead_r;
        if (!s->par && !s->handed_out && !s->match_checked) {
                int r = prune_match(s);

                if (r < 0)
                        return r;
        }
        return next_entry(s, rec);
}

/* ---- evidence cursors ------------------------------------------------------------------------ */

/* Files from..from+n of the iteration order, through the descriptors held since the start when
 * all of them are (sd-journal takes descriptors it opens: it is given copies), else by name. */
static int open_files_once(struct source *s, size_t from, size_t n, sd_journal **ret) {
        _cleanup_free_ const char **paths = NULL;
        _cleanup_free_ int *fds = NULL;
        size_t k = 0;
        int r;

        fds = malloc(n * sizeof(int));
        if (!fds)
                return -ENOMEM;
        for (; k < n && s->order_fds[from + k] >= 0; k++) {
                fds[k] = fcntl(s->order_fds[from + k], F_DUPFD_CLOEXEC, 3);
                if (fds[k] < 0)
                        break;
        }
        if (k == n) {
                r = sd_journal_open_files_fd(ret, fds, (unsigned) n, 0);
                if (r >= 0)
                        return r;
        }
        /* (on failure sd-journal keeps none of them) */
        for (size_t i = 0; i < k; i++)
                (void) close(fds[i]);
        paths = calloc(n + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        memcpy(paths, s->order + from, n * sizeof(char *));
        return sd_journal_open_files(ret, paths, 0);
}

/*
 * open_files_once(); past the limit of open files (every handle holds a descriptor per file), the
 * lookup handles (side_of(), replay()) and the descriptors held for them, which are only kept to
 * be used again, are let go and it is tried once more. A failure for that limit is counted
 * (source_stats()'s fd_limited): the caller says what it could not do, never that a file changed.
 */
static int open_files(struct source *s, size_t from, size_t n, sd_journal **ret) {
        int r = open_files_once(s, from, n, ret);

        if (!fd_limited(r))
                return r;
        for (size_t i = 0; s->sides && i < s->n_order; i++) {
                sd_journal_close(s->sides[i]);
                s->sides[i] = NULL;
        }
        sd_journal_close(s->replay);
        s->replay = NULL;
        /* The files held open for lookups are then found by name, as when there are too many */
        for (size_t i = 0; i < s->n_order; i++)
                if (s->order_fds[i] >= 0) {
                        (void) close(s->order_fds[i]);
                        s->order_fds[i] = -1;
                }
        r = open_files_once(s, from, n, ret);
        if (fd_limited(r))
                s->stats.fd_limited++;
        return r;
}

/*
 * Whether file i is still as a lookup handle saw it (f): sd-journal maps the files, and reading
 * a page that a truncation cut off raises SIGBUS, which only journald and journalctl catch (their
 * handler is not in libsystemd's API). So a handle is used only while its file is no shorter than
 * it has been seen. A file not held open is checked by name while the name leads to it; once it
 * does not (rotated, vacuumed: renamed or deleted, never cut short) the handle is kept unchecked.
 * opening: the handle is being opened, f is set from the file as it is now. Returns 0 (f updated),
 * -ESTALE (shorter: close the handle), or stat(2)'s -errno when opening.
 */
static int seen_file_check(struct source *s, size_t i, struct seen_file *f, bool opening) {
        bool held = s->order_fds[i] >= 0;
        struct stat st;
        int r;

        r = held ? fstat(s->order_fds[i], &st) : stat(s->order[i], &st);
        if (r < 0)
                r = -errno;
        if (!opening && !held && (r < 0 || st.st_dev != f->dev || st.st_ino != f->ino))
                return 0;
        if (r < 0)
                return r;
        if (!opening && st.st_size < f->size)
                return -ESTALE;
        *f = (struct seen_file){ .dev = st.st_dev, .ino = st.st_ino,
                                 .size = opening ? st.st_size : MAX(f->size, st.st_size) };
        return 0;
}

/* File i of the iteration order alone (opened on first use and kept: one sd_journal per file
 * that ever was looked in; opened again when the file was cut short meanwhile). */
static int side_of(struct source *s, size_t i, sd_journal **ret) {
        int r;

        if (!s->sides) {
                s->sides = calloc(MAX(s->n_order, (size_t) 1), sizeof(sd_journal *));
                if (!s->sides)
                        return -ENOMEM;
        }
        if (!s->side_seen) {
                s->side_seen = calloc(MAX(s->n_order, (size_t) 1), sizeof(struct seen_file));
                if (!s->side_seen)
                        return -ENOMEM;
        }
        if (s->sides[i] && seen_file_check(s, i, &s->side_seen[i], false) < 0) {
                sd_journal_close(s->sides[i]);
                s->sides[i] = NULL;
        }
        if (!s->sides[i]) {
                r = seen_file_check(s, i, &s->side_seen[i], true);
                if (r < 0)
                        return r;
                r = open_files(s, i, 1, &s->sides[i]);
                if (r < 0)
                        return r;
        }
        *ret = s->sides[i];
        return 0;
}

/* A side's matches: the source's, and _BOOT_ID=boot. */
static int side_match(struct source *s, sd_journal *j, sd_id128_t boot) {
        struct journal_source_options mo = { .identifiers = s->match_identifiers,
                                             .also = s->match_also };
        char match[sizeof("_BOOT_ID=") + 32];
        int r;

        sd_journal_flush_matches(j);
        r = journal_add_matches(j, &mo);
        if (r >= 0 && (s->match_identifiers || s->match_also))
                r = sd_journal_add_conjunction(j);
        if (r < 0)
                return r;
        (void) stpcpy(match, "_BOOT_ID=");
        (void) sd_id128_to_string(boot, match + strlen("_BOOT_ID="));
        return sd_journal_add_match(j, match, 0);
}

/* Whether the entry j is on is the one of ref: boot, clocks and digest. -errno when unreadable. */
static int is_entry(struct source *s, sd_journal *j, const struct entry_ref *ref,
                    record_digest_fn digest, void *userdata) {
        sd_id128_t b;
        uint64_t m, t;
        int r;

        if (sd_journal_get_monotonic_usec(j, &m, &b) < 0 ||
            memcmp(b.bytes, ref->boot_id, 16) != 0 || m != ref->monotonic_usec ||
            sd_journal_get_realtime_usec(j, &t) < 0 || t != ref->realtime_usec)
                return 0;
        if (!digest)
                return 1;
        r = read_fields(j, &s->scratch, &b);
        if (r < 0)
                return r;
        return digest(userdata, &s->scratch) == ref->seek.digest;
}

/*
 * The entries of file i (in the iteration order) that ref may be: its boot, clocks and digest.
 * Found by bisection (sd_journal_seek_monotonic_usec() with a _BOOT_ID match: the file's entries
 * of one boot, in monotonic order). The first found in this file and before is *best; *ids: 1
 * when every one found is that entry (one seqnum id, one seqnum), else 2: which one sd-journal
 * handed out, only replay() can tell.
 */
static int find_in(struct source *s, size_t i, const struct entry_ref *ref, record_digest_fn digest,
                   void *userdata, struct journal_pos *best, unsigned *ids) {
        sd_id128_t boot;
        sd_journal *j;
        uint64_t from, to;
        int r;

        memcpy(boot.bytes, ref->boot_id, 16);
        r = side_of(s, i, &j);
        if (r < 0)
                /* gone or unreadable now: not there (past the limit of open files: counted, and
                 * said with the evidence left unresolved) */
                return r == -ENOMEM ? r : 0;
        /* The first and last monotonic time of the boot in the file (its _BOOT_ID's entries) */
        r = sd_journal_get_cutoff_monotonic_usec(j, boot, &from, &to);
        if (r <= 0 || ref->monotonic_usec < from || ref->monotonic_usec > to)
                return 0;
        r = side_match(s, j, boot);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = sd_journal_seek_monotonic_usec(j, boot, ref->monotonic_usec);
        if (r < 0)
                return 0;
        for (;;) {
                struct journal_pos pos;
                sd_id128_t b;
                uint64_t m;

                r = sd_journal_next(j);
                if (r <= 0)
                        return 0;
                if (sd_journal_get_monotonic_usec(j, &m, &b) < 0 || !sd_id128_equal(b, boot))
                        continue;
                if (m > ref->monotonic_usec)
                        return 0;
                r = is_entry(s, j, ref, digest, userdata);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0)
                        continue;
                r = pos_of(j, &pos);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                if (*ids == 0)
                        *best = pos;
                else if (!sd_id128_equal(pos.seqnum_id, best->seqnum_id) ||
                         journal_pos_compare(&pos, best) != 0)
                        /* Copies of other seqnum ids, or the entry stored twice under one (two
                         * seqnums): which one sd-journal handed out, only replay() tells */
                        *ids = 2;
                *ids = MAX(*ids, 1U);
        }
}

/*
 * The entry the reading handle went to as its serial-th: the files read again in the same way
 * (a handle of their own, kept; read on from where it is when it is not past, else from the
 * start again). For what the bisection cannot tell: which of the copies of one entry in files of
 * different seqnum ids sd-journal handed out (that depends on where its merge stood in every
 * file), and a file whose monotonic clock went back. Then checked against ref.
 */
static int replay(struct source *s, const struct entry_ref *ref, record_digest_fn digest,
                  void *userdata, struct journal_pos *ret) {
        int r;

        if (s->n_order == 0)
                return 0;
        if (!s->replay_seen) {
                s->replay_seen = calloc(s->n_order, sizeof(struct seen_file));
                if (!s->replay_seen)
                        return -ENOMEM;
        }
        /* A file cut short since the replay opened it (seen_file_check()): opened again. */
        for (size_t i = 0; s->replay && i < s->n_order; i++)
                if (seen_file_check(s, i, &s->replay_seen[i], false) < 0) {
                        sd_journal_close(s->replay);
                        s->replay = NULL;
                }
        if (!s->replay) {
                for (size_t i = 0; i < s->n_order; i++) {
                        r = seen_file_check(s, i, &s->replay_seen[i], true);
                        if (r < 0)
                                return 0; /* gone: not there */
                }
                r = open_files(s, 0, s->n_order, &s->replay);
                if (r < 0)
                        return r == -ENOMEM ? r : 0;
                r = add_read_match(s, s->replay); /* the same entries as the reading handle */
                if (r < 0)
                        return r;
                s->replay_serial = UINT64_MAX;
        }
        if (s->replay_serial > ref->serial) {
                r = s->since_set ? sd_journal_seek_realtime_usec(s->replay, s->since_usec)
                                 : sd_journal_seek_head(s->replay);
                if (r < 0)
                        return 0;
                s->replay_serial = 0;
        }
        while (s->replay_serial < ref->serial) {
                r = sd_journal_next(s->replay);
                if (r <= 0)
                        return 0;
                s->replay_serial++;
        }
        r = is_entry(s, s->replay, ref, digest, userdata);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;
        r = pos_of(s->replay, ret);
        if (r == -ENOMEM)
                return r;
        return r >= 0;
}

static int journal_cursor(struct source *s, const struct entry_ref *ref, record_digest_fn digest,
                          void *userdata, char **ret) {
        char buf[ENTRY_REF_CURSOR_MAX];
        struct journal_pos best;
        struct entry_ref full;
        unsigned ids = 0;
        int r;

        if (ref->kind != ENTRY_REF_SEEK)
                return -ENOENT;
        if ((s->j && s->on_entry && ref->serial == s->serial) ||
            (s->par && s->par_entry && ref->serial == s->serial))
                /* The entry being judged: the reading handle is on it (the parallel reader's
                 * merge: the entry handed out last). */
                return current_cursor(s, ret);
        /* Where sd-journal has the entry: in one file, or stored again in others (copies):
         * among copies of one seqnum id it hands out the first by seqnum. */
        for (size_t i = 0; i < s->n_order; i++) {
                r = find_in(s, i, ref, digest, userdata, &best, &ids);
                if (r < 0)
                        return r;
        }
        if (ids != 1) {
                r = replay(s, ref, digest, userdata, &best);
                if (r < 0)
                        return r;
                ids = r > 0;
        }
        if (ids == 1) {
                ref_from_pos(&best, ref->serial, &full);
                *ret = strdup(entry_ref_journal_cursor(&full, buf));
                return *ret ? 0 : -ENOMEM;
        }
        /* Gone from the files since it was read (a file emptied or rewritten; one not held that
         * was vacuumed or rotated): the parts known, which sd_journal_seek_cursor() takes;
         * counted, and said by the caller. */
        s->stats.unresolved++;
        {
                sd_id128_t b;
                char id[33];

                memcpy(b.bytes, ref->boot_id, 16);
                if (asprintf(ret, "b=%s;m=%" PRIx64 ";t=%" PRIx64, sd_id128_to_string(b, id),
                             ref->monotonic_usec, ref->realtime_usec) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static uint64_t journal_skipped(const struct source *s) {
        return s->stats.corrupt;
}

static const char *journal_first_skipped(const struct source *s, const char **ret_why) {
        if (ret_why)
                *ret_why = s->first_skipped_why;
        return s->first_skipped;
}

static const struct source_stats *journal_stats(const struct source *s) {
        return &s->stats;
}

static const struct source_problem *journal_problems(const struct source *s, size_t *ret_n,
                                                     size_t *ret_more) {
        *ret_n = s->n_problems;
        if (ret_more)
                *ret_more = s->more_problems;
        return s->problems;
}

static void journal_free(struct source *s) {
        for (size_t i = 0; i < READ_AHEAD; i++)
                record_done(&s->ahead[i]);
        journal_par_free(s->par);
        sd_journal_close(s->own);
        free(s->open_dir);
        strv_free(s->open_files);
        for (size_t i = 0; s->sides && i < s->n_order; i++)
                sd_journal_close(s->sides[i]);
        free(s->sides);
        free(s->side_seen);
        sd_journal_close(s->replay);
        free(s->replay_seen);
        for (size_t i = 0; s->order_fds && i < s->n_order; i++)
                if (s->order_fds[i] >= 0)
                        (void) close(s->order_fds[i]);
        free(s->order_fds);
        free(s->order);
        strv_free(s->match_identifiers);
        strv_free(s->match_also);
        strv_free(s->match_also_kept);
        free(s->absent);
        record_done(&s->scratch);
        free(s->first_skipped);
        for (size_t i = 0; i < s->n_files; i++)
                free(s->files[i]);
        free(s->files);
        for (size_t i = 0; i < s->n_tails; i++)
                free(s->tails[i].cursor);
        free(s->tails);
        free(s->tail_realtimes);
        free(s->par_identifiers);
        for (size_t i = 0; i < s->n_problems; i++)
                free(s->problems[i].path);
        free(s);
}

static const struct source_ops journal_ops = {
        .next = journal_next,
        .skipped = journal_skipped,
        .first_skipped = journal_first_skipped,
        .free = journal_free,
        .next_borrowed = journal_next_borrowed,
        .peek = journal_peek,
        .stats = journal_stats,
        .problems = journal_problems,
        .cursor = journal_cursor,
};

sd_journal *journal_source_journal(struct source *s) {
        if (!s || s->ops != &journal_ops)
                return NULL;
        /* Whoever holds the handle may seek (follow resumes at a cursor): a file whose last entry
         * lies before where reading starts is no file cut short. The check is the reader's now. */
        s->handed_out = true;
        /* ... and may find the files changed under it (rotated, vacuumed) by the time an alert is
         * built: each record's whole position is read at once, so no cursor is looked up later. */
        s->eager = true;
        return s->j;
}

int journal_source_open_host(struct source *s, const char *machine_id, sd_journal **ret) {
        _cleanup_free_ char *m = NULL;
        sd_journal *j = NULL;
        int r;

        if (!s || s->ops != &journal_ops || !s->own)
                return -EINVAL;
        /* Each handle opens every file: past the limit sd-journal would skip some, silently. */
        r = fd_room(s->n_order);
        if (r < 0)
                return r;
        if (asprintf(&m, "_MACHINE_ID=%s", machine_id) < 0)
                return -ENOMEM;
        r = open_again(s, &j);
        if (r < 0)
                return r;
        /* sd-journal's match: a disjunction of conjunctions; the machine joins each of them. */
        r = add_matches(j, s->match_identifiers, s->match_also, m);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

void journal_source_read_through(struct source *s, sd_journal *j, bool on_next) {
        if (!s || s->ops != &journal_ops)
                return;
        s->j = j ?: s->own;
        s->next_ready = on_next;
}
