/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A bounded set of alert ids (the 32 hex digits of alert_id()), each with a time: the alerts
 * keytrail follow has emitted, or found in a sink after a crash. Open addressing over a fixed
 * array; when full, the entry with the oldest time is dropped (and counted) to make room. The set
 * owns its storage; nothing borrowed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define IDSET_MAX_DEFAULT 65536

struct idset;

/* A set holding at most max ids (0: IDSET_MAX_DEFAULT). NULL on OOM. */
struct idset *idset_new(size_t max);
struct idset *idset_free(struct idset *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct idset *, idset_free);

/* Add id (32 hex digits) with its time; an id already there keeps the later time. Returns 1 when
 * added, 0 when it was there, -EBADMSG when id is not 32 lowercase hex digits. */
_warn_unused_ int idset_add(struct idset *s, const char *id, uint64_t usec);

bool idset_contains(const struct idset *s, const char *id);

/* Forget the ids whose time is before usec. */
void idset_prune(struct idset *s, uint64_t before_usec);

size_t idset_size(const struct idset *s);

/* Ids dropped because the set was full. */
uint64_t idset_dropped(const struct idset *s);

/* Iterate: *pos starts at 0; returns true with *ret_id (33 bytes, NUL-terminated, borrowed until
 * the next change) and *ret_usec, false at the end. */
bool idset_next(const struct idset *s, size_t *pos, const char **ret_id, uint64_t *ret_usec);
