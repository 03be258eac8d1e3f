/* SPDX-License-Identifier: MIT */
/*
 * The report as text for a terminal: aligned label columns, long values wrapped with a hanging
 * indent so that every line fits 80 columns, and every string from the logs or the baseline made
 * terminal-safe first (report_escape_terminal()): a user name or command must not be able to move
 * the cursor, recolour the screen or reorder what is read.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "report-internal.h"

#define WIDTH 80
#define LABEL 16 /* the value column of "  label   value" lines */

/* UTF-8 sequence length from its lead byte (input is valid UTF-8). */
static size_t seq_len(unsigned char c) {
        return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
}

char *report_escape_terminal(const char *s) {
        char *e = NULL;

        if (escape_terminal(s ?: "", strlen(s ?: ""), &e) < 0)
                return NULL;
        return e;
}

/* Display columns of a UTF-8 string (one per code point: close enough for logs). */
static size_t columns(const char *s, size_t len) {
        size_t c = 0;

        for (size_t i = 0; i < len; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80)
                        c++;
        return c;
}

/* The byte length of at most cols columns of s. */
static size_t bytes_for(const char *s, size_t cols) {
        size_t i = 0, c = 0;

        while (s[i] && c < cols) {
                i += MIN(seq_len((unsigned char) s[i]), strlen(s + i));
                c++;
        }
        return i;
}

/*
 * Write text (already terminal-safe) from column col, wrapping at spaces so that no line passes
 * WIDTH; continuation lines start with indent spaces. A word longer than a line is cut hard.
 */
static void wrap(struct out *o, size_t col, size_t indent, const char *text) {
        const char *p = text;

        for (;;) {
                size_t room = col < WIDTH ? WIDTH - col : 1, len = strlen(p), cut;

                if (columns(p, len) <= room) {
                        put(o, "%s\n", p);
                        return;
                }
                cut = bytes_for(p, room);
                /* Break at the last space that fits, if there is one past the first column. */
                for (size_t i = cut; i > 0; i--)
                        if (p[i] == ' ') {
                                cut = i;
                                break;
                        }
                put(o, "%.*s\n%*s", (int) cut, p, (int) indent, "");
                p += cut;
                while (*p == ' ')
                        p++;
                col = indent;
        }
}

/* "  label         value", the value escaped and wrapped under itself. */
static void field(struct out *o, const char *label, const char *value) {
        _cleanup_free_ char *v = report_escape_terminal(value);

        if (!v) {
                o->err = -ENOMEM;
                return;
        }
        put(o, "  %-*s", LABEL - 2, label);
        wrap(o, LABEL, LABEL, v);
}

static void fieldf(struct out *o, const char *label, const char *fmt, ...) _printf_(3, 4);
static void fieldf(struct out *o, const char *label, const char *fmt, ...) {
        _cleanup_free_ char *v = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&v, fmt, ap);
        va_end(ap);
        if (n < 0) {
                o->err = -ENOMEM;
                return;
        }
        field(o, label, v);
}

/* s cut to at most cols columns ("..." marks a cut), escaped; malloc'ed. */
static char *cell(const char *s, size_t cols) {
        _cleanup_free_ char *e = report_escape_terminal(s ?: "-");
        char *r;

        if (!e)
                return NULL;
        if (columns(e, strlen(e)) <= cols)
                return TAKE_PTR(e);
        if (asprintf(&r, "%.*s...", (int) bytes_for(e, cols - 3), e) < 0)
                return NULL;
        return r;
}

/* "4 unforced-session, 1 command-mismatch" from an {type: count} object; "none" when empty. */
static char *by_type(json_t *o) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        const char *k;
        json_t *v;
        bool first = true;

        if (!f)
                return NULL;
        json_object_foreach(o, k, v) {
                fprintf(f, "%s%lld %s", first ? "" : ", ", json_integer_value(v), k);
                first = false;
        }
        if (first)
                fputs("none", f);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static void more(struct out *o, json_t *obj, const char *k, const char *what) {
        long long n = doc_int(obj, k);

        if (n > 0)
                put(o, "%*s... and %lld more %s\n", LABEL, "", n, what);
}

static void key_section(struct out *o, json_t *k, size_t n) {
        _cleanup_free_ char *fp = report_escape_terminal(doc_str(k, "fingerprint"));
        _cleanup_free_ char *kt = report_escape_terminal(doc_str(k, "key_type") ?: "type unknown");
        json_t *b = json_object_get(k, "baseline"), *v;
        const char *label;
        size_t i;

        if (!fp || !kt) {
                o->err = -ENOMEM;
                return;
        }
        put(o, "\nKey k%zu: %s (%s)\n", n, fp, kt);
        if (doc_str(k, "ca_fingerprint"))
                field(o, "certificate", doc_str(k, "ca_fingerprint"));
        if (json_is_object(b)) {
                fieldf(o, "baseline", "account %s%s", doc_str(b, "account") ?: "(any)",
                       json_is_true(json_object_get(b, "bound_elsewhere")) ? " (not the one used)"
                                                                           : "");
                field(o, "", doc_str(b, "location") ?: "?");
                if (doc_str(b, "comment"))
                        fieldf(o, "", "comment \"%s\"", doc_str(b, "comment"));
                if (doc_str(b, "command"))
                        fieldf(o, "", "command=\"%s\"", doc_str(b, "command"));
                if (doc_str(b, "from"))
                        fieldf(o, "", "from=\"%s\"", doc_str(b, "from"));
        } else
                field(o, "baseline", "not in the baseline");

        label = "accounts";
        json_array_foreach(json_object_get(k, "accounts"), i, v) {
                fieldf(o, label, "%s (%lld)", doc_str(v, "account"), doc_int(v, "count"));
                label = "";
        }
        if (i == 0)
                field(o, label, "none");
        more(o, k, "accounts_more", "logins into accounts not listed");
        fieldf(o, "logins", "%lld, sessions %lld, refused %lld", doc_int(k, "logins"),
               doc_int(k, "sessions"), doc_int(k, "refused"));
        field(o, "first seen", doc_str(k, "first_seen") ?: "-");
        field(o, "last seen", doc_str(k, "last_seen") ?: "-");
        label = "from";
        json_array_foreach(json_object_get(k, "sources"), i, v) {
                fieldf(o, label, "%s (%lld)", doc_str(v, "address"), doc_int(v, "count"));
                label = "";
        }
        if (i == 0)
                field(o, label, "-");
        more(o, k, "sources_more", "logins from addresses not listed");
        label = "ran";
        json_array_foreach(json_object_get(k, "commands"), i, v) {
                fieldf(o, label, "%lldx %s%s%s%s", doc_int(v, "count"), doc_str(v, "session_type"),
                       doc_str(v, "command") ? " '" : "", doc_str(v, "command") ?: "",
                       doc_str(v, "command")
                               ? (json_is_true(json_object_get(v, "cut")) ? "...' (cut)" : "'")
                               : "");
                label = "";
        }
        if (i == 0)
                field(o, label, "none");
        more(o, k, "commands_more", "sessions of commands not listed");
        label = "asked for";
        json_array_foreach(json_object_get(k, "requested"), i, v) {
                fieldf(o, label, "%lldx '%s'", doc_int(v, "count"), doc_str(v, "command"));
                label = "";
        }
        more(o, k, "requested_more", "requests not listed");
        label = "alerts";
        json_array_foreach(json_object_get(k, "alerts"), i, v) {
                fieldf(o, label, "%s %s %s", doc_str(v, "time"), doc_str(v, "severity"),
                       doc_str(v, "type"));
                label = "";
        }
        if (i == 0)
                field(o, label, "none");
        more(o, k, "alerts_more", "alerts not listed");
}

static void host_section(struct out *o, json_t *h) {
        _cleanup_free_ char *name = report_escape_terminal(doc_str(h, "host"));
        _cleanup_free_ char *mid = report_escape_terminal(doc_str(h, "machine_id"));
        json_t *keys = json_object_get(h, "keys"), *k;
        size_t i;

        if (!name || !mid) {
                o->err = -ENOMEM;
                return;
        }
        put(o, "\n");
        for (i = 0; i < WIDTH; i++)
                put(o, "=");
        put(o, "\nHost %s\n", name);
        field(o, "machine", mid);
        fieldf(o, "entries", "%lld, %s to %s", doc_int(h, "entries"),
               doc_str(h, "first_entry") ?: "-", doc_str(h, "last_entry") ?: "-");
        fieldf(o, "logins", "%lld (%lld without a key), sessions %lld, refused %lld",
               doc_int(h, "logins"), doc_int(h, "keyless_logins"), doc_int(h, "sessions"),
               doc_int(h, "refused"));
        fieldf(o, "alerts", "%lld", doc_int(h, "alerts"));
        fieldf(o, "keys", "%zu", json_array_size(keys));
        json_array_foreach(keys, i, k)
                key_section(o, k, i + 1);
}

static void alert_entry(struct out *o, json_t *a) {
        _cleanup_free_ char *who = NULL;
        json_t *port = json_object_get(a, "source_port");
        char p[24] = "";

        if (json_is_integer(port))
                (void) snprintf(p, sizeof(p), ":%lld", json_integer_value(port));
        if (asprintf(&who, "host %s, account %s, from %s%s, key %s", doc_str(a, "host") ?: "?",
                     doc_str(a, "user") ?: "-", doc_str(a, "source_ip") ?: "-", p,
                     doc_str(a, "fingerprint") ?: "-") < 0) {
                o->err = -ENOMEM;
                return;
        }
        put(o, "\n%s %s %s\n", doc_str(a, "time") ?: "?", doc_str(a, "severity") ?: "?",
            doc_str(a, "type") ?: "?");
        field(o, "id", doc_str(a, "id"));
        field(o, "who", who);
        field(o, "what", doc_str(a, "message"));
}

static void timeline_entry(struct out *o, json_t *e, json_t *labels, char day[static 11]) {
        const char *t = doc_str(e, "time") ?: "", *ev = doc_str(e, "event") ?: "?";
        _cleanup_free_ char *host = cell(doc_str(e, "host"), 10);
        _cleanup_free_ char *user = cell(doc_str(e, "user"), 12);
        _cleanup_free_ char *lk = report_key_label(doc_str(e, "machine_id"),
                                                   doc_str(e, "fingerprint"));
        _cleanup_free_ char *what = NULL, *rest = NULL;
        char key[16] = "-";

        if (!host || !user || !lk) {
                o->err = -ENOMEM;
                return;
        }
        if (strlen(t) >= 23 && strncmp(day, t, 10) != 0) {
                memcpy(day, t, 10);
                day[10] = 0;
                put(o, "%s\n", day);
        }
        if (streq(ev, "alert"))
                what = strdup(doc_str(e, "alert_type") ?: "?");
        else if (streq(ev, "session"))
                (void) asprintf(&what, "%s%s%s",
                                streq_ptr(doc_str(e, "session_type"), "forced-command")
                                        ? "forced:"
                                        : doc_str(e, "session_type") ?: "session",
                                doc_str(e, "command") ? " " : "", doc_str(e, "command") ?: "");
        else
                what = strdup(doc_str(e, "source_ip") ?: "");
        if (!what) {
                o->err = -ENOMEM;
                return;
        }
        if (doc_str(e, "fingerprint") && json_is_integer(json_object_get(labels, lk)))
                (void) snprintf(key, sizeof(key), "k%lld",
                                json_integer_value(json_object_get(labels, lk)));
        /* "  HH:MM:SS.mmm host       login   user         k1   what" */
        rest = cell(what, WIDTH - 2 - 12 - 1 - 10 - 1 - 7 - 1 - 12 - 1 - 4 - 1);
        if (!rest) {
                o->err = -ENOMEM;
                return;
        }
        put(o, "  %.12s %-*s %-7s %-*s %-4s %s\n", strlen(t) >= 23 ? t + 11 : t,
            (int) (10 + strlen(host) - columns(host, strlen(host))), host,
            streq(ev, "alert") ? "ALERT" : ev,
            (int) (12 + strlen(user) - columns(user, strlen(user))), user, key, rest);
}

int report_render_text(json_t *doc, FILE *f) {
        struct out o = { .f = f };
        json_t *totals = json_object_get(doc, "totals"), *v;
        _cleanup_free_ char *types = by_type(json_object_get(totals, "alerts_by_type"));
        _cleanup_free_ char *tot = report_totals_line(totals);
        const char *label = "sources";
        json_auto_t *labels = json_object();
        char day[11] = "";
        json_t *k;
        size_t i, j;

        if (!types || !tot || !labels)
                return -ENOMEM;
        /* Keys are numbered per host (k1, k2, ...) so that the timeline can name them in a few
         * columns. */
        json_array_foreach(json_object_get(doc, "hosts"), i, v)
                json_array_foreach(json_object_get(v, "keys"), j, k) {
                        _cleanup_free_ char *lk = report_key_label(doc_str(v, "machine_id"),
                                                                   doc_str(k, "fingerprint"));

                        if (!lk ||
                            json_object_set_new(labels, lk, json_integer((json_int_t) j + 1)) < 0)
                                return -ENOMEM;
                }
        put(&o, "keytrail report (%s)\n\n", doc_str(doc, "generator"));
        json_array_foreach(json_object_get(doc, "sources"), i, v) {
                field(&o, label, json_string_value(v));
                label = "";
        }
        if (i == 0)
                field(&o, label, "the system journal");
        if (doc_str(doc, "since") || doc_str(doc, "until"))
                fieldf(&o, "asked", "%s to %s", doc_str(doc, "since") ?: "the start",
                       doc_str(doc, "until") ?: "the end");
        fieldf(&o, "entries", "%lld, %s to %s", doc_int(doc, "entries"),
               doc_str(doc, "first_entry") ?: "-", doc_str(doc, "last_entry") ?: "-");
        if (!json_is_true(json_object_get(doc, "trusted_fields")))
                field(&o, "trust", "text logs carry no trusted fields: which program wrote a line "
                                   "is not known, and forged lines cannot be told apart");
        field(&o, "totals", tot);
        field(&o, "alerts", types);

        json_array_foreach(json_object_get(doc, "hosts"), i, v)
                host_section(&o, v);
        if (doc_int(doc, "hosts_more") > 0)
                put(&o, "\n... and %lld more entries of hosts not listed (too many hosts)\n",
                    doc_int(doc, "hosts_more"));
        if (doc_int(doc, "keys_more") > 0)
                put(&o, "\n... and %lld more uses of keys not listed (too many keys)\n",
                    doc_int(doc, "keys_more"));

        put(&o, "\n");
        for (i = 0; i < WIDTH; i++)
                put(&o, "=");
        put(&o, "\nAlerts (%zu)\n", json_array_size(json_object_get(doc, "alerts")));
        json_array_foreach(json_object_get(doc, "alerts"), i, v)
                alert_entry(&o, v);
        if (doc_int(doc, "alerts_more") > 0)
                put(&o, "\n... and %lld more alerts\n", doc_int(doc, "alerts_more"));

        put(&o, "\n");
        for (i = 0; i < WIDTH; i++)
                put(&o, "=");
        put(&o, "\nTimeline (UTC)\n");
        json_array_foreach(json_object_get(doc, "timeline"), i, v)
                timeline_entry(&o, v, labels, day);
        if (doc_int(doc, "timeline_more") > 0)
                put(&o, "... and %lld more events\n", doc_int(doc, "timeline_more"));
        return o.err;
}
