/* SPDX-License-Identifier: MIT */
/*
 * Decisions: what a key was meant to do (the baseline) against what it did (the correlator's view).
 * Holds no state of its own besides counters; per-session de-duplication lives in the conn's
 * alerted bits, so a replay of the same entries decides the same way.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "vis.h"

struct policy {
        struct policy_config cfg;
        uint64_t alerts;
        /* Where the evidence of the alert being built is (add_evidence()); its cursors are asked
         * of the source only when it is emitted. */
        const struct alert *refs_of;
        struct entry_ref refs[ALERT_EVIDENCE_MAX];
        size_t n_refs;
};

int policy_new(const struct policy_config *cfg, struct policy **ret) {
        struct policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->cfg = *cfg;
        *ret = p;
        return 0;
}

struct policy *policy_free(struct policy *p) {
        free(p);
        return NULL;
}

uint64_t policy_alerts(const struct policy *p) {
        return p->alerts;
}

void policy_set_baseline(struct policy *p, const struct baseline *b) {
        p->cfg.baseline = b;
}

/* a is the alert being built now: it has no evidence yet. */
static void evidence_start(struct policy *p, const struct alert *a) {
        p->refs_of = a;
        p->n_refs = 0;
}

static void alert_from_conn(struct policy *p, struct alert *a, enum alert_type t,
                            const struct conn *c, const struct decision_ctx *ctx) {
        evidence_start(p, a);
        *a = (struct alert){
                .type = t,
                .time_usec = ctx->usec,
                .host = c->host,
                .machine_id = c->machine_id,
                .boot_id = c->boot_id,
                .user = c->user,
                .fingerprint = c->fingerprint,
                .key_type = c->key_type,
                .source_ip = c->addr,
                .source_port = c->port,
                .sshd_pid = c->monitor_pid,
                .session_id = -1,
                .key_location = c->key_location,
                .rule_id = ctx->rule_id,
        };
}

/* The entry at ref is evidence of a (the alert being built): its cursor is asked of the source
 * when a is emitted (emit()), never for an alert that is not. */
static void add_evidence(struct policy *p, const struct alert *a, const struct entry_ref *ref) {
        if (p->refs_of != a)
                evidence_start(p, a); /* (every builder starts with evidence_start()) */
        if (!ref || ref->kind == ENTRY_REF_NONE || p->n_refs >= ALERT_EVIDENCE_MAX)
                return;
        for (size_t i = 0; i < p->n_refs; i++)
                if (entry_ref_equal(&p->refs[i], ref))
                        return;
        p->refs[p->n_refs++] = *ref;
}

static void cursors_free(char *(*l)[ALERT_EVIDENCE_MAX]) {
        for (size_t i = 0; i < ALERT_EVIDENCE_MAX; i++)
                free((*l)[i]);
}

static int emit(struct policy *p, const struct alert *a) {
        _cleanup_(cursors_free) char *cursors[ALERT_EVIDENCE_MAX] = {};
        const struct policy_rule *pr;
        struct alert out = *a; /* a shallow copy: the sink only reads it */
        int r;

        p->alerts++;
        if (!p->cfg.emit)
                return 0;
        /* The evidence: the cursors of the entries that decided it, in order, each once. */
        out.n_evidence = 0;
        for (size_t i = 0; p->refs_of == a && i < p->n_refs && p->cfg.cursor; i++) {
                bool again = false;

                r = p->cfg.cursor(p->cfg.cursor_userdata, &p->refs[i], &cursors[i]);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                for (size_t k = 0; k < out.n_evidence; k++)
                        again = again || streq(out.evidence[k], cursors[i]);
                if (!again && cursors[i][0])
                        out.evidence[out.n_evidence++] = cursors[i];
        }
        /* --policy: every alert about a key or account with a label carries it. */
        pr = policy_file_lookup(p->cfg.policy_file, a->fingerprint, a->user);
        if (pr && policy_rule_label(pr) && !a->label)
                out.label = policy_rule_label(pr);
        return p->cfg.emit(p->cfg.userdata, &out);
}

/* An alert about session s of c. */
static void alert_from_session(struct policy *p, struct alert *a, enum alert_type t,
                               const struct conn *c,
                               const struct conn_session *s, const struct decision_ctx *ctx,
                               const char *expected) {
        alert_from_conn(p, a, t, c, ctx);
        a->session_type = s->type;
        a->session_id = s->id;
        a->expected_command = expected;
        a->observed_command = s->command;
        add_evidence(p, a, &c->accept_ref);
        add_evidence(p, a, &s->ref);
}

/* Raise once per connection. */
static int emit_conn(struct policy *p, struct conn *c, struct alert *a) {
        unsigned bit = 1u << a->type;

        if (c->alerted & bit)
                return 0;
        c->alerted |= bit;
        return emit(p, a);
}

/* The fingerprint the baseline knows the login by: a certificate's CA (its cert-authority line),
 * or the key itself. */
static const char *baseline_fp(const struct conn *c) {
        return c->ca_fingerprint ?: c->fingerprint;
}

/* How messages name the key: its fingerprint, or for a 7.4-7.8 certificate line (which names only
 * the CA) the CA's. */
static const char *key_name(const struct conn *c) {
        return c->fingerprint ?: c->ca_fingerprint;
}

static const char *key_type_of(const struct conn *c, const struct baseline_entry *e) {
        if (c->key_type)
                return c->key_type;
        return e ? authkey_type_log_name(e->key->key_type) : NULL;
}

/* ---- --policy (policy-file.h): checks beside the baseline's ----------------------------------- */

/* The rule that governs a login: its key's section (a certificate's, else its CA's), else its
 * account's. */
static const struct policy_rule *rule_of(const struct policy *p, const struct conn *c) {
        return policy_file_lookup(p->cfg.policy_file, c->fingerprint, NULL)
                       ?: policy_file_lookup(p->cfg.policy_file, c->ca_fingerprint, c->user);
}

/* One connection-level alert of the policy file: "Key K ... WHAT [SECTION] (line N) ...". */
static int policy_file_conn_alert(struct policy *p, struct conn *c, const struct decision_ctx *ctx,
                                  enum alert_type t, const struct policy_rule *r,
                                  const char *what) {
        _cleanup_(alert_done) struct alert a = {};
        int k;

        alert_from_conn(p, &a, t, c, ctx);
        add_evidence(p, &a, &c->accept_ref);
        k = alert_set_message(&a, "Key %s logged into account %s from %s, %s [%s] (line %u).",
                              alert_token(&a, key_name(c)) ?: "(unknown key)",
                              alert_quote(&a, c->user),
                              alert_token(&a, c->addr) ?: "an unknown address", what,
                              policy_rule_name(r), policy_rule_line(r));
        if (k < 0)
                return k;
        return emit_conn(p, c, &a);
}

static int policy_file_accepted(struct policy *p, struct conn *c, const struct decision_ctx *ctx) {
        const struct policy_rule *r = rule_of(p, c), *acct;
        int k;

        acct = policy_file_account(p->cfg.policy_file, c->user);
        if (acct && key_name(c) && policy_rule_has_keys(acct) &&
            !(c->fingerprint && policy_rule_allows_key(acct, c->fingerprint)) &&
            !(c->ca_fingerprint && policy_rule_allows_key(acct, c->ca_fingerprint))) {
                k = policy_file_conn_alert(p, c, ctx, ALERT_UNKNOWN_KEY, acct,
                                           "a key not among the keys of the policy's");
                if (k < 0)
                        return k;
        }
        if (!r)
                return 0;
        if (c->addr && !policy_rule_allows_source(r, c->addr)) {
                k = policy_file_conn_alert(p, c, ctx, ALERT_UNEXPECTED_SOURCE, r,
                                           "outside the sources of the policy's");
                if (k < 0)
                        return k;
        }
        if (!policy_rule_allows_account(r, c->user)) {
                k = policy_file_conn_alert(p, c, ctx, ALERT_WRONG_USER, r,
                                           "an account not among the accounts of the policy's");
                if (k < 0)
                        return k;
        }
        return 0;
}

static int policy_file_session(struct policy *p, struct conn *c, struct conn_session *s,
                               const struct decision_ctx *ctx) {
        const struct policy_rule *r = rule_of(p, c);
        _cleanup_(alert_done) struct alert a = {};
        const char *expected = NULL;
        int k;

        if (!r || !policy_rule_has_commands(r))
                return 0;
        k = policy_rule_allows_command(r, s->command,
                                       s->truncated ||
                                               (s->command &&
                                                strlen(s->command) >= FORCED_COMMAND_LOG_MAX),
                                       &expected);
        if (k < 0)
                return k;
        alert_from_session(p, &a, ALERT_UNFORCED_SESSION, c, s, ctx, expected);
        if (!streq(s->type, "forced-command")) {
                if (s->alerted & (1u << ALERT_UNFORCED_SESSION))
                        return 0;
                s->alerted |= 1u << ALERT_UNFORCED_SESSION;
                k = alert_set_message(&a,
                                      "Key %s of account %s, which the policy's [%s] (line %u) "
                                      "expects to run only its commands, started a %s session "
                                      "from %s.",
                                      alert_token(&a, key_name(c)) ?: "(unknown key)",
                                      alert_quote(&a, c->user), policy_rule_name(r),
                                      policy_rule_line(r), alert_token(&a, s->type),
                                      alert_token(&a, c->addr) ?: "an unknown address");
                if (k < 0)
                        return k;
                return emit(p, &a);
        }
        if (k > 0 || (s->alerted & (1u << ALERT_COMMAND_MISMATCH)))
                return 0;
        s->alerted |= 1u << ALERT_COMMAND_MISMATCH;
        a.type = ALERT_COMMAND_MISMATCH;
        k = alert_set_message(&a,
                              "Key %s of account %s ran the forced command %s, which the "
                              "policy's [%s] (line %u) does not expect.",
                              alert_token(&a, key_name(c)) ?: "(unknown key)",
                              alert_quote(&a, c->user), alert_quote(&a, s->command) ?: "(none)",
                              policy_rule_name(r), policy_rule_line(r));
        if (k < 0)
                return k;
        return emit(p, &a);
}

static int on_accepted(struct policy *p, struct conn *c, const struct decision_ctx *ctx) {
        const struct baseline_entry *e, *other = NULL;
        _cleanup_(alert_done) struct alert a = {};
        int r;

        if (!c->user)
                return 0;
        r = policy_file_accepted(p, c, ctx);
        if (r < 0)
                return r;
        if (!baseline_fp(c))
                return 0;
        e = baseline_lookup(p->cfg.baseline, baseline_fp(c), c->user, c->key_location, &other);
        if (e)
                return 0;
        if (other) {
                alert_from_conn(p, &a, ALERT_WRONG_USER, c, ctx);
                a.expected_command = other->key->command;
                add_evidence(p, &a, &c->accept_ref);
                r = alert_set_message(&a,
                                      "Key %s, which the baseline binds to account %s, logged into "
                                      "account %s from %s.",
                                      alert_token(&a, key_name(c)), alert_quote(&a, other->user),
                                      alert_quote(&a, c->user),
                                      alert_token(&a, c->addr) ?: "an unknown address");
                if (r < 0)
                        return r;
                return emit_conn(p, c, &a);
        }
        if (!baseline_covers_user(p->cfg.baseline, c->user))
                return 0;
        /* A certificate whose CA no authorized_keys line names was trusted through sshd_config
         * (TrustedUserCAKeys): outside what the baseline describes. */
        if (c->ca_fingerprint)
                return 0;
        alert_from_conn(p, &a, ALERT_UNKNOWN_KEY, c, ctx);
        add_evidence(p, &a, &c->accept_ref);
        r = alert_set_message(&a,
                              "Key %s, which is not in the baseline, logged into account %s from "
                              "%s%s%s.",
                              alert_token(&a, key_name(c)), alert_quote(&a, c->user),
                              alert_token(&a, c->addr) ?: "an unknown address",
                              c->key_location ? " through " : "",
                              alert_quote(&a, c->key_location) ?: "");
        if (r < 0)
                return r;
        return emit_conn(p, c, &a);
}

/* Whether the logged forced command agrees with the baseline's. The logged text is vis-escaped and
 * may be cut (syslog's 500 bytes, sshd's %.900s): then agreeing as far as it goes is agreeing. */
static int command_agrees(const char *expected, const struct conn_session *s, bool *ret) {
        _cleanup_free_ char *heap = NULL;
        char buf[4 * 1024 + 1]; /* one per session: no allocation for a command up to 1 KiB */
        size_t el = strlen(expected), ol;
        const char *vis;
        int r;

        if (sshd_vis_is_identity(expected, el))
                vis = expected; /* the usual command: nothing to escape, no copy */
        else if (el <= (sizeof(buf) - 1) / 4)
                vis = sshd_vis_to(expected, el, buf);
        else {
                r = sshd_vis(expected, el, &heap);
                if (r < 0)
                        return r;
                vis = heap;
        }
        ol = strlen(s->command);
        if (s->truncated || ol >= FORCED_COMMAND_LOG_MAX) {
                /* A cut line may also have lost the last bytes of an escape sequence. */
                size_t cmp = ol;

                for (size_t k = 1; k <= 3 && k <= ol; k++)
                        if (s->command[ol - k] == '\\') {
                                cmp = ol - k;
                                break;
                        }
                *ret = strlen(vis) >= cmp && memcmp(vis, s->command, cmp) == 0;
        } else
                *ret = streq(vis, s->command);
        return 0;
}

static int on_session(struct policy *p, struct conn *c, struct conn_session *s,
                      const struct decision_ctx *ctx) {
        const struct baseline_entry *e, *other = NULL;
        const char *cmd;
        _cleanup_(alert_done) struct alert a = {};
        bool agrees;
        int r;

        if (!c->user || !s->type)
                return 0;
        r = policy_file_session(p, c, s, ctx);
        if (r < 0)
                return r;
        if (!baseline_fp(c))
                return 0;
        e = baseline_lookup(p->cfg.baseline, baseline_fp(c), c->user, c->key_location, &other);
        /* A key the baseline binds to another account (wrong-user) keeps that line's restriction:
         * a session it starts here is judged by it too. */
        e = e ?: other;
        if (!e || !e->key->command)
                return 0;
        cmd = e->key->command;

        alert_from_session(p, &a, ALERT_UNFORCED_SESSION, c, s, ctx, cmd);
        a.key_type = key_type_of(c, e);

        if (!streq(s->type, "forced-command")) {
                if (s->alerted & (1u << ALERT_UNFORCED_SESSION))
                        return 0;
                s->alerted |= 1u << ALERT_UNFORCED_SESSION;
                if (e == other)
                        r = alert_set_message(&a,
                                              "Key %s, which the baseline binds to account %s "
                                              "with a forced command, started a %s session%s%s in "
                                              "account %s from %s, where no command is forced.",
                                              alert_token(&a, key_name(c)),
                                              alert_quote(&a, other->user) ?: "?",
                                              alert_token(&a, s->type), s->command ? " " : "",
                                              alert_quote(&a, s->command) ?: "",
                                              alert_quote(&a, c->user),
                                              alert_token(&a, c->addr) ?: "an unknown address");
                else
                        r = alert_set_message(&a,
                                              "Key %s of account %s is meant to run only a forced "
                                              "command, but started a %s session%s%s from %s: its "
                                              "authorized_keys line has lost its command= option.",
                                              alert_token(&a, key_name(c)), alert_quote(&a, c->user),
                                              alert_token(&a, s->type), s->command ? " " : "",
                                              alert_quote(&a, s->command) ?: "",
                                              alert_token(&a, c->addr) ?: "an unknown address");
                if (r < 0)
                        return r;
                return emit(p, &a);
        }
        if (!s->command)
                return 0;
        r = command_agrees(cmd, s, &agrees);
        if (r < 0)
                return r;
        if (agrees || (s->alerted & (1u << ALERT_COMMAND_MISMATCH)))
                return 0;
        s->alerted |= 1u << ALERT_COMMAND_MISMATCH;
        a.type = ALERT_COMMAND_MISMATCH;
        r = alert_set_message(&a,
                              "Key %s of account %s ran the forced command %s%s, not the "
                              "baseline's %s.",
                              alert_token(&a, key_name(c)), alert_quote(&a, c->user),
                              alert_quote(&a, s->command),
                              s->forced_by && streq(s->forced_by, "config") ? " (ForceCommand)" : "",
                              alert_quote(&a, cmd));
        if (r < 0)
                return r;
        return emit(p, &a);
}

static int on_no_session(struct policy *p, struct conn *c, const struct decision_ctx *ctx,
                         bool timeout) {
        const struct baseline_entry *e;
        _cleanup_(alert_done) struct alert a = {};
        int r;

        if (!c->authenticated || !baseline_fp(c) || !c->user || c->n_started > 0)
                return 0;
        e = baseline_lookup(p->cfg.baseline, baseline_fp(c), c->user, c->key_location, NULL);
        if (!e || !e->key->command)
                return 0;
        alert_from_conn(p, &a, ALERT_NO_SESSION, c, ctx);
        a.key_type = key_type_of(c, e);
        a.expected_command = e->key->command;
        add_evidence(p, &a, &c->accept_ref);
        if (!timeout)
                add_evidence(p, &a, ctx->ref);
        r = alert_set_message(&a,
                        "Key %s of account %s, meant only for a forced command, authenticated from "
                        "%s and %s without starting a session%s.",
                        alert_token(&a, key_name(c)), alert_quote(&a, c->user),
                        alert_token(&a, c->addr) ?: "an unknown address",
                        timeout ? "stayed connected" : "disconnected",
                        c->forward_refused ? " (it asked for a port forward, refused)"
                                           : " (a tunnel or a probe)");
        if (r < 0)
                return r;
        return emit_conn(p, c, &a);
}

static int on_source_refused(struct policy *p, struct conn *c, const struct decision_ctx *ctx) {
        const struct baseline_entry *e = baseline_lookup_location(p->cfg.baseline,
                                                                  c->refused_location);
        const char *user = c->refused_user ?: c->user;
        _cleanup_(alert_done) struct alert a = {};
        int r;

        alert_from_conn(p, &a, ALERT_SOURCE_REFUSED, c, ctx);
        a.user = user;
        a.fingerprint = ctx->fingerprint ?: (e ? e->key->fingerprint : NULL);
        a.key_type = ctx->key_type ?: (e ? authkey_type_log_name(e->key->key_type) : NULL);
        if (!ctx->fingerprint && !e)
                a.fingerprint = NULL;
        if (a.fingerprint) {
                const struct baseline_entry *be = baseline_lookup(p->cfg.baseline, a.fingerprint,
                                                                  user, c->refused_location, NULL);
                if (be)
                        e = be;
        }
        a.source_ip = c->refused_ip ?: c->addr;
        a.key_location = c->refused_location;
        a.expected_command = e ? e->key->command : NULL;
        add_evidence(p, &a, &c->refused_ref);
        add_evidence(p, &a, ctx->ref);
        r = alert_set_message(&a,
                              "sshd refused the correct key%s%s for account %s from %s: its from= "
                              "option does not allow that address.",
                              a.fingerprint ? " " : "", alert_token(&a, a.fingerprint) ?: "",
                              alert_quote(&a, user) ?: "(unknown)",
                              alert_token(&a, a.source_ip) ?: "an unknown address");
        if (r < 0)
                return r;
        return emit_conn(p, c, &a);
}

/* An authenticated connection leaves the full table: its later sessions and its end will not be
 * judged. Worth an alert when they could have raised one: the baseline forces a command on the key
 * (unforced-session, command-mismatch, no-session were still possible). */
static int on_evicted(struct policy *p, struct conn *c, const struct decision_ctx *ctx) {
        const struct baseline_entry *e, *other = NULL;
        _cleanup_(alert_done) struct alert a = {};
        int r;

        if (!baseline_fp(c) || !c->user)
                return 0;
        e = baseline_lookup(p->cfg.baseline, baseline_fp(c), c->user, c->key_location, &other);
        e = e ?: other;
        if (!e || !e->key->command)
                return 0;
        alert_from_conn(p, &a, ALERT_CONNECTION_EVICTED, c, ctx);
        a.key_type = key_type_of(c, e);
        a.expected_command = e->key->command;
        add_evidence(p, &a, &c->accept_ref);
        r = alert_set_message(&a,
                              "Key %s of account %s, meant only for a forced command, authenticated "
                              "from %s, and keytrail stopped following the connection before its "
                              "end: the table of open connections was full (--max-connections); %u "
                              "session%s seen, later ones are not judged.",
                              alert_token(&a, key_name(c)), alert_quote(&a, c->user),
                              alert_token(&a, c->addr) ?: "an unknown address", c->n_started,
                              c->n_started == 1 ? "" : "s");
        if (r < 0)
                return r;
        return emit_conn(p, c, &a);
}

/* Whether a forced command runs keytrail-gate: its program's base name, as sshd logged it. */
static bool runs_gate(const char *command) {
        size_t n = strcspn(command, " \t");
        const char *base = command;

        for (size_t i = 0; i < n; i++)
                if (command[i] == '/')
                        base = command + i + 1;
        return (size_t) (command + n - base) == strlen("keytrail-gate") &&
               strncmp(base, "keytrail-gate", strlen("keytrail-gate")) == 0;
}

/* The connection ended: a session forced to run keytrail-gate for which no record of the gate
 * arrived never ran the gate (its request was longer than exec allows, the gate is missing, or it
 * could not log): what the client asked for is unknown. */
static int on_gate_silent(struct policy *p, struct conn *c, const struct decision_ctx *ctx) {
        const struct baseline_entry *e = NULL, *other = NULL;
        bool looked_up = false;
        int r;

        for (unsigned i = 0; i < c->n_sessions; i++) {
                struct conn_session *s = &c->sessions[i];
                _cleanup_(alert_done) struct alert a = {};

                if (s->gate_logged || !s->type || !streq(s->type, "forced-command") ||
                    !s->command || !runs_gate(s->command) ||
                    (s->alerted & (1u << ALERT_GATE_SILENT)))
                        continue;
                /* Looked up for the first such session only: every connection ends here, and
                 * few have one. */
                if (!looked_up && baseline_fp(c) && c->user)
                        e = baseline_lookup(p->cfg.baseline, baseline_fp(c), c->user,
                                            c->key_location, &other) ?: other;
                looked_up = true;
                s->alerted |= 1u << ALERT_GATE_SILENT;
                alert_from_conn(p, &a, ALERT_GATE_SILENT, c, ctx);
                a.key_type = key_type_of(c, e);
                a.expected_command = e ? e->key->command : NULL;
                a.session_type = s->type;
                a.session_id = s->id;
                a.observed_command = s->command;
                add_evidence(p, &a, &c->accept_ref);
                add_evidence(p, &a, &s->ref);
                add_evidence(p, &a, ctx->ref);
                r = alert_set_message(&a,
                                      "Key %s of account %s from %s started a session forced to "
                                      "run keytrail-gate, and the gate left no record of it: the "
                                      "gate did not run (a request too long to execute, a missing "
                                      "gate) or could not log, so what the client asked for is "
                                      "unknown.",
                                      alert_token(&a, key_name(c)) ?: "(unknown key)",
                                      alert_quote(&a, c->user) ?: "?",
                                      alert_token(&a, c->addr) ?: "an unknown address");
                if (r < 0)
                        return r;
                r = emit(p, &a);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_decide(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                  const struct decision_ctx *ctx) {
        struct policy *p = userdata;

        switch (d) {
        case DECISION_ACCEPTED:
                return on_accepted(p, c, ctx);
        case DECISION_SESSION:
                return on_session(p, c, s, ctx);
        case DECISION_END: {
                int r = on_gate_silent(p, c, ctx);

                if (r < 0)
                        return r;
                return on_no_session(p, c, ctx, false);
        }
        case DECISION_EVICTED:
                return on_evicted(p, c, ctx);
        case DECISION_TIMEOUT:
                return on_no_session(p, c, ctx, true);
        case DECISION_SOURCE_REFUSED:
                return on_source_refused(p, c, ctx);
        default:
                return 0;
        }
}

int policy_command_rejected(struct policy *p, struct conn *c, struct conn_session *s,
                            const struct log_record *rec, const struct rejection *rj) {
        const struct baseline_entry *e = NULL;
        _cleanup_(alert_done) struct alert a = {};
        int r;

        evidence_start(p, &a);
        if (c) {
                struct decision_ctx ctx = { .usec = rec->realtime_usec, .rule_id = rj->rule_id };

                alert_from_conn(p, &a, ALERT_COMMAND_REJECTED, c, &ctx);
                if (!a.user)
                        a.user = rj->user;
                if (!a.fingerprint) {
                        a.fingerprint = rj->fingerprint;
                        a.key_type = rj->key_type;
                }
                if (a.fingerprint && a.user)
                        e = baseline_lookup(p->cfg.baseline, a.fingerprint, a.user, c->key_location,
                                            NULL);
                add_evidence(p, &a, &c->accept_ref);
                if (s) {
                        a.session_type = s->type;
                        a.session_id = s->id;
                        add_evidence(p, &a, &s->ref);
                }
        } else {
                a = (struct alert){
                        .type = ALERT_COMMAND_REJECTED,
                        .time_usec = rec->realtime_usec,
                        .host = record_str(rec, RECORD_HOSTNAME) ?: record_str(rec, RECORD_MACHINE_ID),
                        .machine_id = record_str(rec, RECORD_MACHINE_ID),
                        .boot_id = record_str(rec, RECORD_BOOT_ID),
                        .user = rj->user,
                        .fingerprint = rj->fingerprint,
                        .key_type = rj->key_type,
                        .source_ip = rj->addr,
                        .source_port = rj->port,
                        .session_id = -1,
                        .rule_id = rj->rule_id,
                };
                if (a.fingerprint && a.user)
                        e = baseline_lookup(p->cfg.baseline, a.fingerprint, a.user, NULL, NULL);
        }
        a.observed_command = rj->command;
        a.expected_command = e ? e->key->command : NULL;
        a.reason = rj->reason;
        add_evidence(p, &a, &rec->ref);
        r = alert_set_message(&a,
                              "%s refused the command %s asked for by key %s of account %s from "
                              "%s%s%s.",
                              rj->program,
                              alert_quote(&a, rj->command) ?: "(none: an interactive login)",
                              alert_token(&a, a.fingerprint) ?: "(unknown)",
                              alert_quote(&a, a.user) ?: "(unknown)",
                              alert_token(&a, a.source_ip) ?: "an unknown address",
                              rj->reason ? ": " : "", alert_token(&a, rj->reason) ?: "");
        if (r < 0)
                return r;
        if (s) {
                if (s->alerted & (1u << ALERT_COMMAND_REJECTED))
                        return 0;
                s->alerted |= 1u << ALERT_COMMAND_REJECTED;
                return emit(p, &a);
        }
        if (c)
                return emit_conn(p, c, &a);
        return emit(p, &a);
}

int policy_spoofed(struct policy *p, const struct log_record *rec, const struct event *ev,
                   enum trust_verdict v) {
        _cleanup_free_ char *user = NULL, *addr = NULL, *fp = NULL, *kt = NULL;
        const char *ident = record_str(rec, RECORD_SYSLOG_IDENTIFIER) ?: "?";
        const char *who = record_str(rec, RECORD_EXE) ?: record_str(rec, RECORD_COMM) ?: "?";
        _cleanup_free_ char *why = NULL;
        _cleanup_(alert_done) struct alert a = {
                .type = ALERT_SPOOFED_ENTRY,
                .time_usec = rec->realtime_usec,
                .host = record_str(rec, RECORD_HOSTNAME) ?: record_str(rec, RECORD_MACHINE_ID),
                .machine_id = record_str(rec, RECORD_MACHINE_ID),
                .boot_id = record_str(rec, RECORD_BOOT_ID),
                .source_port = -1,
                .session_id = -1,
                .sshd_pid = record_pid(rec),
                .rule_id = ev ? ev->rule_id : NULL,
        };
        int r;

        evidence_start(p, &a);
        if (ev) {
                uint64_t port;

                user = strview_dup(ev->field[EVENT_FIELD_USER]);
                addr = strview_dup(ev->field[EVENT_FIELD_ADDR]);
                fp = strview_dup(ev->field[EVENT_FIELD_FINGERPRINT]);
                kt = strview_dup(ev->field[EVENT_FIELD_KEY_TYPE]);
                if (strview_to_u64(ev->field[EVENT_FIELD_PORT], 65535, &port) >= 0)
                        a.source_port = (int) port;
                a.user = user;
                a.source_ip = addr;
                a.fingerprint = fp;
                a.key_type = kt;
        }
        if (!ev)
                a.user = record_str(rec, RECORD_USER); /* a gate record names its account */
        /* The kernel's credentials of the writer, beside what it called itself. */
        if (rec->unattested) {
                /* A text log: only what the line claims. */
                if (asprintf(&why, "%s (a text log: PID %d as the line claims)",
                             trust_verdict_to_string(v), (int) record_pid(rec)) < 0)
                        return -ENOMEM;
        } else if (asprintf(&why, "%s (%s, _PID %s, _UID %s)", trust_verdict_to_string(v), who,
                            record_str(rec, RECORD_PID) ?: "?", record_str(rec, RECORD_UID) ?: "?") < 0)
                return -ENOMEM;
        a.reason = why;
        add_evidence(p, &a, &rec->ref);
        /* Held until the input ended: its writer may be the child, named too late to be read. */
        r = alert_set_message(&a, "An entry claiming to be %s's %s: %s (%s).",
                              alert_token(&a, ident),
                              v == TRUST_NOT_NAMED ? "could not be tied to it"
                                                   : "was not written by it",
                              trust_verdict_to_string(v),
                              alert_quote(&a, record_str(rec, RECORD_EXE) ?:
                                                      record_str(rec, RECORD_COMM)) ?: "unknown");
        if (r < 0)
                return r;
        return emit(p, &a);
}
