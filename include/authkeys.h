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
#include <stdio.h>

#include "macro.h"

#define AUTHKEYS_LINE_MAX (16 * 1024) /* sshd's own limit for one authorized_keys line is 16 KiB */
#define AUTHKEYS_ENTRIES_MAX 65536    /* per file */

struct authkey {
        /*
         * Options, parsed as sshd's sshauthopt_parse() does: names are case-insensitive, values
         * are "quoted" with \" standing for a literal quote (the only escape; a backslash before
         * anything else is kept). Strings are the values with quotes removed and \" unescaped;
         * all are owned.
         */
        char *command;          /* command="..." (NULL when absent; a second one is an error) */
        char *from;             /* from="pattern-list" (NULL when absent; a second is an error) */
        char **permitopen;      /* permitopen="host:port", repeatable; NULL-terminated or NULL */
        char **permitlisten;    /* permitlisten="[host:]port" as written, repeatable */
        char **environment;     /* environment="NAME=value", repeatable; a repeated NAME is dropped
                                 * (sshd: the first one wins) */
        char *principals;       /* principals="..." */
        char *expiry_time;      /* expiry-time="YYYYMMDD[HHMM[SS]][Z]" as written; of several, the
                                 * earliest */
        char *tunnel;           /* tunnel="N" or "any" as written */
        bool cert_authority;
        bool restrict_;          /* "restrict" */
        /*
         * The five permissions are normalised to sshd's end result (the last option wins, and
         * "restrict" resets all five wherever it stands): no_X is true when X ends up denied (by
         * no-X or by restrict), so "X allowed" is always !no_X; X is true when X was re-enabled
         * after restrict (restrict_ && !no_X).
         */
        bool no_pty, no_port_forwarding, no_agent_forwarding, no_x11_forwarding, no_user_rc;
        bool pty, port_forwarding, agent_forwarding, x11_forwarding, user_rc; /* after restrict */
        bool no_touch_required, verify_required; /* last of [no-]touch-required/verify-required */

        /* The key. */
        char *key_type;         /* as written: "ssh-ed25519", "sk-ssh-ed25519@openssh.com", ... */
        char *fingerprint;      /* "SHA256:..." as ssh-keygen -lf prints it: for a certificate,
                                 * that of its public key (what sshd logs) */
        char *comment;          /* rest of the line after the key, trimmed; NULL when none */
        char *text;             /* the whole line as written, leading and trailing blanks and the
                                 * line ending removed: options, type, key, comment (parsing it
                                 * again gives the same record) */

        /* Where it came from; set by authkeys_parse_file(), NULL/0 from authkeys_parse_line(). */
        char *file;
        unsigned line;
};

struct authkey *authkey_free(struct authkey *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct authkey *, authkey_free);

/*
 * The key type as sshd's sshkey_type() names it in log lines: "ssh-ed25519" -> "ED25519",
 * "ssh-rsa" (and "rsa-sha2-256"/"rsa-sha2-512") -> "RSA", "ecdsa-sha2-nistp256" -> "ECDSA",
 * "sk-ssh-ed25519@openssh.com" -> "ED25519-SK", "sk-ecdsa-sha2-nistp256@openssh.com" (and
 * "webauthn-sk-ecdsa-sha2-nistp256@openssh.com") -> "ECDSA-SK", "ssh-dss" -> "DSA",
 * "ssh-xmss@openssh.com" -> "XMSS"; certificate types get "-CERT". Returns a static string, or NULL
 * for an unknown type (including newer @openssh.com types that authkeys_parse_line() tolerates).
 */
const char *authkey_type_log_name(const char *key_type);

/*
 * Parse one line (len bytes; a trailing "\n" or "\r\n" is ignored). Returns 1 and *ret for a key
 * line, 0 for a blank or comment line (*ret untouched), -EBADMSG for a malformed line with
 * *reterr_what set to a static English phrase naming the problem ("unterminated quote in options",
 * "unknown key type", "unknown key option", "invalid base64 in key", "key blob type does not match
 * declared type", ...; the phrases never contain input bytes), -E2BIG for a line over
 * AUTHKEYS_LINE_MAX (*reterr_what = "line too long"), -ENOMEM. reterr_what may be NULL.
 *
 * A line is a key line when sshd would use it: the key is checked first (type, base64, blob
 * structure, blob type == declared type, EC point on its curve, RSA modulus >= 1024 bits), then the
 * options. Not checked: certificate signatures. A NUL byte anywhere is rejected. Unknown types
 * ending in "@openssh.com" are accepted when the blob's inner type string equals them (plain
 * keys only; such certificates are rejected as "unsupported certificate key type").
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
 * Parse a whole file and append its key lines to *list (file and line set on each; line numbers
 * start at 1). CRLF line endings are accepted. Strict: the first malformed line stops with -EBADMSG
 * (or -E2BIG for an overlong line), *reterr_line and *reterr_what set; entries appended before it
 * stay in *list. Lenient (strict = false): malformed and overlong lines are skipped and counted in
 * *ret_skipped (may be NULL), and the first one's line/what are still reported through reterr_*
 * (untouched when there is none); returns 0. More than AUTHKEYS_ENTRIES_MAX key lines in one file
 * is -ENOSPC with *reterr_line the first line past the limit and *reterr_what saying so (the first
 * ones stay in *list). I/O errors return -errno. reterr_* may be NULL.
 */
_warn_unused_ int authkeys_parse_file(const char *path, bool strict, struct authkey_list *list,
                                      unsigned *ret_skipped, unsigned *reterr_line,
                                      const char **reterr_what);

/* The same over len bytes at data (borrowed), read as the file name (for each key's file). */
_warn_unused_ int authkeys_parse_buffer(const char *name, const char *data, size_t len, bool strict,
                                        struct authkey_list *list, unsigned *ret_skipped,
                                        unsigned *reterr_line, const char **reterr_what);

/*
 * Read one line of f into buf (at most cap bytes kept, without the "\n"; not NUL-terminated).
 * Returns 1 with *ret_len, and *ret_long when the line was longer than cap (the rest is consumed
 * and dropped); 0 at EOF; -errno. A bounded line reader for the line formats keytrail reads.
 */
_warn_unused_ int authkeys_read_line(FILE *f, char *buf, size_t cap, size_t *ret_len,
                                     bool *ret_long);
