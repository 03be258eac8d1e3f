/* SPDX-License-Identifier: MIT */
/* --since/--until/--session-timeout expressions (timeutil_parse(), timeutil_parse_duration()). */

#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "timeutil.h"

#define NOW (UINT64_C(1795780800) * USEC_PER_SEC)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int init;
        char buf[256], tbuf[TIMEUTIL_RFC3339_MAX];
        uint64_t v;

        if (!init) {
                setenv("TZ", "UTC", 1);
                tzset();
                init = 1;
        }
        if (size >= sizeof(buf))
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        if (timeutil_parse(buf, NOW, &v) == 0) {
                (void) timeutil_format_rfc3339(v, tbuf);
                FUZZ_ASSERT(strlen(tbuf) < TIMEUTIL_RFC3339_MAX);
                /* a span before now never lands after it, and "-" never wraps */
                if (buf[0] == '-' && strspn(buf + 1, "0123456789 .abcdefghijklmnopqrstuvwxyzM") ==
                                             strlen(buf + 1))
                        FUZZ_ASSERT(v <= NOW);
        }
        if (timeutil_parse_duration(buf, &v) == 0)
                FUZZ_ASSERT(v < UINT64_MAX);
        return 0;
}
