/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Inside the report module: the collected report becomes one JSON document (the schema of
 * docs/report.md), and the text and HTML renderers read that document, so the three formats say
 * the same thing. Strings in the document are valid UTF-8 (log bytes that were not are "\xNN"
 * text); the renderers escape them for their medium.
 */

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

#include "report.h"

/* The document. Returns a new reference, or NULL on OOM. */
json_t *report_to_json(const struct report *r);

/* Render the document. 0, -ENOMEM, -EIO. */
int report_render_text(json_t *doc, FILE *out);
int report_render_html(json_t *doc, FILE *out);

/* A JSON string for log bytes: valid UTF-8, each byte that is not becoming U+FFFD (escape_utf8()).
 * NULL gives JSON null. Returns NULL on OOM. */
json_t *report_json_string(const char *s);

/* s made safe for a terminal or a page (escape_terminal(): controls, invisible and
 * direction-changing characters as \uXXXX). Returns a malloc'ed string, or NULL on OOM. */
char *report_escape_terminal(const char *s);

/* The key, field or count of a document object, for the renderers. */
static inline const char *doc_str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

static inline long long doc_int(json_t *o, const char *k) {
        return json_integer_value(json_object_get(o, k));
}

/* "MACHINE_ID\nFINGERPRINT": how the renderers tell keys apart (the same key on two hosts is two
 * keys, as in the document). Either may be NULL (as ""). malloc'ed; NULL on OOM. */
char *report_key_label(const char *machine_id, const char *fingerprint);

/* The document's totals as "1 host, 2 keys, 5 logins, 4 sessions, 1 alert" (plain ASCII, the same
 * words in every format). malloc'ed; NULL on OOM. */
char *report_totals_line(json_t *totals);

/* Where a renderer writes: the stream (borrowed) and the first error met (-EIO, -ENOMEM). The
 * renderers write on after an error and return err at the end. */
struct out {
        FILE *f;
        int err;
};

/* printf to o->f; a failed write sets o->err to -EIO. */
static inline void put(struct out *o, const char *fmt, ...) _printf_(2, 3);
static inline void put(struct out *o, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        if (vfprintf(o->f, fmt, ap) < 0)
                o->err = -EIO;
        va_end(ap);
}
