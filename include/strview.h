/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Borrowed, length-delimited views (house style O5). A view never owns its bytes and is never
 * NUL-terminated by contract: print with "%.*s", (int) v.len, v.ptr.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strview {
        const char *ptr; /* borrowed; NULL when the view is absent */
        size_t len;
};

#define STRVIEW_NULL ((struct strview){ NULL, 0 })
#define STRVIEW_LIT(s) ((struct strview){ (s), sizeof(s) - 1 })

static inline struct strview strview_from(const char *s) {
        return s ? (struct strview){ s, strlen(s) } : STRVIEW_NULL;
}

static inline bool strview_present(struct strview v) {
        return v.ptr != NULL;
}

static inline bool strview_eq(struct strview a, struct strview b) {
        return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool strview_eq_str(struct strview a, const char *s) {
        return s && strview_eq(a, strview_from(s));
}

static inline bool strview_startswith(struct strview v, struct strview prefix) {
        return v.len >= prefix.len && memcmp(v.ptr, prefix.ptr, prefix.len) == 0;
}

/* Whether v is an ID128 as sd_id128_to_string() writes it (a machine, boot or file id): 32
 * lowercase hex digits, nothing else. */
static inline bool strview_is_id128(struct strview v) {
        if (v.len != 32)
                return false;
        for (size_t i = 0; i < 32; i++)
                if (!((v.ptr[i] >= '0' && v.ptr[i] <= '9') || (v.ptr[i] >= 'a' && v.ptr[i] <= 'f')))
                        return false;
        return true;
}

/*
 * Copy a view into a new NUL-terminated string. A NUL byte inside the view (any journal field may
 * hold one) would cut the string: it is written as the pair C0 80 instead (Modified UTF-8's NUL,
 * never valid UTF-8), which the alert encoder (escape.h) shows as U+0000. Returns NULL on OOM or
 * when the view is absent.
 */
char *strview_dup(struct strview v);

/* The bytes strview_dup() would allocate for v, its NUL included: 0 for an absent view, SIZE_MAX
 * when it cannot be represented. */
size_t strview_dup_size(struct strview v);

/* What strview_dup() does, into dst (at least strview_dup_size(v) bytes; v present). Returns dst. */
char *strview_copy(char *dst, struct strview v);

/*
 * Parse a decimal unsigned integer that fills the whole view, without strtol (house style O5).
 * Returns 0 and writes *ret, or -EBADMSG (empty, non-digit) or -ERANGE (above max).
 */
int strview_to_u64(struct strview v, uint64_t max, uint64_t *ret);
