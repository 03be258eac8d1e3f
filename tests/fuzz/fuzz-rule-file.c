/* SPDX-License-Identifier: MIT */
/*
 * A rule file (rule_set_load_string()): ids, event kinds, PCRE2 patterns, named captures. A file
 * that loads is then run over a few real lines: whatever a rule author writes, loading and
 * matching stay within their bounds. A failed load names a line of the file.
 */

#include <string.h>

#include "fuzz.h"
#include "rules.h"

static const char *const lines[] = {
        "Accepted publickey for mirror from 203.0.113.9 port 51200 ssh2: ED25519 SHA256:x",
        ("Starting session: forced-command (key-option) 'rsync --server . /srv' for mirror from "
         "203.0.113.9 port 51200 id 0"),
        "User child is on pid 7051",
        "",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct rule_set *s = rule_set_new();
        struct rule_load_error e = {};
        unsigned n_lines = 1;
        int r;

        FUZZ_ASSERT(s);
        for (size_t i = 0; i < size; i++)
                n_lines += data[i] == '\n';
        r = rule_set_load_string(s, "fuzz.rules", (const char *) data, size, &e);
        if (r < 0 && r != -ENOMEM) {
                FUZZ_ASSERT(e.file && e.message);
                FUZZ_ASSERT(e.line >= 1 && e.line <= n_lines);
                FUZZ_ASSERT(rule_set_size(s) == 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                struct event ev;

                r = rule_set_match(s, lines[i], strlen(lines[i]), &ev);
                FUZZ_ASSERT(r == 0 || r == 1 || r == -ELOOP);
                if (r == 1)
                        for (int f = 0; f < _EVENT_FIELD_MAX; f++)
                                FUZZ_ASSERT(!ev.field[f].ptr ||
                                            (ev.field[f].ptr >= lines[i] &&
                                             ev.field[f].ptr + ev.field[f].len <=
                                                     lines[i] + strlen(lines[i])));
        }
        rule_load_error_done(&e);
        rule_set_free(s);
        return 0;
}
