/* SPDX-License-Identifier: MIT */
/*
 * Parse fixture runner (after SSHGuard's tests.txt): loads the rules of $SOURCE_DIR/rules (or of
 * the directory given with --rules DIR) and checks every record of a fixture file, one TAP line
 * per record.
 *
 *     test-parse-fixtures [--rules DIR] FIXTURE
 *     test-parse-fixtures [--rules DIR] --coverage FIXTURE...
 *
 * The second form checks that every rule is the expected match of at least one "ok" record.
 *
 * Fixture format (also described at the top of every fixture file): '#' lines are comments;
 * records are separated by blank lines; a record is three lines:
 *
 *     <log line: the journal MESSAGE, verbatim>
 *     none | <event-kind> rule=<rule-id> [<field>=<value> ...]
 *     ok | gap
 *
 * Every field the event has must be listed and no other: a listed field must be present with that
 * value, an unlisted one absent. A value is a bare word, or "double quoted" with \" \\ \n \t \r
 * and \xHH escapes (use "" for a present but empty field). "ok" must pass; "gap" is a known gap,
 * reported as TAP TODO (a gap that starts passing shows up as an unexpected pass).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "event.h"
#include "macro.h"
#include "rules.h"
#include "tap.h"

#define FIELD_VALUE_MAX 2048

struct expect {
        bool none;
        enum event_kind kind;
        char rule_id[160];
        bool has[_EVENT_FIELD_MAX];
        char value[_EVENT_FIELD_MAX][FIELD_VALUE_MAX];
        size_t len[_EVENT_FIELD_MAX];
};

struct covered {
        char **ids;
        size_t n;
};

/* Parse one value at *p into buf; advances *p past it. Returns length or -EBADMSG. */
static ssize_t parse_value(const char **p, char *buf, size_t size) {
        const char *s = *p;
        size_t n = 0;

        if (*s != '"') {
                while (*s && *s != ' ') {
                        if (n + 1 >= size)
                                return -EBADMSG;
                        buf[n++] = *s++;
                }
                *p = s;
                return (ssize_t) n;
        }

        s++;
        for (;;) {
                char c = *s++;

                if (c == '\0')
                        return -EBADMSG;
                if (c == '"')
                        break;
                if (c == '\\') {
                        c = *s++;
                        switch (c) {
                        case 'n':
                                c = '\n';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        case 'r':
                                c = '\r';
                                break;
                        case 'x': {
                                int h = unhexchar(s[0]), l = h >= 0 ? unhexchar(s[1]) : -1;

                                if (l < 0)
                                        return -EBADMSG;
                                c = (char) (h * 16 + l);
                                s += 2;
                                break;
                        }
                        case '"':
                        case '\\':
                                break;
                        default:
                                return -EBADMSG;
                        }
                }
                if (n + 1 >= size)
                        return -EBADMSG;
                buf[n++] = c;
        }
        if (*s != '\0' && *s != ' ')
                return -EBADMSG;
        *p = s;
        return (ssize_t) n;
}

static int parse_expect(const char *line, struct expect *e) {
        const char *p = line;
        char word[64];
        size_t n = 0;

        *e = (struct expect){};
        if (streq(line, "none")) {
                e->none = true;
                return 0;
        }

        while (*p && *p != ' ' && n + 1 < sizeof(word))
                word[n++] = *p++;
        word[n] = '\0';
        e->kind = event_kind_from_string(word);
        if (e->kind < 0)
                return -EBADMSG;

        for (;;) {
                const char *eq;
                char key[64];
                enum event_field f;
                ssize_t k;

                while (*p == ' ')
                        p++;
                if (*p == '\0')
                        break;
                eq = strchr(p, '=');
                if (!eq || (size_t) (eq - p) >= sizeof(key))
                        return -EBADMSG;
                memcpy(key, p, (size_t) (eq - p));
                key[eq - p] = '\0';
                p = eq + 1;

                if (streq(key, "rule")) {
                        k = parse_value(&p, e->rule_id, sizeof(e->rule_id));
                        if (k < 0)
                                return (int) k;
                        e->rule_id[k] = '\0';
                        continue;
                }
                f = event_field_from_string(key);
                if (f < 0 || e->has[f])
                        return -EBADMSG;
                k = parse_value(&p, e->value[f], sizeof(e->value[f]));
                if (k < 0)
                        return (int) k;
                e->has[f] = true;
                e->len[f] = (size_t) k;
        }
        return e->rule_id[0] ? 0 : -EBADMSG; /* rule= is required: it drives --coverage */
}

/* Compare; on mismatch write a one-line reason into why. */
static bool check(const struct expect *e, int r, const struct event *ev, char *why, size_t size) {
        if (r < 0) {
                (void) snprintf(why, size, "rule_set_match() failed: %s", strerror(-r));
                return false;
        }
        if (e->none) {
                if (r == 0)
                        return true;
                (void) snprintf(why, size, "expected no match, got %s rule=%s",
                                event_kind_to_string(ev->kind), ev->rule_id);
                return false;
        }
        if (r == 0) {
                (void) snprintf(why, size, "expected %s rule=%s, got no match",
                                event_kind_to_string(e->kind), e->rule_id);
                return false;
        }
        if (ev->kind != e->kind || !streq(ev->rule_id, e->rule_id)) {
                (void) snprintf(why, size, "expected %s rule=%s, got %s rule=%s",
                                event_kind_to_string(e->kind), e->rule_id,
                                event_kind_to_string(ev->kind), ev->rule_id);
                return false;
        }
        for (int f = 0; f < _EVENT_FIELD_MAX; f++) {
                struct strview v = ev->field[f];

                if (!e->has[f] && !v.ptr)
                        continue;
                if (!e->has[f]) {
                        (void) snprintf(why, size, "unexpected field %s='%.*s'",
                                        event_field_to_string(f), (int) MIN(v.len, 200),
                                        v.ptr);
                        return false;
                }
                if (!v.ptr) {
                        (void) snprintf(why, size, "missing field %s (want '%.*s')",
                                        event_field_to_string(f), (int) MIN(e->len[f], 200),
                                        e->value[f]);
                        return false;
                }
                if (v.len != e->len[f] || memcmp(v.ptr, e->value[f], v.len) != 0) {
                        (void) snprintf(why, size, "field %s: got '%.*s', want '%.*s'",
                                        event_field_to_string(f), (int) MIN(v.len, 300), v.ptr,
                                        (int) MIN(e->len[f], 300), e->value[f]);
                        return false;
                }
        }
        return true;
}

static int covered_add(struct covered *c, const char *id) {
        char **l;

        for (size_t i = 0; i < c->n; i++)
                if (streq(c->ids[i], id))
                        return 0;
        l = realloc(c->ids, (c->n + 1) * sizeof(char *));
        if (!l)
                return -ENOMEM;
        c->ids = l;
        c->ids[c->n] = strdup(id);
        if (!c->ids[c->n])
                return -ENOMEM;
        c->n++;
        return 0;
}

static void chomp(char *s) {
        size_t n = strlen(s);

        if (n > 0 && s[n - 1] == '\n')
                s[n - 1] = '\0';
}

/*
 * Run every record of one fixture file. With cov, only collect the rule ids of passing "ok"
 * records instead of printing TAP. Returns 0, or -errno for a broken fixture file.
 */
static int run_file(struct rule_set *rules, const char *path, struct covered *cov) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ struct expect *e = NULL;
        char *rec[3] = {};
        unsigned rec_line = 0, lineno = 0;
        size_t bufsize = 0;
        int n = 0, r = 0;
        FILE *f;

        e = malloc(sizeof(*e));
        if (!e)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f) {
                r = -errno;
                tap_ok(0, "open %s: %s", path, strerror(errno));
                return r;
        }

        for (;;) {
                ssize_t k = getline(&buf, &bufsize, f);
                bool end = k < 0;

                if (!end) {
                        lineno++;
                        chomp(buf);
                        if (buf[0] == '#')
                                continue;
                }
                if (!end && buf[0] != '\0') {
                        if (n == 3) {
                                tap_ok(0, "%s:%u: record has more than 3 lines", path, lineno);
                                r = -EBADMSG;
                                break;
                        }
                        if (n == 0)
                                rec_line = lineno;
                        rec[n] = strdup(buf);
                        if (!rec[n]) {
                                r = -ENOMEM;
                                break;
                        }
                        n++;
                        continue;
                }

                /* blank line or EOF: a record is complete */
                if (n > 0) {
                        struct event ev = {};
                        char why[1024] = "";
                        bool gap, pass;
                        int m;

                        if (n != 3 || parse_expect(rec[1], e) < 0 ||
                            (!streq(rec[2], "ok") && !streq(rec[2], "gap"))) {
                                tap_ok(0, "%s:%u: malformed record", path, rec_line);
                                r = -EBADMSG;
                                break;
                        }
                        gap = streq(rec[2], "gap");
                        m = rule_set_match(rules, rec[0], strlen(rec[0]), &ev);
                        pass = check(e, m, &ev, why, sizeof(why));

                        if (cov) {
                                if (pass && !gap && !e->none) {
                                        r = covered_add(cov, e->rule_id);
                                        if (r < 0)
                                                break;
                                }
                        } else if (gap) {
                                tap_n++;
                                printf("%sok %u - %s:%u: %.60s # TODO known gap\n",
                                       pass ? "" : "not ", tap_n, path, rec_line, rec[0]);
                                if (!pass)
                                        tap_diag("%s", why);
                        } else if (!tap_ok(pass, "%s:%u: %.60s", path, rec_line, rec[0]))
                                tap_diag("%s", why);
                }
                for (int i = 0; i < n; i++) {
                        free(rec[i]);
                        rec[i] = NULL;
                }
                n = 0;
                if (end)
                        break;
        }

        for (int i = 0; i < n; i++)
                free(rec[i]);
        (void) fclose(f);
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_free_ char *dir_alloc = NULL;
        struct rule_load_error err = {};
        struct covered cov = {};
        const char *dir = NULL;
        bool coverage = false;
        int i = 1, r;

        for (; i < argc; i++) {
                if (streq(argv[i], "--rules") && i + 1 < argc)
                        dir = argv[++i];
                else if (streq(argv[i], "--coverage"))
                        coverage = true;
                else
                        break;
        }
        if (i >= argc) {
                fprintf(stderr, "usage: %s [--rules DIR] [--coverage] FIXTURE...\n", argv[0]);
                return 2;
        }
        if (!dir) {
                const char *src = getenv("SOURCE_DIR");

                if (asprintf(&dir_alloc, "%s/rules", src ?: ".") < 0)
                        return 2;
                dir = dir_alloc;
        }

        rules = rule_set_new();
        if (!rules)
                return 2;
        r = rule_set_load_dir(rules, dir, &err);
        if (!tap_ok(r == 0 && rule_set_size(rules) > 0, "load rules from %s (%zu rules)", dir,
                    rule_set_size(rules)))
                tap_diag("%s:%u: %s", err.file ?: dir, err.line, err.message ?: strerror(-r));
        rule_load_error_done(&err);
        if (r < 0)
                return tap_done();

        for (int j = i; j < argc; j++) {
                r = run_file(rules, argv[j], coverage ? &cov : NULL);
                if (r < 0 && !coverage)
                        break;
                if (r < 0)
                        tap_ok(0, "%s: broken fixture file (%s)", argv[j], strerror(-r));
        }

        if (coverage) {
                /* every rule of the set needs a passing "ok" record somewhere */
                for (size_t k = 0; k < rule_set_size(rules); k++) {
                        const char *id = rule_set_rule_id(rules, k);
                        bool found = false;

                        for (size_t j = 0; j < cov.n; j++)
                                found = found || streq(cov.ids[j], id);
                        tap_ok(found, "rule %s has a passing fixture", id);
                }
                for (size_t k = 0; k < cov.n; k++)
                        free(cov.ids[k]);
                free(cov.ids);
        }
        return tap_done();
}
