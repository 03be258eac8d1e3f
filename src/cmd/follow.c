/* SPDX-License-Identifier: MIT */
/*
 * keytrail follow: the long-running sidecar. Tails the journal (sd_journal_get_fd + poll) through
 * the same pipeline as scan, hands each alert to the sinks as soon as it is decided, and commits
 * the journal cursor to the state file once every alert before it has left through every
 * exactly-once sink.
 *
 * Restarts and crashes: the state says where to start again (the first entry of the oldest
 * connection open at the commit, a little before), and the correlation is rebuilt by replaying
 * from there. Alerts decided on entries up to the committed cursor were all emitted before the
 * commit, so while replaying nothing is emitted; past the cursor, the ids the state remembers (and
 * those the sinks are found to hold, see sink.h) are not emitted again.
 *
 * Time: log time while catching up. Once live, the time that passed on the clock since the last
 * entry was read (less LIVE_GRACE_USEC, for journald's delay) is added to that entry's log time, so
 * a quiet journal still decides its timeouts. Not the clock itself: entries that come in late with
 * an older log time (a journal file copied in, a remote host's journal) must not find their
 * connections timed out before their own next line is read.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "cmd-common.h"
#include "commands.h"
#include "drift.h"
#include "sshd-config.h"
#include "idset.h"
#include "sigbus.h"
#include "sink.h"
#include "state.h"
#include "strview.h"
#include "timeutil.h"

#define DEFAULT_STATE_DIR "/var/lib/keytrail"
#define COMMIT_INTERVAL_USEC (1 * USEC_PER_SEC)      /* while catching up */
#define COMMIT_IDLE_INTERVAL_USEC (100 * USEC_PER_MSEC) /* once caught up */
#define STATUS_INTERVAL_USEC (1 * USEC_PER_SEC)
/* Before READY=1: how much longer systemd is asked to wait for the start each time STATUS= says
 * that entries were read since (status()). */
#define START_EXTEND_USEC (30 * USEC_PER_SEC)
#define LIVE_GRACE_USEC (1 * USEC_PER_SEC)
#define IDLE_TICK_USEC (500 * USEC_PER_MSEC)
/* journald wakes inotify readers at most every 250 ms (its post-change timer), but a reader sees
 * each new entry in the shared mapping at once: after an entry, look again after POLL_MIN_USEC,
 * then twice as long each time nothing came, up to POLL_BUSY_MAX_USEC while entries came in the
 * last POLL_BUSY_WINDOW_USEC (a stream of logins: an entry waits at most that long to be read),
 * up to POLL_FAST_MAX_USEC while they came in the last POLL_FAST_WINDOW_USEC (sshd writes a
 * login's lines within a second or so), else up to IDLE_TICK_USEC, where journald's own wake-ups
 * take over. Each empty look costs some tens of microseconds (bench/README.md). */
#define POLL_MIN_USEC (1 * USEC_PER_MSEC)
#define POLL_BUSY_MAX_USEC (2 * USEC_PER_MSEC)
#define POLL_BUSY_WINDOW_USEC (1 * USEC_PER_SEC)
#define POLL_FAST_MAX_USEC (8 * USEC_PER_MSEC)
#define POLL_FAST_WINDOW_USEC (10 * USEC_PER_SEC)
#define REPLAY_MARGIN_USEC (10 * USEC_PER_SEC)
#define SERVICE_EVERY_ENTRIES 512 /* while catching up: signals and socket readers this often */
#define RETRY_USEC (1 * USEC_PER_SEC)
#define POLL_FDS_MAX (3 + SINK_SOCKET_READERS_MAX + 1)
#define UNREADABLE_MAX 256
#define RECOVER_LOOK_USEC (50 * USEC_PER_MSEC)  /* how often to look for journald's marker */
#define RECOVER_SAY_USEC (10 * USEC_PER_SEC)    /* say once that the journal sink waits */
/* Hosts (_MACHINE_ID) read each through a handle of their own (docs/follow.md), at most this many;
 * their machines are looked for again when files come or go, and every DISCOVER_USEC once live. */
#define HOSTS_MAX STATE_HOSTS_MAX
#define DISCOVER_USEC (1 * USEC_PER_SEC)
#define SIGBUS_SAY_USEC (10 * USEC_PER_SEC)     /* say a file cut short at most this often */

static const char *arg_state_dir = DEFAULT_STATE_DIR;
static const char *arg_output;
static const char *arg_socket;
static const char *arg_live_keys;
static bool arg_journal;
static bool arg_stdout;

/* The operator's paths as stderr lines write them (cmd_path_text(): any bytes, escaped), made when
 * first needed; freed by verb_follow(). */
static char *state_dir_text, *output_text, *socket_text;

static const char *state_dir_shown(void) {
        return cmd_path_cached(&state_dir_text, arg_state_dir);
}

enum {
        ARG_STATE_DIR = 0x200,
        ARG_OUTPUT,
        ARG_JOURNAL,
        ARG_SOCKET,
        ARG_STDOUT,
        ARG_LIVE_KEYS,
};

static const struct option follow_options[] = {
        { "state-dir", required_argument, NULL, ARG_STATE_DIR },
        { "output", required_argument, NULL, ARG_OUTPUT },
        { "journal", no_argument, NULL, ARG_JOURNAL },
        { "socket", required_argument, NULL, ARG_SOCKET },
        { "stdout", no_argument, NULL, ARG_STDOUT },
        { "live-keys", required_argument, NULL, ARG_LIVE_KEYS },
        {}
};

static void help(void) {
        printf("Usage: keytrail follow [OPTIONS]\n"
               "\n"
               "Tail sshd's journal entries live and emit each alert as soon as it is decided:\n"
               "the same rules, correlation and alerts as scan, exactly once across restarts.\n"
               "\n");
        cmd_help_groups(OPT_SOURCE | OPT_BASELINE | OPT_ANALYSIS | OPT_OUTPUT);
        printf("Follow:\n"
               "      --state-dir DIR       where the journal cursor is kept (default %s)\n"
               "      --output FILE         append NDJSON alerts to FILE (reopened on SIGHUP)\n"
               "      --journal             write each alert into the journal (MESSAGE_ID=%s)\n"
               "      --socket PATH         serve NDJSON alerts to local readers (a live feed)\n"
               "      --stdout              alerts on stdout too (the default when no other sink\n"
               "                            is given)\n"
               "      --live-keys FILE      with --baseline: the live authorized_keys from FILE, a\n"
               "                            snapshot keytrail baseline writes as root, not from\n"
               "                            the homes\n"
               "\n"
               "--since applies to the first start only; afterwards the state says where to go on.\n"
               "--until is not accepted. SIGHUP reloads the rules and the baseline and reopens\n"
               "--output; SIGTERM and SIGINT stop after committing the state.\n"
               "With --baseline, a key added to, removed from or changed in the authorized_keys\n"
               "files follow can read (or in the --live-keys snapshot) raises baseline-drift.\n"
               "\n"
               "Exit status: 0 stopped by a signal, 2 an error.\n",
               DEFAULT_STATE_DIR, SINK_JOURNAL_MESSAGE_ID);
}

static int parse_extra(int c, const char *value) {
        switch (c) {
        case ARG_STATE_DIR:
                arg_state_dir = value;
                return 0;
        case ARG_OUTPUT:
                arg_output = value;
                return 0;
        case ARG_JOURNAL:
                arg_journal = true;
                return 0;
        case ARG_SOCKET:
                arg_socket = value;
                return 0;
        case ARG_STDOUT:
                arg_stdout = true;
                return 0;
        case ARG_LIVE_KEYS:
                arg_live_keys = value;
                return 0;
        default:
                return -ENOENT;
        }
}

static const struct cmd_spec spec = {
        .name = "follow",
        .groups = OPT_SOURCE | OPT_BASELINE | OPT_ANALYSIS | OPT_OUTPUT,
        .extra = follow_options,
        .help = help,
        .parse_extra = parse_extra,
};

/*
 * One host of the journal (one _MACHINE_ID): its own sd_journal with keytrail's matches and
 * _MACHINE_ID=, so that entries of another host that come in late, dated before what was read
 * (a lagging upload, a clock behind, a file copied in), are still ahead of this host's position.
 * Within one host's files journald and journal-remote write in order.
 */
struct fhost {
        char machine_id[33];
        sd_journal *j;             /* owned */
        bool pending;              /* j is on an entry not handed out yet, dated next_usec */
        uint64_t next_usec;
        bool idle;                 /* j was at its end since the last wait */
        bool seen;                 /* found at the last look for machines */
        bool have_pos;             /* an entry was read (or the state's cursor found) */
        struct entry_ref ref;      /* the last entry read, when ref.kind is ENTRY_REF_JOURNAL */
        char *cursor;              /* owned: else its cursor, taken at once */
        uint64_t last_usec;        /* realtime of the last entry read (or the committed one) */
        uint64_t last_read;        /* monotonic time it was read */
        /* Replaying up to this host's committed position: nothing of it is emitted. */
        bool replaying;
        char *replay_cursor;       /* owned: the cursor to reach; NULL: reach replay_until_usec */
        uint64_t replay_until_usec;
        uint64_t committed_usec;   /* the committed position's realtime (on_alert) */
};

struct follower {
        struct pipeline *p;        /* owned */
        struct rule_set *rules;    /* owned; the pipeline borrows it */
        struct baseline *baseline; /* owned; the pipeline borrows it */
        struct source *src;        /* owned */
        sd_journal *j;             /* borrowed from src: looks for machines and files, wakes */
        struct fhost hosts[HOSTS_MAX];
        size_t n_hosts;
        struct fhost *last_host;   /* the host of the entry read last */
        size_t hosts_unread, hosts_unread_said; /* machines beyond HOSTS_MAX at the last look */
        uint64_t last_discover;
        struct sinks *sinks;       /* owned */
        struct state *state;       /* owned */
        struct drift *drift;       /* owned; with --baseline: authorized_keys against it */
        struct state_writer *writer; /* owned: writes the states committed live (commit_async) */
        int sigfd;

        /* Hosts replaying up to their committed cursor (nothing of theirs is emitted): 0 none */
        size_t replaying;

        bool ready, dirty;
        bool have_state;           /* a state was loaded at the start */
        uint64_t extended_at;      /* entries + own_entries at the last EXTEND_TIMEOUT_USEC= */
        uint64_t last_usec;        /* the latest realtime of the entries fed (or committed) */
        uint64_t last_read;        /* monotonic time the last entry was read */
        uint64_t poll_usec;        /* how long to wait for the journal next (POLL_MIN_USEC..) */
        uint64_t last_commit, last_status, last_watchdog, watchdog_usec;
        uint64_t recover_start, recover_look; /* monotonic: the journal's read-back began, looked */
        bool recover_said;         /* said that it waits for journald */

        uint64_t entries, alerts, replayed, suppressed, commits, own_entries;
        uint64_t sigbus_said;      /* pages read as zeroes (sigbus.h) said so far */
        uint64_t sigbus_at;        /* monotonic: when said last */
        char *unreadable[UNREADABLE_MAX]; /* owned: journal files said unreadable, once each */
        size_t n_unreadable;
};

static uint64_t now_mono(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static struct fhost *host_of(struct follower *f, const char *machine_id) {
        if (!machine_id)
                return NULL;
        for (size_t i = 0; i < f->n_hosts; i++)
                if (streq(f->hosts[i].machine_id, machine_id))
                        return &f->hosts[i];
        return NULL;
}

static int on_alert(void *userdata, const struct alert *a) {
        struct follower *f = userdata;
        struct fhost *h;
        char id[33];
        int r;

        /* Replaying: an alert of the committed past of its host was emitted before the commit (or
         * is an artefact of the partial replay); one decided later is judged by its id like any. */
        if (f->replaying > 0) {
                h = host_of(f, a->machine_id);
                if (h ? h->replaying && a->time_usec <= h->committed_usec
                      : a->time_usec <= f->state->cursor_usec) {
                        f->replayed++;
                        return 0;
                }
        }
        r = alert_id(a, id);
        if (r < 0)
                return r;
        if (idset_contains(f->state->ids, id)) {
                f->suppressed++;
                return 0;
        }
        r = sinks_emit(f->sinks, a);
        if (r < 0)
                return r;
        /* A baseline-drift is about the authorized_keys files, not about entries: after a
         * restart the drift watch finds the same change again, whatever the journal did since, so
         * its id is kept for good (dropped last when the set is full), not with the replay
         * window. */
        r = idset_add(f->state->ids, id, a->type == ALERT_BASELINE_DRIFT ? UINT64_MAX : a->time_usec);
        if (r < 0)
                return r;
        f->alerts++;
        f->dirty = true;
        return 0;
}

/* ---- state ----------------------------------------------------------------------------------- */

/* The cursor of h's last entry read (borrowed: buf, or h->cursor). */
static const char *host_cursor(const struct fhost *h, char buf[static ENTRY_REF_CURSOR_MAX]) {
        if (h->ref.kind == ENTRY_REF_JOURNAL)
                return entry_ref_journal_cursor(&h->ref, buf);
        return h->cursor;
}

/* After reading an entry of h (its handle still on it): remember where h is. Its position comes
 * with the record (the source reads each whole position at once, journal_source_journal()); only
 * when it could not is the cursor asked for now, before anything can make sd-journal forget it
 * (sd_journal_process() closes a file journald rotated or vacuumed away: the cursor of an entry
 * of it is then refused, -EADDRNOTAVAIL). */
static int host_read(struct fhost *h, const struct log_record *rec) {
        char *c = NULL;
        int r;

        h->have_pos = true;
        h->last_usec = rec->realtime_usec;
        if (rec->ref.kind == ENTRY_REF_JOURNAL) {
                h->ref = rec->ref;
                return 0;
        }
        r = sd_journal_get_cursor(h->j, &c);
        if (r < 0)
                return r;
        h->ref.kind = ENTRY_REF_NONE;
        free(h->cursor);
        h->cursor = c;
        return 0;
}

/* Collect the outcome of the state the writer finished, if any. */
static void commit_collect(struct follower *f, bool wait) {
        int r;

        if (!f->writer)
                return;
        r = state_writer_collect(f->writer, wait);
        if (r > 0)
                f->commits++;
        else if (r < 0) {
                log_error("%s: cannot commit the state: %s", state_dir_shown(), strerror(-r));
                f->dirty = true; /* the file is the previous commit: try again */
        }
}

/*
 * Commit: the cursor of the last entry processed, once every alert decided up to it has been
 * taken by every exactly-once sink. With async, the slow part (fsync of the output file, then the
 * state's write, fsync, rename and the folder's fsync) is left to the writer thread, so reading
 * and alerting never wait for the disk; a commit still in flight makes this one wait for the next
 * turn (the state stays dirty). Without, it is done here (start, reload, stop).
 */
static int commit_how(struct follower *f, bool async) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int sync_fd = -1;
        uint64_t replay, floor;
        size_t len = 0;
        int r;

        /* While the journal is not read back, its marks must stay where the read-back starts. */
        if (f->replaying || sinks_pending(f->sinks) > 0 || sinks_recovering(f->sinks))
                return 0;
        if (f->writer) {
                if (async && state_writer_busy(f->writer))
                        return 0;
                commit_collect(f, true); /* commits land in order */
        }
        /* Before the first entry only the instance and the sinks' marks are written: a crash
         * then still finds what the sinks hold. Each host's position, and the last entry read
         * as the cursor (what states without hosts held). A host gone from the journal (its files
         * vacuumed) is gone from the state. */
        state_clear_hosts(f->state);
        for (size_t i = 0; i < f->n_hosts; i++) {
                const struct fhost *h = &f->hosts[i];
                char buf[ENTRY_REF_CURSOR_MAX];
                const char *c = h->have_pos ? host_cursor(h, buf) : NULL;

                if (!c)
                        continue;
                r = state_set_host(f->state, h->machine_id, c, h->last_usec);
                if (r < 0)
                        return r;
                if (h == f->last_host) {
                        r = state_set_cursor(f->state, c);
                        if (r < 0)
                                return r;
                        f->state->cursor_usec = f->last_usec;
                }
        }
        replay = f->p ? pipeline_oldest_open_usec(f->p) : 0;
        f->state->replay_usec = replay;
        f->state->commit_usec = timeutil_now_usec();
        /* Only alerts decided past the cursor can come again: those of connections still open. */
        floor = replay > 0 ? MIN(replay, f->last_usec) : f->last_usec;
        idset_prune(f->state->ids, floor > REPLAY_MARGIN_USEC ? floor - REPLAY_MARGIN_USEC : 0);
        r = sinks_keep_recovered(f->sinks, f->state->ids, f->last_usec);
        if (r < 0)
                return r;
        r = sinks_save_marks(f->sinks, f->state, &sync_fd);
        if (r < 0)
                return r;
        r = state_format(f->state, &text, &len);
        if (r < 0)
                return r;
        if (async && f->writer) {
                r = state_writer_submit(f->writer, text, len, sync_fd);
                if (r < 0)
                        return r;
                TAKE_PTR(text);
                TAKE_FD(sync_fd);
        } else {
                r = state_write(arg_state_dir, text, len, sync_fd);
                if (r < 0)
                        return r;
                f->commits++;
        }
        f->dirty = false;
        f->last_commit = now_mono();
        return 0;
}

static int commit(struct follower *f) {
        return commit_how(f, false);
}

static int commit_async(struct follower *f) {
        return commit_how(f, true);
}

/* Load the state, or say once why there is none usable and start afresh. */
static int load_state(struct follower *f) {
        unsigned line = 0;
        int r;

        r = state_load(arg_state_dir, &f->state, &line);
        if (r >= 0)
                return 1;
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                log_info("%s/%s: no state yet, starting from %s", state_dir_shown(), STATE_FILE_NAME,
                         arg_since ? "--since" : "the oldest entry");
        else if (r == -EBADMSG && line > 0)
                log_error("%s/%s:%u: corrupt state, ignoring it: starting from %s", state_dir_shown(),
                          STATE_FILE_NAME, line, arg_since ? "--since" : "the oldest entry");
        else
                log_error("%s/%s: unusable state (%s), ignoring it: starting from %s",
                          state_dir_shown(), STATE_FILE_NAME,
                          r == -EBADMSG ? "incomplete" : strerror(-r),
                          arg_since ? "--since" : "the oldest entry");
        r = state_new(&f->state);
        if (r < 0)
                return r;
        return 0;
}

/* ---- hosts ----------------------------------------------------------------------------------- */

static void host_done(struct fhost *h) {
        sd_journal_close(h->j);
        free(h->cursor);
        free(h->replay_cursor);
        *h = (struct fhost){};
}

static void host_replay_done(struct follower *f, struct fhost *h) {
        if (!h->replaying)
                return;
        h->replaying = false;
        h->replay_cursor = (free(h->replay_cursor), NULL);
        f->replaying--;
}

/* h's position is cursor (copied) at usec: what a commit writes until h reads an entry. */
static int host_hold(struct fhost *h, const char *cursor, uint64_t usec) {
        char *c = strdup(cursor);

        if (!c)
                return -ENOMEM;
        free(h->cursor);
        h->cursor = c;
        h->ref.kind = ENTRY_REF_NONE;
        h->have_pos = true;
        h->last_usec = usec;
        return 0;
}

/*
 * Where h starts reading: after its committed cursor, replaying from the oldest connection that
 * was open then; in a state written before hosts had positions of their own (legacy), after the
 * one cursor, as the one handle did; with no position, --since or the head at the first start,
 * the head for a host found later (none of its entries was read).
 */
static int host_position(struct follower *f, struct fhost *h, bool start, bool legacy) {
        const struct state_host *sh = state_host(f->state, h->machine_id);
        const char *cursor = sh ? sh->cursor : legacy ? f->state->cursor : NULL;
        uint64_t cursor_usec = sh ? sh->cursor_usec : f->state->cursor_usec;
        uint64_t replay = f->state->replay_usec;
        bool first = start && (legacy || !f->have_state);
        int r;

        if (!cursor) {
                if (first && arg_since)
                        return sd_journal_seek_realtime_usec(h->j, arg_since);
                return sd_journal_seek_head(h->j);
        }
        h->committed_usec = cursor_usec;
        r = sd_journal_seek_cursor(h->j, cursor);
        if (r == -EINVAL) {
                /* a cursor sd-journal cannot read (a damaged state): a host line's as a vacuumed
                 * one, below; an older state's one cursor as another host's, from the handle's
                 * first entry: never the host left unread */
                if (!sh)
                        log_error("%s/%s: the committed cursor is not one the journal reads: host "
                                  "%s goes on from its oldest entry", state_dir_shown(),
                                  STATE_FILE_NAME, h->machine_id);
                r = 0;
        }
        if (r >= 0)
                r = sd_journal_next(h->j);
        if (r < 0)
                return r;
        if (r > 0 && sd_journal_test_cursor(h->j, cursor) > 0) {
                r = host_hold(h, cursor, cursor_usec);
                if (r < 0)
                        return r;
                if (replay == 0 || replay > cursor_usec)
                        return 0; /* nothing was open: go on right after the cursor's entry */
                h->replaying = true;
                f->replaying++;
                h->replay_cursor = strdup(cursor);
                if (!h->replay_cursor)
                        return -ENOMEM;
                return sd_journal_seek_realtime_usec(
                        h->j, replay > REPLAY_MARGIN_USEC ? replay - REPLAY_MARGIN_USEC : 0);
        }
        if (!sh) {
                /* Legacy, and the cursor is another host's: this host goes on where the one
                 * handle went on, at its first entry past that place (the handle is on it). */
                if (r > 0) {
                        h->pending = true;
                        if (sd_journal_get_realtime_usec(h->j, &h->next_usec) < 0)
                                h->next_usec = 0;
                }
                if (replay == 0 || replay > cursor_usec)
                        return 0;
                h->pending = false;
                h->replaying = true;
                f->replaying++;
                h->replay_until_usec = cursor_usec;
                return sd_journal_seek_realtime_usec(
                        h->j, replay > REPLAY_MARGIN_USEC ? replay - REPLAY_MARGIN_USEC : 0);
        }
        log_error("%s/%s: host %s: the committed cursor is no longer in the journal (vacuumed?): "
                  "going on from %s", state_dir_shown(), STATE_FILE_NAME, h->machine_id,
                  first && arg_since ? "--since" : "the oldest entry");
        /* Whatever is still there up to the committed time was judged already. */
        r = host_hold(h, cursor, cursor_usec);
        if (r < 0)
                return r;
        h->replaying = true;
        f->replaying++;
        h->replay_until_usec = cursor_usec;
        if (first && arg_since)
                return sd_journal_seek_realtime_usec(h->j, arg_since);
        return sd_journal_seek_head(h->j);
}

/* Open machine_id's handle into the table and place it. 0, or -errno (nothing added). */
static int host_add(struct follower *f, const char *machine_id, bool start) {
        struct fhost *h = &f->hosts[f->n_hosts];
        int r;

        *h = (struct fhost){ .last_read = now_mono() };
        memcpy(h->machine_id, machine_id, 33);
        r = journal_source_open_host(f->src, machine_id, &h->j);
        /* Its own watch (inotify): the files that come for this host (rotation) are added. */
        if (r >= 0)
                r = sd_journal_get_fd(h->j);
        if (r >= 0)
                r = host_position(f, h, start, f->have_state && f->state->n_hosts == 0);
        if (r < 0) {
                host_replay_done(f, h);
                host_done(h);
                return r;
        }
        h->seen = true;
        f->n_hosts++;
        f->last_usec = MAX(f->last_usec, h->last_usec); /* a committed position */
        return 0;
}

/*
 * Look for the journal's machines (sd_journal_query_unique(_MACHINE_ID) over every file): each
 * new one gets a handle, up to HOSTS_MAX; those beyond are counted and said (never silently);
 * a host whose files are all gone (vacuumed) and that has nothing left to read is let go.
 * Returns 0, or -ENOMEM.
 */
static int discover(struct follower *f, bool start) {
        const void *data;
        size_t len, unread = 0;
        int r;

        f->last_discover = now_mono();
        for (size_t i = 0; i < f->n_hosts; i++)
                f->hosts[i].seen = false;
        r = sd_journal_query_unique(f->j, "_MACHINE_ID");
        if (r < 0) {
                log_error("looking for the journal's machines: %s", strerror(-r));
                return r == -ENOMEM ? r : 0;
        }
        SD_JOURNAL_FOREACH_UNIQUE(f->j, data, len) {
                char mid[33];
                struct fhost *h;

                if (len < strlen("_MACHINE_ID=") ||
                    !strview_is_id128((struct strview){ (const char *) data + 12, len - 12 }))
                        continue; /* journald writes 32 lowercase hex digits: not a host's */
                memcpy(mid, (const char *) data + 12, 32);
                mid[32] = 0;
                h = host_of(f, mid);
                if (h) {
                        h->seen = true;
                        continue;
                }
                if (f->n_hosts >= HOSTS_MAX) {
                        unread++;
                        continue;
                }
                r = host_add(f, mid, start);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        log_error("cannot read the journal of host %s: %s", mid, strerror(-r));
                        unread++;
                }
        }
        for (size_t i = 0; i < f->n_hosts;) {
                struct fhost *h = &f->hosts[i];

                if (h->seen || h->pending || !h->idle || h->replaying) {
                        i++;
                        continue;
                }
                if (f->last_host == h)
                        f->last_host = NULL;
                else if (f->last_host > h)
                        f->last_host--;
                host_done(h);
                memmove(h, h + 1, (f->n_hosts - i - 1) * sizeof(*h));
                f->n_hosts--;
        }
        if (unread > f->hosts_unread_said) {
                log_error("the journal holds more machines than follow reads at once (%u): the "
                          "entries of %zu of them are not read (keytrail scan reads them)",
                          (unsigned) HOSTS_MAX, unread);
                f->hosts_unread_said = unread;
        }
        f->hosts_unread = unread;
        return 0;
}

/*
 * The next entry in time among the hosts' next ones (each host's own in its order): 1 with *rec
 * and *ret its host, 0 when every host is at its end, -errno. A host at its end is looked at
 * again after the next wait (wait_events()).
 */
static int next_record(struct follower *f, struct log_record *rec, struct fhost **ret) {
        struct fhost *best = NULL;
        int r;

        for (size_t i = 0; i < f->n_hosts; i++) {
                struct fhost *h = &f->hosts[i];

                if (!h->pending && !h->idle) {
                        r = sd_journal_next(h->j);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                h->idle = true;
                                continue;
                        }
                        h->pending = true;
                        /* (one host: no order to keep) */
                        if (f->n_hosts > 1 && sd_journal_get_realtime_usec(h->j, &h->next_usec) < 0)
                                h->next_usec = 0; /* read it now: the source says why not */
                }
                if (h->pending && (!best || h->next_usec < best->next_usec))
                        best = h;
        }
        if (!best)
                return 0;
        best->pending = false;
        journal_source_read_through(f->src, best->j, true);
        r = source_next(f->src, rec);
        if (r == 0)
                best->idle = true; /* what was left could not be read (the source counts it) */
        *ret = best;
        return r;
}

/* After feeding an entry of h: was it the last one of h judged before the stop? */
static void check_replay_end(struct follower *f, struct fhost *h, const struct log_record *rec) {
        if (!h->replaying)
                return;
        if (h->replay_cursor ? sd_journal_test_cursor(h->j, h->replay_cursor) > 0
                             : rec->realtime_usec > h->replay_until_usec)
                host_replay_done(f, h);
}

/* ---- journal files we cannot read: said once each ------------------------------------------- */

static void check_dir(struct follower *f, const char *dir, unsigned depth) {
        DIR *d = opendir(dir);

        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *path = NULL;
                size_t l = strlen(de->d_name);
                bool seen = false;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        break;
                if (depth > 0 && de->d_type == DT_DIR) {
                        check_dir(f, path, depth - 1);
                        continue;
                }
                if (!(l > 8 && streq(de->d_name + l - 8, ".journal")) &&
                    !(l > 9 && streq(de->d_name + l - 9, ".journal~")))
                        continue;
                if (access(path, R_OK) >= 0)
                        continue;
                for (size_t i = 0; i < f->n_unreadable && !seen; i++)
                        seen = streq(f->unreadable[i], path);
                if (seen || f->n_unreadable >= UNREADABLE_MAX)
                        continue;
                {
                        int e = errno;
                        _cleanup_free_ char *text = cmd_path_text(path);

                        log_error("%s: cannot read this journal file (%s), ignoring it",
                                  text ?: "?", strerror(e));
                }
                f->unreadable[f->n_unreadable++] = TAKE_PTR(path);
        }
        closedir(d);
}

/* Files that appeared since the start (rotation, a new user's journal, a file copied into
 * --directory): those it cannot read are said once each. The ones found at the start were said
 * by cmd_open_journal(). */
static void check_unreadable(struct follower *f) {
        if (arg_n_files > 0)
                return;
        if (arg_directory) {
                check_dir(f, arg_directory, 0);
                return;
        }
        for (const char *const *d = journal_local_dirs; *d; d++)
                check_dir(f, *d, 1);
}

static void remember_problems(struct follower *f) {
        size_t n = 0;
        const struct source_problem *p = source_problems(f->src, &n, NULL);

        for (size_t i = 0; i < n && f->n_unreadable < UNREADABLE_MAX; i++) {
                char *c = strdup(p[i].path);

                if (c)
                        f->unreadable[f->n_unreadable++] = c;
        }
}

/* ---- journal files cut short under the reader (sigbus.h) ------------------------------------- */

/* Say that a journal file was cut short while read, when new faults came, at most every
 * SIGBUS_SAY_USEC: each host's handle maps the file too, and each faults on its own. */
static void sigbus_note(struct follower *f) {
        uint64_t n = sigbus_zero_pages();

        if (n == f->sigbus_said || (f->sigbus_at > 0 && now_mono() - f->sigbus_at < SIGBUS_SAY_USEC))
                return;
        f->sigbus_said = n;
        f->sigbus_at = now_mono();
        log_error("a journal file was cut short while it was read (journald truncates the files it "
                  "rotates): %" PRIu64 " page(s) of it read as zeroes so far", n);
}

/* ---- signals, readiness ---------------------------------------------------------------------- */

static int signals_open(void) {
        sigset_t mask;
        int fd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        (void) signal(SIGPIPE, SIG_IGN);
        fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/*
 * STATUS=, every STATUS_INTERVAL_USEC (or now: force). Before READY=1 (replaying, catching up) it
 * also asks systemd for START_EXTEND_USEC more to start, when entries were read since it last did:
 * READY=1 waits for the catch-up, whose replay part (from the first line of the oldest connection
 * open at the commit up to the committed cursor) commits nothing. A long-lived connection puts that
 * first line days back, so the replay can outlast TimeoutStartSec= (90 s by default): systemd then
 * killed follow, restarted it, and the same replay began again, for ever, no entry ever followed.
 * A start that reads nothing still times out.
 */
static void status(struct follower *f, bool force) {
        const struct correlator_stats *cs = pipeline_correlator_stats(f->p);
        const struct sink_stats *ss = sinks_stats(f->sinks);
        uint64_t now = now_mono(), n_read = f->entries + f->own_entries;
        bool extend = !f->ready && n_read != f->extended_at;
        char ext[64] = "", unread[48] = "";

        if (!force && now - f->last_status < STATUS_INTERVAL_USEC)
                return;
        f->last_status = now;
        if (f->hosts_unread > 0)
                (void) snprintf(unread, sizeof(unread), ", hosts unread %zu", f->hosts_unread);
        if (extend) {
                f->extended_at = n_read;
                (void) snprintf(ext, sizeof(ext), "EXTEND_TIMEOUT_USEC=%" PRIu64 "\n",
                                (uint64_t) START_EXTEND_USEC);
        }
        (void) sd_notifyf(0,
                          "%s"
                          "STATUS=%s: entries %" PRIu64 ", open connections %u, alerts %" PRIu64
                          ", evicted %" PRIu64 ", socket readers %u, socket drops %" PRIu64
                          "%s%s%s",
                          ext,
                          f->replaying ? "replaying" : f->ready ? "following" : "catching up",
                          f->entries, pipeline_open_connections(f->p), f->alerts, cs->evicted,
                          ss->socket_readers, ss->socket_dropped,
                          sinks_failing(f->sinks) > 0 ? ", waiting for a sink" : "",
                          sinks_recovering(f->sinks)
                                  ? ", journal sink waiting for journald to show the start marker"
                                  : "",
                          unread);
}

static void watchdog(struct follower *f) {
        uint64_t now;

        if (f->watchdog_usec == 0)
                return;
        now = now_mono();
        if (now - f->last_watchdog < f->watchdog_usec / 2)
                return;
        f->last_watchdog = now;
        (void) sd_notify(0, "WATCHDOG=1");
}

static void reload(struct follower *f) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_(baseline_freep) struct baseline *baseline = NULL;
        struct drift *drift = NULL;
        int r;

        (void) sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, now_mono());
        r = cmd_load_rules(&rules);
        if (r >= 0)
                r = cmd_load_baseline(&baseline);
        if (r >= 0 && arg_baseline)
                r = drift_new(arg_baseline, arg_live_keys, SSHD_DEFAULT_PATH, &drift);
        if (r < 0)
                log_error("reload failed (the line above says why): the previous rules and "
                          "baseline stay in use");
        else {
                pipeline_set_rules(f->p, rules, baseline);
                rule_set_free(f->rules);
                baseline_free(f->baseline);
                f->rules = TAKE_PTR(rules);
                f->baseline = TAKE_PTR(baseline);
                if (drift) {
                        drift_free(f->drift);
                        f->drift = drift;
                }
                log_info("reloaded the rules and the baseline");
        }
        if (arg_output) {
                r = sinks_reopen(f->sinks);
                if (r < 0)
                        log_error("--output: cannot reopen %s (%s): writing on to the old file",
                                  cmd_path_cached(&output_text, arg_output), strerror(-r));
                else {
                        /* The new file's mark, so a crash does not look for it in the old one. */
                        r = commit(f);
                        if (r < 0)
                                log_error("%s: cannot commit the state: %s", state_dir_shown(),
                                          strerror(-r));
                }
        }
        (void) sd_notify(0, "READY=1");
        status(f, true);
}

/* Read pending signals: 1 to stop, 0 to go on. */
static int handle_signals(struct follower *f) {
        struct signalfd_siginfo si;
        int stop = 0;

        while (read(f->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGHUP)
                        reload(f);
                else
                        stop = 1;
        }
        return stop;
}

/* Wait for the journal, a signal or a socket reader, at most timeout_usec. 1: stop. */
static int wait_events(struct follower *f, uint64_t timeout_usec) {
        struct pollfd fds[POLL_FDS_MAX];
        size_t n = 0, n_sink;
        int jfd = sd_journal_get_fd(f->j), r;
        uint64_t jt = UINT64_MAX;

        if (jfd >= 0)
                fds[n++] = (struct pollfd){ .fd = jfd, .events = (short) sd_journal_get_events(f->j) };
        fds[n++] = (struct pollfd){ .fd = f->sigfd, .events = POLLIN };
        n_sink = sinks_poll_fill(f->sinks, fds + n, POLL_FDS_MAX - n);
        if (jfd >= 0 && sd_journal_get_timeout(f->j, &jt) >= 0 && jt != UINT64_MAX) {
                uint64_t now = now_mono();

                timeout_usec = MIN(timeout_usec, jt > now ? jt - now : 0);
        }
        r = poll(fds, n + n_sink, (int) ((timeout_usec + 999) / 1000));
        if (r < 0 && errno != EINTR)
                return -errno;
        if (r > 0)
                sinks_poll_dispatch(f->sinks, fds + n, n_sink);
        sigbus_note(f);
        r = sd_journal_process(f->j);
        if (r != SD_JOURNAL_NOP)
                for (size_t i = 0; i < f->n_hosts; i++)
                        (void) sd_journal_process(f->hosts[i].j);
        for (size_t i = 0; i < f->n_hosts; i++)
                f->hosts[i].idle = false;
        if (r == SD_JOURNAL_INVALIDATE) {
                check_unreadable(f); /* files came or went: rotation, vacuum, a new journald */
                r = discover(f, false); /* and machines with them */
                if (r < 0)
                        return r;
        }
        return handle_signals(f);
}

/* ---- the loop -------------------------------------------------------------------------------- */

static char self_exe[4096];

/*
 * keytrail's own entries are never input, whatever the matches say (they cannot select them:
 * SYSLOG_IDENTIFIER=keytrail is not among them, --identifier keytrail is refused). Only what this
 * very program wrote is dropped: our MESSAGE_IDs and journald's _EXE of this binary, which no other
 * writer can claim. A forged line that merely carries the MESSAGE_ID goes through the pipeline and
 * is judged as scan judges it (spoofed-entry).
 */
static bool own_entry(const struct log_record *rec) {
        const char *id = record_str(rec, RECORD_MESSAGE_ID);

        return (streq_ptr(id, SINK_JOURNAL_MESSAGE_ID) ||
                streq_ptr(id, SINK_JOURNAL_START_MESSAGE_ID)) &&
               self_exe[0] && streq_ptr(record_str(rec, RECORD_EXE), self_exe);
}

/*
 * The journal sink's read-back after a restart waits for journald to show the marker sent at the
 * start (sink.h): look again, at most every RECOVER_LOOK_USEC. Meanwhile everything else goes on,
 * the journal sink holding its alerts, and nothing is committed. Returns 0, or -errno to stop.
 */
static int recover_poll(struct follower *f) {
        enum sink_sync_how how = SINK_SYNC_MARKER;
        uint64_t now;
        int r;

        if (!sinks_recovering(f->sinks))
                return 0;
        now = now_mono();
        if (now - f->recover_look < RECOVER_LOOK_USEC)
                return 0;
        f->recover_look = now;
        r = sinks_recover_poll(f->sinks, &how);
        if (r == -EAGAIN) {
                if (!f->recover_said && now - f->recover_start >= RECOVER_SAY_USEC) {
                        f->recover_said = true;
                        log_error("journald has not shown keytrail's start marker for %u s "
                                  "(stalled?): the journal sink holds its alerts until it does, "
                                  "at most %u s; the other sinks go on",
                                  (unsigned) (RECOVER_SAY_USEC / USEC_PER_SEC),
                                  (unsigned) SINK_SYNC_GIVE_UP_SEC);
                        status(f, true);
                }
                return 0;
        }
        if (r < 0) {
                log_error("reading back the journal sink: %s", strerror(-r));
                return r;
        }
        if (how == SINK_SYNC_GAVE_UP)
                log_error("journald did not show keytrail's start marker within %u s: the journal "
                          "was read back as it is; alerts sent just before the stop may appear "
                          "twice in the journal", (unsigned) SINK_SYNC_GIVE_UP_SEC);
        else if (f->recover_said)
                log_info("journald showed keytrail's start marker after %" PRIu64 " s: the "
                         "journal sink goes on (%d alert(s) since the last commit found there)",
                         (now - f->recover_start) / USEC_PER_SEC, r);
        status(f, true);
        return 0;
}

static int run(struct follower *f) {
        struct log_record rec = {};
        struct fhost *h = NULL;
        uint64_t since_service = 0;
        bool read_error_said = false;
        int r = 0;

        for (;;) {
                r = recover_poll(f);
                if (r < 0)
                        break;
                if (sinks_failing(f->sinks) > 0) {
                        const char *which = NULL;

                        r = sinks_retry(f->sinks, &which);
                        if (r < 0) {
                                status(f, false);
                                watchdog(f);
                                r = wait_events(f, RETRY_USEC);
                                if (r != 0)
                                        break;
                                continue;
                        }
                        log_info("the %s sink takes alerts again", which ?: "failing");
                }
                r = next_record(f, &rec, &h);
                if (r < 0) {
                        if (!read_error_said)
                                log_error("reading the journal: %s (retrying)", strerror(-r));
                        read_error_said = true;
                        r = wait_events(f, RETRY_USEC);
                        if (r != 0)
                                break;
                        continue;
                }
                if (r > 0) {
                        r = host_read(h, &rec);
                        if (r == -ENOMEM) {
                                log_error("out of memory");
                                break;
                        }
                        f->last_host = h;
                        h->last_read = now_mono();
                        if (own_entry(&rec)) {
                                f->own_entries++;
                                continue;
                        }
                        f->entries++;
                        f->last_usec = MAX(f->last_usec, rec.realtime_usec);
                        f->last_read = now_mono();
                        f->poll_usec = POLL_MIN_USEC;
                        r = pipeline_feed(f->p, &rec);
                        if (r < 0) {
                                log_error("processing an entry: %s", strerror(-r));
                                break;
                        }
                        check_replay_end(f, h, &rec);
                        f->dirty = true;
                        if (sinks_failing(f->sinks) > 0) {
                                const char *which = NULL;

                                if (sinks_retry(f->sinks, &which) < 0)
                                        log_error("the %s sink fails: holding its alerts and "
                                                  "reading no further until it takes them",
                                                  which);
                        }
                        if (++since_service < SERVICE_EVERY_ENTRIES)
                                continue;
                        since_service = 0;
                        if (now_mono() - f->last_commit >= COMMIT_INTERVAL_USEC) {
                                r = commit_async(f);
                                if (r < 0)
                                        log_error("%s: cannot commit the state: %s",
                                                  state_dir_shown(), strerror(-r));
                        }
                        status(f, false);
                        watchdog(f);
                        r = wait_events(f, 0);
                        if (r != 0)
                                break;
                        continue;
                }

                /* Caught up. */
                /* A cursor that never came: nothing after it was read before. */
                for (size_t i = 0; i < f->n_hosts && f->replaying > 0; i++)
                        host_replay_done(f, &f->hosts[i]);
                if (!f->ready) {
                        f->ready = true;
                        (void) sd_notify(0, "READY=1");
                        status(f, true);
                }
                /* Each host's clock by the time since its own last entry was read: another
                 * host's late entries must not find their connections timed out. */
                for (size_t i = 0; i < f->n_hosts; i++) {
                        struct fhost *x = &f->hosts[i];
                        uint64_t now = now_mono();

                        if (x->last_usec == 0 || now - x->last_read <= LIVE_GRACE_USEC)
                                continue;
                        r = pipeline_advance(f->p, x->machine_id,
                                             x->last_usec + (now - x->last_read) - LIVE_GRACE_USEC);
                        if (r < 0)
                                break;
                }
                if (r < 0) {
                        log_error("deciding timeouts: %s", strerror(-r));
                        break;
                }
                if (now_mono() - f->last_discover >= DISCOVER_USEC) {
                        r = discover(f, false);
                        if (r < 0)
                                break;
                }
                commit_collect(f, false);
                if (f->dirty && now_mono() - f->last_commit >= COMMIT_IDLE_INTERVAL_USEC) {
                        r = commit_async(f);
                        if (r < 0)
                                log_error("%s: cannot commit the state: %s", state_dir_shown(),
                                          strerror(-r));
                }
                if (f->drift) {
                        r = drift_tick(f->drift, now_mono(), on_alert, f);
                        if (r < 0)
                                log_error("drift: %s", strerror(-r));
                }
                status(f, false);
                watchdog(f);
                r = wait_events(f, MIN(f->poll_usec,
                                       f->dirty || sinks_recovering(f->sinks)
                                               ? COMMIT_IDLE_INTERVAL_USEC
                                               : IDLE_TICK_USEC));
                if (r != 0)
                        break;
                {
                        uint64_t quiet = now_mono() - f->last_read;

                        f->poll_usec = MIN(f->poll_usec * 2,
                                           quiet < POLL_BUSY_WINDOW_USEC  ? POLL_BUSY_MAX_USEC
                                           : quiet < POLL_FAST_WINDOW_USEC ? POLL_FAST_MAX_USEC
                                                                           : IDLE_TICK_USEC);
                }
        }
        record_done(&rec);
        return r < 0 ? r : 0;
}

static void follower_done(struct follower *f) {
        pipeline_free(f->p);
        rule_set_free(f->rules);
        baseline_free(f->baseline);
        source_free(f->src);
        sinks_free(f->sinks);
        state_free(f->state);
        drift_free(f->drift);
        commit_collect(f, true);
        state_writer_free(f->writer);
        for (size_t i = 0; i < f->n_hosts; i++)
                host_done(&f->hosts[i]);
        for (size_t i = 0; i < f->n_unreadable; i++)
                free(f->unreadable[i]);
        if (f->sigfd >= 0)
                (void) close(f->sigfd);
}

static int open_sinks(struct follower *f) {
        int r;

        f->sinks = sinks_new();
        if (!f->sinks)
                return log_error("out of memory"), -ENOMEM;
        if (arg_output) {
                r = sinks_add_file(f->sinks, arg_output);
                if (r < 0)
                        return log_error("--output: cannot open %s: %s",
                                         cmd_path_cached(&output_text, arg_output), strerror(-r)),
                               r;
        }
        if (arg_journal) {
                r = sinks_add_journal(f->sinks, f->state->instance);
                if (r < 0)
                        return log_error("--journal: %s", strerror(-r)), r;
        }
        if (arg_socket) {
                r = sinks_add_socket(f->sinks, arg_socket);
                if (r < 0)
                        return log_error("--socket: cannot listen on %s: %s",
                                         cmd_path_cached(&socket_text, arg_socket),
                                         r == -EEXIST ? "it exists and is not a socket"
                                         : r == -EADDRINUSE ? "another process listens on it"
                                                            : strerror(-r)), r;
        }
        if (arg_stdout || (!arg_output && !arg_journal && !arg_socket)) {
                r = sinks_add_stdout(f->sinks, arg_format == FORMAT_JSON || arg_format == FORMAT_AUTO);
                if (r < 0)
                        return log_error("out of memory"), r;
        }
        return 0;
}

static int follow(void) {
        _cleanup_close_ int lock = -1;
        struct follower f = { .sigfd = -1 };
        const char *note = NULL;
        bool have_state;
        uint64_t wd = 0;
        int r;

        for (size_t i = 0; i < arg_n_identifiers; i++)
                if (streq(arg_identifiers[i], SINK_JOURNAL_IDENTIFIER)) {
                        log_error("--identifier: '%s' is what keytrail writes its own alerts as",
                                  arg_identifiers[i]);
                        return -EINVAL;
                }
        if (arg_until) {
                log_error("--until: follow has no end (use keytrail scan)");
                return -EINVAL;
        }
        if (arg_live_keys && !arg_baseline) {
                log_error("--live-keys: only with --baseline (the keys are compared with it)");
                return -EINVAL;
        }
        {
                ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

                self_exe[n > 0 ? n : 0] = 0;
        }
        if (mkdir(arg_state_dir, 0700) < 0 && errno != EEXIST) {
                r = -errno;
                log_error("--state-dir: cannot create %s: %s", state_dir_shown(), strerror(-r));
                return r;
        }
        lock = state_lock(arg_state_dir);
        if (lock < 0) {
                log_error("--state-dir: %s", lock == -EBUSY
                                  ? "another keytrail follow uses this state directory"
                                  : strerror(-lock));
                if (lock != -EBUSY)
                        log_error("(cannot lock %s/%s)", state_dir_shown(), STATE_LOCK_NAME);
                return lock;
        }

        /* Blocked before anything slow (reading the sinks back can wait for journald): a SIGHUP
         * or SIGTERM during the start is handled once running, never the default action. */
        r = signals_open();
        if (r < 0) {
                log_error("signals: %s", strerror(-r));
                goto out;
        }
        f.sigfd = r;
        r = sigbus_zero_install();
        if (r < 0) {
                log_error("SIGBUS handler: %s", strerror(-r));
                goto out;
        }
        r = load_state(&f);
        if (r < 0)
                goto out;
        have_state = r > 0;
        r = open_sinks(&f);
        if (r < 0)
                goto out;
        if (have_state) {
                r = sinks_recover(f.sinks, f.state, &note);
                if (r < 0) {
                        log_error("reading back the sinks: %s", strerror(-r));
                        goto out;
                }
                if (note)
                        log_error("%s", note);
                f.recover_start = f.recover_look = now_mono();
        } else {
                /* The instance and where the sinks stand, before anything is emitted. */
                r = commit(&f);
                if (r < 0) {
                        log_error("%s: cannot write the state: %s", state_dir_shown(), strerror(-r));
                        goto out;
                }
        }
        r = cmd_load_rules(&f.rules);
        if (r < 0)
                goto out;
        r = cmd_load_baseline(&f.baseline);
        if (r < 0)
                goto out;
        if (arg_baseline) {
                r = drift_new(arg_baseline, arg_live_keys, SSHD_DEFAULT_PATH, &f.drift);
                if (r < 0)
                        goto out;
        }
        r = cmd_open_journal(&f.src);
        if (r < 0)
                goto out;
        f.j = journal_source_journal(f.src);
        if (!f.j) {
                r = -EINVAL;
                log_error("follow reads the journal only");
                goto out;
        }
        remember_problems(&f);
        r = cmd_pipeline_new(f.rules, f.baseline, on_alert, &f, &f.p);
        if (r < 0)
                goto out;
        f.have_state = have_state;
        r = discover(&f, true);
        if (r < 0) {
                log_error("cannot position in the journal: %s", strerror(-r));
                goto out;
        }
        r = state_writer_new(arg_state_dir, &f.writer);
        if (r < 0) {
                log_error("cannot start the state writer: %s", strerror(-r));
                goto out;
        }
        if (sd_watchdog_enabled(0, &wd) > 0)
                f.watchdog_usec = wd;
        f.last_commit = f.last_read = now_mono();
        f.poll_usec = POLL_MIN_USEC;

        r = run(&f);
        if (r >= 0) {
                (void) sd_notify(0, "STOPPING=1");
                r = commit(&f);
                if (r < 0)
                        log_error("%s: cannot commit the state: %s", state_dir_shown(), strerror(-r));
                if (sinks_pending(f.sinks) > 0) {
                        log_error("stopping with %zu alert(s) not yet taken by a sink: they are "
                                  "decided again at the next start", sinks_pending(f.sinks));
                }
        }
        if (arg_stats) {
                const struct sink_stats *ss = sinks_stats(f.sinks);

                cmd_print_stats(f.p, f.src);
                fprintf(stderr,
                        "keytrail: follow: entries=%" PRIu64 " alerts=%" PRIu64
                        " replayed=%" PRIu64 " suppressed=%" PRIu64 " recovered=%" PRIu64
                        " own_entries=%" PRIu64 " commits=%" PRIu64 " open=%u evicted=%" PRIu64
                        " ids_dropped=%" PRIu64 " socket_dropped=%" PRIu64
                        " socket_refused=%" PRIu64 " hosts=%zu hosts_unread=%zu\n",
                        f.entries, f.alerts, f.replayed, f.suppressed, ss->recovered,
                        f.own_entries, f.commits, pipeline_open_connections(f.p),
                        pipeline_correlator_stats(f.p)->evicted, idset_dropped(f.state->ids),
                        ss->socket_dropped, ss->socket_refused, f.n_hosts, f.hosts_unread);
        }
out:
        follower_done(&f);
        return r;
}

int verb_follow(int argc, char *argv[]) {
        int r, ind;

        r = cmd_parse_argv(&spec, argc, argv, &ind);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = follow();
        free(state_dir_text);
        free(output_text);
        free(socket_text);
        state_dir_text = output_text = socket_text = NULL;
        return r < 0 ? 2 : 0;
}
