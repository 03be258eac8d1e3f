/* SPDX-License-Identifier: MIT */
/*
 * struct log_record: the field table, buffer reuse and the few typed accessors. A record's one
 * buffer grows to the largest entry seen and is reused for every following entry, so reading does
 * not allocate per entry in the steady state.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static const char *const field_names[_RECORD_FIELD_MAX] = {
        [RECORD_MESSAGE] = "MESSAGE",
        [RECORD_SYSLOG_IDENTIFIER] = "SYSLOG_IDENTIFIER",
        [RECORD_PID] = "_PID",
        [RECORD_SYSLOG_PID] = "SYSLOG_PID",
        [RECORD_UID] = "_UID",
        [RECORD_EXE] = "_EXE",
        [RECORD_COMM] = "_COMM",
        [RECORD_BOOT_ID] = "_BOOT_ID",
        [RECORD_MACHINE_ID] = "_MACHINE_ID",
        [RECORD_HOSTNAME] = "_HOSTNAME",
        [RECORD_MESSAGE_ID] = "MESSAGE_ID",
        [RECORD_KEYTRAIL_VERDICT] = "KEYTRAIL_VERDICT",
        [RECORD_KEYTRAIL_REASON] = "KEYTRAIL_REASON",
        [RECORD_SSH_ORIGINAL_COMMAND] = "SSH_ORIGINAL_COMMAND",
        [RECORD_SSH_CONNECTION] = "SSH_CONNECTION",
        [RECORD_USER] = "USER",
        [RECORD_KEYTRAIL_FINGERPRINT] = "KEYTRAIL_FINGERPRINT",
        [RECORD_KEYTRAIL_KEY_TYPE] = "KEYTRAIL_KEY_TYPE",
        [RECORD_PRIORITY] = "PRIORITY",
};

const char *record_field_name(enum record_field f) {
        if (f < 0 || f >= _RECORD_FIELD_MAX)
                return NULL;
        return field_names[f];
}

/* "NAME=" matches the start of data. */
#define PREFIX_IS(data, len, lit) ((len) >= sizeof(lit) - 1 && memcmp((data), lit, sizeof(lit) - 1) == 0)

enum record_field record_field_match(const char *d, size_t len, size_t *ret_offset) {
        enum record_field f = _RECORD_FIELD_INVALID;

        /* Hot path: every field of every entry read. Dispatch on the first bytes, then compare
         * "NAME=" once with a constant length, which the compiler turns into a few loads. */
        if (len < 5)
                return _RECORD_FIELD_INVALID;
        switch (d[0]) {
        case '_':
                switch (d[1]) {
                case 'P':
                        f = PREFIX_IS(d, len, "_PID=") ? RECORD_PID : f;
                        break;
                case 'U':
                        f = PREFIX_IS(d, len, "_UID=") ? RECORD_UID : f;
                        break;
                case 'E':
                        f = PREFIX_IS(d, len, "_EXE=") ? RECORD_EXE : f;
                        break;
                case 'C':
                        f = PREFIX_IS(d, len, "_COMM=") ? RECORD_COMM : f;
                        break;
                case 'B':
                        f = PREFIX_IS(d, len, "_BOOT_ID=") ? RECORD_BOOT_ID : f;
                        break;
                case 'M':
                        f = PREFIX_IS(d, len, "_MACHINE_ID=") ? RECORD_MACHINE_ID : f;
                        break;
                case 'H':
                        f = PREFIX_IS(d, len, "_HOSTNAME=") ? RECORD_HOSTNAME : f;
                        break;
                }
                break;
        case 'M':
                f = PREFIX_IS(d, len, "MESSAGE=")      ? RECORD_MESSAGE
                    : PREFIX_IS(d, len, "MESSAGE_ID=") ? RECORD_MESSAGE_ID
                                                       : f;
                break;
        case 'S':
                f = PREFIX_IS(d, len, "SYSLOG_IDENTIFIER=")      ? RECORD_SYSLOG_IDENTIFIER
                    : PREFIX_IS(d, len, "SYSLOG_PID=")           ? RECORD_SYSLOG_PID
                    : PREFIX_IS(d, len, "SSH_ORIGINAL_COMMAND=") ? RECORD_SSH_ORIGINAL_COMMAND
                    : PREFIX_IS(d, len, "SSH_CONNECTION=")       ? RECORD_SSH_CONNECTION
                                                                 : f;
                break;
        case 'K':
                f = PREFIX_IS(d, len, "KEYTRAIL_VERDICT=")       ? RECORD_KEYTRAIL_VERDICT
                    : PREFIX_IS(d, len, "KEYTRAIL_REASON=")      ? RECORD_KEYTRAIL_REASON
                    : PREFIX_IS(d, len, "KEYTRAIL_FINGERPRINT=") ? RECORD_KEYTRAIL_FINGERPRINT
                    : PREFIX_IS(d, len, "KEYTRAIL_KEY_TYPE=")    ? RECORD_KEYTRAIL_KEY_TYPE
                                                                 : f;
                break;
        case 'U':
                f = PREFIX_IS(d, len, "USER=") ? RECORD_USER : f;
                break;
        case 'P':
                f = PREFIX_IS(d, len, "PRIORITY=") ? RECORD_PRIORITY : f;
                break;
        }
        if (f >= 0)
                *ret_offset = strlen(field_names[f]) + 1;
        return f;
}

void record_reset(struct log_record *r) {
        r->present = 0;
        r->truncated = 0;
        r->buf_len = 0;
        r->realtime_usec = 0;
        r->unattested = false;
        r->monotonic_usec = 0;
        r->prematch = NULL;
}

/* The present values moved to the front of the buffer, in their order, the dead ones (values
 * given again, longer) dropped. */
static void record_compact(struct log_record *r) {
        uint32_t left = r->present;
        size_t to = 0;

        while (left) {
                int lo = -1;

                for (int i = 0; i < _RECORD_FIELD_MAX; i++)
                        if ((left & UINT32_C(1) << i) &&
                            (lo < 0 || r->field[i].off < r->field[lo].off))
                                lo = i;
                left &= ~(UINT32_C(1) << lo);
                memmove(r->buf + to, r->buf + r->field[lo].off, r->field[lo].len + 1);
                r->field[lo].off = (uint32_t) to;
                to += r->field[lo].len + 1;
        }
        r->buf_len = to;
}

/* (record.h) Room for need more bytes at the end of the buffer. */
int record_grow(struct log_record *r, size_t need) {
        size_t n;
        char *p;

        if (r->buf_len + need > RECORD_BUF_MAX)
                /* Only values given again (an entry may repeat a name) fill it so far. */
                record_compact(r);
        if (r->buf_len + need <= r->buf_alloc)
                return 0;
        n = MAX(MAX(r->buf_len + need, r->buf_alloc * 2), (size_t) 256);
        n = MIN(n, MAX(RECORD_BUF_MAX, r->buf_len + need));
        p = realloc(r->buf, n);
        if (!p)
                return -ENOMEM;
        r->buf = p;
        r->buf_alloc = n;
        if (n > RECORD_KEEP_BYTES)
                r->large = true;
        return 0;
}

int record_set_slow(struct log_record *r, enum record_field f, const char *value, size_t len) {
        const uint32_t bit = UINT32_C(1) << f;
        struct record_span *sp = &r->field[f];
        char *dst;

        if (len > RECORD_FIELD_MAX_BYTES) {
                len = RECORD_FIELD_MAX_BYTES;
                r->truncated |= bit;
        } else
                r->truncated &= ~bit;
        if ((r->present & bit) && len <= sp->len)
                /* The name again (the last value is the one): where the value before was. */
                dst = r->buf + sp->off;
        else {
                r->present &= ~bit; /* its value before, if any, is dead (record_compact()) */
                if (len + 1 > r->buf_alloc - r->buf_len) {
                        int k = record_grow(r, len + 1);

                        if (k < 0)
                                return k;
                }
                sp->off = (uint32_t) r->buf_len;
                dst = r->buf + r->buf_len;
                r->buf_len += len + 1;
        }
        if (len > 0)
                memcpy(dst, value, len);
        dst[len] = 0;
        sp->len = (uint32_t) len;
        r->present |= bit;
        return 0;
}

static int parse_uint(struct strview v, uint64_t max, uint64_t *ret) {
        return strview_to_u64(v, max, ret);
}

pid_t record_pid(const struct log_record *r) {
        uint64_t v;

        if (parse_uint(record_field(r, RECORD_PID), INT32_MAX, &v) >= 0)
                return (pid_t) v;
        if (parse_uint(record_field(r, RECORD_SYSLOG_PID), INT32_MAX, &v) >= 0)
                return (pid_t) v;
        return 0;
}

int record_uid(const struct log_record *r, uid_t *ret) {
        uint64_t v;
        int k;

        if (!record_has(r, RECORD_UID))
                return -ENOENT;
        k = parse_uint(record_field(r, RECORD_UID), UINT32_MAX, &v);
        if (k < 0)
                return -EBADMSG;
        *ret = (uid_t) v;
        return 0;
}

bool entry_ref_equal(const struct entry_ref *a, const struct entry_ref *b) {
        if (a->kind != b->kind || a->realtime_usec != b->realtime_usec ||
            a->monotonic_usec != b->monotonic_usec)
                return false;
        switch (a->kind) {
        case ENTRY_REF_JOURNAL:
                return memcmp(a->boot_id, b->boot_id, 16) == 0 &&
                       memcmp(a->journal.seqnum_id, b->journal.seqnum_id, 16) == 0 &&
                       a->journal.seqnum == b->journal.seqnum &&
                       a->journal.xor_hash == b->journal.xor_hash;
        case ENTRY_REF_SEEK:
                return a->serial == b->serial;
        case ENTRY_REF_TEXT:
                return a->text.input == b->text.input && a->text.line == b->text.line;
        default:
                return false;
        }
}

void record_trim(struct log_record *r) {
        if (!r->large)
                return;
        free(r->buf);
        r->buf = NULL;
        r->buf_len = r->buf_alloc = 0;
        r->present = 0;
        r->truncated = 0;
        r->large = false;
}

int record_copy(struct log_record *dst, const struct log_record *src) {
        char *buf = dst->buf;
        size_t alloc = dst->buf_alloc;
        bool large = dst->large;

        if (src->buf_len > alloc) {
                buf = realloc(dst->buf, src->buf_len);
                if (!buf)
                        return -ENOMEM;
                alloc = src->buf_len;
                large = large || alloc > RECORD_KEEP_BYTES;
        }
        /* Everything as src has it, the values in dst's own buffer. */
        *dst = *src;
        dst->buf = buf;
        dst->buf_alloc = alloc;
        dst->large = large;
        if (src->buf_len > 0)
                memcpy(buf, src->buf, src->buf_len);
        return 1;
}

void record_done(struct log_record *r) {
        free(r->buf);
        r->buf = NULL;
        r->buf_len = r->buf_alloc = 0;
        r->present = 0;
        r->truncated = 0;
}
