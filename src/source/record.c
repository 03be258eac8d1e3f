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
};

const char *record_field_name(enum record_field f) {
        if (f < 0 || f >= _RECORD_FIELD_MAX)
                return NULL;
        return field_names[f];
}

enum record_field record_field_lookup(const char *name, size_t len) {
        enum record_field f;

        /* Hot path: called for every field of every entry read. Pick the one candidate by length
         * and a distinguishing byte, then compare once. */
        switch (len) {
        case 4: /* _PID _UID _EXE USER */
                f = name[1] == 'P' ? RECORD_PID : name[1] == 'U' ? RECORD_UID
                  : name[1] == 'E' ? RECORD_EXE : name[1] == 'S' ? RECORD_USER
                                                  : _RECORD_FIELD_INVALID;
                break;
        case 5:
                f = RECORD_COMM;
                break;
        case 7:
                f = RECORD_MESSAGE;
                break;
        case 8:
                f = RECORD_BOOT_ID;
                break;
        case 9:
                f = RECORD_HOSTNAME;
                break;
        case 10: /* SYSLOG_PID MESSAGE_ID */
                f = name[0] == 'S' ? RECORD_SYSLOG_PID : RECORD_MESSAGE_ID;
                break;
        case 11:
                f = RECORD_MACHINE_ID;
                break;
        case 14:
                f = RECORD_SSH_CONNECTION;
                break;
        case 15:
                f = RECORD_KEYTRAIL_REASON;
                break;
        case 16:
                f = RECORD_KEYTRAIL_VERDICT;
                break;
        case 17: /* SYSLOG_IDENTIFIER KEYTRAIL_KEY_TYPE */
                f = name[0] == 'S' ? RECORD_SYSLOG_IDENTIFIER : RECORD_KEYTRAIL_KEY_TYPE;
                break;
        case 20: /* SSH_ORIGINAL_COMMAND KEYTRAIL_FINGERPRINT */
                f = name[0] == 'S' ? RECORD_SSH_ORIGINAL_COMMAND : RECORD_KEYTRAIL_FINGERPRINT;
                break;
        default:
                return _RECORD_FIELD_INVALID;
        }
        if (f < 0 || memcmp(field_names[f], name, len) != 0)
                return _RECORD_FIELD_INVALID;
        return f;
}

void record_reset(struct log_record *r) {
        r->present = 0;
        r->realtime_usec = 0;
}

int record_set(struct log_record *r, enum record_field f, const char *value, size_t len) {
        struct record_buf *b = &r->field[f];

        if (len > RECORD_FIELD_MAX_BYTES)
                len = RECORD_FIELD_MAX_BYTES;
        if (len + 1 > b->alloc) {
                size_t n = MAX(len + 1, b->alloc * 2);
                char *p = realloc(b->data, MAX(n, (size_t) 64));

                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->alloc = MAX(n, (size_t) 64);
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

int record_cursor(const struct log_record *r, char **ret) {
        if (!r->get_cursor)
                return -ENOENT;
        return r->get_cursor(r->cursor_userdata, ret);
}

void record_done(struct log_record *r) {
        for (int i = 0; i < _RECORD_FIELD_MAX; i++) {
                free(r->field[i].data);
                r->field[i] = (struct record_buf){};
        }
        r->present = 0;
}
