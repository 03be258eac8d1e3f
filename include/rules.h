/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Rule sets: sshd's log formats as data. A rule file (rules/NAME.rules) holds one rule per line:
 *
 *     <rule-id> <event-kind> <PCRE2 pattern to end of line>
 *
 * '#' starts a comment line; blank lines are ignored. The pattern is compiled once, with
 * PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NEVER_UTF | PCRE2_NO_UTF_CHECK options and JIT, and a
 * match limit. Named captures map to enum event_field by name. Rules are tried in file order (files
 * in name order); the first that matches wins.
 *
 * Ownership: the rule set owns its compiled patterns, rule ids and match data. Events returned by
 * rule_set_match() borrow the message passed in and the rule id; a rule set is not thread-safe.
 */

#include <stddef.h>

#include "event.h"
#include "macro.h"

struct rule_set;

/* Where a load failed. Owned by the caller; rule_load_error_done() frees its contents. */
struct rule_load_error {
        char *file;    /* path of the offending file */
        unsigned line; /* 1-based; 0 when the error is not tied to a line */
        char *message; /* e.g. "missing right parenthesis at offset 12" */
};

void rule_load_error_done(struct rule_load_error *e);

struct rule_set *rule_set_new(void); /* NULL on OOM only */
struct rule_set *rule_set_free(struct rule_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rule_set *, rule_set_free);

/*
 * Load one rule file and append its rules. Returns 0, or -errno; on -EBADMSG (a broken rule) and
 * on I/O errors *reterr is filled with file, line and a message. Rules loaded from earlier files
 * stay usable.
 */
_warn_unused_ int rule_set_load_file(struct rule_set *s, const char *path,
                                     struct rule_load_error *reterr);

/* Load every "*.rules" file of a directory, in name order. Errors as rule_set_load_file(). */
_warn_unused_ int rule_set_load_dir(struct rule_set *s, const char *dir,
                                    struct rule_load_error *reterr);

size_t rule_set_size(const struct rule_set *s);

/*
 * Match a message (not NUL-terminated; len bytes). Returns 1 and fills *ret when a rule matched,
 * 0 when none did, -ELOOP when PCRE2's match limit was hit, other -errno on failure.
 */
_warn_unused_ int rule_set_match(struct rule_set *s, const char *msg, size_t len, struct event *ret);
