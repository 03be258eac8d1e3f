/* SPDX-License-Identifier: MIT */
/* One record through every stage; see pipeline.h. */

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "gate-log.h"
#include "pipeline.h"
#include "session.h"

/* Forced-command wrappers that log their refusals to syslog; their rules are in rules/. They run
 * as the user, through an interpreter, so only _COMM (the script's name) says who wrote a line. */
const char *const pipeline_wrapper_identifiers[] = { "sshdo", NULL };
static const char *const wrapper_comms[] = { "sshdo", NULL };

/* "only" runs `logger -p auth.warn -- denied USER: CMD`: no tag, so the identifier is the login
 * name of the user running it, _COMM is logger and PRIORITY 4. The journal match is _COMM alone:
 * sd-journal pays for a two-field AND inside the disjunction on every entry it hands out (about
 * 16,000 instructions per sshd entry of the bench's journal, a third of keytrail's whole scan;
 * bench/README.md), a one-field term a seventh of that. The priority is checked here instead. */
const char *const pipeline_logger_matches[] = { "_COMM=logger", NULL };
#define LOGGER_PRIORITY "4"
static const char *const logger_comms[] = { "logger", NULL };
static const char *const default_sshd_identifiers[] = { "sshd", "sshd-session", "sshd-auth", NULL };

enum program {
        PROGRAM_SSHD,
        PROGRAM_GATE,
        PROGRAM_WRAPPER,
        PROGRAM_LOGGER_WRAPPER,
        PROGRAM_OTHER,
        PROGRAM_UNREAD, /* read only because the journal match is wider than wanted */
};

struct pipeline {
        struct pipeline_config cfg;
        struct correlator *correlator; /* owned */
        struct policy *policy;         /* owned */
        struct pipeline_stats stats;
};

/* The correlator's decisions go to the observer (when there is one), then to the policy. */
static int pipeline_decide(void *userdata, enum decision d, struct conn *c, struct conn_session *s,
                           const struct decision_ctx *ctx) {
        struct pipeline *p = userdata;
        int r;

        if (p->cfg.observe) {
                r = p->cfg.observe(p->cfg.userdata, d, c, s, ctx);
                if (r < 0)
                        return r;
        }
        return policy_decide(p->policy, d, c, s, ctx);
}

int pipeline_new(const struct pipeline_config *cfg, struct pipeline **ret) {
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->cfg = *cfg;
        r = policy_new(&(struct policy_config){ .baseline = cfg->baseline,
                                                .policy_file = cfg->policy_file,
                                                .emit = cfg->emit,
                                                .userdata = cfg->userdata },
                       &p->policy);
        if (r < 0)
                return r;
        r = correlator_new(&(struct correlator_config){
                                   .session_timeout_usec = cfg->session_timeout_usec,
                                   .max_connections = cfg->max_connections,
                                   .decide = pipeline_decide,
                                   .userdata = p },
                           &p->correlator);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

struct pipeline *pipeline_free(struct pipeline *p) {
        if (!p)
                return NULL;
        correlator_free(p->correlator);
        policy_free(p->policy);
        free(p);
        return NULL;
}

static bool in_list(char *const *l, const char *s) {
        for (; s && l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

static enum program classify(const struct pipeline *p, const struct log_record *rec,
                             const char *ident) {
        if (!ident)
                return PROGRAM_OTHER;
        if (in_list(p->cfg.sshd_identifiers ?: (char **) default_sshd_identifiers, ident))
                return PROGRAM_SSHD;
        if (streq(ident, GATE_SYSLOG_IDENTIFIER))
                return PROGRAM_GATE;
        if (in_list((char **) pipeline_wrapper_identifiers, ident))
                return PROGRAM_WRAPPER;
        if (streq_ptr(record_str(rec, RECORD_COMM), "logger"))
                return streq_ptr(record_str(rec, RECORD_PRIORITY), LOGGER_PRIORITY)
                               ? PROGRAM_LOGGER_WRAPPER
                               : PROGRAM_UNREAD;
        return PROGRAM_OTHER;
}

/* "CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT" -> the client's address and port. */
static int parse_ssh_connection(const char *s, char *ret_addr, size_t size, int *ret_port) {
        const char *sp;
        uint64_t port;

        if (!s)
                return -ENOENT;
        sp = strchr(s, ' ');
        if (!sp || sp == s || (size_t) (sp - s) >= size)
                return -EBADMSG;
        if (strview_to_u64((struct strview){ sp + 1, strcspn(sp + 1, " ") }, 65535, &port) < 0)
                return -EBADMSG;
        memcpy(ret_addr, s, (size_t) (sp - s));
        ret_addr[sp - s] = 0;
        *ret_port = (int) port;
        return 0;
}

static int feed_gate(struct pipeline *p, const struct log_record *rec) {
        const char *verdict = record_str(rec, RECORD_KEYTRAIL_VERDICT);
        const char *msgid = record_str(rec, RECORD_MESSAGE_ID);
        char addr[256] = "";
        int port = -1, r;
        enum trust_verdict v;
        struct conn *c = NULL;

        p->stats.gate++;
        v = trust_check(&p->cfg.gate_trust, rec, 0);
        if (!trust_verdict_accepted(v) &&
            (streq_ptr(verdict, "allowed") || streq_ptr(msgid, GATE_MESSAGE_ID_ALLOWED))) {
                /* The gate logs "allowed" and then execs rsync at once: journald may read the
                 * process after the exec (_EXE rsync). An untrusted "allowed" record only loses the
                 * requested command of a session; ignore it rather than cry wolf. */
                return correlator_advance(p->correlator, rec->realtime_usec);
        }
        if (!trust_verdict_accepted(v)) {
                p->stats.spoofed++;
                r = policy_spoofed(p->policy, rec, NULL, v);
                if (r < 0)
                        return r;
                return correlator_advance(p->correlator, rec->realtime_usec);
        }
        r = correlator_advance(p->correlator, rec->realtime_usec);
        if (r < 0)
                return r;
        if (parse_ssh_connection(record_str(rec, RECORD_SSH_CONNECTION), addr, sizeof(addr),
                                 &port) >= 0)
                c = correlator_find(p->correlator, record_str(rec, RECORD_MACHINE_ID), NULL, addr,
                                    port);

        if (streq_ptr(verdict, "allowed") || streq_ptr(msgid, GATE_MESSAGE_ID_ALLOWED)) {
                struct conn_session *s = c ? conn_last_session(c) : NULL;
                const char *cmd = record_str(rec, RECORD_SSH_ORIGINAL_COMMAND);

                if (s && cmd)
                        return conn_session_set_requested(s, cmd);
                return 0;
        }
        if (!streq_ptr(verdict, "rejected") && !streq_ptr(msgid, GATE_MESSAGE_ID_REJECTED))
                return 0;
        return policy_command_rejected(
                p->policy, c, rec,
                &(struct rejection){
                        .program = GATE_SYSLOG_IDENTIFIER,
                        .user = record_str(rec, RECORD_USER),
                        .addr = addr[0] ? addr : NULL,
                        .port = port,
                        .command = record_str(rec, RECORD_SSH_ORIGINAL_COMMAND),
                        .reason = record_str(rec, RECORD_KEYTRAIL_REASON),
                        .fingerprint = record_str(rec, RECORD_KEYTRAIL_FINGERPRINT),
                        .key_type = record_str(rec, RECORD_KEYTRAIL_KEY_TYPE),
                });
}

/* A line of a wrapper that logs through logger(1) under the account's name: anyone can run
 * logger, so it counts only when the identifier is the account the line names and the writer's uid
 * is that account's: the uid of its sessions (c), else the password database's. An account can
 * still forge its own refusals: noise, never a hidden alert. */
static bool logger_line_is_users(const struct log_record *rec, const char *ident,
                                 struct strview user, const struct conn *c) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        uid_t uid;

        if (!user.ptr || !strview_eq_str(user, ident) || record_uid(rec, &uid) < 0)
                return false;
        if (c && c->has_user_uid)
                return c->user_uid == uid;
        if (getpwnam_r(ident, &pw, buf, sizeof(buf), &res) != 0 || !res)
                return false;
        return pw.pw_uid == uid;
}

/* program: the wrapper's name for alerts; by_logger: it logs through logger(1) untagged. */
static int feed_wrapper(struct pipeline *p, const struct log_record *rec, const char *program,
                        bool by_logger) {
        struct strview msg = record_field(rec, RECORD_MESSAGE);
        const struct trust_config t = { .comms = (char **) (by_logger ? logger_comms : wrapper_comms),
                                        .ignore_exe = true };
        _cleanup_free_ char *user = NULL, *addr = NULL, *cmd = NULL, *reason = NULL;
        struct event ev;
        struct conn *c;
        enum trust_verdict v;
        int m, r;

        p->stats.wrapper++;
        r = correlator_advance(p->correlator, rec->realtime_usec);
        if (r < 0 || !msg.ptr)
                return r;
        m = rule_set_match(p->cfg.rules, msg.ptr, msg.len, &ev);
        if (m < 0)
                p->stats.match_errors++;
        if (m <= 0 || ev.kind != EVENT_WRAPPER_REJECTED) {
                p->stats.unmatched++;
                return 0;
        }
        user = strview_dup(ev.field[EVENT_FIELD_USER]);
        addr = strview_dup(ev.field[EVENT_FIELD_ADDR]);
        cmd = strview_dup(ev.field[EVENT_FIELD_COMMAND]);
        reason = strview_dup(ev.field[EVENT_FIELD_REASON]);
        if ((ev.field[EVENT_FIELD_USER].ptr && !user) || (ev.field[EVENT_FIELD_ADDR].ptr && !addr) ||
            (ev.field[EVENT_FIELD_COMMAND].ptr && !cmd) || (ev.field[EVENT_FIELD_REASON].ptr && !reason))
                return -ENOMEM;
        /* Wrappers name the client's address but not its port (sshdo), or neither ("only"): the
         * user's most recent connection (from that address) on this host is the one. */
        c = user ? correlator_find(p->correlator, record_str(rec, RECORD_MACHINE_ID), user, addr, -1)
                 : NULL;
        v = trust_check(&t, rec, 0);
        if (v == TRUST_OK && by_logger &&
            !logger_line_is_users(rec, record_str(rec, RECORD_SYSLOG_IDENTIFIER),
                                  ev.field[EVENT_FIELD_USER], c))
                v = TRUST_BAD_UID;
        if (!trust_verdict_accepted(v)) {
                p->stats.spoofed++;
                return policy_spoofed(p->policy, rec, &ev, v);
        }
        p->stats.matched++;
        return policy_command_rejected(p->policy, c, rec,
                                       &(struct rejection){
                                               .program = program,
                                               .user = user,
                                               .addr = addr,
                                               .port = -1,
                                               .command = cmd,
                                               .reason = reason,
                                               .rule_id = ev.rule_id,
                                       });
}

int pipeline_feed(struct pipeline *p, const struct log_record *rec) {
        struct strview msg = record_field(rec, RECORD_MESSAGE);
        const char *ident = record_str(rec, RECORD_SYSLOG_IDENTIFIER);
        enum program prog = classify(p, rec, ident);
        struct event ev;
        enum trust_verdict v;
        int r, m = 0;

        if (prog == PROGRAM_UNREAD)
                return 0; /* as if sd-journal had not handed it out: no count, no time */
        p->stats.records++;
        switch (prog) {
        case PROGRAM_GATE:
                return feed_gate(p, rec);
        case PROGRAM_WRAPPER:
                return feed_wrapper(p, rec, ident, false);
        case PROGRAM_LOGGER_WRAPPER:
                return feed_wrapper(p, rec, "only", true);
        case PROGRAM_OTHER:
                /* Not ours (a --file with everything in it): time still passes. */
                return correlator_advance(p->correlator, rec->realtime_usec);
        case PROGRAM_SSHD:
                break;
        case PROGRAM_UNREAD: /* handled above */
                return 0;
        }
        if (msg.ptr) {
                m = rule_set_match(p->cfg.rules, msg.ptr, msg.len, &ev);
                if (m < 0) {
                        /* Hostile or pathological input: counted, never fatal. */
                        p->stats.match_errors++;
                        m = 0;
                }
        }
        /* An unmatched line changes nothing: it may lack provenance like sshd's last lines. */
        v = trust_check(&p->cfg.trust, rec,
                        (m > 0 && trust_kind_needs_root(ev.kind) ? TRUST_NEEDS_ROOT : 0) |
                                (m == 0 || trust_kind_at_exit(ev.kind) ? TRUST_MAY_BE_BARE : 0));
        if (!trust_verdict_accepted(v)) {
                p->stats.spoofed++;
                r = policy_spoofed(p->policy, rec, m > 0 ? &ev : NULL, v);
                if (r < 0)
                        return r;
                return correlator_advance(p->correlator, rec->realtime_usec);
        }
        if (m == 0) {
                p->stats.unmatched++;
                return correlator_advance(p->correlator, rec->realtime_usec);
        }
        p->stats.matched++;
        return correlator_observe(p->correlator, rec, &ev);
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *p) {
        return &p->stats;
}

const struct correlator_stats *pipeline_correlator_stats(const struct pipeline *p) {
        return correlator_stats(p->correlator);
}

uint64_t pipeline_alerts(const struct pipeline *p) {
        return policy_alerts(p->policy);
}

int pipeline_advance(struct pipeline *p, uint64_t usec) {
        return correlator_advance(p->correlator, usec);
}

unsigned pipeline_open_connections(const struct pipeline *p) {
        return correlator_size(p->correlator);
}

uint64_t pipeline_oldest_open_usec(const struct pipeline *p) {
        return correlator_oldest_usec(p->correlator);
}

void pipeline_set_rules(struct pipeline *p, struct rule_set *rules, const struct baseline *b) {
        p->cfg.rules = rules;
        p->cfg.baseline = b;
        policy_set_baseline(p->policy, b);
}
