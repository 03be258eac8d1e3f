/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Which key authenticated the session keytrail-gate runs in. With `ExposeAuthInfo yes`, sshd writes
 * the methods that succeeded to a file named by $SSH_USER_AUTH, one per line, e.g.
 *   publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA...
 * The last publickey line is the key that completed authentication. Its fingerprint is computed with
 * the authorized_keys module (include/authkeys.h), so it is the string sshd logs and ssh-keygen -lf
 * prints. Nothing here logs.
 */

#include <stddef.h>

#include "macro.h"

#define GATE_AUTH_FILE_MAX (64 * 1024) /* bytes read from the SSH_USER_AUTH file */

/*
 * Parse the contents of an SSH_USER_AUTH file (len bytes). Returns 1 with *ret_fingerprint
 * ("SHA256:...") and *ret_key_type (the log name: "ED25519", "RSA", ... or NULL when unknown; both
 * owned by the caller), 0 when there is no usable publickey line (outputs untouched), -ENOMEM.
 */
_warn_unused_ int gate_auth_parse(const char *buf, size_t len, char **ret_fingerprint,
                                  char **ret_key_type);

/*
 * Read the file at path (not following a symlink in its last component) and parse it as above.
 * Returns 1/0 as gate_auth_parse(), -E2BIG over GATE_AUTH_FILE_MAX, -errno from open()/read().
 */
_warn_unused_ int gate_auth_read_file(const char *path, char **ret_fingerprint,
                                      char **ret_key_type);
