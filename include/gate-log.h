/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The journal record keytrail-gate writes for every decision, and keytrail reads back. This is a
 * contract between the two programs and with anyone who queries the journal: never renumber.
 *
 *   MESSAGE            a readable sentence
 *   MESSAGE_ID         GATE_MESSAGE_ID_ALLOWED or GATE_MESSAGE_ID_REJECTED
 *   SYSLOG_IDENTIFIER  keytrail-gate
 *   PRIORITY           6 (allowed), 4 (rejected)
 *   KEYTRAIL_VERDICT   allowed | rejected
 *   KEYTRAIL_REASON    short machine-readable reason, e.g. "not-allowed", "shell-metacharacters",
 *                      "path-outside-dir", "forbidden-option", "wrong-direction", "no-command", ...
 *   SSH_ORIGINAL_COMMAND  the client's request, verbatim (absent when there was none)
 *   SSH_CONNECTION     "CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT", as sshd set it
 *   USER               the account
 *   KEYTRAIL_FINGERPRINT  SHA256:... of the key that authenticated, when sshd exposed it
 *                      (ExposeAuthInfo yes -> SSH_USER_AUTH file); absent otherwise
 *   KEYTRAIL_KEY_TYPE  the key's type as sshd logs it (ED25519, RSA, ...), with the fingerprint
 */

#define GATE_SYSLOG_IDENTIFIER "keytrail-gate"
#define GATE_MESSAGE_ID_ALLOWED "d44ab9f14c0c4cf9a2c1f94d4ee07484"
#define GATE_MESSAGE_ID_REJECTED "2310f8af666e4183b58c41abe99bdf46"
