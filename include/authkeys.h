/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * authorized_keys parsing, as sshd(8) "AUTHORIZED_KEYS FILE FORMAT" defines it, and key
 * fingerprints exactly as `ssh-keygen -lf` prints them (SHA256:<unpadded base64>).
 *
 * authkeys_parse_line() is a pure function over bytes (fuzzable). Ownership: a struct authkey owns
 * every string in it; authkey_free() releases it. An authkey_list owns its entries.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define AUTHKEYS_LINE_MAX (16 * 1024) /* sshd's own limit for one authorized_keys line is 16 KiB */
#define AUTHKEYS_ENTRIES_MAX 65536    /* per file */

struct authkey {
        /* Options. Strings are the option values with quotes removed and \" unescaped. */
        char *command;          /* command="..." (NULL when absent) */
        char *from;             /* from="pattern-list" (NULL when absent) */
        char **permitopen;      /* permitopen="host:port", repeatable; NULL-terminated or NULL */
        char **permitlisten;    /* permitlisten="[host:]port", repeatable */
        char **environment;     /* environment="NAME=value", repeatable */
        char *principals;       /* principals="..." */
        char *expiry_time;      /* expiry-time="YYYYMMDD[HHMM[SS]][Z]" as written */
        bool cert_authority;
        bool restrict_;          /* "restrict" */
        bool no_pty, no_port_forwarding, no_agent_forwarding, no_x11_forwarding, no_user_rc;
        bool pty, port_forwarding, agent_forwarding, x11_forwarding, user_rc; /* after restrict */
        bool no_touch_required, verify_required;

        /* The key. */
        char *key_type;         /* as written: "ssh-ed25519", "sk-ssh-ed25519@openssh.com", ... */
        char *fingerprint;      /* "SHA256:..." of the decoded blob, as ssh-keygen -lf prints it */
        char *comment;          /* rest of the line after the key, trimmed; NULL when none */

        /* Where it came from; set by authkeys_parse_file(), NULL/0 from authkeys_parse_line(). */
        char *file;
        unsigned line;
};

struct authkey *authkey_free(struct authkey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct authkey *, authkey_free);

/*
 * The key type as sshd's sshkey_type() names it in log lines: "ssh-ed25519" -> "ED25519",
 * "ssh-rsa" -> "RSA", "ecdsa-sha2-nistp256" -> "ECDSA", "sk-ssh-ed25519@openssh.com" -> "ED25519-SK",
 * "sk-ecdsa-sha2-nistp256@openssh.com" -> "ECDSA-SK", "ssh-dss" -> "DSA", certificate types get
 * "-CERT". Returns a static string, or NULL for an unknown type.
 */
const char *authkey_type_log_name(const char *key_type);

/*
 * Parse one line (len bytes, no trailing newline needed). Returns 1 and *ret for a key line, 0 for a
 * blank or comment line (*ret untouched), -EBADMSG for a malformed line with *reterr_what set to a
 * static English phrase naming the problem ("unterminated quote in options", "unknown key type
 * 'foo'", "invalid base64 in key", "key blob type 'ssh-rsa' does not match 'ssh-ed25519'", ...),
 * -E2BIG for a line over AUTHKEYS_LINE_MAX, -ENOMEM.
 */
_warn_unused_ int authkeys_parse_line(const char *line, size_t len, struct authkey **ret,
                                      const char **reterr_what);

/* SHA-256 fingerprint of a raw key blob, "SHA256:" + unpadded base64. Returns 0, -ENOMEM. */
_warn_unused_ int authkey_fingerprint_blob(const uint8_t *blob, size_t len, char **ret);

struct authkey_list {
        struct authkey **keys; /* owned */
        size_t n;
};

void authkey_list_done(struct authkey_list *l);

/*
 * Parse a whole file and append its key lines to *list (file and line set on each). Strict: the first
 * malformed line stops with -EBADMSG, *reterr_line and *reterr_what set; entries appended before it
 * stay in *list. Lenient (strict = false): malformed lines are skipped and counted in
 * *ret_skipped (may be NULL), and the first one's line/what are still reported through reterr_*.
 * I/O errors return -errno.
 */
_warn_unused_ int authkeys_parse_file(const char *path, bool strict, struct authkey_list *list,
                                      unsigned *ret_skipped, unsigned *reterr_line,
                                      const char **reterr_what);
