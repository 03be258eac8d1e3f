/* SPDX-License-Identifier: MIT */
/*
 * malloc-count.so: an LD_PRELOAD that counts the calls to malloc, calloc, realloc, free and the
 * aligned allocators of the process it is loaded into, and the bytes live at the peak, and writes
 * them at exit to the file named by $MALLOC_COUNT_OUT (else stderr):
 *
 *   malloc=N calloc=N realloc=N free=N aligned=N peak_live_bytes=N
 *
 * It passes every call on to glibc's own allocator (__libc_malloc and friends), so it changes
 * nothing but the counters. bench/alloc.sh uses it to tell the allocations per entry and how the
 * heap peak grows with the input. Counters are atomic: the process may have threads.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static atomic_ulong n_malloc, n_calloc, n_realloc, n_free, n_aligned;
static atomic_long live, peak;

static void account(long delta) {
        long now = atomic_fetch_add(&live, delta) + delta;
        long p = atomic_load(&peak);

        while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
                ;
}

static long usable(void *p) {
        return p ? (long) malloc_usable_size(p) : 0;
}

void *malloc(size_t n) {
        void *p = __libc_malloc(n);

        atomic_fetch_add(&n_malloc, 1);
        account(usable(p));
        return p;
}

void *calloc(size_t a, size_t b) {
        void *p = __libc_calloc(a, b);

        atomic_fetch_add(&n_calloc, 1);
        account(usable(p));
        return p;
}

void *realloc(void *old, size_t n) {
        long before = usable(old);
        void *p;

        p = __libc_realloc(old, n);
        atomic_fetch_add(&n_realloc, 1);
        if (p || n == 0)
                account(usable(p) - before);
        return p;
}

void free(void *p) {
        if (!p)
                return;
        atomic_fetch_add(&n_free, 1);
        account(-usable(p));
        __libc_free(p);
}

static void *aligned(size_t align, size_t n) {
        void *p = __libc_memalign(align, n);

        atomic_fetch_add(&n_aligned, 1);
        account(usable(p));
        return p;
}

int posix_memalign(void **ret, size_t align, size_t n) {
        void *p = aligned(align, n);

        if (!p)
                return 12; /* ENOMEM */
        *ret = p;
        return 0;
}

void *aligned_alloc(size_t align, size_t n) {
        return aligned(align, n);
}

void *memalign(size_t align, size_t n) {
        return aligned(align, n);
}

__attribute__((destructor)) static void report(void) {
        const char *path = getenv("MALLOC_COUNT_OUT");
        char buf[256];
        int fd = 2, k;

        if (path)
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        k = snprintf(buf, sizeof(buf),
                     "malloc=%lu calloc=%lu realloc=%lu free=%lu aligned=%lu peak_live_bytes=%ld\n",
                     atomic_load(&n_malloc), atomic_load(&n_calloc), atomic_load(&n_realloc),
                     atomic_load(&n_free), atomic_load(&n_aligned), atomic_load(&peak));
        if (k > 0)
                (void) !write(fd, buf, (size_t) k);
        if (path)
                close(fd);
}
