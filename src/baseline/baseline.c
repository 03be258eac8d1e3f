/* SPDX-License-Identifier: MIT */
/*
 * The baseline: authorized_keys entries bound to accounts, indexed by fingerprint. Entries live in
 * an array in load order; an index sorted by (fingerprint, load order) is rebuilt lazily after
 * additions, with a hash of each fingerprint's run in it, so a lookup is a hash and a compare
 * (a binary search of the index when there was no memory for the hash table).
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL /* a hash per lookup: inlined, no call */
#include <xxhash.h>

#include "baseline.h"

#define BASELINE_ENTRIES_MAX 1048576 /* 1 Mi */
#define BASELINE_USERS_MAX 65536

struct baseline {
        struct baseline_entry *entries; /* owned, n_entries long, load order */
        size_t n_entries, alloc_entries;
        size_t *index;                  /* owned; entries sorted by fingerprint, then load order */
        bool index_valid;
        /* With index_valid: each fingerprint's run in index[], by the hash of the fingerprint
         * (open addressing; hash 0: an empty slot). A lookup per login and session: one hash and
         * one strcmp(). Without memory for the index or this, lookups look at every entry. */
        struct fp_slot {
                uint64_t hash;
                uint32_t start, n;              /* index[start .. start + n) */
        } *runs;                        /* owned, runs_mask + 1 slots */
        size_t runs_mask;
        char **users;                   /* owned; accounts covered */
        size_t n_users, alloc_users;
        bool covers_all;                /* an entry has no user */
};

struct baseline *baseline_new(void) {
        return calloc(1, sizeof(struct baseline));
}

struct baseline *baseline_free(struct baseline *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n_entries; i++) {
                authkey_free(b->entries[i].key);
                free(b->entries[i].user);
        }
        free(b->entries);
        free(b->index);
        free(b->runs);
        for (size_t i = 0; i < b->n_users; i++)
                free(b->users[i]);
        free(b->users);
        free(b);
        return NULL;
}

int baseline_cover_user(struct baseline *b, const char *user) {
        char *u;

        if (baseline_covers_user(b, user) && !b->covers_all)
                return 0;
        for (size_t i = 0; i < b->n_users; i++)
                if (streq(b->users[i], user))
                        return 0;
        if (b->n_users >= BASELINE_USERS_MAX)
                return -ENOSPC;
        if (b->n_users == b->alloc_users) {
                size_t n = MAX(b->alloc_users * 2, (size_t) 16);
                char **p = realloc(b->users, n * sizeof(char *));

                if (!p)
                        return -ENOMEM;
                b->users = p;
                b->alloc_users = n;
        }
        u = strdup(user);
        if (!u)
                return -ENOMEM;
        b->users[b->n_users++] = u;
        return 0;
}

bool baseline_covers_user(const struct baseline *b, const char *user) {
        if (b->covers_all)
                return true;
        if (!user)
                return false;
        for (size_t i = 0; i < b->n_users; i++)
                if (streq(b->users[i], user))
                        return true;
        return false;
}

static int add_entry(struct baseline *b, struct authkey *k, const char *user) {
        char *u = NULL;

        if (b->n_entries >= BASELINE_ENTRIES_MAX)
                return -ENOSPC;
        if (b->n_entries == b->alloc_entries) {
                size_t n = MAX(b->alloc_entries * 2, (size_t) 64);
                struct baseline_entry *p = realloc(b->entries, n * sizeof(*p));

                if (!p)
                        return -ENOMEM;
                b->entries = p;
                b->alloc_entries = n;
        }
        if (user) {
                u = strdup(user);
                if (!u)
                        return -ENOMEM;
        }
        b->entries[b->n_entries++] = (struct baseline_entry){ .key = k, .user = u };
        b->index_valid = false;
        return 0;
}

/* Take the keys of list (the result r of parsing it) into b, bound to user. */
static int add_list(struct baseline *b, const char *user, struct authkey_list list, int r,
                    unsigned skipped, unsigned *ret_keys, unsigned *ret_skipped,
                    unsigned *reterr_line, const char **reterr_what) {
        unsigned added = 0;
        int k;

        /* Keep what parsed before an error: it is good. */
        for (size_t i = 0; i < list.n; i++) {
                k = add_entry(b, list.keys[i], user);
                if (k == -ENOSPC) {
                        if (reterr_line)
                                *reterr_line = list.keys[i]->line;
                        if (reterr_what)
                                *reterr_what = "too many keys in the baseline (max "
                                               STRINGIFY(BASELINE_ENTRIES_MAX) ")";
                }
                if (k < 0) {
                        /* list still owns the rest */
                        for (size_t j = 0; j < i; j++)
                                list.keys[j] = NULL;
                        authkey_list_done(&list);
                        return k;
                }
                added++;
        }
        for (size_t i = 0; i < list.n; i++)
                list.keys[i] = NULL;
        authkey_list_done(&list);

        if (user) {
                k = baseline_cover_user(b, user);
                if (k < 0)
                        return k;
        } else if (r >= 0 || added > 0)
                b->covers_all = true;

        if (ret_keys)
                *ret_keys = added;
        if (ret_skipped)
                *ret_skipped = skipped;
        return r < 0 ? r : 0;
}

int baseline_add_file(struct baseline *b, const char *user, const char *path, bool strict,
                      unsigned *ret_keys, unsigned *ret_skipped, unsigned *reterr_line,
                      const char **reterr_what) {
        struct authkey_list list = {};
        unsigned skipped = 0;
        int r;

        r = authkeys_parse_file(path, strict, &list, &skipped, reterr_line, reterr_what);
        return add_list(b, user, list, r, skipped, ret_keys, ret_skipped, reterr_line, reterr_what);
}

int baseline_add_buffer(struct baseline *b, const char *user, const char *name, const char *data,
                        size_t len, bool strict, unsigned *ret_keys, unsigned *ret_skipped,
                        unsigned *reterr_line, const char **reterr_what) {
        struct authkey_list list = {};
        unsigned skipped = 0;
        int r;

        r = authkeys_parse_buffer(name, data, len, strict, &list, &skipped, reterr_line,
                                  reterr_what);
        return add_list(b, user, list, r, skipped, ret_keys, ret_skipped, reterr_line, reterr_what);
}

int baseline_add_key(struct baseline *b, const char *user, struct authkey *key) {
        int r;

        /* Cover first: add_entry() takes the key, and must be the last step that can fail. */
        if (user) {
                r = baseline_cover_user(b, user);
                if (r < 0)
                        return r;
        }
        r = add_entry(b, key, user);
        if (r < 0)
                return r;
        if (!user)
                b->covers_all = true;
        return 0;
}

static const struct baseline *sort_ctx;

static int cmp_index(const void *a, const void *b) {
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        int c = strcmp(sort_ctx->entries[x].key->fingerprint, sort_ctx->entries[y].key->fingerprint);

        if (c != 0)
                return c;
        return x < y ? -1 : x > y;
}

/* The hash of a fingerprint for b->runs, never 0 (an empty slot's). */
static uint64_t fp_hash(const char *fingerprint) {
        return XXH3_64bits(fingerprint, strlen(fingerprint)) | 1;
}

/* b->runs from the sorted index: true, or false without memory for it. */
static bool build_runs(struct baseline *b) {
        size_t n_slots = 16;

        free(b->runs);
        b->runs = NULL;
        if (b->n_entries > UINT32_MAX / 4)
                return false;
        while (n_slots < 2 * b->n_entries)
                n_slots *= 2;
        b->runs = calloc(n_slots, sizeof(b->runs[0]));
        if (!b->runs)
                return false;
        b->runs_mask = n_slots - 1;
        for (size_t i = 0, j; i < b->n_entries; i = j) {
                const char *fp = b->entries[b->index[i]].key->fingerprint;
                uint64_t h = fp_hash(fp);
                size_t k = h & b->runs_mask;

                for (j = i + 1; j < b->n_entries; j++)
                        if (!streq(b->entries[b->index[j]].key->fingerprint, fp))
                                break;
                while (b->runs[k].hash != 0)
                        k = (k + 1) & b->runs_mask;
                b->runs[k] = (struct fp_slot){ .hash = h, .start = (uint32_t) i,
                                               .n = (uint32_t) (j - i) };
        }
        return true;
}

static void ensure_index(const struct baseline *cb) {
        struct baseline *b = (struct baseline *) cb; /* the index is a cache */
        size_t *p;

        if (b->index_valid)
                return;
        p = realloc(b->index, MAX(b->n_entries, (size_t) 1) * sizeof(size_t));
        if (!p)
                return; /* lookups then fall back to a linear scan */
        b->index = p;
        for (size_t i = 0; i < b->n_entries; i++)
                b->index[i] = i;
        sort_ctx = b;
        qsort(b->index, b->n_entries, sizeof(size_t), cmp_index);
        sort_ctx = NULL;
        b->index_valid = build_runs(b); /* else a linear scan, as without the index */
}

/* Whether location is "FILE:LINE" of k (as sshd writes it, the line in decimal, no leading zero):
 * compared in place, no printf (a lookup per login and session). Names of 4,200 bytes or more
 * never match, as when this was formatted into a buffer of that size. */
static bool location_matches(const struct authkey *k, const char *location) {
        char digits[16];
        size_t n_file, nd = 0;
        unsigned v;

        if (!location || !k->file)
                return false;
        n_file = strlen(k->file);
        if (strncmp(location, k->file, n_file) != 0 || location[n_file] != ':')
                return false;
        v = k->line;
        do {
                digits[sizeof(digits) - ++nd] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0);
        return n_file + 1 + nd < 4200 &&
               strncmp(location + n_file + 1, digits + sizeof(digits) - nd, nd) == 0 &&
               location[n_file + 1 + nd] == 0;
}

const struct baseline_entry *baseline_lookup(const struct baseline *b, const char *fingerprint,
                                             const char *user, const char *location,
                                             const struct baseline_entry **ret_other) {
        const struct baseline_entry *best = NULL, *other = NULL;
        size_t lo = 0, end;

        if (!fingerprint) {
                if (ret_other)
                        *ret_other = NULL;
                return NULL;
        }
        ensure_index(b);
        end = b->n_entries;
        if (b->index_valid) {
                uint64_t h = fp_hash(fingerprint);

                lo = end = 0; /* none, unless found: then index[lo .. end) are its entries */
                for (size_t k = h & b->runs_mask; b->runs[k].hash != 0; k = (k + 1) & b->runs_mask)
                        if (b->runs[k].hash == h &&
                            streq(b->entries[b->index[b->runs[k].start]].key->fingerprint,
                                  fingerprint)) {
                                lo = b->runs[k].start;
                                end = lo + b->runs[k].n;
                                break;
                        }
        }
        /* With the index, the entries of this fingerprint; without it (no memory for it), every
         * entry is looked at. */
        for (size_t i = lo; i < end; i++) {
                const struct baseline_entry *e = &b->entries[b->index_valid ? b->index[i] : i];

                if (!b->index_valid && !streq(e->key->fingerprint, fingerprint))
                        continue;
                if (!e->user || (user && streq(e->user, user))) {
                        if (location_matches(e->key, location))
                                return e;
                        if (!best)
                                best = e;
                } else if (!other)
                        other = e;
        }
        if (ret_other)
                *ret_other = best ? NULL : other;
        return best;
}

const struct baseline_entry *baseline_lookup_location(const struct baseline *b,
                                                      const char *location) {
        for (size_t i = 0; location && i < b->n_entries; i++)
                if (location_matches(b->entries[i].key, location))
                        return &b->entries[i];
        return NULL;
}

size_t baseline_size(const struct baseline *b) {
        return b->n_entries;
}

const struct baseline_entry *baseline_entry_at(const struct baseline *b, size_t i) {
        return i < b->n_entries ? &b->entries[i] : NULL;
}
