/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Turning log bytes (attacker-written, any byte) into text for alerts, unambiguously.
 *
 * A C string made from a log view by strview_dup() holds a NUL byte as the pair C0 80 (never valid
 * UTF-8); every function here reads that pair as U+0000. Three encodings:
 *
 *  - escape_quote(): a JSON-style string literal for inside a sentence: "..." with \" \\ \n \r \t,
 *    \uXXXX for controls (C0, DEL, C1) and invisible or direction-changing characters (bidi
 *    embeddings and isolates U+202A..U+202E, U+2066..U+2069, marks, zero-width characters, line
 *    and paragraph separators, BOM), and \xNN for each byte that is not UTF-8. The backslash
 *    itself is escaped, so nothing in the input can imitate an escape, and the closing quote
 *    cannot be written by the input.
 *  - escape_terminal(): the same escapes for controls, invisible characters and invalid bytes, but
 *    no quotes and backslashes left alone: for text we built (a sentence with quoted values) on
 *    its way to a terminal.
 *  - escape_utf8(): valid UTF-8 for a JSON string field: each byte that is not UTF-8 becomes
 *    U+FFFD, the rest is kept (JSON escapes controls itself); *ret_changed tells that the exact
 *    bytes must be given separately (escape_hex()).
 *
 * Every function returns 0 and a malloc'ed NUL-terminated string in *ret, or -ENOMEM.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Length (1-4) of the valid UTF-8 character at s[0..n), or 0 when s does not start with one
 * (overlong forms, surrogates and code points above U+10FFFF are not valid). *ret_cp: its value. */
size_t utf8_char(const char *s, size_t n, uint32_t *ret_cp);

/* Whether a code point is a control, or changes how the text around it is shown. */
bool unicode_is_unsafe(uint32_t cp);

/* The value (0-15) of the hex digit c, either case; -EINVAL when c is not one. For reading back
 * "\xNN" escapes. */
int unhexchar(char c);

/* Whether s is a non-empty run of [A-Za-z0-9+/=:._@-] (fingerprints, addresses, ports, most
 * paths): written bare, such a run can neither end nor imitate the sentence or line around it;
 * anything else is written through escape_quote(). */
bool escape_is_token(const char *s);

_warn_unused_ int escape_quote(const char *s, size_t n, char **ret);
_warn_unused_ int escape_terminal(const char *s, size_t n, char **ret);
_warn_unused_ int escape_utf8(const char *s, size_t n, char **ret, size_t *ret_len,
                              bool *ret_changed);
/* Lowercase hex of the bytes, the pair C0 80 read as 00. */
_warn_unused_ int escape_hex(const char *s, size_t n, char **ret);
