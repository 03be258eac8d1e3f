/* SPDX-License-Identifier: MIT */
/*
 * The report as one self-contained HTML page: inline CSS, the timeline as inline SVG (a lane per
 * key, hosts apart; a circle per session, a tick per login, a triangle per alert), no script, no
 * font, no image, no link outside the page; a Content-Security-Policy that forbids them anyway,
 * should an escaping bug ever let markup through. Every string from the logs or the baseline is
 * made terminal-safe (visible escapes for control and bidi characters) and then HTML-escaped.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report-internal.h"
#include "timeutil.h"

/* Text content or attribute value: escaped for HTML after control and bidi characters were made
 * visible. NULL writes def. */
static void esc(struct out *o, const char *s, const char *def) {
        _cleanup_free_ char *e = NULL;

        if (!s) {
                s = def;
                if (!s)
                        return;
        }
        e = report_escape_terminal(s);
        if (!e) {
                o->err = -ENOMEM;
                return;
        }
        for (const char *p = e; *p; p++)
                switch (*p) {
                case '&':
                        put(o, "&amp;");
                        break;
                case '<':
                        put(o, "&lt;");
                        break;
                case '>':
                        put(o, "&gt;");
                        break;
                case '"':
                        put(o, "&quot;");
                        break;
                case '\'':
                        put(o, "&#39;");
                        break;
                default:
                        if (fputc(*p, o->f) == EOF)
                                o->err = -EIO;
                }
}

/* At most max bytes of s (cut on a character; "..." marks a cut), for labels with little room. */
static void esc_cut(struct out *o, const char *s, size_t max, const char *def) {
        char buf[64];
        size_t n;

        assert(max < sizeof(buf) - 3);
        if (!s) {
                esc(o, NULL, def);
                return;
        }
        n = strnlen(s, max + 1);
        if (n <= max) {
                esc(o, s, def);
                return;
        }
        n = max;
        while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                n--;
        memcpy(buf, s, n);
        memcpy(buf + n, "...", 4);
        esc(o, buf, def);
}

/* A fingerprint in a few columns: "SHA256:" and the first 12 characters of the hash. */
static void esc_fp(struct out *o, const char *fp, const char *def) {
        char buf[20];

        if (!fp || strnlen(fp, 20) < 20) {
                esc(o, fp, def);
                return;
        }
        memcpy(buf, fp, 19);
        buf[19] = 0;
        /* A cut multibyte character would be escaped as bytes; fingerprints are base64. */
        esc(o, buf, def);
}

static const char *const css =
        ":root{--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;--bg2:#f6f8fa;--crit:#a40e26;"
        "--high:#cf222e;--med:#bc4c00;--sess:#0969da;--login:#8c959f}"
        "*{box-sizing:border-box}"
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);"
        "margin:0 auto;max-width:1180px;padding:16px 24px;background:#fff}"
        "h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;border-bottom:2px solid var(--line);"
        "padding-bottom:4px;margin:28px 0 10px}h3{font-size:16px;margin:18px 0 6px}"
        "h4{font-size:14px;margin:0 0 6px;font-weight:600}"
        "code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:12.5px;"
        "overflow-wrap:anywhere}"
        ".gen,.mute{color:var(--mute)}"
        "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px;margin:8px 0}"
        "dl.facts dt{font-weight:600}dl.facts dd{margin:0}"
        ".untrusted{border:1px solid var(--med);background:#fff8f0;padding:6px 10px;"
        "border-radius:4px}"
        ".badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;"
        "font-weight:600;color:#fff;margin:1px 4px 1px 0;white-space:nowrap}"
        ".sev-critical{background:var(--crit)}.sev-high{background:var(--high)}"
        ".sev-medium{background:var(--med)}"
        ".key{border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:10px 0;"
        "break-inside:avoid}"
        ".key.alerted{border-left:5px solid var(--high)}"
        "table{border-collapse:collapse;width:100%}"
        "th,td{text-align:left;vertical-align:top;padding:3px 8px;border-bottom:1px solid "
        "var(--line)}"
        "table.kv th{width:120px;color:var(--mute);font-weight:600}"
        "table.list{width:auto}table.list td{border:0;padding:0 10px 1px 0}"
        "table.list td.n{text-align:right}"
        "table.grid thead th{background:var(--bg2)}"
        "svg{width:100%;height:auto;border:1px solid var(--line);border-radius:6px}"
        "svg text{font:11px system-ui,sans-serif;fill:var(--fg)}"
        "svg .host{font-weight:700;font-size:12px}svg .band{fill:var(--bg2)}"
        "svg .lane{stroke:var(--line);stroke-width:1}"
        "svg .axis{stroke:var(--mute);stroke-width:1}svg .tick{fill:var(--mute)}"
        ".m-session{fill:var(--sess);fill-opacity:.75}"
        ".m-login{stroke:var(--login);stroke-width:1.5}"
        ".m-refused{stroke:var(--med);stroke-width:2}"
        ".m-alert{stroke:#fff;stroke-width:.8}"
        ".m-alert.sev-critical{fill:var(--crit)}.m-alert.sev-high{fill:var(--high)}"
        ".m-alert.sev-medium{fill:var(--med)}"
        ".legend span{margin-right:14px}"
        ".legend svg{width:14px;height:14px;border:0;vertical-align:-2px}"
        "@media print{body{max-width:none;padding:0;font-size:11px}h2{break-after:avoid}"
        "svg{break-inside:avoid}tr{break-inside:avoid}}";

/* "1 host", "2 hosts". */
static void put_count(struct out *o, long long n, const char *one, const char *many) {
        put(o, "%lld %s", n, plural(n, one, many));
}

static const char *severity_of(const char *type) {
        enum alert_type t = alert_type_from_string(type);

        return t >= 0 ? alert_type_severity(t) : "high";
}

/* "4 unforced-session" badges from an {type: count} object. */
static void badges(struct out *o, json_t *by_type) {
        const char *k;
        json_t *v;

        if (json_object_size(by_type) == 0) {
                put(o, "none");
                return;
        }
        json_object_foreach(by_type, k, v) {
                put(o, "<span class=\"badge sev-%s\">%lld ", severity_of(k), json_integer_value(v));
                esc(o, k, NULL);
                put(o, "</span>");
        }
}

/* ---- the timeline -------------------------------------------------------------------------- */

#define SVG_W 1000
#define SVG_LABEL 250      /* x where the plot starts */
#define SVG_RIGHT 20
#define SVG_LANE 22
#define SVG_BAND 22
#define SVG_AXIS 34
#define SVG_PAD 10         /* room at both ends of the plot, so marks are never cut */

/* Log time as seconds since the epoch, from the document's RFC 3339 text. */
static double doc_time(const char *s) {
        struct tm tm = {};
        double frac = 0;
        char *end;

        if (!s)
                return 0;
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return 0;
        if (*end == '.')
                frac = strtod(end, NULL);
        return (double) timegm(&tm) + frac;
}

static void svg_mark_title(struct out *o, json_t *e) {
        const char *ev = doc_str(e, "event");

        put(o, "<title>");
        esc(o, doc_str(e, "time"), "");
        put(o, " ");
        if (streq_ptr(ev, "alert"))
                esc(o, doc_str(e, "alert_type"), "alert");
        else
                esc(o, ev, "?");
        put(o, " ");
        esc(o, doc_str(e, "user"), "");
        if (doc_str(e, "source_ip")) {
                put(o, " from ");
                esc(o, doc_str(e, "source_ip"), NULL);
        }
        if (doc_str(e, "session_type")) {
                put(o, ": ");
                esc(o, doc_str(e, "session_type"), NULL);
                if (doc_str(e, "command")) {
                        put(o, " ");
                        esc(o, doc_str(e, "command"), NULL);
                }
        }
        put(o, "</title>");
}

static void timeline_svg(struct out *o, json_t *doc) {
        json_t *hosts = json_object_get(doc, "hosts"), *timeline = json_object_get(doc, "timeline");
        json_auto_t *lanes = json_object(), *keyless = json_object();
        json_t *h, *k, *e;
        double t0 = 0, t1 = 0, plot = SVG_W - SVG_LABEL - SVG_RIGHT - 2 * SVG_PAD;
        size_t i, j, height = 8;
        char buf[TIMEUTIL_RFC3339_MAX];

        if (!lanes || !keyless) {
                o->err = -ENOMEM;
                return;
        }
        json_array_foreach(timeline, i, e) {
                double t = doc_time(doc_str(e, "time"));

                if (t0 == 0 || t < t0)
                        t0 = t;
                if (t > t1)
                        t1 = t;
                if (!doc_str(e, "fingerprint") &&
                    json_object_set_new(keyless, doc_str(e, "machine_id") ?: "", json_true()) < 0)
                        o->err = -ENOMEM;
        }
        if (t1 <= t0)
                t1 = t0 + 1;

        /* The lanes: per host a band, then one lane per key and one for alerts without a key. */
        json_array_foreach(hosts, i, h) {
                height += SVG_BAND + SVG_LANE * json_array_size(json_object_get(h, "keys"));
                if (json_object_get(keyless, doc_str(h, "machine_id") ?: ""))
                        height += SVG_LANE;
        }
        height += SVG_AXIS;
        put(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %zu\" role=\"img\" "
               "aria-labelledby=\"tl-title\"><title id=\"tl-title\">Sessions per key over time, "
               "alerts marked</title>\n", SVG_W, height);

        height = 8;
        json_array_foreach(hosts, i, h) {
                const char *mid = doc_str(h, "machine_id") ?: "";
                bool kl = json_object_get(keyless, mid) != NULL;

                put(o, "<g class=\"hostband\"><rect class=\"band\" x=\"0\" y=\"%zu\" width=\"%d\" "
                       "height=\"%d\"/><text class=\"host\" x=\"8\" y=\"%zu\">Host ",
                    height, SVG_W, SVG_BAND, height + 15);
                esc_cut(o, doc_str(h, "host"), 60, "?");
                put(o, "</text></g>\n");
                height += SVG_BAND;
                json_array_foreach(json_object_get(h, "keys"), j, k) {
                        _cleanup_free_ char *lk = report_key_label(mid, doc_str(k, "fingerprint"));
                        json_t *acc = json_array_get(json_object_get(k, "accounts"), 0);
                        const char *fp = doc_str(k, "fingerprint") ?: "";

                        if (!lk ||
                            json_object_set_new(lanes, lk, json_integer((json_int_t) height)) < 0) {
                                o->err = -ENOMEM;
                                return;
                        }
                        put(o, "<line class=\"lane\" x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\"/>"
                               "<text x=\"8\" y=\"%zu\">k%zu ",
                            SVG_LABEL, height + SVG_LANE / 2, SVG_W - SVG_RIGHT,
                            height + SVG_LANE / 2, height + 15, j + 1);
                        /* "SHA256:" and the first 12 characters of the hash. */
                        esc_fp(o, fp, NULL);
                        put(o, " ");
                        esc_cut(o, acc ? doc_str(acc, "account") : NULL, 16, "");
                        put(o, "</text>\n");
                        height += SVG_LANE;
                }
                if (kl) {
                        json_t *y = json_integer((json_int_t) height);

                        if (json_object_set_new(keyless, mid, y) < 0) {
                                o->err = -ENOMEM;
                                return;
                        }
                        put(o, "<line class=\"lane\" x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\"/>"
                               "<text x=\"8\" y=\"%zu\">no key (forged entries, ...)</text>\n",
                            SVG_LABEL, height + SVG_LANE / 2, SVG_W - SVG_RIGHT,
                            height + SVG_LANE / 2, height + 15);
                        height += SVG_LANE;
                }
        }

        /* The axis: five ticks, labelled with the time of day; the dates are in the caption. */
        put(o, "<line class=\"axis\" x1=\"%d\" y1=\"%zu\" x2=\"%d\" y2=\"%zu\"/>\n", SVG_LABEL,
            height + 4, SVG_W - SVG_RIGHT, height + 4);
        for (int t = 0; t <= 4; t++) {
                double x = SVG_LABEL + SVG_PAD + plot * t / 4;
                uint64_t usec = (uint64_t) ((t0 + (t1 - t0) * t / 4) * 1e6);

                timeutil_format_rfc3339(usec, buf);
                put(o, "<line class=\"axis\" x1=\"%.1f\" y1=\"%zu\" x2=\"%.1f\" y2=\"%zu\"/>"
                       "<text class=\"tick\" x=\"%.1f\" y=\"%zu\" text-anchor=\"%s\">%.8s</text>\n",
                    x, height + 4, x, height + 9, x, height + 22,
                    t == 0 ? "start" : t == 4 ? "end" : "middle", buf + 11);
        }

        /* The marks, in time order: alerts last so they are drawn on top. */
        for (int pass = 0; pass < 2; pass++)
                json_array_foreach(timeline, i, e) {
                        const char *ev = doc_str(e, "event") ?: "";
                        _cleanup_free_ char *lk = report_key_label(doc_str(e, "machine_id"),
                                                                   doc_str(e, "fingerprint"));
                        json_t *y = NULL;
                        double x = SVG_LABEL + SVG_PAD +
                                   plot * (doc_time(doc_str(e, "time")) - t0) / (t1 - t0);
                        long long cy;

                        if (!lk) {
                                o->err = -ENOMEM;
                                return;
                        }
                        if ((pass == 1) != streq(ev, "alert"))
                                continue;
                        y = doc_str(e, "fingerprint")
                                    ? json_object_get(lanes, lk)
                                    : json_object_get(keyless, doc_str(e, "machine_id") ?: "");
                        if (!json_is_integer(y))
                                continue;
                        cy = json_integer_value(y) + SVG_LANE / 2;
                        if (streq(ev, "session"))
                                put(o,
                                    "<circle class=\"m-session\" cx=\"%.1f\" cy=\"%lld\" "
                                    "r=\"4.5\">",
                                    x, cy);
                        else if (streq(ev, "login"))
                                put(o,
                                    "<line class=\"m-login\" x1=\"%.1f\" y1=\"%lld\" x2=\"%.1f\" "
                                    "y2=\"%lld\">",
                                    x, cy - 8, x, cy + 8);
                        else if (streq(ev, "refused"))
                                put(o, "<path class=\"m-refused\" d=\"M%.1f %lldl8 8m0 -8l-8 8\">",
                                    x - 4, cy - 4);
                        else
                                put(o, "<path class=\"m-alert sev-%s\" d=\"M%.1f %lldl6 10h-12z\">",
                                    severity_of(doc_str(e, "alert_type")), x, cy - 6);
                        svg_mark_title(o, e);
                        put(o, "%s\n", streq(ev, "session") ? "</circle>"
                                       : streq(ev, "login") ? "</line>" : "</path>");
                }
        put(o, "</svg>\n");
}

/* ---- the sections -------------------------------------------------------------------------- */

static void kv_start(struct out *o, const char *label) {
        put(o, "<tr><th>%s</th><td>", label);
}

/* A row of {name, count} objects: count, then the name; what did not fit, counted. */
static void counted_rows(struct out *o, const char *label, json_t *list, const char *name_key,
                         long long more, const char *more_what) {
        json_t *v;
        size_t i;

        kv_start(o, label);
        put(o, "<table class=\"list\">");
        json_array_foreach(list, i, v) {
                put(o, "<tr><td class=\"n\">%lld</td><td><code>", doc_int(v, "count"));
                esc(o, doc_str(v, name_key), "?");
                put(o, "</code></td></tr>");
        }
        put(o, "</table>");
        if (more > 0)
                put(o, "... and %lld more %s not listed", more, more_what);
        put(o, "</td></tr>");
}

static void key_html(struct out *o, json_t *k, size_t n) {
        json_t *b = json_object_get(k, "baseline"), *v;
        size_t i;

        put(o, "<div class=\"key%s\" id=\"",
            json_array_size(json_object_get(k, "alerts")) ? " alerted" : "");
        esc(o, doc_str(k, "fingerprint"), "");
        put(o, "\"><h4>k%zu <code>", n);
        esc(o, doc_str(k, "fingerprint"), "?");
        put(o, "</code> <span class=\"mute\">");
        esc(o, doc_str(k, "key_type"), "type unknown");
        put(o, "</span></h4><table class=\"kv\">");
        if (doc_str(k, "ca_fingerprint")) {
                kv_start(o, "Certificate CA");
                put(o, "<code>");
                esc(o, doc_str(k, "ca_fingerprint"), NULL);
                put(o, "</code></td></tr>");
        }
        kv_start(o, "Baseline");
        if (json_is_object(b)) {
                put(o, "account <b>");
                esc(o, doc_str(b, "account"), "(any)");
                put(o, "</b>%s, <code>",
                    json_is_true(json_object_get(b, "bound_elsewhere")) ? " (not the one used)"
                                                                        : "");
                esc(o, doc_str(b, "location"), "?");
                put(o, "</code>");
                if (doc_str(b, "comment")) {
                        put(o, "<br>comment <code>");
                        esc(o, doc_str(b, "comment"), NULL);
                        put(o, "</code>");
                }
                if (doc_str(b, "command")) {
                        put(o, "<br>command=<code>");
                        esc(o, doc_str(b, "command"), NULL);
                        put(o, "</code>");
                }
                if (doc_str(b, "from")) {
                        put(o, "<br>from=<code>");
                        esc(o, doc_str(b, "from"), NULL);
                        put(o, "</code>");
                }
        } else
                put(o, "<b>not in the baseline</b>");
        put(o, "</td></tr>");
        kv_start(o, "Accounts");
        json_array_foreach(json_object_get(k, "accounts"), i, v) {
                put(o, "%s<b>", i ? ", " : "");
                esc(o, doc_str(v, "account"), "?");
                put(o, "</b> (%lld)", doc_int(v, "count"));
        }
        if (doc_int(k, "accounts_more") > 0)
                put(o, " ... and %lld more logins into accounts not listed",
                    doc_int(k, "accounts_more"));
        put(o, "</td></tr>");
        kv_start(o, "Use");
        put_count(o, doc_int(k, "logins"), "login", "logins");
        put(o, ", ");
        put_count(o, doc_int(k, "sessions"), "session", "sessions");
        put(o, ", %lld refused</td></tr>", doc_int(k, "refused"));
        kv_start(o, "Seen");
        esc(o, doc_str(k, "first_seen"), "-");
        put(o, " to ");
        esc(o, doc_str(k, "last_seen"), "-");
        put(o, "</td></tr>");
        counted_rows(o, "From", json_object_get(k, "sources"), "address",
                     doc_int(k, "sources_more"), "logins from addresses");
        kv_start(o, "Sessions");
        put(o, "<table class=\"list\">");
        json_array_foreach(json_object_get(k, "commands"), i, v) {
                put(o, "<tr><td class=\"n\">%lld</td><td>", doc_int(v, "count"));
                esc(o, doc_str(v, "session_type"), "?");
                put(o, "</td><td><code>");
                esc(o, doc_str(v, "command"), "");
                put(o, "</code>%s</td></tr>",
                    json_is_true(json_object_get(v, "cut")) ? " <i>(cut)</i>" : "");
        }
        put(o, "</table>");
        if (doc_int(k, "commands_more") > 0)
                put(o, "... and %lld more sessions of commands not listed",
                    doc_int(k, "commands_more"));
        put(o, "</td></tr>");
        if (json_array_size(json_object_get(k, "requested")) > 0)
                counted_rows(o, "Asked for", json_object_get(k, "requested"), "command",
                             doc_int(k, "requested_more"), "requests");
        kv_start(o, "Alerts");
        json_array_foreach(json_object_get(k, "alerts"), i, v) {
                put(o, "%s<a href=\"#a-", i ? "<br>" : "");
                esc(o, doc_str(v, "id"), "");
                put(o, "\"><span class=\"badge sev-");
                esc(o, doc_str(v, "severity"), "high");
                put(o, "\">");
                esc(o, doc_str(v, "type"), "?");
                put(o, "</span></a> ");
                esc(o, doc_str(v, "time"), "");
        }
        if (i == 0)
                put(o, "none");
        if (doc_int(k, "alerts_more") > 0)
                put(o, "<br>... and %lld more alerts not listed", doc_int(k, "alerts_more"));
        put(o, "</td></tr></table></div>\n");
}

static void alerts_html(struct out *o, json_t *doc) {
        json_t *a;
        size_t i;

        put(o, "<section id=\"alerts\"><h2>Alerts (%zu)</h2>\n",
            json_array_size(json_object_get(doc, "alerts")));
        put(o, "<table class=\"grid\"><thead><tr><th>Time</th><th>Alert</th><th>Host</th>"
               "<th>Account</th><th>From</th><th>What</th></tr></thead><tbody>\n");
        json_array_foreach(json_object_get(doc, "alerts"), i, a) {
                json_t *port = json_object_get(a, "source_port");

                put(o, "<tr id=\"a-");
                esc(o, doc_str(a, "id"), "");
                put(o, "\"><td class=\"mono\">");
                esc(o, doc_str(a, "time"), "");
                put(o, "</td><td><span class=\"badge sev-");
                esc(o, doc_str(a, "severity"), "high");
                put(o, "\">");
                esc(o, doc_str(a, "type"), "?");
                put(o, "</span></td><td>");
                esc(o, doc_str(a, "host"), "?");
                put(o, "</td><td>");
                esc(o, doc_str(a, "user"), "-");
                put(o, "</td><td class=\"mono\">");
                esc(o, doc_str(a, "source_ip"), "-");
                if (json_is_integer(port))
                        put(o, ":%lld", json_integer_value(port));
                put(o, "</td><td>");
                esc(o, doc_str(a, "message"), "");
                put(o, "<br><span class=\"mute mono\">id ");
                esc(o, doc_str(a, "id"), "");
                put(o, "</span></td></tr>\n");
        }
        put(o, "</tbody></table>");
        if (doc_int(doc, "alerts_more") > 0)
                put(o, "<p>... and %lld more alerts</p>", doc_int(doc, "alerts_more"));
        put(o, "</section>\n");
}

static void events_html(struct out *o, json_t *doc) {
        json_t *e;
        size_t i;

        put(o, "<section id=\"events\"><h2>Events (UTC)</h2>\n<table class=\"grid\"><thead><tr>"
               "<th>Time</th><th>Host</th><th>Event</th><th>Account</th><th>Key</th>"
               "<th>Detail</th></tr></thead><tbody>\n");
        json_array_foreach(json_object_get(doc, "timeline"), i, e) {
                const char *ev = doc_str(e, "event") ?: "?";

                put(o, "<tr><td class=\"mono\">");
                esc(o, doc_str(e, "time"), "");
                put(o, "</td><td>");
                esc(o, doc_str(e, "host"), "?");
                put(o, "</td><td>");
                if (streq(ev, "alert")) {
                        put(o, "<span class=\"badge sev-%s\">",
                            severity_of(doc_str(e, "alert_type")));
                        esc(o, doc_str(e, "alert_type"), "alert");
                        put(o, "</span>");
                } else
                        esc(o, ev, NULL);
                put(o, "</td><td>");
                esc(o, doc_str(e, "user"), "-");
                put(o, "</td><td class=\"mono\">");
                esc_fp(o, doc_str(e, "fingerprint"), "-");
                put(o, "</td><td>");
                if (doc_str(e, "session_type")) {
                        esc(o, doc_str(e, "session_type"), NULL);
                        put(o, " <code>");
                        esc(o, doc_str(e, "command"), "");
                        put(o, "</code>");
                } else
                        esc(o, doc_str(e, "source_ip"), "");
                put(o, "</td></tr>\n");
        }
        put(o, "</tbody></table>");
        if (doc_int(doc, "timeline_more") > 0)
                put(o, "<p>... and %lld more events</p>", doc_int(doc, "timeline_more"));
        put(o, "</section>\n");
}

int report_render_html(json_t *doc, FILE *f) {
        struct out o = { .f = f };
        json_t *totals = json_object_get(doc, "totals"), *h, *k, *v;
        _cleanup_free_ char *tot = report_totals_line(totals);
        size_t i, j;

        if (!tot)
                return -ENOMEM;

        put(&o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "style-src 'unsafe-inline'\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>keytrail report</title>\n<style>%s</style>\n</head>\n<body>\n", css);
        put(&o, "<header><h1>keytrail report</h1><div class=\"gen\">");
        esc(&o, doc_str(doc, "generator"), "");
        put(&o, "</div></header>\n<section id=\"summary\"><h2>Summary</h2><dl class=\"facts\">"
                "<dt>Sources</dt><dd>");
        json_array_foreach(json_object_get(doc, "sources"), i, v) {
                put(&o, "%s<code>", i ? "<br>" : "");
                esc(&o, json_string_value(v), "");
                put(&o, "</code>");
        }
        if (i == 0)
                put(&o, "the system journal");
        put(&o, "</dd>");
        if (doc_str(doc, "since") || doc_str(doc, "until")) {
                put(&o, "<dt>Asked for</dt><dd>");
                esc(&o, doc_str(doc, "since"), "the start");
                put(&o, " to ");
                esc(&o, doc_str(doc, "until"), "the end");
                put(&o, "</dd>");
        }
        put(&o, "<dt>Entries</dt><dd>%lld, ", doc_int(doc, "entries"));
        esc(&o, doc_str(doc, "first_entry"), "-");
        put(&o, " to ");
        esc(&o, doc_str(doc, "last_entry"), "-");
        put(&o, "</dd><dt>Totals</dt><dd>%s</dd><dt>Alerts</dt><dd>", tot);
        badges(&o, json_object_get(totals, "alerts_by_type"));
        put(&o, "</dd></dl>\n");
        if (!json_is_true(json_object_get(doc, "trusted_fields")))
                put(&o, "<p class=\"untrusted\">Text logs carry no trusted fields: which program "
                        "wrote a line is not known, and forged lines cannot be told apart.</p>\n");
        put(&o, "</section>\n");

        put(&o, "<section id=\"timeline\"><h2>Timeline</h2>\n<p class=\"legend\">"
                "<span><svg viewBox=\"0 0 14 14\"><circle class=\"m-session\" cx=\"7\" cy=\"7\" "
                "r=\"4.5\"/></svg> session</span>"
                "<span><svg viewBox=\"0 0 14 14\"><line class=\"m-login\" x1=\"7\" y1=\"0\" "
                "x2=\"7\" y2=\"14\"/></svg> login</span>"
                "<span><svg viewBox=\"0 0 14 14\"><path class=\"m-refused\" "
                "d=\"M3 3l8 8m0 -8l-8 8\"/></svg> refused (from=)</span>"
                "<span><svg viewBox=\"0 0 14 14\"><path class=\"m-alert sev-high\" "
                "d=\"M7 1l6 10h-12z\"/></svg> alert</span> ");
        esc(&o, doc_str(doc, "first_entry"), "");
        put(&o, " to ");
        esc(&o, doc_str(doc, "last_entry"), "");
        put(&o, " (UTC)</p>\n");
        timeline_svg(&o, doc);
        if (doc_int(doc, "timeline_more") > 0)
                put(&o, "<p>... and %lld more events not drawn</p>", doc_int(doc, "timeline_more"));
        put(&o, "</section>\n");

        put(&o, "<section id=\"keys\"><h2>Keys by host</h2>\n");
        json_array_foreach(json_object_get(doc, "hosts"), i, h) {
                put(&o, "<article class=\"host\"><h3>Host ");
                esc(&o, doc_str(h, "host"), "?");
                put(&o, " <span class=\"mute mono\">machine ");
                esc(&o, doc_str(h, "machine_id"), "?");
                put(&o, "</span></h3><p>%lld entries, ", doc_int(h, "entries"));
                esc(&o, doc_str(h, "first_entry"), "-");
                put(&o, " to ");
                esc(&o, doc_str(h, "last_entry"), "-");
                put(&o, "; ");
                put_count(&o, doc_int(h, "logins"), "login", "logins");
                put(&o, " (%lld without a key), ", doc_int(h, "keyless_logins"));
                put_count(&o, doc_int(h, "sessions"), "session", "sessions");
                put(&o, ", %lld refused, ", doc_int(h, "refused"));
                put_count(&o, doc_int(h, "alerts"), "alert", "alerts");
                put(&o, "</p>\n");
                json_array_foreach(json_object_get(h, "keys"), j, k)
                        key_html(&o, k, j + 1);
                put(&o, "</article>\n");
        }
        if (doc_int(doc, "hosts_more") > 0)
                put(&o, "<p>... and %lld more entries of hosts not listed (too many hosts)</p>",
                    doc_int(doc, "hosts_more"));
        if (doc_int(doc, "keys_more") > 0)
                put(&o, "<p>... and %lld more uses of keys not listed (too many keys)</p>",
                    doc_int(doc, "keys_more"));
        put(&o, "</section>\n");

        alerts_html(&o, doc);
        events_html(&o, doc);
        put(&o, "</body>\n</html>\n");
        return o.err;
}
