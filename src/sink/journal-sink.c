/* SPDX-License-Identifier: MIT */
/*
 * The --journal sink: each alert becomes one journal entry whose fields are the alert's JSON
 * members (KEYTRAIL_<NAME>, the evidence cursors as repeated KEYTRAIL_EVIDENCE), the whole line
 * as KEYTRAIL_JSON, under SYSLOG_IDENTIFIER=keytrail and a fixed MESSAGE_ID. Values come from the
 * JSON, already valid UTF-8 with log bytes escaped, and go through sd_journal_sendv(), which
 * length-prefixes values with newlines.
 *
 * keytrail reads only the SYSLOG_IDENTIFIERs of sshd, keytrail-gate and the wrappers, and
 * follow drops any entry with this MESSAGE_ID before the pipeline: an alert is never read back.
 *
 * sd_journal_sendv() returns 0 without sending when the journal socket does not exist: the socket
 * is looked at first, so that a missing journald is an error (and the alert is retried), not a
 * silent loss.
 */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "sink-internal.h"
#include "strview.h"
#include "timeutil.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define FIELDS_MAX (40 + ALERT_EVIDENCE_MAX)
#define RECOVER_SLACK_USEC (5 * USEC_PER_SEC)

static const char *priority_of(const char *severity) {
        if (streq_ptr(severity, "critical"))
                return "PRIORITY=2";
        if (streq_ptr(severity, "high"))
                return "PRIORITY=3";
        return "PRIORITY=4";
}

static int journal_reachable(void) {
        struct stat st;

        if (stat(JOURNAL_SOCKET, &st) < 0)
                return -errno;
        return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

/* "KEYTRAIL_" + the member's name in upper case + "=" + value, newly allocated. */
static char *field(const char *key, const char *value, size_t vlen) {
        size_t kl = strlen(key);
        char *f = malloc(9 + kl + 1 + vlen + 1);

        if (!f)
                return NULL;
        memcpy(f, "KEYTRAIL_", 9);
        for (size_t i = 0; i < kl; i++)
                f[9 + i] = (char) toupper((unsigned char) key[i]);
        f[9 + kl] = '=';
        memcpy(f + 10 + kl, value, vlen);
        f[10 + kl + vlen] = 0;
        return f;
}

struct fields {
        struct iovec iov[FIELDS_MAX];
        size_t n;
};

/* Append an owned field; NULL (an allocation failed) is -ENOMEM. */
static int add(struct fields *f, char *s) {
        if (!s)
                return -ENOMEM;
        if (f->n >= FIELDS_MAX) {
                free(s);
                return -E2BIG;
        }
        f->iov[f->n++] = (struct iovec){ s, strlen(s) };
        return 0;
}

static int add_members(struct fields *f, json_t *o) {
        const char *key;
        json_t *v, *e;
        size_t i;
        int r = 0;

        json_object_foreach(o, key, v) {
                char num[32];

                if (json_is_string(v))
                        r = add(f, field(key, json_string_value(v), json_string_length(v)));
                else if (json_is_integer(v)) {
                        (void) snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                                        json_integer_value(v));
                        r = add(f, field(key, num, strlen(num)));
                } else if (json_is_object(v)) {
                        /* "raw": the exact bytes of fields that were not UTF-8, as JSON */
                        char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

                        r = text ? add(f, field(key, text, strlen(text))) : -ENOMEM;
                        free(text);
                } else if (json_is_array(v))
                        /* "evidence" -> KEYTRAIL_EVIDENCE, once per cursor */
                        json_array_foreach(v, i, e) {
                                if (!json_is_string(e))
                                        continue;
                                r = add(f, field(key, json_string_value(e), json_string_length(e)));
                                if (r < 0)
                                        return r;
                        }
                if (r < 0)
                        return r;
        }
        return 0;
}

int sink_journal_write(struct sink *k, const char *line, size_t len) {
        struct fields f = {};
        char *msg = NULL;
        json_t *o;
        int r;

        r = journal_reachable();
        if (r < 0)
                return r;
        if (len > 0 && line[len - 1] == '\n')
                len--;
        o = json_loadb(line, len, 0, NULL);
        if (!json_is_object(o)) {
                json_decref(o);
                return -EBADMSG;
        }
        if (asprintf(&msg, "MESSAGE=%s: %s", json_string_value(json_object_get(o, "type")) ?: "?",
                     json_string_value(json_object_get(o, "message")) ?: "") < 0)
                msg = NULL;
        r = add(&f, msg);
        if (r >= 0)
                r = add(&f, strdup("MESSAGE_ID=" SINK_JOURNAL_MESSAGE_ID));
        if (r >= 0)
                r = add(&f, strdup(priority_of(json_string_value(json_object_get(o, "severity")))));
        if (r >= 0)
                r = add(&f, strdup("SYSLOG_IDENTIFIER=" SINK_JOURNAL_IDENTIFIER));
        if (r >= 0)
                r = add(&f, field("instance", k->instance, strlen(k->instance)));
        if (r >= 0)
                r = add(&f, field("json", line, len));
        if (r >= 0)
                r = add_members(&f, o);
        if (r >= 0)
                r = sd_journal_sendv(f.iov, (int) f.n);
        for (size_t i = 0; i < f.n; i++)
                free(f.iov[i].iov_base);
        json_decref(o);
        return r;
}

/*
 * Reading back after a restart. The alerts the previous process sent may still wait in journald's
 * socket queue (journald stalled: a loaded disk, fsyncs, SIGSTOP): so a marker is sent first, and
 * once it shows in the journal, every entry this host's processes sent before it is readable
 * (journald takes in a socket's datagrams in order), and only then is the journal read back.
 * Until that, the sink holds its alerts (sink.c) while the others go on: sink_journal_recover_step()
 * is called again and again, and never blocks.
 *
 * A journald that is really gone (no socket, or nobody bound to it: ENOENT, ECONNREFUSED) lost its
 * queue with its socket: what the journal holds then is all it ever will, and it is read back at
 * once. A socket that was replaced (another inode) may have lost the marker: it is sent again. So
 * is a marker not seen after SYNC_RESEND_USEC, at warning priority, in case journald dropped it
 * (MaxLevelStore=, a rate limit): any of them showing is enough. After SYNC_GIVE_UP_USEC the
 * journal is read back as it is, and the caller says that alerts may then appear twice.
 */
#define SYNC_RESEND_USEC (10 * USEC_PER_SEC)
#define SYNC_PROBE_USEC (1 * USEC_PER_SEC)
#define SYNC_GIVE_UP_USEC (SINK_SYNC_GIVE_UP_SEC * USEC_PER_SEC)

static uint64_t mono_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Whether journald's socket has a reader: 0 (and its inode), -ENOENT, -ECONNREFUSED, -errno. */
static int journal_alive(dev_t *ret_dev, ino_t *ret_ino) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        struct stat st;
        int fd, r = 0;

        if (stat(JOURNAL_SOCKET, &st) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                r = -errno;
        (void) close(fd);
        if (r >= 0) {
                *ret_dev = st.st_dev;
                *ret_ino = st.st_ino;
        }
        return r;
}

static bool journal_gone(int r) {
        return r == -ENOENT || r == -ECONNREFUSED || r == -ENOTSOCK;
}

static int send_marker(struct sink *k, const char *priority) {
        dev_t dev = 0;
        ino_t ino = 0;
        int r;

        r = journal_alive(&dev, &ino);
        if (r < 0)
                return r;
        r = sd_journal_send("MESSAGE=keytrail follow started (instance %s)", k->instance,
                            "MESSAGE_ID=" SINK_JOURNAL_START_MESSAGE_ID, priority,
                            "SYSLOG_IDENTIFIER=" SINK_JOURNAL_IDENTIFIER,
                            "KEYTRAIL_INSTANCE=%s", k->instance, "KEYTRAIL_SYNC=%s", k->sync.nonce,
                            NULL);
        if (r < 0)
                return r;
        k->sync.dev = dev;
        k->sync.ino = ino;
        k->sync.sent_usec = mono_usec();
        return 0;
}

/* The alert entries of this instance since the mark less the slack, into k->recovered. */
static int read_back(struct sink *k) {
        sd_journal *j = k->sync.j;
        char m[64], uid[32];
        int found = 0, r;

        sd_journal_flush_matches(j);
        (void) snprintf(m, sizeof(m), "KEYTRAIL_INSTANCE=%s", k->instance);
        (void) snprintf(uid, sizeof(uid), "_UID=%u", (unsigned) getuid());
        r = sd_journal_add_match(j, "MESSAGE_ID=" SINK_JOURNAL_MESSAGE_ID, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, m, 0);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, k->sync.since > RECOVER_SLACK_USEC
                                                             ? k->sync.since - RECOVER_SLACK_USEC
                                                             : 0);
        while (r >= 0) {
                const void *d;
                size_t l;
                char id[33];

                r = sd_journal_next(j);
                if (r <= 0)
                        break;
                /* Only what this uid wrote through the native protocol: no one else can make
                 * keytrail skip an alert by writing its id. */
                if (sd_journal_get_data(j, "_UID", &d, &l) < 0 || l != strlen(uid) ||
                    memcmp(d, uid, l) != 0)
                        continue;
                if (sd_journal_get_data(j, "_TRANSPORT", &d, &l) < 0 ||
                    l != strlen("_TRANSPORT=journal") || memcmp(d, "_TRANSPORT=journal", l) != 0)
                        continue;
                if (sd_journal_get_data(j, "KEYTRAIL_ID", &d, &l) < 0 || l != 12 + 32)
                        continue;
                memcpy(id, (const char *) d + 12, 32);
                id[32] = 0;
                if (idset_add(k->recovered, id, 0) > 0)
                        found++;
        }
        return r < 0 ? r : found;
}

static void sync_done(struct sink *k) {
        sd_journal_close(k->sync.j);
        k->sync.j = NULL;
        k->sync.waiting = false;
}

int sink_journal_recover_step(struct sink *k, enum sink_sync_how *ret_how) {
        uint64_t now;
        int r;

        assert(k->sync.waiting);
        /* Files journald created or rotated since the last look. */
        (void) sd_journal_process(k->sync.j);
        r = sd_journal_seek_head(k->sync.j);
        if (r >= 0)
                r = sd_journal_next(k->sync.j);
        if (r < 0)
                goto out;
        now = mono_usec();
        if (r > 0)
                *ret_how = SINK_SYNC_MARKER;
        else if (now - k->sync.start_usec >= SYNC_GIVE_UP_USEC)
                *ret_how = SINK_SYNC_GAVE_UP;
        else {
                dev_t dev = 0;
                ino_t ino = 0;

                if (now - k->sync.probe_usec < SYNC_PROBE_USEC)
                        return -EAGAIN;
                k->sync.probe_usec = now;
                r = journal_alive(&dev, &ino);
                if (journal_gone(r))
                        *ret_how = SINK_SYNC_GONE;
                else if (r < 0)
                        return -EAGAIN; /* cannot tell: look again */
                else {
                        if (dev != k->sync.dev || ino != k->sync.ino ||
                            now - k->sync.sent_usec >= SYNC_RESEND_USEC) {
                                /* a new socket lost the old queue; or the marker was dropped */
                                r = send_marker(k, "PRIORITY=4");
                                if (journal_gone(r))
                                        *ret_how = SINK_SYNC_GONE;
                                else
                                        return -EAGAIN;
                        } else
                                return -EAGAIN;
                }
        }
        r = read_back(k);
out:
        sync_done(k);
        return r;
}

int sink_journal_recover(struct sink *k, const char *mark, enum sink_sync_how *ret_how) {
        uint8_t rnd[8];
        char m[64];
        int r;

        if (strview_to_u64(strview_from(mark), UINT64_MAX, &k->sync.since) < 0) {
                *ret_how = SINK_SYNC_BAD_MARK;
                return 0;
        }
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                return -EIO;
        for (size_t i = 0; i < sizeof(rnd); i++)
                (void) snprintf(k->sync.nonce + 2 * i, 3, "%02x", rnd[i]);
        r = sd_journal_open(&k->sync.j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        /* The inotify watch, so that sd_journal_process() sees the files journald creates while
         * we wait (rotation): without it, it does nothing. */
        r = sd_journal_get_fd(k->sync.j);
        if (r >= 0) {
                (void) snprintf(m, sizeof(m), "KEYTRAIL_SYNC=%s", k->sync.nonce);
                r = sd_journal_add_match(k->sync.j, m, 0);
        }
        if (r < 0)
                goto fail;
        k->sync.start_usec = k->sync.probe_usec = mono_usec();
        r = send_marker(k, "PRIORITY=6");
        if (journal_gone(r)) {
                /* Nothing sent before can still come: the journal is read back as it is. */
                *ret_how = SINK_SYNC_GONE;
                r = read_back(k);
                sync_done(k);
                return r;
        }
        if (r < 0)
                goto fail;
        k->sync.waiting = true;
        return -EAGAIN;
fail:
        sync_done(k);
        return r;
}
