/* SPDX-License-Identifier: MIT */
/* keytrail-gate's request checker (gate_check()) over SSH_ORIGINAL_COMMAND, in each mode. */

#include <string.h>

#include "fuzz.h"
#include "gate-rsync.h"

static const char *const allow[] = { "rsync --server -vlogDtprze.iLsfxCIvu . /srv/mirror", NULL };

static const struct gate_policy policies[] = {
        { .allow = allow },
        { .dir = "/srv/mirror", .access = GATE_ACCESS_WRITE_ONLY },
        { .dir = "/srv/mirror", .access = GATE_ACCESS_READ_ONLY },
        { .dir = "/srv/mirror", .access = GATE_ACCESS_WRITE_ONLY, .no_delete = true },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(policies); i++) {
                struct gate_verdict v = {};

                if (gate_check(&policies[i], (const char *) data, size, &v) < 0)
                        continue;
                FUZZ_ASSERT(v.reason >= 0 && v.reason < _GATE_REASON_MAX);
                FUZZ_ASSERT(v.allowed == gate_reason_is_allowed(v.reason));
                if (v.allowed) {
                        FUZZ_ASSERT(v.argv && v.argv[0] && v.argc > 0);
                        /* nothing allowed may carry a byte a shell or rsync would act on */
                        for (size_t a = 0; a < v.argc; a++)
                                for (const char *c = v.argv[a]; *c; c++)
                                        FUZZ_ASSERT((unsigned char) *c >= 0x20 && *c != 0x7f);
                        if (policies[i].allow)
                                FUZZ_ASSERT(size == strlen(allow[0]) &&
                                            memcmp(data, allow[0], size) == 0);
                        if (policies[i].dir)
                                FUZZ_ASSERT(policies[i].access == GATE_ACCESS_READ_ONLY ? v.sender
                                                                                        : !v.sender);
                }
                gate_verdict_done(&v);
        }
        return 0;
}
