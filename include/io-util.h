/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Whole-buffer I/O on a file descriptor, the loops every module used to write for itself
 * (systemd's io-util). Blocking semantics: nothing here polls; the descriptor's mode decides.
 * Nothing logs; the caller names the file in its own message.
 */

#include <stddef.h>

#include "macro.h"

/*
 * Write all n bytes of buf to fd: short writes continue where they stopped, EINTR is retried.
 * Returns 0, -EIO when write(2) returns 0, or write(2)'s -errno (-EAGAIN on a full non-blocking
 * descriptor: what was written before stays written, the caller decides whether to retry).
 * buf is borrowed for the call.
 */
_warn_unused_ int loop_write(int fd, const void *buf, size_t n);

/*
 * Read fd to its end, at most max bytes (max < SIZE_MAX / 2). Returns 0 with *ret (malloc'ed, owned
 * by the caller, NUL-terminated after its *ret_len bytes: a file that holds a NUL is still returned
 * whole), -EFBIG when fd holds more than max bytes (a file over the cap is an error, never cut
 * short), -ENOMEM, or read(2)'s -errno; EINTR is retried. ret and ret_len are written on success
 * only.
 */
_warn_unused_ int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
