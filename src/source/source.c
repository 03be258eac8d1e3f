/* SPDX-License-Identifier: MIT */
/* The source interface: dispatch through the ops every source's struct begins with (source.h). */

#include "source.h"

static const struct source_ops *ops_of(const struct source *s) {
        return *(const struct source_ops *const *) s;
}

int source_next(struct source *s, struct log_record *rec) {
        return ops_of(s)->next(s, rec);
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
