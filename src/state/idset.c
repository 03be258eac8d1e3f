/* SPDX-License-Identifier: MIT */
/*
 * The id set: open addressing with linear probing and backward-shift deletion, over a table of
 * twice the bound (a power of two), so that probes stay short at the bound. Ids are hex digests,
 * already uniform: the first bytes are the hash.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"

struct slot {
        char id[33]; /* "" when empty */
        uint64_t usec;
};

struct idset {
        struct slot *slots; /* owned */
        size_t mask, n, max;
        uint64_t dropped;
};

static bool id_valid(const char *id) {
        size_t i;

        for (i = 0; i < 32; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;
        return id[32] == 0;
}

static size_t hash_of(const char *id) {
        size_t h = 0;

        for (int i = 0; i < 12; i++)
                h = (h << 4) | (size_t) (id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
        return h;
}

struct idset *idset_new(size_t max) {
        struct idset *s = calloc(1, sizeof(*s));
        size_t size = 16;

        if (!s)
                return NULL;
        s->max = max ?: IDSET_MAX_DEFAULT;
        while (size < s->max * 2)
                size <<= 1;
        s->slots = calloc(size, sizeof(*s->slots));
        if (!s->slots) {
                free(s);
                return NULL;
        }
        s->mask = size - 1;
        return s;
}

struct idset *idset_free(struct idset *s) {
        if (!s)
                return NULL;
        free(s->slots);
        free(s);
        return NULL;
}

static struct slot *find(const struct idset *s, const char *id) {
        for (size_t i = hash_of(id) & s->mask;; i = (i + 1) & s->mask) {
                if (!s->slots[i].id[0])
                        return NULL;
                if (memcmp(s->slots[i].id, id, 32) == 0)
                        return &s->slots[i];
        }
}

/* Remove slot i, shifting back the entries of its probe run. */
static void remove_at(struct idset *s, size_t i) {
        size_t j = i;

        s->slots[i].id[0] = 0;
        for (;;) {
                size_t home;

                j = (j + 1) & s->mask;
                if (!s->slots[j].id[0])
                        break;
                home = hash_of(s->slots[j].id) & s->mask;
                /* Move j back to i when its home is not in (i, j] (cyclically). */
                if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
                        s->slots[i] = s->slots[j];
                        s->slots[j].id[0] = 0;
                        i = j;
                }
        }
        s->n--;
}

int idset_add(struct idset *s, const char *id, uint64_t usec) {
        struct slot *x;
        size_t i;

        if (!id || strnlen(id, 33) != 32 || !id_valid(id))
                return -EBADMSG;
        x = find(s, id);
        if (x) {
                x->usec = MAX(x->usec, usec);
                return 0;
        }
        if (s->n >= s->max) {
                size_t oldest = SIZE_MAX;

                /* Full: drop the oldest. A linear pass, only when the bound is reached. */
                for (i = 0; i <= s->mask; i++)
                        if (s->slots[i].id[0] &&
                            (oldest == SIZE_MAX || s->slots[i].usec < s->slots[oldest].usec))
                                oldest = i;
                remove_at(s, oldest);
                s->dropped++;
        }
        for (i = hash_of(id) & s->mask; s->slots[i].id[0]; i = (i + 1) & s->mask)
                ;
        memcpy(s->slots[i].id, id, 33);
        s->slots[i].usec = usec;
        s->n++;
        return 1;
}

bool idset_contains(const struct idset *s, const char *id) {
        if (!s || !id || strnlen(id, 33) != 32 || !id_valid(id))
                return false;
        return find(s, id) != NULL;
}

void idset_prune(struct idset *s, uint64_t before_usec) {
        /* Restart after each removal: backward shifts may move a later entry into a visited slot. */
        for (size_t i = 0; i <= s->mask;) {
                if (s->slots[i].id[0] && s->slots[i].usec < before_usec) {
                        remove_at(s, i);
                        continue;
                }
                i++;
        }
}

size_t idset_size(const struct idset *s) {
        return s->n;
}

uint64_t idset_dropped(const struct idset *s) {
        return s->dropped;
}

bool idset_next(const struct idset *s, size_t *pos, const char **ret_id, uint64_t *ret_usec) {
        for (size_t i = *pos; i <= s->mask; i++)
                if (s->slots[i].id[0]) {
                        *pos = i + 1;
                        *ret_id = s->slots[i].id;
                        *ret_usec = s->slots[i].usec;
                        return true;
                }
        *pos = s->mask + 1;
        return false;
}
