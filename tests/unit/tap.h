/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A minimal TAP producer for the unit tests: one "ok N - name" line per check, "# " diagnostics
 * on failure, the plan at the end. tap_done() returns the process exit status.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static unsigned tap_n, tap_failed;

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("# ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
}

static inline int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...) {
        va_list ap;
        tap_n++;
        if (!cond)
                tap_failed++;
        printf("%sok %u - ", cond ? "" : "not ", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        return cond;
}

#define TAP_IS_STR(got, want, ...)                                                                 \
        do {                                                                                       \
                const char *_g = (got), *_w = (want);                                              \
                if (!tap_ok(_g && _w ? strcmp(_g, _w) == 0 : _g == _w, __VA_ARGS__))               \
                        tap_diag("got '%s', want '%s'", _g ? _g : "(null)", _w ? _w : "(null)");   \
        } while (0)

#define TAP_IS_INT(got, want, ...)                                                                 \
        do {                                                                                       \
                intmax_t _g = (intmax_t) (got), _w = (intmax_t) (want);                            \
                if (!tap_ok(_g == _w, __VA_ARGS__))                                                \
                        tap_diag("got %jd, want %jd", _g, _w);                                     \
        } while (0)

static inline int tap_done(void) {
        printf("1..%u\n", tap_n);
        return tap_failed ? 1 : 0;
}
