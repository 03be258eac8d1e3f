/* SPDX-License-Identifier: MIT */
/*
 * keytrail follow's drift watch: see drift.h. The live files are read the way keytrail baseline
 * reads them (baseline_collect()) and compared with the recorded baseline (baseline_file_diff()).
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline-live.h"
#include "cmd-common.h"
#include "digest.h"
#include "drift.h"
#include "timeutil.h"

#define WATCHES_MAX 4096

struct drift {
        char *baseline_path; /* owned */
        char *live_path;     /* owned: the snapshot of the live files, or NULL (read them) */
        int live_error;      /* the last error reading live_path, said once */
        char *sshd;          /* owned */
        struct baseline_file *recorded; /* owned */
        int inotify_fd;      /* -1: none (then the periodic rescan only) */
        bool scanned, pending;
        uint64_t last_scan, event_at;
        char **alerted;      /* owned: the changes already alerted, oldest first */
        size_t n_alerted, alloc_alerted;
        unsigned unreadable_said; /* how many unreadable files were last said */
        char host[256], machine_id[64], boot_id[64];
};

struct drift *drift_free(struct drift *d) {
        if (!d)
                return NULL;
        free(d->baseline_path);
        free(d->live_path);
        free(d->sshd);
        baseline_file_free(d->recorded);
        if (d->inotify_fd >= 0)
                (void) close(d->inotify_fd);
        for (size_t i = 0; i < d->n_alerted; i++)
                free(d->alerted[i]);
        free(d->alerted);
        free(d);
        return NULL;
}

static void read_id(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "re");

        if (f) {
                if (fgets(buf, (int) size, f))
                        buf[strcspn(buf, "\n")] = '\0';
                fclose(f);
        }
        /* the boot id file has dashes; the journal's _BOOT_ID has none */
        for (char *s = buf, *o = buf;; s++) {
                if (*s != '-')
                        *o++ = *s;
                if (!*s)
                        break;
        }
}

/* Watch the folder of path, or the nearest existing one above it (a .ssh that appears). */
static void watch_folder_of(struct drift *d, const char *path, unsigned *n) {
        _cleanup_free_ char *dir = strdup(path);

        if (!dir || d->inotify_fd < 0 || *n >= WATCHES_MAX)
                return;
        for (int up = 0; up < 2; up++) {
                char *slash = strrchr(dir, '/');

                if (!slash || slash == dir)
                        return;
                *slash = '\0';
                if (inotify_add_watch(d->inotify_fd, dir,
                                      IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                              IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB |
                                              IN_DELETE_SELF | IN_ONLYDIR) >= 0) {
                        (*n)++;
                        return;
                }
        }
}

int drift_new(const char *baseline_path, const char *live_path, const char *sshd,
              struct drift **ret) {
        struct drift *d = calloc(1, sizeof(*d));
        const char *what = NULL;
        unsigned line = 0, watches = 0;
        int r;

        if (!d)
                return log_error("out of memory"), -ENOMEM;
        d->inotify_fd = -1;
        d->baseline_path = strdup(baseline_path);
        d->live_path = live_path ? strdup(live_path) : NULL;
        d->sshd = strdup(sshd);
        if (!d->baseline_path || !d->sshd || (live_path && !d->live_path)) {
                drift_free(d);
                return log_error("out of memory"), -ENOMEM;
        }
        r = baseline_file_load(baseline_path, &d->recorded, &line, &what);
        if (r < 0) {
                _cleanup_free_ char *p = cmd_path_text(baseline_path);

                if (line > 0)
                        log_error("%s:%u: %s", p ?: "?", line, what ?: "malformed line");
                else
                        log_error("--baseline: cannot read %s: %s", p ?: "?", strerror(-r));
                drift_free(d);
                return r;
        }
        d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (d->live_path)
                /* The snapshot is replaced by a rename: watch its folder. */
                watch_folder_of(d, d->live_path, &watches);
        for (size_t i = 0; i < d->recorded->n_paths && !d->live_path; i++)
                watch_folder_of(d, d->recorded->paths[i].path, &watches);
        for (size_t i = 0; i < d->recorded->n_keys && !d->live_path; i++)
                watch_folder_of(d, d->recorded->keys[i].key->file, &watches);
        (void) gethostname(d->host, sizeof(d->host) - 1);
        read_id("/etc/machine-id", d->machine_id, sizeof(d->machine_id));
        read_id("/proc/sys/kernel/random/boot_id", d->boot_id, sizeof(d->boot_id));
        *ret = d;
        return 0;
}

/* Drain inotify: any event means "look again soon". */
static void drain_events(struct drift *d, uint64_t now) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        if (d->inotify_fd < 0)
                return;
        for (;;) {
                ssize_t n = read(d->inotify_fd, buf, sizeof(buf));

                if (n <= 0)
                        return;
                if (!d->pending)
                        d->event_at = now;
                d->pending = true;
        }
}

struct scan {
        struct drift *d;
        const struct baseline_file *live;
        alert_fn emit;
        void *userdata;
        unsigned unjudged; /* removals not said: their file could not be read */
        bool snapshot;     /* live comes from a snapshot taken by root: an absent file is absent */
};

/* Whether the live scan could see path of user: read, or absent while the home folder is there
 * (not hidden from this process, as ProtectHome= hides it). */
static bool seen(const struct baseline_file *live, bool snapshot, const char *user,
                 const char *path) {
        for (size_t i = 0; i < live->n_paths; i++) {
                const struct baseline_path *p = &live->paths[i];
                struct passwd *pw;
                struct stat st;

                if (!streq(p->user, user) || !streq(p->path, path))
                        continue;
                if (p->state == BASELINE_PATH_READ)
                        return true;
                if (p->state != BASELINE_PATH_ABSENT)
                        return false;
                if (snapshot)
                        return true; /* root looked, with the homes in view */
                pw = getpwnam(user);
                return pw && pw->pw_dir && stat(pw->pw_dir, &st) >= 0 && S_ISDIR(st.st_mode);
        }
        return false; /* not looked at now (another AuthorizedKeysFile): not judged */
}

static int remember(struct drift *d, const char *key) {
        char *k = strdup(key);

        if (!k)
                return -ENOMEM;
        if (d->n_alerted >= DRIFT_ALERTED_MAX) {
                free(d->alerted[0]);
                memmove(d->alerted, d->alerted + 1, (d->n_alerted - 1) * sizeof(char *));
                d->n_alerted--;
        }
        if (d->n_alerted == d->alloc_alerted) {
                size_t a = MAX(d->alloc_alerted * 2, (size_t) 16);
                char **n = reallocarray(d->alerted, a, sizeof(char *));

                if (!n) {
                        free(k);
                        return -ENOMEM;
                }
                d->alerted = n;
                d->alloc_alerted = a;
        }
        d->alerted[d->n_alerted++] = k;
        return 0;
}

static bool alerted(const struct drift *d, const char *key) {
        for (size_t i = 0; i < d->n_alerted; i++)
                if (streq(d->alerted[i], key))
                        return true;
        return false;
}

static void option_names(const struct authkey *o, const struct authkey *n, char *buf, size_t size) {
        size_t l = 0;

        buf[0] = '\0';
#define DIFF(cond, name)                                                                           \
        if ((cond) && l + strlen(name) + 3 < size)                                                 \
                l += (size_t) snprintf(buf + l, size - l, "%s%s", l ? ", " : "", name)
        DIFF(!o->command != !n->command || (o->command && !streq(o->command, n->command)),
             "command=");
        DIFF(!o->from != !n->from || (o->from && !streq(o->from, n->from)), "from=");
        DIFF(o->restrict_ != n->restrict_, "restrict");
        DIFF(o->cert_authority != n->cert_authority, "cert-authority");
#undef DIFF
        if (l == 0)
                (void) snprintf(buf, size, "other options");
}

/*
 * The evidence of a change: the change, the account and the place, and a digest of the key and
 * both lines, so that two changes at one place (other options twice, or another key added later
 * at the same line) are two alerts with two ids (the id is made from the evidence).
 */
static int drift_evidence(enum baseline_change change, const struct baseline_key *k,
                          const char *loc, const char *old_text, const char *new_text,
                          char **ret) {
        const char *parts[] = { k->key->fingerprint, old_text, new_text };
        _cleanup_(digest_freep) struct digest *d = NULL;
        char hex[17];
        int r;

        r = digest_new(&d);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                digest_add_string(d, parts[i] ?: "-");
        r = digest_hex(d, 8, hex, sizeof(hex));
        if (r < 0)
                return r;
        if (asprintf(ret, "baseline-drift:%s:%s:%s:%s", baseline_change_to_string(change), k->user,
                     loc, hex) < 0)
                return -ENOMEM;
        return 0;
}

static int on_change(void *userdata, enum baseline_change change, const struct baseline_key *o,
                     const struct baseline_key *n) {
        struct scan *s = userdata;
        struct drift *d = s->d;
        const struct baseline_key *k = n ?: o;
        _cleanup_free_ char *key = NULL, *loc = NULL, *evidence = NULL;
        struct alert a = {};
        char what[128];
        int r;

        if (change == BASELINE_KEY_MOVED)
                return 0; /* the same key, options and account: a line number or comment */
        if (change == BASELINE_KEY_REMOVED && !seen(s->live, s->snapshot, o->user, o->key->file)) {
                s->unjudged++;
                return 0;
        }
        if (asprintf(&key, "%s\n%s\n%s\n%s\n%s\n%s", baseline_change_to_string(change), k->user,
                     k->key->file, k->key->fingerprint, o ? o->key->text : "-",
                     n ? n->key->text : "-") < 0 ||
            asprintf(&loc, "%s:%u", k->key->file, k->key->line) < 0)
                return -ENOMEM;
        r = drift_evidence(change, k, loc, o ? o->key->text : NULL, n ? n->key->text : NULL,
                           &evidence);
        if (r < 0)
                return r;
        if (alerted(d, key))
                return 0;

        a = (struct alert){
                .type = ALERT_BASELINE_DRIFT,
                .time_usec = timeutil_now_usec(),
                .host = d->host[0] ? d->host : d->machine_id,
                .machine_id = d->machine_id,
                .boot_id = d->boot_id,
                .user = k->user,
                .fingerprint = k->key->fingerprint,
                .key_type = authkey_type_log_name(k->key->key_type) ?: k->key->key_type,
                .source_port = -1,
                .session_id = -1,
                .expected_command = o ? o->key->text : NULL,
                .observed_command = n ? n->key->text : NULL,
                .key_location = loc,
                .reason = baseline_change_to_string(change),
                .evidence = { evidence },
                .n_evidence = 1,
                .provenance = "authorized_keys",
        };
        if (change == BASELINE_KEY_ADDED)
                r = alert_set_message(&a,
                                      "Key %s of account %s was added at %s, which the baseline "
                                      "%s does not have: %s.",
                                      alert_token(&a, a.fingerprint), alert_quote(&a, a.user),
                                      alert_quote(&a, loc), alert_quote(&a, d->baseline_path),
                                      alert_quote(&a, n->key->text));
        else if (change == BASELINE_KEY_REMOVED)
                r = alert_set_message(&a,
                                      "Key %s of account %s was removed from %s since the "
                                      "baseline %s: %s.",
                                      alert_token(&a, a.fingerprint), alert_quote(&a, a.user),
                                      alert_quote(&a, loc), alert_quote(&a, d->baseline_path),
                                      alert_quote(&a, o->key->text));
        else {
                option_names(o->key, n->key, what, sizeof(what));
                r = alert_set_message(&a,
                                      "Key %s of account %s at %s has other options (%s) than in "
                                      "the baseline %s: %s, was %s.",
                                      alert_token(&a, a.fingerprint), alert_quote(&a, a.user),
                                      alert_quote(&a, loc), what,
                                      alert_quote(&a, d->baseline_path),
                                      alert_quote(&a, n->key->text), alert_quote(&a, o->key->text));
        }
        if (r >= 0)
                r = s->emit(s->userdata, &a);
        alert_done(&a);
        if (r < 0)
                return r;
        return remember(d, key);
}

int drift_tick(struct drift *d, uint64_t now, alert_fn emit, void *userdata) {
        _cleanup_(baseline_file_freep) struct baseline_file *live = NULL;
        struct baseline_totals t = { .quiet = true };
        struct scan s = { .d = d, .emit = emit, .userdata = userdata };
        int r;

        drain_events(d, now);
        if (d->scanned && !(d->pending && now - d->event_at >= DRIFT_SETTLE_USEC) &&
            now - d->last_scan < DRIFT_RESCAN_USEC)
                return 0;
        d->scanned = true;
        d->pending = false;
        d->last_scan = now;

        if (d->live_path) {
                unsigned line = 0;
                const char *what = NULL;

                r = baseline_file_load(d->live_path, &live, &line, &what);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* Not written yet, or broken: said once, tried again later. */
                        if (r != d->live_error) {
                                if (line > 0)
                                        log_error("drift: %s:%u: %s", d->live_path, line,
                                                  what ?: "malformed line");
                                else
                                        log_error("drift: cannot read the snapshot of the "
                                                  "authorized_keys files '%s': %s",
                                                  d->live_path, strerror(-r));
                        }
                        d->live_error = r;
                        return 0;
                }
                d->live_error = 0;
                s.snapshot = true;
        } else {
                r = baseline_collect(d->sshd, &live, &t);
                if (r < 0)
                        return r == -ENOMEM ? r : 0; /* said by baseline_collect; tried again later */
        }
        s.live = live;
        r = baseline_file_diff(d->recorded, live, on_change, &s);
        if (r < 0)
                return r;
        if (s.unjudged + t.files_refused != d->unreadable_said) {
                d->unreadable_said = s.unjudged + t.files_refused;
                if (d->unreadable_said > 0)
                        log_error("drift: %u authorized_keys file%s cannot be read or %s hidden "
                                  "from keytrail; changes there are not seen",
                                  t.files_refused + s.unjudged,
                                  t.files_refused + s.unjudged == 1 ? "" : "s",
                                  t.files_refused + s.unjudged == 1 ? "is" : "are");
        }
        return 0;
}
