/* SPDX-License-Identifier: MIT */
/*
 * Rule sets: rule files parsed into PCRE2 patterns compiled once (JIT when available), with named
 * captures resolved to enum event_field at load time. The set owns every rule, one match context
 * with the match limits, one match data block sized for the largest capture count, and a dispatch
 * table by first byte of each rule's literal prefix so that a message only runs the patterns that
 * can match it.
 */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#define XXH_INLINE_ALL /* the memo hashes every message: inlined, no call */
#include <xxhash.h>

#include "macro.h"
#include "rules.h"

/* Limits (house style O7): every one is a load error or a match error when exceeded. */
#define RULES_MAX 1024U
#define RULE_LINE_MAX 4096U    /* bytes in one rule file line */
#define RULE_ID_MAX 128U       /* bytes in a rule id */
#define RULE_CAPTURES_MAX 32U  /* capture groups (named or not) in one pattern */
#define RULE_PREFIX_MAX 64U    /* literal prefix bytes kept for dispatch */
#define MESSAGE_MAX 8192U      /* bytes of a message handed to rule_set_match() */
#define MATCH_LIMIT 100000U    /* pcre2_set_match_limit() */
#define DEPTH_LIMIT 5000U      /* pcre2_set_depth_limit() (interpreter only) */
#define HEAP_LIMIT_KIB 4096U   /* pcre2_set_heap_limit() (interpreter only) */
/*
 * The JIT machine stack. PCRE2's default (32 KiB, on the caller's stack) is exhausted by a ~1,400
 * byte line through a pattern that repeats a group per byte (a wrapper's quoted command), so the
 * set owns one: JIT_STACK_START..JIT_STACK_MAX, grown by PCRE2 as needed. A line that still hits
 * its limit is retried with JIT_STACK_BIG (made on first need), then by the interpreter with
 * RETRY_DEPTH_LIMIT and RETRY_HEAP_LIMIT_KIB: a line the prefix selected is never lost to a stack.
 */
#define JIT_STACK_START (64U * 1024U)
#define JIT_STACK_MAX (1024U * 1024U)
#define JIT_STACK_BIG (16U * 1024U * 1024U)
#define RETRY_DEPTH_LIMIT 100000U
#define RETRY_HEAP_LIMIT_KIB (64U * 1024U)
/*
 * A matcher remembers the outcome of the last messages it matched (MEMO_SLOTS, direct-mapped by a
 * hash of the message; messages up to MEMO_MESSAGE_MAX bytes): sshd writes many lines the same,
 * byte for byte (pam_unix's session lines, "Accepted key ... found at FILE:LINE"), and a line seen
 * again is answered without running a pattern. A hit compares the whole message, so a collision
 * (the hash is not keyed: a writer can aim lines at one slot) only costs the hit, never changes an
 * answer. The slots' hashes are kept apart from them (8 KiB, in cache): most messages are not in
 * the memo, and telling so then touches no slot.
 */
#define MEMO_SLOTS 1024U
#define MEMO_MESSAGE_MAX 224U
/*
 * Most kinds of line never repeat (they carry a port or a PID): the memo only costs them a hash
 * and a store. Per first byte of the message, after MEMO_PROBE lookups, a byte whose hits were
 * fewer than one in MEMO_MIN_HIT_SHARE goes around the memo for its next MEMO_REST messages, then
 * is probed again. Only speed depends on it: a message not looked up is matched.
 */
#define MEMO_PROBE 256U
#define MEMO_MIN_HIT_SHARE 16U
#define MEMO_REST 4096U


static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

struct rule {
        char *id;                        /* owned */
        enum event_kind kind;
        pcre2_code *code;                /* owned */
        bool jit;                        /* code was JIT-compiled */
        uint32_t n_captures;
        uint32_t min_length;             /* PCRE2's lower bound on a matching subject's length */
        char prefix[RULE_PREFIX_MAX];    /* the pattern's leading literal bytes, no NUL */
        size_t prefix_len;
        bool prefix_caseless;            /* prefix is PCRE2's first code unit, a letter that
                                            may match in either case ((?i), (?si), ...) */
        uint64_t head, head_mask;        /* prefix's first 8 bytes (fewer: masked) as loaded
                                            from memory, when not caseless */
        uint8_t n_fields;                /* entries used in field[] */
        bool shared_names;               /* two entries of field[] name one field ((?J)) */
        /* One entry per named group: with (?J) several groups may carry one name, so the table is
         * sized by the capture-group cap, not by the number of fields. */
        struct {
                uint16_t group;
                uint8_t field;           /* enum event_field */
        } field[RULE_CAPTURES_MAX];
};

/*
 * What running patterns needs besides the compiled rules: match data sized for the largest capture
 * count, the match contexts and their JIT stacks, the counters. A rule set has one; a matcher (for
 * another thread) has its own, and shares the set's compiled patterns, which PCRE2 allows.
 */
struct match_state {
        pcre2_match_context *mctx;       /* owned; JIT stack jit_stack */
        pcre2_match_context *mctx_big;   /* owned, made on first need; JIT stack jit_stack_big,
                                            the interpreter's retry limits */
        pcre2_jit_stack *jit_stack;      /* owned */
        pcre2_jit_stack *jit_stack_big;  /* owned, made on first need */
        pcre2_match_data *match_data;    /* owned, room for max_captures + 1 pairs */
        uint32_t max_captures;
        struct rule_set_stats stats;
};

/* Read only when memo_key[] says it holds a message: the slots need no zeroing. */
struct memo_slot {
        struct rule_match m;             /* the outcome; m.set and m.len are not used */
        uint32_t len;                    /* of msg */
        char msg[MEMO_MESSAGE_MAX];
};

/* An outcome's offsets and counters are 16 bits wide (struct rule_match). */
_Static_assert(MESSAGE_MAX <= UINT16_MAX && RULES_MAX <= UINT16_MAX, "rule_match's members fit");

struct rule_matcher {
        const struct rule_set *set;      /* borrowed: outlives the matcher */
        struct match_state st;           /* st.stats: of the last message only */
        struct memo_slot *memo;          /* owned, MEMO_SLOTS; NULL: none (no memory for it) */
        uint64_t memo_key[MEMO_SLOTS];   /* the hash of memo[i]'s message; 0: empty */
        struct {
                uint16_t tries, hits;    /* lookups since the last probe began */
                uint16_t rest;           /* messages left to go around the memo */
        } memo_by_byte[256];             /* by the message's first byte */
        uint64_t generation;             /* set->generation that st's match data and the memo
                                            are for */
};

/*
 * Invariants: rules[0..n_rules) are in load order (file order, files in name order). When
 * dispatch_valid, for every byte b, dispatch[dispatch_start[b] .. dispatch_start[b + 1]) lists, in
 * ascending order, the indices of the rules whose prefix is empty or starts with b;
 * dispatch[dispatch_start[256] .. n_dispatch) lists the rules with an empty prefix (for empty
 * messages). match_data has room for max_captures + 1 pairs.
 */
struct rule_set {
        struct rule *rules;              /* owned, n_rules used of n_allocated */
        size_t n_rules, n_allocated;
        uint16_t *dispatch;              /* owned */
        size_t n_dispatch;
        size_t dispatch_start[257 + 1];
        bool dispatch_valid;
        uint64_t generation;             /* changes whenever a rule is added or removed */
        struct match_state st;           /* rule_set_match()'s */
};

void rule_load_error_done(struct rule_load_error *e) {
        if (!e)
                return;
        e->file = mfree(e->file);
        e->message = mfree(e->message);
        e->line = 0;
}

static void rule_done(struct rule *r) {
        free(r->id);
        pcre2_code_free(r->code);
        *r = (struct rule){};
}

static void match_state_done(struct match_state *st) {
        pcre2_match_data_free(st->match_data);
        pcre2_match_context_free(st->mctx);
        pcre2_match_context_free(st->mctx_big);
        pcre2_jit_stack_free(st->jit_stack);
        pcre2_jit_stack_free(st->jit_stack_big);
        *st = (struct match_state){};
}

/* A match context with the match limit, these interpreter limits and a JIT stack of up to
 * stack_max bytes (both returned owned). -ENOMEM leaves nothing behind. */
static int match_context_new(uint32_t depth_limit, uint32_t heap_limit_kib, size_t stack_max,
                             pcre2_match_context **ret, pcre2_jit_stack **ret_stack) {
        pcre2_match_context *c;
        pcre2_jit_stack *j;

        j = pcre2_jit_stack_create(JIT_STACK_START, stack_max, NULL);
        if (!j)
                return -ENOMEM;
        c = pcre2_match_context_create(NULL);
        if (!c) {
                pcre2_jit_stack_free(j);
                return -ENOMEM;
        }
        (void) pcre2_set_match_limit(c, MATCH_LIMIT);
        (void) pcre2_set_depth_limit(c, depth_limit);
        (void) pcre2_set_heap_limit(c, heap_limit_kib);
        pcre2_jit_stack_assign(c, NULL, j);
        *ret = c;
        *ret_stack = j;
        return 0;
}

/* The contexts and the JIT stack; the match data comes with the first rule (ensure_match_data). */
static int match_state_init(struct match_state *st) {
        *st = (struct match_state){};
        return match_context_new(DEPTH_LIMIT, HEAP_LIMIT_KIB, JIT_STACK_MAX, &st->mctx,
                                 &st->jit_stack);
}

struct rule_set *rule_set_new(void) {
        struct rule_set *s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        if (match_state_init(&s->st) < 0)
                return rule_set_free(s);
        return s;
}

struct rule_set *rule_set_free(struct rule_set *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_rules; i++)
                rule_done(&s->rules[i]);
        free(s->rules);
        free(s->dispatch);
        match_state_done(&s->st);
        free(s);
        return NULL;
}

size_t rule_set_size(const struct rule_set *s) {
        return s ? s->n_rules : 0;
}

const char *rule_set_rule_id(const struct rule_set *s, size_t i) {
        return s && i < s->n_rules ? s->rules[i].id : NULL;
}

void rule_set_get_stats(const struct rule_set *s, struct rule_set_stats *ret) {
        *ret = s->st.stats;
}

int rule_set_get_prefix(const struct rule_set *s, const char *rule_id, struct strview *ret) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (streq(s->rules[i].id, rule_id)) {
                        *ret = (struct strview){ s->rules[i].prefix, s->rules[i].prefix_len };
                        return 0;
                }
        return -ENOENT;
}

/* Skip a character class starting at p[i] == '['; returns the index just after its ']'. */
static size_t skip_class(const char *p, size_t n, size_t i) {
        i++;
        if (i < n && p[i] == '^')
                i++;
        if (i < n && p[i] == ']') /* a leading ']' is literal */
                i++;
        while (i < n && p[i] != ']') {
                if (p[i] == '\\' && i + 1 < n)
                        i += 2;
                else if (p[i] == '[' && i + 1 < n && p[i + 1] == ':') {
                        const char *e = memmem(p + i + 2, n - i - 2, ":]", 2);
                        i = e ? (size_t) (e - p) + 2 : i + 1;
                } else
                        i++;
        }
        return i < n ? i + 1 : n;
}

/* Whether the pattern has a '|' outside of every group: then no prefix is common to all branches */
static bool has_toplevel_alternation(const char *p, size_t n) {
        unsigned depth = 0;

        for (size_t i = 0; i < n;) {
                switch (p[i]) {
                case '\\':
                        if (i + 1 < n && p[i + 1] == 'Q') {
                                const char *e = memmem(p + i + 2, n - i - 2, "\\E", 2);
                                i = e ? (size_t) (e - p) + 2 : n;
                        } else
                                i += 2;
                        continue;
                case '[':
                        i = skip_class(p, n, i);
                        continue;
                case '(':
                        if (i + 2 < n && p[i + 1] == '?' && p[i + 2] == '#') {
                                const char *e = memchr(p + i, ')', n - i);
                                i = e ? (size_t) (e - p) + 1 : n;
                                continue;
                        }
                        depth++;
                        break;
                case ')':
                        if (depth > 0)
                                depth--;
                        break;
                case '|':
                        if (depth == 0)
                                return true;
                        break;
                default:
                        break;
                }
                i++;
        }
        return false;
}

static bool is_quantifier(char c) {
        return IN_SET(c, '?', '*', '+', '{');
}

static bool is_ascii_alpha(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_alnum(unsigned char c) {
        return (c >= '0' && c <= '9') || is_ascii_alpha(c);
}

static unsigned char ascii_lower(unsigned char c) {
        return c >= 'A' && c <= 'Z' ? (unsigned char) (c - 'A' + 'a') : c;
}

/* Whether a literal prefix starting with c agrees with PCRE2's first code unit u (which, for a
 * caseless pattern, may be given in either case). */
static bool first_byte_agrees(unsigned char c, unsigned char u) {
        return c == u || (is_ascii_alpha(c) && ascii_lower(c) == ascii_lower(u));
}

/*
 * The leading bytes every match must start with: literal bytes up to the first metacharacter, with
 * '\' followed by a non-alphanumeric byte taken as that byte (PCRE2's rule for escaped
 * punctuation).
 * A literal followed by a quantifier is optional or repeated, so it is not part of the prefix. A
 * shorter prefix than possible is always safe; a longer one would lose matches.
 */
static size_t literal_prefix(const char *p, size_t n, char *buf, size_t bufsize) {
        size_t len = 0;

        if (has_toplevel_alternation(p, n))
                return 0;

        for (size_t i = 0; i < n && len < bufsize;) {
                unsigned char c = (unsigned char) p[i];
                size_t next;

                if (c == '\\') {
                        if (i + 1 >= n || is_ascii_alnum((unsigned char) p[i + 1]))
                                break; /* \d, \s, \Q, \x.., ...: not a plain literal */
                        c = (unsigned char) p[i + 1];
                        next = i + 2;
                } else if (strchr("^$.[]|(){}?*+", c) || c == '\0')
                        break;
                else
                        next = i + 1;

                if (next < n && is_quantifier(p[next]))
                        break;
                buf[len++] = (char) c;
                i = next;
        }
        return len;
}

static int set_error(struct rule_load_error *reterr, const char *file, unsigned line, int r,
                     const char *fmt, ...) _printf_(5, 6);
static int set_error(struct rule_load_error *reterr, const char *file, unsigned line, int r,
                     const char *fmt, ...) {
        _cleanup_free_ char *f = NULL, *m = NULL;
        va_list ap;
        int k;

        if (!reterr)
                return r;

        f = strdup(file);
        if (!f)
                return -ENOMEM;
        va_start(ap, fmt);
        k = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;

        rule_load_error_done(reterr);
        reterr->file = TAKE_PTR(f);
        reterr->message = TAKE_PTR(m);
        reterr->line = line;
        return r;
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

static const char *skip_word(const char *p, const char *end) {
        while (p < end && *p != ' ' && *p != '\t')
                p++;
        return p;
}

static bool rule_id_valid(const char *p, size_t n) {
        if (n == 0 || n > RULE_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_ascii_alnum((unsigned char) p[i]) && !strchr("._-", p[i]))
                        return false;
        return true;
}

static bool rule_id_exists(const struct rule_set *s, const char *id, size_t n) {
        for (size_t i = 0; i < s->n_rules; i++)
                if (strlen(s->rules[i].id) == n && memcmp(s->rules[i].id, id, n) == 0)
                        return true;
        return false;
}

/* Map the pattern's named groups to event fields. Returns 0 or -EBADMSG with *ret_bad set. */
static int rule_resolve_names(struct rule *rule, const char **ret_bad) {
        PCRE2_SPTR table;
        uint32_t count, entry_size;

        if (pcre2_pattern_info(rule->code, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
            pcre2_pattern_info(rule->code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size) != 0 ||
            pcre2_pattern_info(rule->code, PCRE2_INFO_NAMETABLE, &table) != 0)
                return -EIO;

        for (uint32_t i = 0; i < count; i++) {
                PCRE2_SPTR e = table + (size_t) i * entry_size;
                const char *name = (const char *) e + 2;
                enum event_field f;

                f = event_field_from_string(name);
                if (f < 0) {
                        *ret_bad = name;
                        return -EBADMSG;
                }
                if (rule->n_fields >= ELEMENTSOF(rule->field))
                        return -E2BIG; /* cannot happen: names <= groups <= RULE_CAPTURES_MAX */
                for (unsigned j = 0; j < rule->n_fields; j++)
                        if (rule->field[j].field == (uint8_t) f)
                                rule->shared_names = true;
                rule->field[rule->n_fields].group = (uint16_t) ((e[0] << 8) | e[1]);
                rule->field[rule->n_fields].field = (uint8_t) f;
                rule->n_fields++;
        }
        return 0;
}

/*
 * The named captures each event kind needs to be of any use downstream (the correlator, the
 * pipeline): a rule without them would match and then never count. Alternatives: at least one.
 */
static const struct {
        enum event_field all[4];     /* each of these; _EVENT_FIELD_INVALID ends the list */
        enum event_field any[2];     /* at least one of these, when any[0] is set */
} required_table[_EVENT_MAX] = {
#define END _EVENT_FIELD_INVALID
        [EVENT_CONNECTION] = { { EVENT_FIELD_ADDR, EVENT_FIELD_PORT, END }, { END } },
        [EVENT_KEY_FOUND] = { { EVENT_FIELD_LOCATION, END },
                              { EVENT_FIELD_FINGERPRINT, EVENT_FIELD_CA_FINGERPRINT } },
        [EVENT_AUTH_ACCEPTED] = { { EVENT_FIELD_USER, EVENT_FIELD_ADDR, EVENT_FIELD_PORT,
                                    EVENT_FIELD_METHOD }, { END } },
        [EVENT_AUTH_FAILED] = { { EVENT_FIELD_USER, EVENT_FIELD_ADDR, EVENT_FIELD_PORT, END },
                                { END } },
        [EVENT_AUTH_POSTPONED] = { { EVENT_FIELD_USER, END }, { END } },
        [EVENT_AUTH_PARTIAL] = { { EVENT_FIELD_USER, EVENT_FIELD_ADDR, EVENT_FIELD_PORT, END },
                                 { END } },
        [EVENT_INVALID_USER] = { { EVENT_FIELD_USER, EVENT_FIELD_ADDR, END }, { END } },
        [EVENT_USER_CHILD] = { { EVENT_FIELD_CHILD_PID, END }, { END } },
        [EVENT_SESSION_START] = { { EVENT_FIELD_SESSION_TYPE, END }, { END } },
        [EVENT_SESSION_CLOSE] = { { END }, { END } },
        [EVENT_DISCONNECT] = { { END }, { END } },
        [EVENT_SOURCE_REFUSED] = { { EVENT_FIELD_USER, EVENT_FIELD_ADDR, END }, { END } },
        [EVENT_KEYOPTS_REFUSED] = { { END }, { END } },
        [EVENT_FORWARD_REFUSED] = { { END }, { END } },
        [EVENT_PAM_SESSION_CLOSE] = { { END }, { END } },
        [EVENT_WRAPPER_REJECTED] = { { EVENT_FIELD_USER, EVENT_FIELD_REASON, END }, { END } },
#undef END
};

static bool rule_has_field(const struct rule *rule, enum event_field f) {
        for (unsigned i = 0; i < rule->n_fields; i++)
                if (rule->field[i].field == f)
                        return true;
        return false;
}

/* Returns 0, or -EBADMSG with *ret_missing naming a capture the rule's kind needs. */
static int rule_check_required(const struct rule *rule, const char **ret_missing) {
        const __typeof__(required_table[0]) *req = &required_table[rule->kind];
        bool any = false;

        for (size_t i = 0; i < ELEMENTSOF(req->all) && req->all[i] >= 0; i++)
                if (!rule_has_field(rule, req->all[i])) {
                        *ret_missing = event_field_to_string(req->all[i]);
                        return -EBADMSG;
                }
        if (req->any[0] < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(req->any) && req->any[i] >= 0; i++)
                any = any || rule_has_field(rule, req->any[i]);
        if (!any) {
                *ret_missing = event_field_to_string(req->any[0]);
                return -EBADMSG;
        }
        return 0;
}

static int ensure_match_data(struct match_state *st, uint32_t n_captures) {
        pcre2_match_data *md;

        if (st->match_data && n_captures <= st->max_captures)
                return 0;

        md = pcre2_match_data_create(n_captures + 1, NULL);
        if (!md)
                return -ENOMEM;
        pcre2_match_data_free(st->match_data);
        st->match_data = md;
        st->max_captures = n_captures;
        return 0;
}

/*
 * Parse and compile one rule line (already stripped of its newline). Returns 1 when a rule was
 * appended, 0 for a blank or comment line, -errno with reterr filled otherwise.
 */
static int rule_set_add_line(struct rule_set *s, const char *path, unsigned lineno,
                             const char *line, size_t len, struct rule_load_error *reterr) {
        const char *end = line + len, *id, *id_end, *kind, *kind_end, *pat;
        char kind_buf[64];
        enum event_kind k;
        struct rule rule = {};
        int errcode, r;
        PCRE2_SIZE erroff;

        id = skip_blanks(line, end);
        if (id == end || *id == '#')
                return 0;

        id_end = skip_word(id, end);
        kind = skip_blanks(id_end, end);
        kind_end = skip_word(kind, end);
        pat = skip_blanks(kind_end, end);

        if (!rule_id_valid(id, (size_t) (id_end - id)))
                return set_error(reterr, path, lineno, -EBADMSG,
                                 "invalid rule id '%.*s' (want 1-%u bytes of [A-Za-z0-9._-])",
                                 (int) MIN((size_t) (id_end - id), 200), id, RULE_ID_MAX);
        if (kind == end)
                return set_error(reterr, path, lineno, -EBADMSG, "missing event kind");
        if ((size_t) (kind_end - kind) >= sizeof(kind_buf))
                k = _EVENT_INVALID;
        else {
                memcpy(kind_buf, kind, (size_t) (kind_end - kind));
                kind_buf[kind_end - kind] = '\0';
                k = event_kind_from_string(kind_buf);
        }
        if (k < 0)
                return set_error(reterr, path, lineno, -EBADMSG, "unknown event kind '%.*s'",
                                 (int) MIN((size_t) (kind_end - kind), 200), kind);
        if (pat == end)
                return set_error(reterr, path, lineno, -EBADMSG, "missing pattern");
        if (rule_id_exists(s, id, (size_t) (id_end - id)))
                return set_error(reterr, path, lineno, -EBADMSG, "duplicate rule id '%.*s'",
                                 (int) (id_end - id), id);
        if (s->n_rules >= RULES_MAX)
                return set_error(reterr, path, lineno, -ENOSPC, "too many rules (max %u)",
                                 RULES_MAX);

        rule.kind = k;
        rule.code = pcre2_compile((PCRE2_SPTR) pat, (PCRE2_SIZE) (end - pat),
                                  PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_NEVER_UTF |
                                          PCRE2_NEVER_BACKSLASH_C,
                                  &errcode, &erroff, NULL);
        if (!rule.code) {
                PCRE2_UCHAR msg[256];

                if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
                        (void) snprintf((char *) msg, sizeof(msg), "PCRE2 error %d", errcode);
                return set_error(reterr, path, lineno, -EBADMSG, "pattern error at offset %zu: %s",
                                 (size_t) erroff, (const char *) msg);
        }

        if (pcre2_pattern_info(rule.code, PCRE2_INFO_CAPTURECOUNT, &rule.n_captures) != 0) {
                rule_done(&rule);
                return set_error(reterr, path, lineno, -EIO, "cannot query the pattern");
        }
        /* Anchored at both ends, a match is the whole message: a shorter one cannot match. This
         * is what keeps a rule without a literal prefix (sshd.keyopts.cert-source-refused, tried on
         * every line after the rules before it) from running on most lines. */
        if (pcre2_pattern_info(rule.code, PCRE2_INFO_MINLENGTH, &rule.min_length) != 0) {
                rule_done(&rule);
                return set_error(reterr, path, lineno, -EIO, "cannot query the pattern");
        }
        if (rule.n_captures > RULE_CAPTURES_MAX) {
                r = set_error(reterr, path, lineno, -E2BIG, "too many capture groups (%u, max %u)",
                              rule.n_captures, RULE_CAPTURES_MAX);
                rule_done(&rule);
                return r;
        }

        {
                const char *bad = NULL;

                r = rule_resolve_names(&rule, &bad);
                if (r < 0) {
                        r = r == -EBADMSG ? set_error(reterr, path, lineno, r,
                                                      "unknown capture name '%s'", bad ?: "?")
                                          : set_error(reterr, path, lineno, r,
                                                      "cannot read the capture names");
                        rule_done(&rule);
                        return r;
                }
                r = rule_check_required(&rule, &bad);
                if (r < 0) {
                        r = set_error(reterr, path, lineno, r,
                                      "a rule of kind '%s' needs the named capture '%s'",
                                      event_kind_to_string(rule.kind), bad);
                        rule_done(&rule);
                        return r;
                }
        }

        /* JIT is an optimisation: without it (no JIT support, no executable memory) interpret. */
        rule.jit = pcre2_jit_compile(rule.code, PCRE2_JIT_COMPLETE) == 0;

        rule.prefix_len = literal_prefix(pat, (size_t) (end - pat), rule.prefix,
                                         sizeof(rule.prefix));
        {
                /* PCRE2 knows the one byte every match starts with, when there is one. It checks
                 * the literal prefix read from the pattern text (a disagreement would hide the
                 * rule from the lines it matches), and stands in for it when there is none (a
                 * line that starts with a capture, or with inline options: "(?si)Accepted").
                 * PCRE2 does not say whether that byte is caseless: a letter is taken in both
                 * cases, which only ever tries the rule on more lines. */
                uint32_t type = 0, unit = 0;

                if (pcre2_pattern_info(rule.code, PCRE2_INFO_FIRSTCODETYPE, &type) != 0 ||
                    (type == 1 &&
                     pcre2_pattern_info(rule.code, PCRE2_INFO_FIRSTCODEUNIT, &unit) != 0)) {
                        rule_done(&rule);
                        return set_error(reterr, path, lineno, -EIO, "cannot query the pattern");
                }
                if (type == 1 && unit < 256 && rule.prefix_len > 0 &&
                    !first_byte_agrees((unsigned char) rule.prefix[0], (unsigned char) unit)) {
                        r = set_error(reterr, path, lineno, -EBADMSG,
                                      "the literal prefix '%.*s' does not start with the "
                                      "pattern's first character '%c'; write the prefix plainly",
                                      (int) rule.prefix_len, rule.prefix, (int) unit);
                        rule_done(&rule);
                        return r;
                }
                if (rule.prefix_len == 0 && type == 1 && unit < 256) {
                        rule.prefix[0] = (char) unit;
                        rule.prefix_len = 1;
                        rule.prefix_caseless = is_ascii_alpha((unsigned char) unit);
                }
        }

        rule.id = strndup(id, (size_t) (id_end - id));
        if (!rule.id) {
                rule_done(&rule);
                return -ENOMEM;
        }

        r = ensure_match_data(&s->st, rule.n_captures);
        if (r < 0) {
                rule_done(&rule);
                return r;
        }
        if (s->n_rules == s->n_allocated) {
                size_t n = MIN(MAX(s->n_allocated * 2, (size_t) 32), (size_t) RULES_MAX);
                struct rule *a = reallocarray(s->rules, n, sizeof(struct rule));

                if (!a) {
                        rule_done(&rule);
                        return -ENOMEM;
                }
                s->rules = a;
                s->n_allocated = n;
        }

        if (!rule.prefix_caseless) {
                unsigned char head[8] = {}, mask[8] = {};
                size_t n = MIN(rule.prefix_len, sizeof(head));

                memcpy(head, rule.prefix, n);
                memset(mask, 0xff, n);
                memcpy(&rule.head, head, sizeof(head));
                memcpy(&rule.head_mask, mask, sizeof(mask));
        }
        s->rules[s->n_rules++] = rule;
        s->dispatch_valid = false;
        s->generation++;
        return 1;
}

/* Rebuild the first-byte dispatch table; see the invariant at struct rule_set. */
static int rule_set_build_dispatch(struct rule_set *s) {
        _cleanup_free_ uint16_t *d = NULL;
        size_t n_empty = 0, n = 0, total;

        for (size_t i = 0; i < s->n_rules; i++)
                if (s->rules[i].prefix_len == 0)
                        n_empty++;
        /* each prefixed rule is in one bucket (a caseless letter in two); each empty-prefix rule
         * in all 256 plus the last */
        total = 2 * (s->n_rules - n_empty) + n_empty * 257;

        d = malloc(MAX(total, (size_t) 1) * sizeof(uint16_t));
        if (!d)
                return -ENOMEM;

        for (unsigned b = 0; b < 257; b++) {
                s->dispatch_start[b] = n;
                for (size_t i = 0; i < s->n_rules; i++) {
                        const struct rule *r = &s->rules[i];

                        if (r->prefix_len == 0 ||
                            (b < 256 && (r->prefix_caseless
                                                 ? first_byte_agrees((unsigned char) b,
                                                                     (unsigned char) r->prefix[0])
                                                 : (unsigned char) r->prefix[0] == b)))
                                d[n++] = (uint16_t) i;
                }
        }
        s->dispatch_start[257] = n;

        free(s->dispatch);
        s->dispatch = TAKE_PTR(d);
        s->n_dispatch = n;
        s->dispatch_valid = true;
        return 0;
}

static void rule_set_truncate(struct rule_set *s, size_t n) {
        while (s->n_rules > n)
                rule_done(&s->rules[--s->n_rules]);
        s->dispatch_valid = false;
        s->generation++;
}

static void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}

/* Load the rules of one open stream; path names it in errors. */
static int rule_set_load_stream(struct rule_set *s, const char *path, FILE *f,
                                struct rule_load_error *reterr) {
        _cleanup_free_ char *buf = NULL;
        size_t bufsize = 0, n_before;
        unsigned lineno = 0;
        int r;

        n_before = s->n_rules;
        for (;;) {
                ssize_t k;

                errno = 0;
                k = getline(&buf, &bufsize, f);
                if (k < 0) {
                        if (errno != 0 || ferror(f)) {
                                r = errno > 0 ? -errno : -EIO;
                                r = set_error(reterr, path, lineno, r, "read error: %s",
                                              strerror(-r));
                                goto fail;
                        }
                        break;
                }
                lineno++;

                if (k > 0 && buf[k - 1] == '\n')
                        k--;
                if ((size_t) k > RULE_LINE_MAX) {
                        r = set_error(reterr, path, lineno, -E2BIG,
                                      "line too long (%zd bytes, max %u)", k, RULE_LINE_MAX);
                        goto fail;
                }
                if (memchr(buf, '\0', (size_t) k)) {
                        r = set_error(reterr, path, lineno, -EBADMSG, "NUL byte in line");
                        goto fail;
                }

                r = rule_set_add_line(s, path, lineno, buf, (size_t) k, reterr);
                if (r < 0)
                        goto fail;
        }

        r = rule_set_build_dispatch(s);
        if (r < 0)
                goto fail;
        return 0;

fail:
        /* a file loads whole or not at all; earlier files stay usable */
        rule_set_truncate(s, n_before);
        if (rule_set_build_dispatch(s) < 0)
                s->dispatch_valid = false;
        return r;
}

int rule_set_load_file(struct rule_set *s, const char *path, struct rule_load_error *reterr) {
        _cleanup_(fclosep) FILE *f = NULL;

        f = fopen(path, "re");
        if (!f)
                return set_error(reterr, path, 0, -errno, "cannot open: %s", strerror(errno));
        return rule_set_load_stream(s, path, f, reterr);
}

int rule_set_load_string(struct rule_set *s, const char *name, const char *text, size_t len,
                         struct rule_load_error *reterr) {
        _cleanup_(fclosep) FILE *f = NULL;

        if (len == 0)
                return rule_set_build_dispatch(s);
        f = fmemopen((void *) text, len, "r");
        if (!f)
                return -errno;
        return rule_set_load_stream(s, name, f, reterr);
}

static int rules_file_filter(const struct dirent *de) {
        size_t n = strlen(de->d_name);

        return de->d_name[0] != '.' && n > 6 && streq(de->d_name + n - 6, ".rules");
}

static int name_compare(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

int rule_set_load_dir(struct rule_set *s, const char *dir, struct rule_load_error *reterr) {
        struct dirent **list = NULL;
        int n, r = 0;

        n = scandir(dir, &list, rules_file_filter, name_compare);
        if (n < 0)
                return set_error(reterr, dir, 0, -errno, "cannot read directory: %s",
                                 strerror(errno));

        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;

                if (r >= 0) {
                        if (asprintf(&p, "%s/%s", dir, list[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = rule_set_load_file(s, p, reterr);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

/*
 * LogVerbose (8.5+) prefixes each line it forces with a tag, log.c sshlogv():
 * "%.48s:%.48s():%d" (8.5-8.6), "... (pid=%ld)" (8.7-9.9), "... (bin=%s, pid=%ld)" (10.0+), then
 * ": " and the message. Returns the length of such a tag, or 0. sshd's own messages never start
 * with "WORD:WORD():": the first space or ':' rules them out within a few bytes.
 */
static size_t logverbose_tag_len(const char *m, size_t n) {
        static const bool word_end[256] = { [':'] = true, [' '] = true };
        size_t i = 0, j, lim = MIN(n, (size_t) 48);

        /* Every message goes through this loop: one table look-up a byte. */
        while (i < lim && !word_end[(unsigned char) m[i]])
                i++;
        if (i == 0 || i >= n || m[i] != ':')
                return 0;
        j = ++i;
        while (i < n && i - j < 48 && !IN_SET(m[i], '(', ' ', ':'))
                i++;
        if (i == j || n - i < 3 || memcmp(m + i, "():", 3) != 0)
                return 0;
        i += 3;
        j = i;
        while (i < n && m[i] >= '0' && m[i] <= '9')
                i++;
        if (i == j)
                return 0;
        if (n - i >= 2 && m[i] == ' ' && m[i + 1] == '(') {
                const char *e = memchr(m + i, ')', MIN(n - i, (size_t) 160));

                if (!e)
                        return 0;
                i = (size_t) (e - m) + 1;
        }
        if (n - i < 2 || m[i] != ':' || m[i + 1] != ' ')
                return 0;
        return i + 2;
}

/* The bigger JIT stack and the interpreter's retry limits, made on first need. */
static int ensure_big(struct match_state *st) {
        if (st->mctx_big)
                return 0;
        return match_context_new(RETRY_DEPTH_LIMIT, RETRY_HEAP_LIMIT_KIB, JIT_STACK_BIG,
                                 &st->mctx_big, &st->jit_stack_big);
}

static bool is_resource_limit(int r) {
        return IN_SET(r, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT,
                      PCRE2_ERROR_NOMEMORY);
}

/*
 * Run one rule. A stack or memory limit is not an answer: the JIT code is retried with the big
 * stack, then the interpreter with its retry limits. Only the match limit (a pattern that
 * backtracks without end on this line) stays an error. Returns PCRE2's result.
 */
static int rule_run(struct match_state *st, const struct rule *rule, const char *msg, size_t len) {
        PCRE2_SPTR subject = (PCRE2_SPTR) (msg ?: "");
        int r;

        if (rule->jit) {
                r = pcre2_jit_match(rule->code, subject, len, 0, 0, st->match_data, st->mctx);
                if (r >= 0 || r == PCRE2_ERROR_NOMATCH || !is_resource_limit(r))
                        return r;
                if (ensure_big(st) < 0)
                        return PCRE2_ERROR_NOMEMORY;
                st->stats.retried++;
                r = pcre2_jit_match(rule->code, subject, len, 0, 0, st->match_data, st->mctx_big);
                if (!is_resource_limit(r))
                        return r;
        } else {
                r = pcre2_match(rule->code, subject, len, 0, PCRE2_NO_UTF_CHECK, st->match_data,
                                st->mctx);
                if (!is_resource_limit(r))
                        return r;
                if (ensure_big(st) < 0)
                        return PCRE2_ERROR_NOMEMORY;
        }
        st->stats.retried++;
        return pcre2_match(rule->code, subject, len, 0, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                           st->match_data, st->mctx_big);
}

/*
 * The first rule of s (in dispatch order) that matches msg, run with st. Returns 1 with *ret_rule,
 * *ret_skip (the LogVerbose tag's length: the captures are offsets after it) and *ret_pairs
 * (PCRE2's count of ovector pairs set in st->match_data); 0, -ELOOP, -E2BIG, -EINVAL, -EIO as
 * rule_set_match(). The dispatch table must be valid.
 */
static int match_core(const struct rule_set *s, struct match_state *st, const char *msg, size_t len,
                      size_t *ret_rule, size_t *ret_skip, int *ret_pairs) {
        const uint16_t *cand, *cand_end;
        bool limited = false;
        size_t tag = 0;
        int r;

        st->stats.messages++;
        if (len > MESSAGE_MAX) {
                st->stats.too_long++;
                return -E2BIG;
        }
        if (len > 0 && !msg)
                return -EINVAL;
        if (len > 0) {
                tag = logverbose_tag_len(msg, len);
                msg += tag;
                len -= tag;
        }

        if (len == 0) {
                cand = s->dispatch + s->dispatch_start[256];
                cand_end = s->dispatch + s->dispatch_start[257];
        } else {
                unsigned char b = (unsigned char) msg[0];

                cand = s->dispatch + s->dispatch_start[b];
                cand_end = s->dispatch + s->dispatch_start[b + 1];
        }

        for (; cand < cand_end; cand++) {
                const struct rule *rule = &s->rules[*cand];

                if (rule->prefix_len > len || rule->min_length > len)
                        continue;
                if (rule->prefix_caseless) {
                        if (!first_byte_agrees((unsigned char) msg[0],
                                               (unsigned char) rule->prefix[0]))
                                continue;
                } else if (len >= 8) {
                        /* Most candidates differ within 8 bytes: one load, no call. */
                        uint64_t w;

                        memcpy(&w, msg, 8);
                        if ((w & rule->head_mask) != rule->head ||
                            (rule->prefix_len > 8 &&
                             memcmp(msg + 8, rule->prefix + 8, rule->prefix_len - 8) != 0))
                                continue;
                } else if (memcmp(msg, rule->prefix, rule->prefix_len) != 0)
                        continue;

                st->stats.attempts++;
                r = rule_run(st, rule, msg, len);
                if (r == PCRE2_ERROR_NOMATCH)
                        continue;
                if (r < 0 && (r == PCRE2_ERROR_MATCHLIMIT || is_resource_limit(r))) {
                        /* keep trying: a hostile line must not hide a later rule's match */
                        limited = true;
                        continue;
                }
                if (r < 0)
                        return -EIO;
                st->stats.matched++;
                *ret_rule = *cand;
                *ret_skip = tag;
                *ret_pairs = r;
                return 1;
        }

        if (limited) {
                st->stats.match_limit++;
                return -ELOOP;
        }
        return 0;
}

/*
 * *ret as (struct event){ .kind = kind, .rule_id = id }, once per matched message. gcc expands a
 * constant-size zeroing of the 536-byte event to `rep stos`, whose start-up costs more than the
 * zeroing itself (half of rule_set_match()'s samples); libc's memset() does it with vector
 * stores. The size is hidden from the compiler so that memset() is called, not expanded.
 */
static void event_reset(struct event *ret, enum event_kind kind, const char *id) {
        size_t n = sizeof(*ret);

        __asm__("" : "+r"(n));
        memset(ret, 0, n);
        ret->kind = kind;
        ret->rule_id = id;
}

int rule_set_match(struct rule_set *s, const char *msg, size_t len, struct event *ret) {
        const struct rule *rule;
        const PCRE2_SIZE *ov;
        size_t i_rule, skip;
        int r, pairs;

        if (_unlikely_(!s->dispatch_valid)) {
                r = rule_set_build_dispatch(s);
                if (r < 0)
                        return r;
        }
        r = match_core(s, &s->st, msg, len, &i_rule, &skip, &pairs);
        if (r <= 0)
                return r;

        rule = &s->rules[i_rule];
        if (skip > 0)
                msg += skip;
        ov = pcre2_get_ovector_pointer(s->st.match_data);
        event_reset(ret, rule->kind, rule->id);
        for (unsigned i = 0; i < rule->n_fields; i++) {
                uint16_t g = rule->field[i].group;

                if ((uint32_t) g >= (uint32_t) pairs || ov[2 * g] == PCRE2_UNSET)
                        continue;
                ret->field[rule->field[i].field] = (struct strview){
                        .ptr = msg + ov[2 * g],
                        .len = ov[2 * g + 1] - ov[2 * g],
                };
        }
        return 1;
}

int rule_matcher_new(struct rule_set *s, struct rule_matcher **ret) {
        struct rule_matcher *m;
        int r;

        if (!s->dispatch_valid) {
                r = rule_set_build_dispatch(s);
                if (r < 0)
                        return r;
        }
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->set = s;
        r = match_state_init(&m->st);
        if (r >= 0)
                r = ensure_match_data(&m->st, s->st.max_captures);
        if (r < 0) {
                rule_matcher_free(m);
                return r;
        }
        /* Not zeroed: memo_key[] (zeroed with m) says which slots hold a message, so only the
         * slots used are ever touched. Without it, every message runs. */
        m->memo = aligned_alloc(_Alignof(struct memo_slot), MEMO_SLOTS * sizeof(struct memo_slot));
        m->generation = s->generation;
        *ret = m;
        return 0;
}

struct rule_matcher *rule_matcher_free(struct rule_matcher *m) {
        if (!m)
                return NULL;
        match_state_done(&m->st);
        free(m->memo);
        free(m);
        return NULL;
}

/* A hash of a message for the memo, never 0 (an empty slot's). Not keyed (see MEMO_SLOTS). */
static uint64_t memo_hash(const char *p, size_t n) {
        return XXH3_64bits(p, n) | 1;
}

/* The parts of an outcome that hold something: n_fields entries of field[]. */
static void match_copy(struct rule_match *dst, const struct rule_match *src) {
        dst->result = src->result;
        dst->rule = src->rule;
        dst->skip = src->skip;
        dst->n_fields = src->n_fields;
        memcpy(dst->field, src->field, src->n_fields * sizeof(src->field[0]));
        dst->stats = src->stats;
}

/*
 * The memo's part of rule_matcher_run(): 1 and *ret when msg's outcome is remembered; else 0,
 * *ret_slot the slot to remember it in (NULL: not to be remembered) and *ret_hash its hash; -ENOMEM
 * with *ret an outcome that is never replayed (the rules changed and the match data cannot grow).
 */
static int memo_recall(struct rule_matcher *m, const char *msg, size_t len, struct rule_match *ret,
                       struct memo_slot **ret_slot, uint64_t *ret_hash) {
        __typeof__(m->memo_by_byte[0]) *by;
        struct memo_slot *slot;
        uint64_t h;

        /* field[] past n_fields is left as it was: never read */
        ret->set = m->set;
        ret->len = len;
        *ret_slot = NULL;
        if (_unlikely_(m->generation != m->set->generation)) {
                /* Rules were added or removed since (not while this runs: rules.h): every
                 * outcome may differ, and a pattern may have more groups. */
                if (ensure_match_data(&m->st, m->set->st.max_captures) < 0) {
                        /* an outcome of no generation: replaying it matches again */
                        ret->generation = m->generation;
                        ret->result = -ENOMEM;
                        return -ENOMEM;
                }
                memset(m->memo_key, 0, sizeof(m->memo_key));
                m->generation = m->set->generation;
        }
        ret->generation = m->generation;
        if (!m->memo || len == 0 || len > MEMO_MESSAGE_MAX || !msg)
                return 0;
        by = &m->memo_by_byte[(unsigned char) msg[0]];
        if (by->rest > 0) {
                by->rest--;
                return 0;
        }
        if (++by->tries == MEMO_PROBE) {
                if (by->hits * MEMO_MIN_HIT_SHARE < MEMO_PROBE)
                        by->rest = MEMO_REST;
                by->tries = by->hits = 0;
        }
        h = memo_hash(msg, len);
        slot = &m->memo[h & (MEMO_SLOTS - 1)];
        if (m->memo_key[h & (MEMO_SLOTS - 1)] == h && slot->len == len &&
            memcmp(slot->msg, msg, len) == 0) {
                by->hits++;
                match_copy(ret, &slot->m);
                return 1;
        }
        *ret_slot = slot;
        *ret_hash = h;
        return 0;
}

bool rule_matcher_recall(struct rule_matcher *m, const char *msg, size_t len,
                         struct rule_match *ret) {
        struct memo_slot *slot;
        uint64_t h;

        return memo_recall(m, msg, len, ret, &slot, &h) == 1;
}

void rule_matcher_run(struct rule_matcher *m, const char *msg, size_t len, struct rule_match *ret) {
        struct memo_slot *slot = NULL;
        size_t i_rule = 0, skip = 0;
        uint64_t h = 0;
        int pairs = 0;

        if (memo_recall(m, msg, len, ret, &slot, &h) != 0)
                return;
        ret->rule = ret->skip = ret->n_fields = 0;
        /* The counters of this message alone: what the pipeline adds when it replays it. */
        m->st.stats = (struct rule_set_stats){};
        ret->result = match_core(m->set, &m->st, msg, len, &i_rule, &skip, &pairs);
        if (ret->result == 1) {
                const struct rule *rule = &m->set->rules[i_rule];
                const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->st.match_data);
                unsigned j;

                ret->rule = (uint16_t) i_rule;
                ret->skip = (uint16_t) skip;
                for (unsigned i = 0; i < rule->n_fields; i++) {
                        uint16_t g = rule->field[i].group;

                        if ((uint32_t) g >= (uint32_t) pairs || ov[2 * g] == PCRE2_UNSET)
                                continue;
                        /* A later group of one name ((?J)) wins, as in rule_set_match(): one
                         * entry per field, so at most _EVENT_FIELD_MAX. */
                        j = ret->n_fields;
                        if (rule->shared_names)
                                for (j = 0; j < ret->n_fields; j++)
                                        if (ret->field[j].field == rule->field[i].field)
                                                break;
                        if (j == ret->n_fields)
                                ret->n_fields++;
                        ret->field[j] = (__typeof__(ret->field[0])){
                                .field = rule->field[i].field,
                                .start = (uint16_t) ov[2 * g],
                                .len = (uint16_t) (ov[2 * g + 1] - ov[2 * g]),
                        };
                }
        }
        ret->stats = (struct rule_match_stats){
                .messages = (uint16_t) m->st.stats.messages,
                .matched = (uint16_t) m->st.stats.matched,
                .attempts = (uint16_t) m->st.stats.attempts,
                .retried = (uint16_t) m->st.stats.retried,
                .match_limit = (uint16_t) m->st.stats.match_limit,
                .too_long = (uint16_t) m->st.stats.too_long,
        };
        /* Kept when it is the message's answer, not a limit's: a pattern that hit a stack or
         * the match limit on a line may get further on it another time. */
        if (slot && IN_SET(ret->result, 0, 1) && ret->stats.retried == 0 &&
            ret->stats.match_limit == 0) {
                m->memo_key[h & (MEMO_SLOTS - 1)] = h;
                slot->len = (uint32_t) len;
                memcpy(slot->msg, msg, len);
                match_copy(&slot->m, ret);
        }
}

static void stats_add(struct rule_set_stats *a, const struct rule_match_stats *b) {
        a->messages += b->messages;
        a->matched += b->matched;
        a->attempts += b->attempts;
        a->retried += b->retried;
        a->match_limit += b->match_limit;
        a->too_long += b->too_long;
}

int rule_set_match_ahead(struct rule_set *s, const struct rule_match *ahead, const char *msg,
                         size_t len, struct event *ret) {
        const struct rule *rule;

        /* Another set, another message, or a set changed since: match here. */
        if (!ahead || ahead->set != s || ahead->generation != s->generation || ahead->len != len ||
            !s->dispatch_valid ||
            (ahead->result == 1 && (ahead->rule >= s->n_rules || ahead->skip > len)))
                return rule_set_match(s, msg, len, ret);

        stats_add(&s->st.stats, &ahead->stats);
        if (ahead->result != 1)
                return ahead->result;
        rule = &s->rules[ahead->rule];
        if (ahead->skip > 0) {
                msg += ahead->skip;
                len -= ahead->skip;
        }
        event_reset(ret, rule->kind, rule->id);
        for (size_t i = 0; i < ahead->n_fields && i < _EVENT_FIELD_MAX; i++) {
                uint32_t start = ahead->field[i].start;

                if (ahead->field[i].field >= _EVENT_FIELD_MAX || start > len ||
                    ahead->field[i].len > len - start)
                        return -EIO; /* cannot happen: computed on this message */
                ret->field[ahead->field[i].field] = (struct strview){ msg + start,
                                                                     ahead->field[i].len };
        }
        return 1;
}
