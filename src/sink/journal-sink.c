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

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "sink-internal.h"
#include "strview.h"
#include "timeutil.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define FIELDS_MAX (40 + ALERT_EVIDENCE_MAX)
#define SYNC_TIMEOUT_USEC (10 * USEC_PER_SEC)
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

/* A marker sent now and read back: journald takes in a socket's datagrams in order, so once it
 * shows, every entry this host's processes sent before it is readable. */
static int journal_sync(sd_journal *j, const char *instance) {
        uint8_t rnd[8];
        char nonce[17], m[64];
        uint64_t deadline = timeutil_now_usec() + SYNC_TIMEOUT_USEC;
        int r;

        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                return -EIO;
        for (size_t i = 0; i < sizeof(rnd); i++)
                (void) snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
        r = journal_reachable();
        if (r < 0)
                return r;
        r = sd_journal_send("MESSAGE=keytrail follow started (instance %s)", instance,
                            "MESSAGE_ID=" SINK_JOURNAL_START_MESSAGE_ID, "PRIORITY=6",
                            "SYSLOG_IDENTIFIER=" SINK_JOURNAL_IDENTIFIER,
                            "KEYTRAIL_INSTANCE=%s", instance, "KEYTRAIL_SYNC=%s", nonce, NULL);
        if (r < 0)
                return r;
        (void) snprintf(m, sizeof(m), "KEYTRAIL_SYNC=%s", nonce);
        r = sd_journal_add_match(j, m, 0);
        if (r < 0)
                return r;
        for (;;) {
                uint64_t now = timeutil_now_usec();

                r = sd_journal_seek_head(j);
                if (r < 0)
                        return r;
                r = sd_journal_next(j);
                if (r < 0)
                        return r;
                if (r > 0)
                        return 0;
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_journal_wait(j, MIN(deadline - now, 100 * USEC_PER_MSEC));
                if (r < 0)
                        return r;
        }
}

int sink_journal_recover(struct sink *k, const char *mark, const char **ret_note) {
        sd_journal *j = NULL;
        uint64_t since;
        char m[64];
        int found = 0, r;

        if (strview_to_u64(strview_from(mark), UINT64_MAX, &since) < 0) {
                *ret_note = "the journal sink's mark in the state is unreadable";
                return 0;
        }
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        r = journal_sync(j, k->instance);
        if (r == -ETIMEDOUT || r == -ENOENT || r == -ECONNREFUSED)
                *ret_note = "journald did not show a marker within 10 s: alerts sent just before "
                            "the stop may appear twice in the journal";
        else if (r < 0)
                goto out;
        sd_journal_flush_matches(j);
        (void) snprintf(m, sizeof(m), "KEYTRAIL_INSTANCE=%s", k->instance);
        r = sd_journal_add_match(j, "MESSAGE_ID=" SINK_JOURNAL_MESSAGE_ID, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, m, 0);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, since > RECOVER_SLACK_USEC
                                                             ? since - RECOVER_SLACK_USEC
                                                             : 0);
        while (r >= 0) {
                const void *d;
                size_t l;
                char uid[32];

                r = sd_journal_next(j);
                if (r <= 0)
                        break;
                /* Only what this uid wrote through the native protocol: no one else can make
                 * keytrail skip an alert by writing its id. */
                (void) snprintf(uid, sizeof(uid), "_UID=%u", (unsigned) getuid());
                if (sd_journal_get_data(j, "_UID", &d, &l) < 0 || l != strlen(uid) ||
                    memcmp(d, uid, l) != 0)
                        continue;
                if (sd_journal_get_data(j, "_TRANSPORT", &d, &l) < 0 ||
                    l != strlen("_TRANSPORT=journal") || memcmp(d, "_TRANSPORT=journal", l) != 0)
                        continue;
                if (sd_journal_get_data(j, "KEYTRAIL_ID", &d, &l) < 0 || l != 12 + 32)
                        continue;
                {
                        char id[33];

                        memcpy(id, (const char *) d + 12, 32);
                        id[32] = 0;
                        if (idset_add(k->recovered, id, 0) > 0)
                                found++;
                }
        }
out:
        sd_journal_close(j);
        return r < 0 ? r : found;
}
