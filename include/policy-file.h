/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Policy files (--policy FILE, docs/policy.md): what a key (by fingerprint) or an account may do
 * beyond what authorized_keys says: the commands it runs (exact, PCRE2, or rsync invocations
 * compared by meaning), the addresses it logs in from (CIDR lists, IPv4 and IPv6), the accounts a
 * key logs into, and a label its alerts carry.
 *
 * The parser is a pure function over bytes. A policy file owns everything in it; lookups return
 * borrowed pointers valid as long as the policy file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define POLICY_LINE_MAX (16 * 1024)
#define POLICY_SECTIONS_MAX 65536
#define POLICY_ITEMS_MAX 1024     /* commands, patterns, rsync lines, networks, accounts: each */
#define POLICY_FILE_MAX (64 * 1024 * 1024)

struct policy_file;
struct policy_rule;

/* Where a policy file is wrong: the line (1-based; 0 when not about one line) and an English
 * phrase (static, or in buf). */
struct policy_file_error {
        unsigned line;
        const char *message;
        char buf[256];
};

/*
 * Parse len bytes (any bytes). Returns 0 and *ret, -EBADMSG with *reterr (a syntax or semantic
 * error: the first one), -E2BIG (a limit), -ENOMEM.
 */
_warn_unused_ int policy_file_parse(const char *data, size_t len, struct policy_file **ret,
                                    struct policy_file_error *reterr);

/* Read and parse a file. I/O errors are -errno with reterr->line 0. */
_warn_unused_ int policy_file_load(const char *path, struct policy_file **ret,
                                   struct policy_file_error *reterr);

struct policy_file *policy_file_free(struct policy_file *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy_file *, policy_file_free);

size_t policy_file_size(const struct policy_file *f);

/*
 * The rule that governs a login of key fingerprint into user: the key's section when there is one,
 * else the account's. NULL when neither has one (either may be NULL).
 */
const struct policy_rule *policy_file_lookup(const struct policy_file *f, const char *fingerprint,
                                             const char *user);

/* The account's section, NULL when none. */
const struct policy_rule *policy_file_account(const struct policy_file *f, const char *user);

/* Whether an account's rule lets this key in (its keys list; true when it has none). */
bool policy_rule_allows_key(const struct policy_rule *r, const char *fingerprint);
bool policy_rule_has_keys(const struct policy_rule *r);

/* The rule's label, NULL when it has none; and "key SHA256:..." or "account NAME" with its line. */
const char *policy_rule_label(const struct policy_rule *r);
const char *policy_rule_name(const struct policy_rule *r);
unsigned policy_rule_line(const struct policy_rule *r);

/* Whether the rule restricts sources / commands / accounts at all. */
bool policy_rule_has_sources(const struct policy_rule *r);
bool policy_rule_has_commands(const struct policy_rule *r);
bool policy_rule_has_accounts(const struct policy_rule *r);

/* Whether addr (an IPv4 or IPv6 address as sshd logs it) is in the rule's networks. false for
 * an address that does not parse. */
bool policy_rule_allows_source(const struct policy_rule *r, const char *addr);

/* Whether the rule lets the key log into user. */
bool policy_rule_allows_account(const struct policy_rule *r, const char *user);

/*
 * Whether a command as sshd logged it (vis-escaped; truncated: cut short by syslog, so a prefix)
 * is one the rule expects. Returns 1 yes, 0 no, -errno. *ret_expected (may be NULL) gets the first
 * expected command for messages (borrowed).
 */
_warn_unused_ int policy_rule_allows_command(const struct policy_rule *r, const char *logged,
                                             bool truncated, const char **ret_expected);

/*
 * rsync server invocations compared by meaning: options as a set (the order clients put them in
 * does not matter), short option letters as a multiset, the capability string after -e dropped,
 * the arguments in order. Writes the canonical form of cmd; -EINVAL when cmd is not
 * "rsync --server ...". Pure.
 */
_warn_unused_ int rsync_canonical(const char *cmd, char **ret);

/* Whether s can be written as a section's fingerprint, an account name, a "from" address. */
bool policy_valid_fingerprint(const char *s);
bool policy_valid_account(const char *s);
bool policy_valid_address(const char *s);

/* The inverse of sshd_vis() (vis.h): a command as sshd logged it, as bytes. -EINVAL on a bad
 * escape. */
_warn_unused_ int sshd_unvis(const char *in, char **ret);
