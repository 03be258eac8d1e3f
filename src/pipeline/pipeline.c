/* SPDX-License-Identifier: MIT */
/* One record through every stage; see pipeline.h. */

#include <endian.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <systemd/sd-id128.h>
#define XXH_INLINE_ALL /* the calls hash a few bytes each: inlined, they cost no call */
#include <xxhash.h>

#include "gate-log.h"
#include "pipeline.h"
#include "session.h"
#include "source.h"

/* Entries remembered to recognise one stored twice (a file holding the same entries again). */
#define SEEN_MAX 65536U /* power of two */

struct seen_slot {
        uint64_t sig[2]; /* per generation; 0: free */
};

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
const char *const pipeline_logger_kept[] = { "PRIORITY=" LOGGER_PRIORITY, NULL };
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
        char local_machine[33];        /* this host's machine id, "" when unknown */
        uint64_t hash_key[2];          /* random per run: duplicates cannot be aimed */
        struct seen_slot *seen;        /* owned: SEEN_MAX slots, open addressing, each with a place
                                          for both generations (one cache line answers for both) */
        unsigned cur;                  /* the generation being filled; 1 - cur holds the one before */
        unsigned n_seen;
        struct entry_ref ref;          /* the record's, with its signature in the table as the
                                          digest (ENTRY_REF_SEEK): its events carry it */
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

static uint64_t evidence_sig(void *userdata, const struct log_record *rec);
static int pipeline_replay(void *userdata, const struct log_record *rec, enum trust_verdict v);

/* An evidence cursor, for the policy: the source looks the entry up (source_cursor()). */
static int pipeline_cursor(void *userdata, const struct entry_ref *ref, char **ret) {
        struct pipeline *p = userdata;

        if (ref->kind == ENTRY_REF_SEEK && ref->serial == p->ref.serial)
                ref = &p->ref; /* the record being fed: its ref with the digest */
        return source_cursor(p->cfg.source, ref, evidence_sig, p, ret);
}

/* The account's uid on this host's password database; other hosts' journals cannot be resolved
 * here (their child's first line fixes the uid instead). */
static int local_account_uid(void *userdata, const char *machine_id, const char *user, uid_t *ret) {
        struct pipeline *p = userdata;
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (!p->local_machine[0] || !machine_id || !streq(machine_id, p->local_machine) || !user)
                return -ENOENT;
        if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 || !res)
                return -ENOENT;
        *ret = pw.pw_uid;
        return 0;
}

int pipeline_new(const struct pipeline_config *cfg, struct pipeline **ret) {
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->cfg = *cfg;
        {
                sd_id128_t m;

                if (sd_id128_get_machine(&m) >= 0)
                        (void) sd_id128_to_string(m, p->local_machine);
        }
        if (getrandom(p->hash_key, sizeof(p->hash_key), 0) != (ssize_t) sizeof(p->hash_key))
                return -EIO;
        p->seen = calloc(SEEN_MAX, sizeof(p->seen[0]));
        if (!p->seen)
                return -ENOMEM;
        r = policy_new(&(struct policy_config){ .baseline = cfg->baseline,
                                                .policy_file = cfg->policy_file,
                                                .emit = cfg->emit,
                                                .userdata = cfg->userdata,
                                                .cursor = pipeline_cursor,
                                                .cursor_userdata = p },
                       &p->policy);
        if (r < 0)
                return r;
        r = correlator_new(&(struct correlator_config){
                                   .session_timeout_usec = cfg->session_timeout_usec,
                                   .max_connections = cfg->max_connections,
                                   .decide = pipeline_decide,
                                   .replay = pipeline_replay,
                                   .userdata = p,
                                   .account_uid = local_account_uid,
                                   .account_userdata = p },
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
        free(p->seen);
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
                /* Only the logger term reads an entry without an identifier (`logger --journald`):
                 * unread, as the others of that term, whether or not the term was left out of the
                 * read (journal.c's prune_match()). */
                return streq_ptr(record_str(rec, RECORD_COMM), "logger") ? PROGRAM_UNREAD
                                                                          : PROGRAM_OTHER;
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

/* What the source attests about the entry: the kernel's _PID/_UID when journald recorded them. */
static void origin_of(const struct pipeline *p, const struct log_record *rec,
                      struct event_origin *ret) {
        struct strview pid = record_field(rec, RECORD_PID);
        uint64_t v;

        /* Member by member: a compound literal is zeroed first, and that (a string instruction
         * here) cost more than the rest of this, for every entry. */
        ret->pid = 0;
        ret->uid = 0;
        ret->has_uid = ret->attested = false;
        ret->realtime_usec = rec->realtime_usec;
        ret->monotonic_usec = rec->monotonic_usec;
        ret->machine_id = record_field(rec, RECORD_MACHINE_ID);
        ret->boot_id = record_field(rec, RECORD_BOOT_ID);
        ret->hostname = record_field(rec, RECORD_HOSTNAME);
        ret->message = record_field(rec, RECORD_MESSAGE);
        ret->ref = p->ref;
        ret->rec = rec;
        if (rec->unattested) {
                /* A text log: the PID is the writer's claim, and no uid is known. One parse of
                 * it: this runs for every line. What record_pid() gives, without its first try
                 * (_PID, which a text record has not). */
                struct strview sp = record_field(rec, RECORD_SYSLOG_PID);

                if (!pid.ptr && sp.ptr && strview_to_u64(sp, INT32_MAX, &v) >= 0)
                        ret->pid = (pid_t) v;
                else
                        ret->pid = record_pid(rec);
                if (record_has(rec, RECORD_UID))
                        (void) record_uid(rec, &ret->uid);
                return;
        }
        if (pid.ptr && strview_to_u64(pid, INT32_MAX, &v) >= 0) {
                ret->pid = (pid_t) v;
                ret->attested = record_has(rec, RECORD_UID);
        } else
                ret->pid = record_pid(rec);
        if (record_uid(rec, &ret->uid) >= 0)
                ret->has_uid = true;
        else
                ret->attested = false;
}

/* ---- entries stored twice -------------------------------------------------------------------- */

/* Whether sig is in either generation, probing from slot first; else *ret_slot is the current
 * one's free slot for it. Both probe the same slots; each generation is at most half full, so each
 * meets a free slot. */
static bool seen_in(const struct pipeline *p, size_t first, uint64_t sig, size_t *ret_slot) {
        bool probing[2] = { true, true };
        size_t slot = SIZE_MAX;

        for (size_t i = first; probing[0] || probing[1]; i = (i + 1) & (SEEN_MAX - 1))
                for (unsigned g = 0; g < 2; g++) {
                        uint64_t v = p->seen[i].sig[g];

                        if (!probing[g])
                                continue;
                        if (v == sig)
                                return true;
                        if (v == 0) {
                                probing[g] = false;
                                if (g == p->cur)
                                        slot = i;
                        }
                }
        *ret_slot = slot;
        return false;
}

/* An entry's signature in the table, never 0; also the digest of its evidence refs, by which the
 * source tells it from other entries of the same times (a record_digest_fn; userdata: p). */
static uint64_t entry_sig(void *userdata, const struct log_record *rec) {
        static const enum record_field keyed[] = { RECORD_BOOT_ID, RECORD_PID,
                                                   RECORD_SYSLOG_IDENTIFIER, RECORD_MESSAGE };
        const struct pipeline *p = userdata;
        uint64_t head[2 + ELEMENTSOF(keyed)] = { htole64(rec->realtime_usec),
                                                 htole64(rec->monotonic_usec) };
        uint64_t h;

        /* The lengths first (UINT64_MAX when absent), so that fields cannot shift into each
         * other; then each field's bytes, seeded with the hash so far. */
        for (size_t i = 0; i < ELEMENTSOF(keyed); i++) {
                struct strview v = record_field(rec, keyed[i]);

                head[2 + i] = htole64(v.ptr ? v.len : UINT64_MAX);
        }
        h = XXH3_64bits_withSeed(head, sizeof(head), p->hash_key[1]);
        for (size_t i = 0; i < ELEMENTSOF(keyed); i++) {
                struct strview v = record_field(rec, keyed[i]);

                if (v.ptr)
                        h = XXH3_64bits_withSeed(v.ptr, v.len, h);
        }
        return h | 1; /* 0 marks a free slot */
}

/* The digest of a candidate for an evidence ref (record_digest_fn): entry_sig(), or 0 (no ref's)
 * for an entry the pipeline never takes as evidence (a line of another program, a logger(1)
 * line of another priority): the signature leaves PRIORITY and _COMM out, so such a line of the
 * same clocks, PID, identifier and message would otherwise be cited for the one alerted. */
static uint64_t evidence_sig(void *userdata, const struct log_record *rec) {
        enum program prog = classify(userdata, rec, record_str(rec, RECORD_SYSLOG_IDENTIFIER));

        return IN_SET(prog, PROGRAM_UNREAD, PROGRAM_OTHER) ? 0 : entry_sig(userdata, rec);
}

/*
 * Whether this entry was seen already among at least the last SEEN_MAX/2 (a journal file can hold
 * the same entries twice: a copy imported again, a merge). Two entries are the same when the boot,
 * both timestamps, the writer's PID, the identifier and the message are: journald stamps each entry
 * on receipt, so no writer can make a new entry equal an earlier one. The 64-bit signature is
 * XXH3 (libxxhash) seeded with a key random per run: no writer can aim a collision at an entry it
 * wants dropped, since nothing keytrail prints reveals a signature or the key.
 */
/* The slot to probe first comes from the timestamps alone (the same entry has the same ones): it
 * can be known, and its cache line fetched, before the entry is judged (pipeline_prefetch()). */
static size_t first_slot(const struct pipeline *p, const struct log_record *rec) {
        const uint64_t head[2] = { htole64(rec->realtime_usec), htole64(rec->monotonic_usec) };

        return XXH3_64bits_withSeed(head, sizeof(head), p->hash_key[0]) & (SEEN_MAX - 1);
}

void pipeline_prefetch(const struct pipeline *p, const struct log_record *rec) {
        __builtin_prefetch(&p->seen[first_slot(p, rec)]);
}

static bool seen_before(struct pipeline *p, const struct log_record *rec) {
        size_t first = first_slot(p, rec), slot;
        uint64_t sig;

        __builtin_prefetch(&p->seen[first]); /* on its way while the whole entry is hashed */

        sig = entry_sig(p, rec);
        if (p->ref.kind == ENTRY_REF_SEEK)
                p->ref.seek.digest = sig;

        if (seen_in(p, first, sig, &slot))
                return true;
        if (p->n_seen == SEEN_MAX / 2) {
                /* The current generation is half full: it becomes the previous one. */
                p->cur = 1 - p->cur;
                for (size_t i = 0; i < SEEN_MAX; i++)
                        p->seen[i].sig[p->cur] = 0;
                p->n_seen = 0;
                slot = first;
        }
        p->seen[slot].sig[p->cur] = sig;
        p->n_seen++;
        return false;
}

/* ---- keytrail-gate --------------------------------------------------------------------------- */

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

/* The account uid a line of a wrapper naming user (on connection c, or none) must come from:
 * the connection's, else this host's password database's. -ENOENT when it cannot be known. */
static int expected_uid(struct pipeline *p, const struct conn *c, const struct event_origin *o,
                        const char *user, uid_t *ret) {
        _cleanup_free_ char *mid = NULL;

        if (c && c->has_user_uid) {
                *ret = c->user_uid;
                return 0;
        }
        mid = strview_dup(o->machine_id);
        if (o->machine_id.ptr && !mid)
                return -ENOMEM;
        return local_account_uid(p, mid, c ? c->user : user, ret);
}

/* The session of c a gate record belongs to: the first forced session not yet claimed by one. */
static struct conn_session *gate_session(struct conn *c) {
        for (unsigned i = 0; i < c->n_sessions; i++)
                if (!c->sessions[i].gate_logged && streq_ptr(c->sessions[i].type, "forced-command"))
                        return &c->sessions[i];
        return NULL;
}

static int spoofed(struct pipeline *p, const struct log_record *rec, const struct event *ev,
                   const struct event_origin *o, enum trust_verdict v) {
        int r;

        p->stats.spoofed++;
        r = policy_spoofed(p->policy, rec, ev, v);
        if (r < 0)
                return r;
        return correlator_advance(p->correlator, o);
}

/*
 * A keytrail-gate record. The gate runs as the account, in the session sshd started, and names the
 * connection by SSH_CONNECTION; anyone can write a record that says so (run the gate with its own
 * environment, or send the fields). So it counts for a connection only when its writer's _UID is
 * that connection's account and the connection has started a forced session; a record that names
 * an open connection and fails is spoofed-entry. A rejection naming no open connection is raised
 * from its own fields when its _EXE is the gate and its _UID is USER's (where this host can tell).
 */
static int feed_gate(struct pipeline *p, const struct log_record *rec) {
        const char *verdict = record_str(rec, RECORD_KEYTRAIL_VERDICT);
        const char *msgid = record_str(rec, RECORD_MESSAGE_ID);
        const char *user = record_str(rec, RECORD_USER);
        bool allowed = streq_ptr(verdict, "allowed") || streq_ptr(msgid, GATE_MESSAGE_ID_ALLOWED);
        bool rejected = streq_ptr(verdict, "rejected") || streq_ptr(msgid, GATE_MESSAGE_ID_REJECTED);
        struct event_origin o;
        char addr[256] = "";
        int port = -1, r;
        enum trust_verdict v;
        struct conn *c = NULL;
        struct conn_session *s = NULL;
        uid_t uid;

        p->stats.gate++;
        origin_of(p, rec, &o);
        r = correlator_advance(p->correlator, &o);
        if (r < 0)
                return r;
        if (parse_ssh_connection(record_str(rec, RECORD_SSH_CONNECTION), addr, sizeof(addr),
                                 &port) >= 0)
                c = correlator_find(p->correlator, &o, NULL, addr, port);
        if (c) {
                /* It claims an open connection: the kernel's _UID decides, not _EXE (the gate execs
                 * rsync right after logging, so journald may record rsync). */
                r = expected_uid(p, c, &o, NULL, &uid);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !o.has_uid || o.uid != uid)
                        return spoofed(p, rec, NULL, &o, TRUST_BAD_UID);
                s = gate_session(c);
                if (!s)
                        return spoofed(p, rec, NULL, &o, TRUST_NOT_SESSION);
                s->gate_logged = true;
                if (allowed) {
                        const char *cmd = record_str(rec, RECORD_SSH_ORIGINAL_COMMAND);

                        return cmd ? conn_session_set_requested(c, s, cmd) : 0;
                }
        } else {
                v = trust_check(&p->cfg.gate_trust, rec, 0);
                if (v == TRUST_OK && o.has_uid && user) {
                        r = expected_uid(p, NULL, &o, user, &uid);
                        if (r == -ENOMEM)
                                return r;
                        if (r >= 0 && o.uid != uid)
                                v = TRUST_BAD_UID;
                }
                if (!trust_verdict_accepted(v) && allowed)
                        return 0; /* an "allowed" that names nothing open changes nothing */
                if (!trust_verdict_accepted(v))
                        return spoofed(p, rec, NULL, &o, v);
        }
        if (!rejected)
                return 0;
        return policy_command_rejected(
                p->policy, c, s, rec,
                &(struct rejection){
                        .program = GATE_SYSLOG_IDENTIFIER,
                        .user = user,
                        .addr = addr[0] ? addr : NULL,
                        .port = port,
                        .command = record_str(rec, RECORD_SSH_ORIGINAL_COMMAND),
                        .reason = record_str(rec, RECORD_KEYTRAIL_REASON),
                        .fingerprint = record_str(rec, RECORD_KEYTRAIL_FINGERPRINT),
                        .key_type = record_str(rec, RECORD_KEYTRAIL_KEY_TYPE),
                });
}

/* ---- other forced-command wrappers ----------------------------------------------------------- */

/*
 * A wrapper's refusal (sshdo; "only" through logger(1) under the account's name). Wrappers run as
 * the account, through an interpreter, so _COMM (the script's name, or logger) is only the
 * writer's claim; the kernel's _UID must be the account the line names: its connection's, else
 * this host's password database's (an "only" line also needs its identifier to be that account).
 * An account can still forge refusals of its own: noise about itself, never a hidden alert.
 */
static int feed_wrapper(struct pipeline *p, const struct log_record *rec, const char *program,
                        bool by_logger) {
        const struct trust_config t = { .comms = (char **) (by_logger ? logger_comms : wrapper_comms),
                                        .ignore_exe = true };
        _cleanup_free_ char *user = NULL, *addr = NULL, *cmd = NULL, *reason = NULL;
        struct event_origin o;
        struct event ev;
        struct conn *c;
        enum trust_verdict v;
        uid_t uid;
        int m, r;

        p->stats.wrapper++;
        origin_of(p, rec, &o);
        r = correlator_advance(p->correlator, &o);
        if (r < 0 || !o.message.ptr)
                return r;
        m = rule_set_match_ahead(p->cfg.rules, rec->prematch, o.message.ptr, o.message.len, &ev);
        if (m < 0)
                p->stats.match_errors++;
        if (m <= 0 || ev.kind != EVENT_WRAPPER_REJECTED) {
                p->stats.unmatched++;
                return 0;
        }
        ev.origin = o;
        user = strview_dup(ev.field[EVENT_FIELD_USER]);
        addr = strview_dup(ev.field[EVENT_FIELD_ADDR]);
        cmd = strview_dup(ev.field[EVENT_FIELD_COMMAND]);
        reason = strview_dup(ev.field[EVENT_FIELD_REASON]);
        if ((ev.field[EVENT_FIELD_USER].ptr && !user) || (ev.field[EVENT_FIELD_ADDR].ptr && !addr) ||
            (ev.field[EVENT_FIELD_COMMAND].ptr && !cmd) || (ev.field[EVENT_FIELD_REASON].ptr && !reason))
                return -ENOMEM;
        /* Wrappers name the client's address but not its port (sshdo), or neither ("only"): the
         * user's most recent connection (from that address) on this host is the one. */
        c = user ? correlator_find(p->correlator, &o, user, addr, -1) : NULL;
        v = trust_check(&t, rec, 0);
        if (trust_verdict_accepted(v) && by_logger &&
            !strview_eq_str(ev.field[EVENT_FIELD_USER], record_str(rec, RECORD_SYSLOG_IDENTIFIER) ?: ""))
                v = TRUST_BAD_UID;
        if (v == TRUST_OK) {
                r = expected_uid(p, c, &o, user, &uid);
                if (r == -ENOMEM)
                        return r;
                /* "only" names no address: without a known uid nothing ties it to the account. */
                if ((r >= 0 && (!o.has_uid || o.uid != uid)) || (r < 0 && by_logger))
                        v = TRUST_BAD_UID;
        }
        if (!trust_verdict_accepted(v)) {
                p->stats.spoofed++;
                return policy_spoofed(p->policy, rec, &ev, v);
        }
        p->stats.matched++;
        return policy_command_rejected(p->policy, c, c ? conn_last_session(c) : NULL, rec,
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

/* ---- sshd ------------------------------------------------------------------------------------ */

static int feed_sshd(struct pipeline *p, const struct log_record *rec) {
        struct event_origin o;
        struct event ev;
        enum trust_verdict v;
        int r, m = 0;

        origin_of(p, rec, &o);
        if (o.message.ptr) {
                m = rule_set_match_ahead(p->cfg.rules, rec->prematch, o.message.ptr,
                                         o.message.len, &ev);
                if (m < 0) {
                        /* Hostile or pathological input: counted, never fatal. */
                        p->stats.match_errors++;
                        m = 0;
                }
        }
        /* First step, no state needed: _EXE/_COMM when present, _UID 0 for the monitor's lines.
         * An unmatched line changes nothing: it may lack provenance like sshd's last lines. */
        v = trust_check(&p->cfg.trust, rec,
                        (m > 0 && trust_kind_needs_root(ev.kind) ? TRUST_NEEDS_ROOT : 0) |
                                (m == 0 || trust_kind_at_exit(ev.kind) ? TRUST_MAY_BE_BARE : 0));
        if (v == TRUST_NO_PROVENANCE && o.attested && o.has_uid &&
            (o.uid == 0 || !trust_kind_needs_root(ev.kind))) {
                /* Neither _EXE nor _COMM (its writer was gone when journald looked: lines queued
                 * while journald restarted): the kernel's _PID/_UID must tie it to an open
                 * connection, or it is root's "Connection from", which opens one.
                 * docs/security.md. */
                r = correlator_advance(p->correlator, &o);
                if (r < 0)
                        return r;
                if (ev.kind == EVENT_CONNECTION || correlator_ties(p->correlator, &o))
                        v = TRUST_OK;
        }
        if (!trust_verdict_accepted(v))
                return spoofed(p, rec, m > 0 ? &ev : NULL, &o, v);
        if (m == 0) {
                p->stats.unmatched++;
                return correlator_advance(p->correlator, &o);
        }
        /* Second step: the kernel's _PID/_UID must tie it to the connection it belongs to. */
        ev.origin = o;
        r = correlator_observe(p->correlator, &ev, &v);
        if (r < 0)
                return r;
        if (r == CORRELATOR_HELD)
                return 0; /* judged when its monitor names its child: pipeline_replay() */
        if (v != TRUST_OK) {
                p->stats.spoofed++;
                return policy_spoofed(p->policy, rec, &ev, v);
        }
        p->stats.matched++;
        return 0;
}

/* A line the correlator held, as forged: what feed_sshd() raises for it. */
static int spoofed_held(struct pipeline *p, const struct log_record *rec, enum trust_verdict v) {
        struct strview msg = record_field(rec, RECORD_MESSAGE);
        struct event ev;
        int m;

        m = rule_set_match_ahead(p->cfg.rules, NULL, msg.ptr, msg.len, &ev);
        p->stats.spoofed++;
        return policy_spoofed(p->policy, rec, m > 0 ? &ev : NULL, v);
}

/* The correlator judges a line it held (session.h's replay_fn): fed again as the child's, or
 * forged. Its alerts are as if it came now, with its own time and position. */
static int pipeline_replay(void *userdata, const struct log_record *rec, enum trust_verdict v) {
        struct pipeline *p = userdata;
        struct entry_ref ref = p->ref;
        int r;

        p->ref = rec->ref;
        r = v == TRUST_OK ? feed_sshd(p, rec) : spoofed_held(p, rec, v);
        p->ref = ref;
        return r;
}

int pipeline_feed(struct pipeline *p, const struct log_record *rec) {
        const char *ident = record_str(rec, RECORD_SYSLOG_IDENTIFIER);
        enum program prog = classify(p, rec, ident);
        struct event_origin o;

        if (prog == PROGRAM_UNREAD)
                return 0; /* as if sd-journal had not handed it out: no count, no time */
        p->stats.records++;
        p->ref = rec->ref; /* a SEEK ref's digest is seen_before()'s */
        /* Only journald's stamps make two equal entries one: a text log's second-resolution
         * times would merge lines sshd really wrote twice. */
        if (prog != PROGRAM_OTHER && !rec->unattested && rec->monotonic_usec > 0 &&
            seen_before(p, rec)) {
                p->stats.duplicates++;
                return 0;
        }
        switch (prog) {
        case PROGRAM_GATE:
                return feed_gate(p, rec);
        case PROGRAM_WRAPPER:
                return feed_wrapper(p, rec, ident, false);
        case PROGRAM_LOGGER_WRAPPER:
                return feed_wrapper(p, rec, "only", true);
        case PROGRAM_SSHD:
                return feed_sshd(p, rec);
        case PROGRAM_OTHER:
        default:
                /* Not ours (a --file with everything in it): time still passes. */
                origin_of(p, rec, &o);
                return correlator_advance(p->correlator, &o);
        }
}

int pipeline_finish(struct pipeline *p) {
        return correlator_finish(p->correlator);
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

int pipeline_advance(struct pipeline *p, const char *machine_id, uint64_t usec) {
        return correlator_tick(p->correlator, machine_id, usec);
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
