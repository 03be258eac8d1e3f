/* SPDX-License-Identifier: MIT */
/*
 * journalctl-compatible time specifications and RFC 3339 formatting. Pure functions except
 * timeutil_now_usec() and the local-time conversions (which depend on TZ).
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "timeutil.h"

uint64_t timeutil_now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

char *timeutil_format_rfc3339(uint64_t usec, char buf[static TIMEUTIL_RFC3339_MAX]) {
        time_t sec = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&sec, &tm)) {
                (void) snprintf(buf, TIMEUTIL_RFC3339_MAX, "1970-01-01T00:00:00.000000Z");
                return buf;
        }
        char tmp[128];

        (void) snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRIu64 "Z",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, usec % USEC_PER_SEC);
        (void) snprintf(buf, TIMEUTIL_RFC3339_MAX, "%.31s", tmp);
        return buf;
}

struct unit {
        const char *name;
        uint64_t usec;
};

/* Longest names first where one is a prefix of another ("min" before "m", "ms" before "m"). */
static const struct unit units[] = {
        { "seconds", USEC_PER_SEC },
        { "second", USEC_PER_SEC },
        { "sec", USEC_PER_SEC },
        { "s", USEC_PER_SEC },
        { "minutes", 60 * USEC_PER_SEC },
        { "minute", 60 * USEC_PER_SEC },
        { "min", 60 * USEC_PER_SEC },
        { "months", 2629800 * USEC_PER_SEC },
        { "month", 2629800 * USEC_PER_SEC },
        { "msec", USEC_PER_MSEC },
        { "ms", USEC_PER_MSEC },
        { "m", 60 * USEC_PER_SEC },
        { "M", 2629800 * USEC_PER_SEC },
        { "hours", 3600 * USEC_PER_SEC },
        { "hour", 3600 * USEC_PER_SEC },
        { "hr", 3600 * USEC_PER_SEC },
        { "h", 3600 * USEC_PER_SEC },
        { "days", 86400 * USEC_PER_SEC },
        { "day", 86400 * USEC_PER_SEC },
        { "d", 86400 * USEC_PER_SEC },
        { "weeks", 604800 * USEC_PER_SEC },
        { "week", 604800 * USEC_PER_SEC },
        { "w", 604800 * USEC_PER_SEC },
        { "years", 31557600 * USEC_PER_SEC },
        { "year", 31557600 * USEC_PER_SEC },
        { "y", 31557600 * USEC_PER_SEC },
        { "usec", 1 },
        { "us", 1 },
};

/* Digits after a decimal point, as millionths (extra digits are ignored). Returns the first byte
 * after them, or NULL when there is no digit. */
static const char *parse_millionths(const char *p, uint64_t *ret) {
        uint64_t v = 0, scale = 100000;

        if (!isdigit((unsigned char) *p))
                return NULL;
        for (; isdigit((unsigned char) *p); p++) {
                v += (uint64_t) (*p - '0') * scale;
                scale /= 10;
        }
        *ret = v;
        return p;
}

/* Parse "N unit [N unit ...]" (spaces optional). A bare number means seconds when allow_bare. */
static int parse_span(const char *s, bool allow_bare, uint64_t *ret) {
        uint64_t total = 0;
        bool any = false;

        for (;;) {
                uint64_t n = 0, frac = 0, v, f;
                const struct unit *u = NULL;
                bool digits = false;

                while (*s == ' ')
                        s++;
                if (!*s)
                        break;
                while (isdigit((unsigned char) *s)) {
                        if (n > UINT64_MAX / 10 - 10)
                                return -ERANGE;
                        n = n * 10 + (uint64_t) (*s++ - '0');
                        digits = true;
                }
                if (*s == '.') {
                        s = parse_millionths(s + 1, &frac);
                        if (!s)
                                return -EINVAL;
                        digits = true;
                }
                if (!digits)
                        return -EINVAL;
                while (*s == ' ')
                        s++;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].name);

                        if (strncmp(s, units[i].name, l) == 0 && !isalpha((unsigned char) s[l])) {
                                u = &units[i];
                                s += l;
                                break;
                        }
                }
                if (!u) {
                        if (!allow_bare || *s)
                                return -EINVAL;
                        u = &units[3]; /* seconds */
                }
                /* n * usec + frac millionths of usec, without overflow: 0.9y is 2.8e19 when
                 * multiplied first, and the sum may pass UINT64_MAX too */
                if (n > UINT64_MAX / u->usec)
                        return -ERANGE;
                v = n * u->usec;
                f = u->usec >= USEC_PER_SEC ? frac * (u->usec / USEC_PER_SEC)
                                            : frac * u->usec / USEC_PER_SEC;
                if (v > UINT64_MAX - f || total > UINT64_MAX - (v + f))
                        return -ERANGE;
                total += v + f;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

int timeutil_parse_duration(const char *s, uint64_t *ret_usec) {
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_span(s, true, &v);
        if (r < 0)
                return r;
        *ret_usec = v;
        return 0;
}

static uint64_t day_start(uint64_t now_usec, int day_offset, bool utc) {
        time_t t = (time_t) (now_usec / USEC_PER_SEC);
        struct tm tm;

        if (utc)
                (void) gmtime_r(&t, &tm);
        else
                (void) localtime_r(&t, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday += day_offset;
        tm.tm_isdst = -1;
        t = utc ? timegm(&tm) : mktime(&tm);
        return (uint64_t) t * USEC_PER_SEC;
}

/* Exactly n decimal digits at *p (no sign, no blank): advances *p. */
static bool take_digits(const char **p, unsigned n, int *ret) {
        int v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return false;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return true;
}

static bool take_char(const char **p, char c) {
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

static bool is_leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* "HH:MM[:SS]" into *tm; advances *p. */
static bool take_clock(const char **p, struct tm *tm) {
        if (!take_digits(p, 2, &tm->tm_hour) || !take_char(p, ':') ||
            !take_digits(p, 2, &tm->tm_min))
                return false;
        tm->tm_sec = 0;
        if (**p == ':' && (!take_char(p, ':') || !take_digits(p, 2, &tm->tm_sec)))
                return false;
        return tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 60;
}

/*
 * Absolute date/time forms, strictly: "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or 'T' between),
 * "HH:MM[:SS]" (today), each with an optional ".fraction", then " UTC" or (with 'T') "Z". Every
 * number has its exact digit count, no sign; the date must exist (no 2025-02-31).
 */
static int parse_absolute(const char *s, uint64_t now_usec, uint64_t *ret) {
        char buf[64];
        struct tm tm = {};
        const char *p;
        bool utc = false, t_sep = false;
        uint64_t frac = 0;
        size_t l = strlen(s);
        time_t t;

        if (l >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, l + 1);
        if (l > 4 && strcasecmp(buf + l - 4, " UTC") == 0) {
                buf[l - 4] = 0;
                utc = true;
        } else if (l > 1 && (buf[l - 1] == 'Z' || buf[l - 1] == 'z')) {
                buf[l - 1] = 0;
                utc = true;
                t_sep = true; /* Z only after an RFC 3339 'T' form: checked below */
        }

        p = buf;
        if (strlen(p) >= 10 && p[4] == '-') {
                if (!take_digits(&p, 4, &tm.tm_year) || !take_char(&p, '-') ||
                    !take_digits(&p, 2, &tm.tm_mon) || !take_char(&p, '-') ||
                    !take_digits(&p, 2, &tm.tm_mday))
                        return -EINVAL;
                if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
                    tm.tm_mday > days_in_month(tm.tm_year, tm.tm_mon))
                        return -EINVAL;
                if (*p == ' ' || *p == 'T') {
                        bool is_t = *p == 'T';

                        p++;
                        if (!take_clock(&p, &tm))
                                return -EINVAL;
                        if (t_sep && !is_t)
                                return -EINVAL;
                        t_sep = false;
                }
        } else {
                /* HH:MM[:SS] today */
                uint64_t base = day_start(now_usec, 0, utc);
                time_t bt = (time_t) (base / USEC_PER_SEC);
                struct tm day;

                if (!take_clock(&p, &tm))
                        return -EINVAL;
                if (utc ? !gmtime_r(&bt, &day) : !localtime_r(&bt, &day))
                        return -EINVAL;
                tm.tm_year = day.tm_year + 1900;
                tm.tm_mon = day.tm_mon + 1;
                tm.tm_mday = day.tm_mday;
        }
        if (t_sep) /* a 'Z' without a 'T' form */
                return -EINVAL;
        if (*p == '.') {
                p = parse_millionths(p + 1, &frac);
                if (!p)
                        return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        tm.tm_isdst = -1;
        t = utc ? timegm(&tm) : mktime(&tm);
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC + frac;
        return 0;
}

int timeutil_parse(const char *s, uint64_t now_usec, uint64_t *ret) {
        uint64_t v;
        size_t l;
        int r;

        if (!s || !*s)
                return -EINVAL;
        while (*s == ' ')
                s++;
        l = strlen(s);

        if (streq(s, "now")) {
                *ret = now_usec;
                return 0;
        }
        if (streq(s, "today") || streq(s, "yesterday") || streq(s, "tomorrow")) {
                *ret = day_start(now_usec, streq(s, "today") ? 0 : streq(s, "yesterday") ? -1 : 1,
                                 false);
                return 0;
        }
        if (s[0] == '@') {
                uint64_t sec = 0, frac = 0;
                const char *p = s + 1;

                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p)) {
                        if (sec > UINT64_MAX / 10 / USEC_PER_SEC)
                                return -EINVAL;
                        sec = sec * 10 + (uint64_t) (*p++ - '0');
                }
                if (*p == '.') {
                        p = parse_millionths(p + 1, &frac);
                        if (!p)
                                return -EINVAL;
                }
                if (*p)
                        return -EINVAL;
                *ret = sec * USEC_PER_SEC + frac;
                return 0;
        }
        if (s[0] == '-' || s[0] == '+') {
                r = parse_span(s + 1, false, &v);
                if (r < 0)
                        return r;
                if (s[0] == '-') {
                        if (v > now_usec)
                                return -ERANGE;
                        *ret = now_usec - v;
                } else {
                        if (v > UINT64_MAX - now_usec)
                                return -ERANGE;
                        *ret = now_usec + v;
                }
                return 0;
        }
        if (l > 4 && streq(s + l - 4, " ago")) {
                char buf[64];

                if (l - 4 >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, s, l - 4);
                buf[l - 4] = 0;
                r = parse_span(buf, false, &v);
                if (r < 0)
                        return r;
                if (v > now_usec)
                        return -ERANGE;
                *ret = now_usec - v;
                return 0;
        }
        return parse_absolute(s, now_usec, ret);
}
