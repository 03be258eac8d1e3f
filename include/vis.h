/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * sshd escapes every log message with strnvis(VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL) (log.c, do_log):
 * backslash doubled, \n \t \r \a \b \v \f \0 in C style, other control bytes, DEL and bytes >= 0x80
 * as three-digit octal. To compare a command from authorized_keys with the one sshd logged, keytrail
 * encodes the former the same way. Pure function.
 */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Encode len bytes of in. Returns 0 and *ret (malloc'ed, NUL-terminated), or -ENOMEM. */
_warn_unused_ int sshd_vis(const char *in, size_t len, char **ret);

/* The same into out, which holds at least len * 4 + 1 bytes. Returns out. */
char *sshd_vis_to(const char *in, size_t len, char *out);

/* Whether sshd_vis() gives len bytes of in back unchanged: none of them is escaped (printable
 * ASCII but the backslash). */
bool sshd_vis_is_identity(const char *in, size_t len);
