/* SPDX-License-Identifier: MIT */
/* Text logs (--input): the line parser, text_line_parse(), on the input as one line, and the
 * source (line splitting, gzip through zlib, merging, FILE:LINE cursors) on the input as a file. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "text-log.h"
#include "timeutil.h"

#define REF (UINT64_C(1795780800) * USEC_PER_SEC) /* 2026-11-28 */

static int within(struct strview v, const uint8_t *data, size_t size) {
        return !v.ptr || ((const uint8_t *) v.ptr >= data && v.len <= size &&
                          (const uint8_t *) v.ptr + v.len <= data + size);
}

static void parse_line(const uint8_t *data, size_t size) {
        struct text_clock c;
        struct text_line l, again;
        int r;

        text_clock_init(&c, REF);
        r = text_line_parse((const char *) data, size, &c, &l);
        FUZZ_ASSERT(r == -EBADMSG || r == TEXT_LINE_NOTHING || r == TEXT_LINE_ENTRY ||
                    r == TEXT_LINE_BOOT);
        if (r == TEXT_LINE_BOOT)
                FUZZ_ASSERT(l.boot_id.len == 32 && within(l.boot_id, data, size));
        if (r != TEXT_LINE_ENTRY)
                return;
        FUZZ_ASSERT(within(l.host, data, size) && within(l.ident, data, size) &&
                    within(l.pid, data, size) && within(l.message, data, size));
        FUZZ_ASSERT(l.host.ptr && l.host.len > 0 && !memchr(l.host.ptr, ' ', l.host.len));
        FUZZ_ASSERT(!l.pid.ptr || l.ident.ptr);
        for (size_t i = 0; l.pid.ptr && i < l.pid.len; i++)
                FUZZ_ASSERT(l.pid.ptr[i] >= '0' && l.pid.ptr[i] <= '9');
        FUZZ_ASSERT(l.message.ptr && (const uint8_t *) l.message.ptr + l.message.len == data + size);
        FUZZ_ASSERT(l.format >= 0 && l.format < _TEXT_FORMAT_MAX);
        /* a year of classic lines is never more than a day after the file's time */
        if (l.format != TEXT_FORMAT_RFC3339)
                FUZZ_ASSERT(l.usec <= REF + 86400 * USEC_PER_SEC + 3600 * USEC_PER_SEC);
        /* the same bytes, the same answer (the clock's cache included) */
        FUZZ_ASSERT(text_line_parse((const char *) data, size, &c, &again) == r &&
                    again.usec == l.usec && again.message.len == l.message.len);
}

static void read_source(const uint8_t *data, size_t size) {
        char path[64], *paths[2] = { path, NULL };
        struct source *s = NULL;
        struct log_record rec = {};
        const char *ep = NULL;
        uint64_t el = 0, n = 0;
        int fd, r;

        fd = memfd_create("fuzz-text", MFD_CLOEXEC);
        if (fd < 0)
                return;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return;
        }
        (void) snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        r = text_source_open(&(struct text_source_options){ .paths = paths, .now_usec = REF }, &s,
                             &ep, &el);
        if (r >= 0) {
                while ((r = source_next(s, &rec)) > 0) {
                        char *cursor = NULL;

                        FUZZ_ASSERT(rec.unattested && record_has(&rec, RECORD_MESSAGE));
                        FUZZ_ASSERT(rec.field[RECORD_MESSAGE].len <= TEXT_LINE_MAX);
                        FUZZ_ASSERT(source_cursor(s, &rec.ref, NULL, NULL, &cursor) == 0 && strchr(cursor, ':'));
                        free(cursor);
                        n++;
                }
                FUZZ_ASSERT(r == 0);
                FUZZ_ASSERT(n <= text_source_stats(s)->entries);
                /* a line a byte at most, of the data as read: gzip data inflates up to 1032:1
                 * (deflate's limit) */
                FUZZ_ASSERT(text_source_stats(s)->lines <=
                            (size >= 2 && data[0] == 0x1f && data[1] == 0x8b ? size * 1032 : size) +
                                    1);
                source_free(s);
        } else
                FUZZ_ASSERT(ep == path);
        record_done(&rec);
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int init;

        if (!init) {
                setenv("TZ", "UTC", 1);
                tzset();
                init = 1;
        }
        parse_line(data, size);
        read_source(data, size);
        return 0;
}
