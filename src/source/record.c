/* SPDX-License-Identifier: MIT */
/*
 * struct log_record: the field table, buffer reuse and the few typed accessors. Buffers grow to the
 * largest value seen and are reused for every following entry, so reading does not allocate per
 * entry in the steady state.
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
        r->realtime_usec = 0;
        r->unattested = false;
        r->monotonic_usec = 0;
        r->prematch = NULL;
}

int record_set(struct log_record *r, enum record_field f, const char *value, size_t len) {
        struct record_buf *b = &r->field[f];

        if (len > RECORD_FIELD_MAX_BYTES) {
                len = RECORD_FIELD_MAX_BYTES;
                r->truncated |= UINT32_C(1) << f;
        } else
                r->truncated &= ~(UINT32_C(1) << f);
        if (len + 1 > b->alloc) {
                size_t n = MAX(len + 1, b->alloc * 2);
                char *p = realloc(b->data, MAX(n, (size_t) 64));

                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->alloc = MAX(n, (size_t) 64);
                if (b->alloc > RECORD_KEEP_BYTES)
                        r->large = true;
        }
        memcpy(b->data, value, len);
        b->data[len] = 0;
        b->len = len;
        r->present |= UINT32_C(1) << f;
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
        for (int i = 0; i < _RECORD_FIELD_MAX; i++)
                if (r->field[i].alloc > RECORD_KEEP_BYTES) {
                        free(r->field[i].data);
                        r->field[i] = (struct record_buf){};
                        r->present &= ~(UINT32_C(1) << i);
                }
        r->large = false;
}

int record_copy(struct log_record *dst, const struct log_record *src) {
        struct record_buf own[_RECORD_FIELD_MAX];
        bool large = dst->large;
        int r;

        /* Everything but the buffers as src has it; then src's values into dst's own buffers. */
        memcpy(own, dst->field, sizeof(own));
        *dst = *src;
        memcpy(dst->field, own, sizeof(own));
        dst->large = large;
        for (enum record_field f = 0; f < _RECORD_FIELD_MAX; f++) {
                if (!record_has(src, f))
                        continue;
                r = record_set(dst, f, src->field[f].data, src->field[f].len);
                if (r < 0)
                        return r;
        }
        dst->present = src->present;
        dst->truncated = src->truncated;
        return 1;
}

void record_done(struct log_record *r) {
        for (int i = 0; i < _RECORD_FIELD_MAX; i++) {
                free(r->field[i].data);
                r->field[i] = (struct record_buf){};
        }
        r->present = 0;
        r->truncated = 0;
}
