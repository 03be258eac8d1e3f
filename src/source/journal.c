/* SPDX-License-Identifier: MIT */
/*
 * The sd-journal source. Owns the sd_journal handle. Only entries matching one of the configured
 * SYSLOG_IDENTIFIERs are read (sd-journal matches, OR'ed); each entry's fields are enumerated once
 * and the ones keytrail uses are copied into the record, since sd_journal data is only valid until
 * the next data call. Entries that cannot be read are skipped and counted, never fatal.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "source.h"

struct source {
        const struct source_ops *ops; /* first: see source.h */
        sd_journal *j;                /* owned */
        uint64_t until_usec;
        bool until_set;
        uint64_t skipped;
        char *first_skipped;          /* owned: cursor of the first unreadable entry, or NULL */
        const char *first_skipped_why;
};

static const struct source_ops journal_ops;

static int journal_get_cursor(void *userdata, char **ret) {
        struct source *s = userdata;
        char *c = NULL;
        int r;

        r = sd_journal_get_cursor(s->j, &c);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

int journal_source_open(const struct journal_source_options *o, struct source **ret) {
        _cleanup_free_ struct source *s = NULL;
        sd_journal *j = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;

        if (o->files && o->files[0])
                r = sd_journal_open_files(&j, (const char **) o->files, 0);
        else if (o->directory)
                r = sd_journal_open_directory(&j, o->directory, 0);
        else
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;

        for (char **i = o->identifiers; i && *i; i++) {
                char m[256];
                int n = snprintf(m, sizeof(m), "SYSLOG_IDENTIFIER=%s", *i);

                if (n < 0 || (size_t) n >= sizeof(m)) {
                        sd_journal_close(j);
                        return -E2BIG;
                }
                r = sd_journal_add_match(j, m, 0);
                if (r < 0) {
                        sd_journal_close(j);
                        return r;
                }
        }

        if (o->also && o->also[0]) {
                r = sd_journal_add_disjunction(j);
                for (char **i = o->also; r >= 0 && *i; i++)
                        r = sd_journal_add_match(j, *i, 0);
                if (r < 0) {
                        sd_journal_close(j);
                        return r;
                }
        }

        if (o->since_set || o->since_usec > 0)
                r = sd_journal_seek_realtime_usec(j, o->since_usec);
        else
                r = sd_journal_seek_head(j);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }

        s->ops = &journal_ops;
        s->j = j;
        s->until_usec = o->until_usec;
        s->until_set = o->until_set || o->until_usec > 0;
        *ret = TAKE_PTR(s);
        return 0;
}

static int read_entry(struct source *s, struct log_record *rec) {
        const void *data;
        size_t len;
        int r;

        record_reset(rec);
        r = sd_journal_get_realtime_usec(s->j, &rec->realtime_usec);
        if (r < 0)
                return r;

        sd_journal_restart_data(s->j);
        for (;;) {
                enum record_field f;
                size_t off = 0;

                r = sd_journal_enumerate_data(s->j, &data, &len);
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
        rec->get_cursor = journal_get_cursor;
        rec->cursor_userdata = s;
        return 1;
}

static int journal_next(struct source *s, struct log_record *rec) {
        int r;

        for (;;) {
                r = sd_journal_next(s->j);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 0;
                r = read_entry(s, rec);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && !record_has(rec, RECORD_MESSAGE))
                        /* Every syslog or journal entry has one: sd-journal skipped a corrupt
                         * data object. */
                        r = -EBADMSG;
                if (r < 0) {
                        /* A corrupt entry: count it, remember the first, go on with the next. */
                        if (s->skipped++ == 0) {
                                s->first_skipped_why = r == -EBADMSG ? "no readable MESSAGE field"
                                                                     : "unreadable fields";
                                (void) sd_journal_get_cursor(s->j, &s->first_skipped);
                        }
                        continue;
                }
                if (s->until_set && rec->realtime_usec > s->until_usec)
                        return 0;
                return 1;
        }
}

static uint64_t journal_skipped(const struct source *s) {
        return s->skipped;
}

static const char *journal_first_skipped(const struct source *s, const char **ret_why) {
        if (ret_why)
                *ret_why = s->first_skipped_why;
        return s->first_skipped;
}

static void journal_free(struct source *s) {
        sd_journal_close(s->j);
        free(s->first_skipped);
        free(s);
}

static const struct source_ops journal_ops = {
        .next = journal_next,
        .skipped = journal_skipped,
        .first_skipped = journal_first_skipped,
        .free = journal_free,
};

sd_journal *journal_source_journal(struct source *s) {
        return s && s->ops == &journal_ops ? s->j : NULL;
}
