/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "tap.h"
#include "timeutil.h"

/* 2026-11-27 12:00:00 UTC */
#define NOW (UINT64_C(1795780800) * USEC_PER_SEC)

static void parse_one(const char *s, int want_r, uint64_t want, const char *name) {
        uint64_t v = 0;
        int r = timeutil_parse(s, NOW, &v);

        TAP_IS_INT(r, want_r, "%s: '%s' %s", name, s, want_r == 0 ? "parses" : "is rejected");
        if (want_r == 0)
                TAP_IS_INT(v, want, "%s: value", name);
}

int main(void) {
        char buf[TIMEUTIL_RFC3339_MAX];
        uint64_t d = 0;

        /* Local-time forms are checked in UTC so the test does not depend on the machine's zone. */
        setenv("TZ", "UTC", 1);
        tzset();

        parse_one("@1764200000", 0, UINT64_C(1764200000) * USEC_PER_SEC, "epoch");
        parse_one("@1764200000.25", 0, UINT64_C(1764200000250000), "epoch with fraction");
        parse_one("2026-11-01 10:00", 0, UINT64_C(1793527200) * USEC_PER_SEC, "date and minutes");
        parse_one("2026-11-01 10:00:05", 0, UINT64_C(1793527205) * USEC_PER_SEC, "with seconds");
        parse_one("2026-11-01", 0, UINT64_C(1793491200) * USEC_PER_SEC, "date only");
        parse_one("2026-11-01T10:00:05.5Z", 0, UINT64_C(1793527205500000), "RFC 3339");
        parse_one("2026-11-01 10:00 UTC", 0, UINT64_C(1793527200) * USEC_PER_SEC, "UTC suffix");
        parse_one("now", 0, NOW, "now");
        parse_one("today", 0, UINT64_C(1795737600) * USEC_PER_SEC, "today");
        parse_one("yesterday", 0, UINT64_C(1795651200) * USEC_PER_SEC, "yesterday");
        parse_one("-2h", 0, NOW - 2 * 3600 * USEC_PER_SEC, "relative hours");
        parse_one("-1d 2h", 0, NOW - 26 * 3600 * USEC_PER_SEC, "relative compound");
        parse_one("+30min", 0, NOW + 1800 * USEC_PER_SEC, "relative future");
        parse_one("3 hours ago", 0, NOW - 3 * 3600 * USEC_PER_SEC, "ago");
        parse_one("10:30", 0, UINT64_C(1795775400) * USEC_PER_SEC, "time today");
        parse_one("", -EINVAL, 0, "empty");
        parse_one("2026-13-01", -EINVAL, 0, "month 13");
        parse_one("next tuesday", -EINVAL, 0, "words");
        parse_one("-2parsecs", -EINVAL, 0, "bad unit");
        parse_one("@12x", -EINVAL, 0, "bad epoch");
        parse_one("@0", 0, 0, "epoch zero is a time like any other");
        /* overflows: the fraction of a long unit, and a span past the end of uint64_t */
        parse_one("0.9y ago", 0, NOW - UINT64_C(28401840) * USEC_PER_SEC, "fraction of a year");
        parse_one("1.5h ago", 0, NOW - 5400 * USEC_PER_SEC, "fraction of an hour");
        parse_one("+584542y", -ERANGE, 0, "span past UINT64_MAX");
        parse_one("+584541y", -ERANGE, 0, "now + span past UINT64_MAX");
        parse_one("-584542y", -ERANGE, 0, "span before the epoch");
        parse_one("99999999999999999999s ago", -ERANGE, 0, "20 digits");
        parse_one("500000y 500000y ago", -ERANGE, 0, "sum of spans past UINT64_MAX");
        parse_one("-0.5us", 0, NOW, "half a microsecond is none");
        /* strict numbers */
        parse_one("23:-5", -EINVAL, 0, "negative minutes");
        parse_one("-1:00", -EINVAL, 0, "negative hours");
        parse_one("1:00", -EINVAL, 0, "one-digit hour");
        parse_one("24:00", -EINVAL, 0, "hour 24");
        parse_one("10:60", -EINVAL, 0, "minute 60");
        parse_one("2025-02-31", -EINVAL, 0, "February 31st");
        parse_one("2025-02-29", -EINVAL, 0, "February 29th of a common year");
        parse_one("2024-02-29", 0, UINT64_C(1709164800) * USEC_PER_SEC, "February 29th of 2024");
        parse_one("2025-04-31", -EINVAL, 0, "April 31st");
        parse_one("2025-1-05", -EINVAL, 0, "one-digit month");
        parse_one("2025-01-05 +1:00", -EINVAL, 0, "signed hour");
        parse_one("2025-01-05 10:00Z", -EINVAL, 0, "Z without T");
        parse_one("2025-01-05T10:00", 0, UINT64_C(1736071200) * USEC_PER_SEC, "T without Z: local");
        parse_one("1969-12-31", -EINVAL, 0, "before the epoch");
        parse_one("2025-01-05 10:00:00.5 UTC", 0, UINT64_C(1736071200500000), "fraction, UTC");

        TAP_IS_INT(timeutil_parse_duration("60", &d), 0, "duration in seconds");
        TAP_IS_INT(d, 60 * USEC_PER_SEC, "60 s");
        TAP_IS_INT(timeutil_parse_duration("5min", &d), 0, "duration with unit");
        TAP_IS_INT(d, 300 * USEC_PER_SEC, "5 min");
        TAP_IS_INT(timeutil_parse_duration("soon", &d), -EINVAL, "bad duration");

        TAP_IS_STR(timeutil_format_rfc3339(UINT64_C(1764200000123456), buf),
                   "2025-11-26T23:33:20.123456Z", "RFC 3339 with microseconds, UTC");
        TAP_IS_STR(timeutil_format_rfc3339(0, buf), "1970-01-01T00:00:00.000000Z", "epoch zero");
        return tap_done();
}
