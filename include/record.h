/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One log entry as the pipeline sees it, whatever source it came from: the fields keytrail uses,
 * copied out of the journal (or parsed from a syslog line) into one buffer the record owns and
 * reuses from entry to entry. Views handed downstream (record_field()) are valid until the next
 * source_next() on the same record.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "macro.h"
#include "strview.h"

struct rule_match;

#define RECORD_FIELD_MAX_BYTES (64 * 1024) /* longer values are cut here and flagged truncated */
#define RECORD_KEEP_BYTES 4096 /* record_trim() frees a record's buffer grown past this */

/* The journal fields keytrail reads. Names in record_field_name(). */
enum record_field {
        RECORD_MESSAGE,
        RECORD_SYSLOG_IDENTIFIER,
        RECORD_PID,             /* _PID (trusted) */
        RECORD_SYSLOG_PID,      /* SYSLOG_PID (sender's claim), used when _PID is absent */
        RECORD_UID,             /* _UID */
        RECORD_EXE,             /* _EXE */
        RECORD_COMM,            /* _COMM */
        RECORD_BOOT_ID,         /* _BOOT_ID */
        RECORD_MACHINE_ID,      /* _MACHINE_ID */
        RECORD_HOSTNAME,        /* _HOSTNAME */
        RECORD_MESSAGE_ID,      /* MESSAGE_ID */
        RECORD_KEYTRAIL_VERDICT,
        RECORD_KEYTRAIL_REASON,
        RECORD_SSH_ORIGINAL_COMMAND,
        RECORD_SSH_CONNECTION,
        RECORD_USER,
        RECORD_KEYTRAIL_FINGERPRINT,
        RECORD_KEYTRAIL_KEY_TYPE,
        RECORD_PRIORITY,        /* PRIORITY: tells "only"'s logger(1) lines (4) from others */
        _RECORD_FIELD_MAX,
        _RECORD_FIELD_INVALID = -EINVAL,
};

/*
 * Where an entry is, fixed-size: what its source needs to give the entry's cursor again when an
 * alert names it as evidence (source_cursor()), long after the entry was read. No strings, no
 * allocation, copied by value (the correlator keeps one per login, refusal and session).
 */
enum entry_ref_kind {
        ENTRY_REF_NONE,         /* no position known: no cursor */
        ENTRY_REF_JOURNAL,      /* every part of the journal cursor (the parallel reader, and
                                   keytrail follow's reads): written out, never looked up */
        ENTRY_REF_SEEK,         /* sd-journal, one handle: boot, clocks and the pipeline's digest
                                   of the entry; looked up in the files when the cursor is asked */
        ENTRY_REF_TEXT,         /* a line of a text log: FILE:LINE */
};

struct entry_ref {
        enum entry_ref_kind kind;
        uint64_t serial;                /* the source's count of records handed out, this one's
                                           (1 for the first): tells the current entry */
        uint64_t realtime_usec, monotonic_usec;
        uint8_t boot_id[16];            /* JOURNAL, SEEK: the entry's boot (binary id) */
        union {
                struct {
                        uint8_t seqnum_id[16];
                        uint64_t seqnum, xor_hash;
                } journal;
                struct {
                        uint64_t digest; /* set by the pipeline: a keyed hash of the boot, clocks,
                                            _PID, identifier and MESSAGE (pipeline.c) */
                } seek;
                struct {
                        const void *input; /* the text source's input (borrowed, lives with it) */
                        uint64_t line;
                } text;
        };
};

/* Longest journal cursor: "s=" 32 ";i=" 16 ";b=" 32 ";m=" 16 ";t=" 16 ";x=" 16, and a NUL. */
#define ENTRY_REF_CURSOR_MAX (2 + 32 + 3 * 5 + 16 * 4 + 32 + 1)

/* An ENTRY_REF_JOURNAL ref's cursor, exactly as sd_journal_get_cursor() writes it, into buf.
 * Returns buf. */
char *entry_ref_journal_cursor(const struct entry_ref *ref, char buf[static ENTRY_REF_CURSOR_MAX]);

/* Whether a and b are the same entry of the same source, as far as their kind tells. */
bool entry_ref_equal(const struct entry_ref *a, const struct entry_ref *b);

/* Where a present field's value is in its record's buffer: buf + off, len bytes, a NUL after. */
struct record_span {
        uint32_t off;
        uint32_t len;
};

/* Longest a record's buffer gets: every field at RECORD_FIELD_MAX_BYTES, and one more being set
 * (values given again are then compacted away: record_set()). */
#define RECORD_BUF_MAX ((size_t) (_RECORD_FIELD_MAX + 1) * (RECORD_FIELD_MAX_BYTES + 1))

struct log_record {
        uint64_t realtime_usec;
        uint64_t monotonic_usec;                /* __MONOTONIC_TIMESTAMP (of _BOOT_ID); 0: none */
        uint32_t present;                       /* bit per enum record_field */
        uint32_t truncated;                     /* bit per field cut at RECORD_FIELD_MAX_BYTES */
        /* The values, one after another in one buffer the record owns and reuses: a few cache
         * lines per record, where a buffer per field scattered a record over a dozen allocations
         * (bench/README.md: the read-ahead's 32 records then stay in the data cache). */
        char *buf;                              /* owned; buf_alloc bytes, buf_len used (a
                                                   record a source lends may point it at its
                                                   own data, buf_alloc 0: text.c) */
        size_t buf_len, buf_alloc;
        struct record_span field[_RECORD_FIELD_MAX];

        /* The source cannot attest who wrote the entry: a text log has no trusted fields, only
         * what the writer claimed (host, tag, PID). trust_check() says TRUST_UNATTESTED. */
        bool unattested;
        bool large;                             /* buf grew past RECORD_KEEP_BYTES */

        /* Where the entry is: its source gives its cursor from this when an alert needs it
         * (source_cursor()); nothing is fetched or allocated per entry. */
        struct entry_ref ref;

        /* The rules' outcome on MESSAGE, when the source matched it ahead in a thread of its own
         * (rules.h, rule_set_match_ahead()); borrowed from the source, valid as the fields are.
         * NULL: not matched ahead. */
        const struct rule_match *prematch;
};

const char *record_field_name(enum record_field f);

/*
 * The field of one "NAME=value" datum as sd-journal hands it out (len bytes), and in *ret_offset
 * where its value starts. _RECORD_FIELD_INVALID when not one of ours (*ret_offset untouched). The
 * read loop's hot path.
 */
enum record_field record_field_match(const char *data, size_t len, size_t *ret_offset);

static inline bool record_has(const struct log_record *r, enum record_field f) {
        return r->present & (UINT32_C(1) << f);
}

static inline bool record_truncated(const struct log_record *r, enum record_field f) {
        return r->truncated & (UINT32_C(1) << f);
}

/* A view of a field; absent fields give STRVIEW_NULL. */
static inline struct strview record_field(const struct log_record *r, enum record_field f) {
        if (!record_has(r, f))
                return STRVIEW_NULL;
        return (struct strview){ r->buf + r->field[f].off, r->field[f].len };
}

/* The NUL-terminated value, or NULL when absent. */
static inline const char *record_str(const struct log_record *r, enum record_field f) {
        return record_has(r, f) ? r->buf + r->field[f].off : NULL;
}

/* Forget the previous entry's fields (keeps the buffer). */
void record_reset(struct log_record *r);

/* record_set() of a value too long, or of a name given again in one entry (the last value is
 * the one); and room for need more bytes at the end of r's buffer. 0, -ENOMEM. */
_warn_unused_ int record_set_slow(struct log_record *r, enum record_field f, const char *value,
                                  size_t len);
_warn_unused_ int record_grow(struct log_record *r, size_t need);

/* Copy a value into field f (value must not point into r's buffer: it may move). Returns 0,
 * -ENOMEM. Values longer than RECORD_FIELD_MAX_BYTES are cut there, and the field's bit set in
 * r->truncated. Views of r's fields taken before are invalid after. Inline: the read loop's path,
 * a new name of the entry appended to the buffer. */
_warn_unused_ static inline int record_set(struct log_record *r, enum record_field f,
                                           const char *value, size_t len) {
        const uint32_t bit = UINT32_C(1) << f;
        char *dst;

        if (__builtin_expect(len > RECORD_FIELD_MAX_BYTES || (r->present & bit), 0))
                return record_set_slow(r, f, value, len);
        if (__builtin_expect(len + 1 > r->buf_alloc - r->buf_len, 0)) {
                int k = record_grow(r, len + 1);

                if (k < 0)
                        return k;
        }
        dst = r->buf + r->buf_len;
        r->field[f] = (struct record_span){ .off = (uint32_t) r->buf_len, .len = (uint32_t) len };
        r->buf_len += len + 1;
        if (len > 0)
                memcpy(dst, value, len);
        dst[len] = 0;
        r->truncated &= ~bit;
        r->present |= bit;
        return 0;
}

/* The PID that wrote the entry: _PID, else SYSLOG_PID. 0 when neither parses. */
pid_t record_pid(const struct log_record *r);

/* _UID parsed; -ENOENT when absent, -EBADMSG when malformed. */
int record_uid(const struct log_record *r, uid_t *ret);

/* Free the buffer when it grew past RECORD_KEEP_BYTES (every field is then absent). */
void record_trim(struct log_record *r);

/* dst becomes a copy of src (in dst's own buffer). Returns 1, or -ENOMEM. */
_warn_unused_ int record_copy(struct log_record *dst, const struct log_record *src);

void record_done(struct log_record *r);
