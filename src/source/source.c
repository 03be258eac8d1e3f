/* SPDX-License-Identifier: MIT */
/* The source interface: dispatch through the ops every source's struct begins with (source.h). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal-internal.h"
#include "source.h"

_Static_assert(ENTRY_REF_CURSOR_MAX == JOURNAL_CURSOR_MAX, "one cursor size");

char *entry_ref_journal_cursor(const struct entry_ref *ref, char buf[static ENTRY_REF_CURSOR_MAX]) {
        struct journal_pos p = {
                .seqnum = ref->journal.seqnum,
                .monotonic = ref->monotonic_usec,
                .realtime = ref->realtime_usec,
                .xor_hash = ref->journal.xor_hash,
        };

        memcpy(p.seqnum_id.bytes, ref->journal.seqnum_id, 16);
        memcpy(p.boot_id.bytes, ref->boot_id, 16);
        return journal_pos_to_cursor(&p, buf);
}

static const struct source_ops *ops_of(const struct source *s) {
        return *(const struct source_ops *const *) s;
}

int source_next(struct source *s, struct log_record *rec) {
        return ops_of(s)->next(s, rec);
}

int source_next_borrowed(struct source *s, struct log_record *scratch,
                         const struct log_record **ret) {
        if (ops_of(s)->next_borrowed)
                return ops_of(s)->next_borrowed(s, ret);
        *ret = scratch;
        return ops_of(s)->next(s, scratch);
}

const struct log_record *source_peek(const struct source *s, unsigned k) {
        return ops_of(s)->peek ? ops_of(s)->peek(s, k) : NULL;
}

uint64_t source_skipped(const struct source *s) {
        return ops_of(s)->skipped(s);
}

const char *source_first_skipped(const struct source *s, const char **ret_why) {
        return ops_of(s)->first_skipped(s, ret_why);
}

struct source *source_free(struct source *s) {
        if (s)
                ops_of(s)->free(s);
        return NULL;
}

const struct source_stats *source_stats(const struct source *s) {
        static const struct source_stats none = {};

        if (!ops_of(s)->stats)
                return &none;
        return ops_of(s)->stats(s);
}

const struct source_problem *source_problems(const struct source *s, size_t *ret_n,
                                             size_t *ret_more) {
        if (!ops_of(s)->problems) {
                *ret_n = 0;
                if (ret_more)
                        *ret_more = 0;
                return NULL;
        }
        return ops_of(s)->problems(s, ret_n, ret_more);
}

int source_cursor(struct source *s, const struct entry_ref *ref, record_digest_fn digest,
                  void *userdata, char **ret) {
        char buf[ENTRY_REF_CURSOR_MAX];

        if (ref->kind == ENTRY_REF_JOURNAL) {
                /* Every part is known: no need to ask the source (nor to have one). */
                *ret = strdup(entry_ref_journal_cursor(ref, buf));
                return *ret ? 0 : -ENOMEM;
        }
        if (ref->kind == ENTRY_REF_NONE || !s || !ops_of(s)->cursor)
                return -ENOENT;
        return ops_of(s)->cursor(s, ref, digest, userdata, ret);
}
