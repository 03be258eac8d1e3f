/* SPDX-License-Identifier: MIT */
/* struct log_record: the field-name table (a hand-made dispatch on the hot path) and accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "tap.h"

int main(void) {
        static const char *const not_ours[] = {
                "_PIX", "_GID", "PRIORITX", "MESSAGEX", "MESSAGE_", "_CMDLINE", "SYSLOG_FACILITY",
                "_BOOT_IX", "_MACHINE_IX", "_HOSTNAMX", "SYSLOG_PIX", "MESSAGE_IX", "XSH_CONNECTION",
                "KEYTRAIL_REASOX", "KEYTRAIL_VERDICX", "SYSLOG_IDENTIFIEX", "SSH_ORIGINAL_COMMANX",
                "KEYTRAIL_FINGERPRINX", "_COMX", "USEX", "", "_",
        };
        struct log_record r = {};
        uid_t uid = 0;
        char buf[ENTRY_REF_CURSOR_MAX];
        struct entry_ref ref = {
                .kind = ENTRY_REF_JOURNAL,
                .realtime_usec = 0x645e3c2a0bd00,
                .monotonic_usec = 0x1b2f1,
                .journal = { .seqnum = 0x2a, .xor_hash = 0xfedcba9876543210 },
        };

        for (int f = 0; f < _RECORD_FIELD_MAX; f++)
                tap_ok(record_field_name((enum record_field) f) != NULL, "field %d has a name", f);

        /* the read loop's matcher, on "NAME=value" data */
        for (int f = 0; f < _RECORD_FIELD_MAX; f++) {
                const char *n = record_field_name((enum record_field) f);
                char datum[64];
                size_t off = 0;
                int l = snprintf(datum, sizeof(datum), "%s=v", n);

                TAP_IS_INT(record_field_match(datum, (size_t) l, &off), f, "'%s' matches", datum);
                TAP_IS_INT(off, strlen(n) + 1, "'%s': the value starts after '='", datum);
                TAP_IS_INT(record_field_match(datum, strlen(n), &off), _RECORD_FIELD_INVALID,
                           "'%s' without '=' does not", n);
        }
        for (size_t i = 0; i < ELEMENTSOF(not_ours); i++) {
                char datum[64];
                size_t off = 0;
                int l = snprintf(datum, sizeof(datum), "%s=v", not_ours[i]);

                TAP_IS_INT(record_field_match(datum, (size_t) l, &off), _RECORD_FIELD_INVALID,
                           "'%s' is not matched", datum);
        }
        {
                size_t off = 0;

                TAP_IS_INT(record_field_match("MESSAGE=", 8, &off), RECORD_MESSAGE,
                           "an empty value still matches");
        }

        tap_ok(record_set(&r, RECORD_SYSLOG_PID, "42", 2) >= 0, "set SYSLOG_PID");
        TAP_IS_INT(record_pid(&r), 42, "SYSLOG_PID is the fallback pid");
        tap_ok(record_set(&r, RECORD_PID, "4242", 4) >= 0, "set _PID");
        TAP_IS_INT(record_pid(&r), 4242, "_PID wins over SYSLOG_PID");
        TAP_IS_INT(record_uid(&r, &uid), -ENOENT, "no _UID");
        tap_ok(record_set(&r, RECORD_UID, "1x", 2) >= 0, "set a malformed _UID");
        TAP_IS_INT(record_uid(&r, &uid), -EBADMSG, "a malformed _UID is reported");
        tap_ok(r.ref.kind == ENTRY_REF_NONE, "no position without a source");
        for (unsigned i = 0; i < 16; i++) {
                ref.journal.seqnum_id[i] = (uint8_t) (0xf0 + i);
                ref.boot_id[i] = (uint8_t) i;
        }
        /* sd_journal_get_cursor()'s format: ids as 32 hex digits, numbers in hex without zeros
         * in front (the scan tests compare with sd-journal's own on real files) */
        TAP_IS_STR(entry_ref_journal_cursor(&ref, buf),
                   "s=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff;i=2a;b=000102030405060708090a0b0c0d0e0f;"
                   "m=1b2f1;t=645e3c2a0bd00;x=fedcba9876543210",
                   "a journal ref's cursor");
        ref.monotonic_usec = 0;
        ref.journal.seqnum = UINT64_MAX;
        tap_ok(strstr(entry_ref_journal_cursor(&ref, buf), ";i=ffffffffffffffff;") &&
                       strstr(buf, ";m=0;"),
               "zero and the largest number (%s)", buf);
        tap_ok(strlen(buf) < ENTRY_REF_CURSOR_MAX, "fits ENTRY_REF_CURSOR_MAX");
        record_reset(&r);
        tap_ok(!record_has(&r, RECORD_PID), "reset forgets the fields");
        tap_ok(record_set(&r, RECORD_MESSAGE, "abc\0def", 7) >= 0, "a value with a NUL byte");
        TAP_IS_INT(record_field(&r, RECORD_MESSAGE).len, 7, "keeps its length");
        {
                /* over-long values are cut at RECORD_FIELD_MAX_BYTES and flagged; the flag goes
                 * with the next value and with record_reset() */
                size_t n = RECORD_FIELD_MAX_BYTES + 10;
                char *big = malloc(n);

                tap_ok(big != NULL, "allocate");
                if (big) {
                        memset(big, 'A', n);
                        tap_ok(record_set(&r, RECORD_MESSAGE, big, n) >= 0, "set an over-long value");
                        tap_ok(record_field(&r, RECORD_MESSAGE).len == RECORD_FIELD_MAX_BYTES &&
                                       record_truncated(&r, RECORD_MESSAGE) &&
                                       !record_truncated(&r, RECORD_PID),
                               "it is cut and flagged truncated, and only it");
                        tap_ok(record_set(&r, RECORD_MESSAGE, big, 10) >= 0 &&
                                       !record_truncated(&r, RECORD_MESSAGE),
                               "a short value clears the flag");
                        tap_ok(record_set(&r, RECORD_MESSAGE, big, n) >= 0, "over-long again");
                        record_reset(&r);
                        tap_ok(!record_truncated(&r, RECORD_MESSAGE), "record_reset() clears it");
                        free(big);
                }
        }
        {
                /* record_copy(): every value and flag, in the copy's own buffer; record_trim():
                 * a buffer grown past RECORD_KEEP_BYTES goes, with every field */
                struct log_record src = {}, dst = {};
                size_t n = RECORD_KEEP_BYTES + 1;
                char *big = malloc(n);

                tap_ok(big != NULL, "allocate");
                if (big) {
                        memset(big, 'B', n);
                        tap_ok(record_set(&src, RECORD_MESSAGE, "hello", 5) >= 0 &&
                                       record_set(&src, RECORD_SSH_ORIGINAL_COMMAND, big, n) >= 0,
                               "a record with a short and a large field");
                        src.realtime_usec = 11;
                        src.monotonic_usec = 22;
                        src.unattested = true;
                        src.ref = (struct entry_ref){ .kind = ENTRY_REF_SEEK, .serial = 7 };
                        tap_ok(src.large && !dst.large, "the large buffer is noted");
                        TAP_IS_INT(record_copy(&dst, &src), 1, "copied");
                        tap_ok(dst.realtime_usec == 11 && dst.monotonic_usec == 22 &&
                                       dst.unattested && dst.ref.kind == ENTRY_REF_SEEK &&
                                       dst.ref.serial == 7 && dst.present == src.present &&
                                       dst.truncated == src.truncated,
                               "times, provenance, ref and field bits copied");
                        tap_ok(dst.buf != src.buf &&
                                       record_field(&dst, RECORD_MESSAGE).len == 5 &&
                                       memcmp(record_str(&dst, RECORD_MESSAGE), "hello", 6) == 0 &&
                                       record_field(&dst, RECORD_SSH_ORIGINAL_COMMAND).len == n,
                               "values copied into the copy's own buffer");
                        record_trim(&src);
                        tap_ok(!src.large && src.buf == NULL && src.buf_alloc == 0 &&
                                       !record_has(&src, RECORD_SSH_ORIGINAL_COMMAND) &&
                                       !record_has(&src, RECORD_MESSAGE),
                               "trim frees the large buffer, and every field with it");
                        free(big);
                }
                record_done(&src);
                record_done(&dst);
        }
        {
                /* one buffer per record: a name given again takes the last value; a hostile
                 * entry repeating a name with ever longer values does not grow the buffer past
                 * RECORD_BUF_MAX; a small record is kept by record_trim() */
                struct log_record s = {};
                size_t n = RECORD_FIELD_MAX_BYTES + 1, most = 0;
                char *big = malloc(n);
                bool ok = true;

                tap_ok(record_set(&s, RECORD_PID, "1", 1) >= 0 &&
                               record_set(&s, RECORD_MESSAGE, "hello world", 11) >= 0 &&
                               record_set(&s, RECORD_UID, "0", 1) >= 0 && !s.large,
                       "a small record");
                record_trim(&s);
                tap_ok(s.buf != NULL && record_has(&s, RECORD_MESSAGE) &&
                               record_field(&s, RECORD_MESSAGE).len == 11,
                       "trim keeps a buffer that never grew past RECORD_KEEP_BYTES");
                tap_ok(record_set(&s, RECORD_MESSAGE, "bye", 3) >= 0 &&
                               memcmp(record_str(&s, RECORD_MESSAGE), "bye", 4) == 0 &&
                               record_set(&s, RECORD_MESSAGE, "a longer one", 12) >= 0 &&
                               memcmp(record_str(&s, RECORD_MESSAGE), "a longer one", 13) == 0 &&
                               memcmp(record_str(&s, RECORD_PID), "1", 2) == 0 &&
                               memcmp(record_str(&s, RECORD_UID), "0", 2) == 0,
                       "a name again: its last value, shorter or longer, the others kept");
                tap_ok(big != NULL, "allocate");
                for (size_t len = 1000; big && len <= n; len += 997) {
                        memset(big, 'a' + (int) (len % 26), len);
                        if (record_set(&s, len % 2 ? RECORD_MESSAGE : RECORD_EXE, big, len) < 0) {
                                ok = false;
                                break;
                        }
                        most = MAX(most, s.buf_alloc);
                        ok = ok && record_field(&s, len % 2 ? RECORD_MESSAGE : RECORD_EXE).len ==
                                           MIN(len, (size_t) RECORD_FIELD_MAX_BYTES) &&
                             record_str(&s, len % 2 ? RECORD_MESSAGE : RECORD_EXE)[0] ==
                                     'a' + (int) (len % 26) &&
                             memcmp(record_str(&s, RECORD_PID), "1", 2) == 0;
                }
                tap_ok(ok && most <= RECORD_BUF_MAX && s.large,
                       "ever longer values of two names: right values, buffer at most %zu (%zu)",
                       (size_t) RECORD_BUF_MAX, most);
                free(big);
                record_done(&s);
        }
        record_done(&r);
        return tap_done();
}
