/* SPDX-License-Identifier: MIT */
/* One authorized_keys line (authkeys_parse_line()): options, key type, base64 blob, comment. */

#include "authkeys.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct authkey *k = NULL;
        const char *what = NULL;
        int r;

        r = authkeys_parse_line((const char *) data, size, &k, &what);
        if (r == 1)
                FUZZ_ASSERT(k != NULL);
        else {
                FUZZ_ASSERT(k == NULL);
                FUZZ_ASSERT(r <= 0);
        }
        if (r < 0 && r != -ENOMEM)
                FUZZ_ASSERT(what != NULL);
        authkey_free(k);
        return 0;
}
