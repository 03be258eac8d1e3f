/* SPDX-License-Identifier: MIT */
/* --policy files: policy_file_parse() and the matchers on what it accepts; rsync_canonical() is
 * idempotent; sshd_unvis() undoes sshd_vis(). */

#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "policy-file.h"
#include "vis.h"

/* The input's first line, NUL-terminated (at most 255 bytes), as a command, name or address. */
static void first_line(const uint8_t *data, size_t size, char buf[static 256]) {
        size_t l = 0;

        while (l < size && l < 255 && data[l] != '\n' && data[l] != 0)
                l++;
        memcpy(buf, data, l);
        buf[l] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct policy_file *f = NULL;
        struct policy_file_error e = {};
        char line[256], *canon = NULL, *again = NULL, *vis = NULL, *back = NULL;
        unsigned lines = 1;
        int r;

        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        first_line(data, size, line);

        r = policy_file_parse((const char *) data, size, &f, &e);
        FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
        if (r < 0) {
                FUZZ_ASSERT(r == -ENOMEM || e.message);
                FUZZ_ASSERT(e.line <= lines);
        } else {
                static const char *const addrs[] = { "192.0.2.1", "::1", "::ffff:10.0.0.1",
                                                     "2001:db8::1", "junk", "" };

                for (size_t i = 0; i < policy_file_size(f) + 1; i++) {
                        const struct policy_rule *pr = policy_file_lookup(f, line, line);

                        if (!pr)
                                pr = policy_file_account(f, line);
                        if (!pr)
                                break;
                        FUZZ_ASSERT(policy_rule_name(pr) && policy_rule_line(pr) <= lines);
                        for (size_t a = 0; a < sizeof(addrs) / sizeof(*addrs); a++)
                                (void) policy_rule_allows_source(pr, addrs[a]);
                        (void) policy_rule_allows_source(pr, line);
                        (void) policy_rule_allows_account(pr, line);
                        (void) policy_rule_allows_key(pr, line);
                        FUZZ_ASSERT(policy_rule_allows_command(pr, line, false, NULL) >= 0);
                        FUZZ_ASSERT(policy_rule_allows_command(pr, line, true, NULL) >= 0);
                        break;
                }
                policy_file_free(f);
        }

        /* rsync by meaning: the canonical form of a canonical form is itself */
        if (rsync_canonical(line, &canon) == 0) {
                FUZZ_ASSERT(rsync_canonical(canon, &again) == 0);
                FUZZ_ASSERT(strcmp(canon, again) == 0);
        }
        /* sshd's escaping, undone */
        if (sshd_vis(line, strlen(line), &vis) == 0) {
                FUZZ_ASSERT(sshd_unvis(vis, &back) == 0 && strcmp(back, line) == 0);
        }
        free(canon);
        free(again);
        free(vis);
        free(back);
        return 0;
}
