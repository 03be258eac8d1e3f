/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Time in keytrail is uint64_t microseconds since the epoch (sd-journal's unit), always.
 * Parsing follows journalctl's --since/--until syntax; formatting is RFC 3339 UTC with microseconds.
 */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/*
 * Parse a time specification relative to now_usec. Accepted forms (as journalctl):
 *   "YYYY-MM-DD HH:MM:SS[.ffffff]", "YYYY-MM-DD HH:MM", "YYYY-MM-DD", "HH:MM[:SS]" (today),
 *   each optionally followed by " UTC" (else local time); "YYYY-MM-DDTHH:MM:SS[.f][Z]";
 *   "now", "today", "yesterday", "tomorrow"; "@EPOCH[.fraction]";
 *   "-2h", "+30min", "-1d 2h", "2 hours ago" (units: us usec ms msec s sec second(s) m min minute(s)
 *   h hr hour(s) d day(s) w week(s) M month(s) y year(s)).
 * Numbers have their exact digit count and no sign ("23:-5", "-1:00" are errors), dates must exist
 * ("2025-02-31" is an error). Returns 0 and *ret, -EINVAL for a malformed specification, -ERANGE
 * when the time or a span does not fit in uint64_t microseconds ("0.9y ago" is fine, "+584542y"
 * is not).
 */
_warn_unused_ int timeutil_parse(const char *s, uint64_t now_usec, uint64_t *ret);

/* Parse a duration in seconds with optional unit ("60", "90s", "5min", "1h"). 0, -EINVAL or
 * -ERANGE. */
_warn_unused_ int timeutil_parse_duration(const char *s, uint64_t *ret_usec);

#define TIMEUTIL_RFC3339_MAX 32

/* "2026-11-27T03:55:01.123456Z" into buf (at least TIMEUTIL_RFC3339_MAX). Returns buf. */
char *timeutil_format_rfc3339(uint64_t usec, char buf[static TIMEUTIL_RFC3339_MAX]);

uint64_t timeutil_now_usec(void);
