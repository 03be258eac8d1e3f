/* SPDX-License-Identifier: MIT */
/* Text logs (--input): the line parser, text_line_parse(), on the input as one line, and the
 * source (line splitting, gzip through zlib, merging, FILE:LINE cursors) on the input as a file. */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

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

/* A memfd holding size bytes of data, as /proc/self/fd/N in path; -1 when it cannot be made. */
static int memfd_with(const uint8_t *data, size_t size, char path[static 64]) {
        int fd = memfd_create("fuzz-text", MFD_CLOEXEC);

        if (fd < 0)
                return -1;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return -1;
        }
        (void) snprintf(path, 64, "/proc/self/fd/%d", fd);
        return fd;
}

/* data gzip-wrapped (stored blocks are enough: zlib reads it back), newly allocated in *ret. */
static size_t gzip_of(const uint8_t *data, size_t size, uint8_t **ret) {
        z_stream z = {};
        uLong bound;
        uint8_t *out;

        if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return 0;
        bound = deflateBound(&z, (uLong) size);
        out = malloc(bound);
        if (!out) {
                deflateEnd(&z);
                return 0;
        }
        z.next_in = (Bytef *) data;
        z.avail_in = (uInt) size;
        z.next_out = out;
        z.avail_out = (uInt) bound;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
                deflateEnd(&z);
                free(out);
                return 0;
        }
        deflateEnd(&z);
        *ret = out;
        return z.total_out;
}

static bool kept(char **keep, struct strview ident) {
        for (; ident.ptr && *keep; keep++)
                if (strview_eq(ident, strview_from(*keep)))
                        return true;
        return false;
}

/* Read the file at path to its end (the lines of ids, NULL: all), checking each record; a digest
 * of everything read (the records of keep's identifiers, NULL: all; the counters, the end) in
 * *ret_digest: what two reads of the same lines must agree on. */
static void read_path(char *path, const uint8_t *data, size_t size, char **ids, char **keep,
                      uint8_t ret_digest[32]) {
        char *paths[2] = { path, NULL };
        struct source *s = NULL;
        struct log_record rec = {};
        const char *ep = NULL;
        uint64_t el = 0, n = 0;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int r;

        FUZZ_ASSERT(md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
        r = text_source_open(&(struct text_source_options){ .paths = paths, .identifiers = ids,
                                                            .now_usec = REF },
                             &s, &ep, &el);
        EVP_DigestUpdate(md, &r, sizeof(r));
        EVP_DigestUpdate(md, &el, sizeof(el));
        if (r >= 0) {
                while ((r = source_next(s, &rec)) > 0) {
                        char *cursor = NULL;

                        FUZZ_ASSERT(rec.unattested && record_has(&rec, RECORD_MESSAGE));
                        FUZZ_ASSERT(rec.field[RECORD_MESSAGE].len <= TEXT_LINE_MAX);
                        FUZZ_ASSERT(source_cursor(s, &rec.ref, NULL, NULL, &cursor) == 0 && strchr(cursor, ':'));
                        free(cursor);
                        n++;
                        if (keep && !kept(keep, record_field(&rec, RECORD_SYSLOG_IDENTIFIER)))
                                continue;
                        EVP_DigestUpdate(md, &rec.ref.text.line, sizeof(rec.ref.text.line));
                        EVP_DigestUpdate(md, &rec.realtime_usec, sizeof(rec.realtime_usec));
                        EVP_DigestUpdate(md, &rec.truncated, sizeof(rec.truncated));
                        for (unsigned f = 0; f < _RECORD_FIELD_MAX; f++) {
                                struct strview v = record_field(&rec, f);
                                uint64_t len = v.ptr ? v.len : UINT64_MAX;

                                EVP_DigestUpdate(md, &len, sizeof(len));
                                if (v.ptr)
                                        EVP_DigestUpdate(md, v.ptr, v.len);
                        }
                }
                FUZZ_ASSERT(r == 0);
                FUZZ_ASSERT(n <= text_source_stats(s)->entries);
                /* a line a byte at most, of the data as read: gzip data inflates up to 1032:1
                 * (deflate's limit) */
                FUZZ_ASSERT(text_source_stats(s)->lines <=
                            (size >= 2 && data[0] == 0x1f && data[1] == 0x8b ? size * 1032 : size) +
                                    1);
                EVP_DigestUpdate(md, text_source_stats(s), sizeof(struct text_source_stats));
                n = source_skipped(s);
                EVP_DigestUpdate(md, &n, sizeof(n));
                source_free(s);
        } else
                FUZZ_ASSERT(ep == path);
        FUZZ_ASSERT(EVP_DigestFinal_ex(md, ret_digest, NULL) == 1);
        EVP_MD_CTX_free(md);
        record_done(&rec);
}

/*
 * The input as a file: a regular file is mapped (text.c), gzip data goes through read()'s buffer.
 * Unless it is gzip itself, the same bytes gzip-wrapped must give the same records and counters.
 */
static void read_source(const uint8_t *data, size_t size) {
        /* 1, 3, 4 and 12 bytes, and one that holds a byte that ends a tag */
        static char *ids[] = { (char *) "a", (char *) "abc", (char *) "sshd",
                               (char *) "sshd-session", (char *) "x:y", NULL };
        char path[64], gz_path[64];
        uint8_t plain[32], wrapped[32], all[32], some[32], *gz = NULL;
        size_t gz_size;
        int fd, gz_fd;

        fd = memfd_with(data, size, path);
        if (fd < 0)
                return;
        read_path(path, data, size, NULL, NULL, plain);
        /* with identifiers: the lines of those (other programs' lines are ruled out by their
         * tags' first bytes, text.c's maybe_wanted()) and the same counters */
        read_path(path, data, size, NULL, ids, all);
        read_path(path, data, size, ids, NULL, some);
        FUZZ_ASSERT(memcmp(all, some, sizeof(all)) == 0);
        close(fd);
        if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
                return;
        gz_size = gzip_of(data, size, &gz);
        if (gz_size == 0)
                return;
        gz_fd = memfd_with(gz, gz_size, gz_path);
        if (gz_fd < 0) {
                free(gz);
                return;
        }
        /* the paths differ only in the fd's number: the cursors (FILE:LINE) are not digested */
        read_path(gz_path, gz, gz_size, NULL, NULL, wrapped);
        close(gz_fd);
        free(gz);
        FUZZ_ASSERT(memcmp(plain, wrapped, sizeof(plain)) == 0);
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
