/* SPDX-License-Identifier: MIT */
/* One record through every stage; see pipeline.h. */

#include <errno.h>
#include <stdlib.h>

#include "pipeline.h"
#include "session.h"

struct pipeline {
        struct pipeline_config cfg;
        struct correlator *correlator; /* owned */
        struct policy *policy;         /* owned */
        struct pipeline_stats stats;
};

int pipeline_new(const struct pipeline_config *cfg, struct pipeline **ret) {
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->cfg = *cfg;
        r = policy_new(&(struct policy_config){ .baseline = cfg->baseline,
                                                .emit = cfg->emit,
                                                .userdata = cfg->userdata },
                       &p->policy);
        if (r < 0)
                return r;
        r = correlator_new(&(struct correlator_config){
                                   .session_timeout_usec = cfg->session_timeout_usec,
                                   .max_connections = cfg->max_connections,
                                   .decide = policy_decide,
                                   .userdata = p->policy },
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

int pipeline_feed(struct pipeline *p, const struct log_record *rec) {
        struct strview msg = record_field(rec, RECORD_MESSAGE);
        struct event ev;
        enum trust_verdict v;
        int r, m = 0;

        p->stats.records++;
        if (msg.ptr) {
                m = rule_set_match(p->cfg.rules, msg.ptr, msg.len, &ev);
                if (m < 0) {
                        /* Hostile or pathological input: counted, never fatal. */
                        p->stats.match_errors++;
                        m = 0;
                }
        }
        v = trust_check(&p->cfg.trust, rec, m > 0 && trust_kind_needs_root(ev.kind));
        if (v != TRUST_OK) {
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
