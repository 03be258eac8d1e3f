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
#include <stdint.h>

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

/* As rule_set_load_file(), from len bytes of text in memory; name stands for the file in errors. */
_warn_unused_ int rule_set_load_string(struct rule_set *s, const char *name, const char *text,
                                       size_t len, struct rule_load_error *reterr);

/* Load every "*.rules" file of a directory, in name order. Errors as rule_set_load_file(). */
_warn_unused_ int rule_set_load_dir(struct rule_set *s, const char *dir,
                                    struct rule_load_error *reterr);

size_t rule_set_size(const struct rule_set *s);

/* The id of the i-th rule in match order, borrowed from the set; NULL when i >= size. */
const char *rule_set_rule_id(const struct rule_set *s, size_t i);

/*
 * Match a message (not NUL-terminated; len bytes). Returns 1 and fills *ret when a rule matched,
 * 0 when none did, -ELOOP when PCRE2's match limit (or, after every retry, a stack or memory
 * limit) was hit, other -errno on failure. A JIT stack limit is retried with a 16 MiB JIT stack,
 * then by the interpreter with higher depth and heap limits: a line within MESSAGE_MAX is never
 * lost to a stack size.
 *
 * Only rules whose literal prefix (the pattern's leading literal bytes, computed at load time) the
 * message starts with are run; rules with an empty prefix are always run; among those, file order
 * holds and the first match wins. A LogVerbose tag ("session.c:do_exec():699 (pid=7050): ", 8.5+)
 * at the start of the message is skipped before matching. A rule that hits the match limit is
 * skipped and the following candidates are still tried: -ELOOP is returned only when no other rule
 * matched. A message longer than 8192 bytes is refused with -E2BIG. *ret is written only when 1 is
 * returned.
 *
 * Load limits: 1024 rules per set, 4096 bytes per rule line (-E2BIG), 32 capture groups per
 * pattern (-E2BIG), rule ids of 1-128 bytes of [A-Za-z0-9._-]. A rule must capture what its
 * event kind needs (connection: addr, port; auth-accepted: user, addr, port, method; auth-failed,
 * auth-partial: user, addr, port; auth-postponed: user; invalid-user, source-refused: user, addr;
 * key-found: location and fingerprint or ca_fingerprint; user-child: child_pid; session-start:
 * session_type; wrapper-rejected: user, reason), and its literal prefix must agree with the
 * pattern's first character as PCRE2 sees it (-EBADMSG otherwise). On every load error except
 * -ENOMEM, *reterr is filled; a file whose load fails adds no rule.
 */
_warn_unused_ int rule_set_match(struct rule_set *s, const char *msg, size_t len, struct event *ret);

/* Counters for the stats line (house style E5). */
struct rule_set_stats {
        uint64_t messages;    /* rule_set_match() calls */
        uint64_t matched;     /* ... that returned 1 */
        uint64_t attempts;    /* patterns run (after the literal-prefix filter) */
        uint64_t retried;     /* patterns rerun after a stack or memory limit (bigger JIT stack,
                                 then the interpreter) */
        uint64_t match_limit; /* ... calls that returned -ELOOP */
        uint64_t too_long;    /* ... calls that returned -E2BIG */
};

void rule_set_get_stats(const struct rule_set *s, struct rule_set_stats *ret);

/*
 * Matching ahead, in another thread: a source that reads in a thread of its own can match each
 * message there with a matcher, and the pipeline replays the outcome with rule_set_match_ahead()
 * instead of matching again. The outcome, the event and the counters are exactly those of
 * rule_set_match() on the same message.
 *
 * A matcher holds its own match data, JIT stacks and counters, and shares the set's compiled
 * patterns (PCRE2 allows several threads to match with one compiled pattern). It remembers the
 * outcomes of the last messages (up to 1,024 of up to 224 bytes), so that a message seen again
 * runs no pattern. The set must outlive its matchers and load no rule while one runs in another
 * thread; rule_set_match() may run meanwhile. Rules added or removed between two runs are noticed:
 * the matcher forgets what it remembered, and an outcome computed before is not replayed.
 * rule_matcher_new() returns 0 and *ret, or -ENOMEM.
 */
struct rule_matcher;

_warn_unused_ int rule_matcher_new(struct rule_set *s, struct rule_matcher **ret);
struct rule_matcher *rule_matcher_free(struct rule_matcher *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rule_matcher *, rule_matcher_free);

/* What matching one message adds to struct rule_set_stats: at most the set's rule count each. */
struct rule_match_stats {
        uint16_t messages, matched, attempts, retried, match_limit, too_long;
};

/*
 * The outcome of matching one message ahead: plain data, copied freely. Laid out for the thread
 * that replays it, on another core than the one that wrote it: the members it reads of an outcome
 * with up to 3 captures are one cache line, with up to 13 two.
 */

struct rule_match {
        _Alignas(64) const struct rule_set *set; /* the set whose matcher computed it (not owned) */
        uint64_t generation;            /* of the set's rules then: replayed only while the same */
        size_t len;                     /* of the message */
        int result;                     /* rule_set_match()'s return value */
        uint16_t rule;                  /* result 1: the rule's index in the set */
        uint16_t skip;                  /* result 1: the LogVerbose tag's length */
        uint8_t n_fields;               /* result 1: the captures set, in the order to apply */
        struct rule_match_stats stats;  /* what the match added to the counters */
        struct {
                uint8_t field;          /* enum event_field */
                uint16_t start;         /* offset after the tag (a message matched is at most
                                           8,192 bytes) */
                uint16_t len;
        } field[_EVENT_FIELD_MAX];
};

/* Match len bytes of msg with m, as rule_set_match() on m's set would; never fails (errors are
 * the outcome's result). */
void rule_matcher_run(struct rule_matcher *m, const char *msg, size_t len, struct rule_match *ret);

/* Only when m remembers msg's outcome (a message it matched lately, rules unchanged since): true
 * and *ret as rule_matcher_run() would give it, without running a pattern. False: *ret is not an
 * outcome (match msg some other way). */
bool rule_matcher_recall(struct rule_matcher *m, const char *msg, size_t len,
                         struct rule_match *ret);

/*
 * rule_set_match() on msg, using ahead (may be NULL) when it was computed by a matcher of s on a
 * message of this length (the caller guarantees it was this message): then no pattern runs, and
 * the counters ahead carries are added to s's. Returns and fills *ret as rule_set_match().
 */
_warn_unused_ int rule_set_match_ahead(struct rule_set *s, const struct rule_match *ahead,
                                       const char *msg, size_t len, struct event *ret);

/*
 * The literal prefix computed for the rule with this id (for tests and diagnostics). Returns 0 and
 * a view borrowed from the rule set, or -ENOENT when no rule has that id.
 */
int rule_set_get_prefix(const struct rule_set *s, const char *rule_id, struct strview *ret);
