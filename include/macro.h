/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Small helpers shared by every module, after systemd's macro.h.
 *
 * Error convention (house style E1-E3): functions that can fail return int, < 0 is -errno.
 * Project meanings inside the errno space:
 *   -EBADMSG        malformed input
 *   -ENOSPC         bounded table full
 *   -E2BIG          line or rule too long
 *   -ELOOP          PCRE2 match limit hit
 *   -ENOENT         field or file absent
 *   -EADDRNOTAVAIL  no journal position yet
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _warn_unused_ __attribute__((warn_unused_result))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define USEC_PER_SEC ((uint64_t) 1000000ULL)
#define USEC_PER_MSEC ((uint64_t) 1000ULL)

/* Whether c equals one of the values: IN_SET(x, 'a', 'b'). */
#define IN_SET(c, ...)                                                                             \
        ({                                                                                         \
                const __typeof__(c) _set_[] = { __VA_ARGS__ };                                     \
                bool _found_ = false;                                                              \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_set_); _i_++)                               \
                        if (_set_[_i_] == (c))                                                     \
                                _found_ = true;                                                    \
                _found_;                                                                           \
        })

/* Take ownership out of a cleanup variable: *ret = TAKE_PTR(x); */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp_ = (p);                                                          \
                (p) = NULL;                                                                        \
                _tp_;                                                                              \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _tfd_ = (fd);                                                                  \
                (fd) = -1;                                                                         \
                _tfd_;                                                                             \
        })

/* Define a NULL-safe freep for a destructor that returns NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p) {                                                      \
                if (*p)                                                                            \
                        *p = func(*p);                                                             \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* one when n is 1, else many: "1 host", "2 hosts". Both borrowed, returned as given. */
static inline const char *plural(long long n, const char *one, const char *many) {
        return n == 1 ? one : many;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

#define streq(a, b) (strcmp((a), (b)) == 0)

static inline bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Free a NULL-terminated array of strings and the array itself. */
static inline char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
