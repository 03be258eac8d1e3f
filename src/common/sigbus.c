/* SPDX-License-Identifier: MIT */
/* See sigbus.h. */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigbus.h"

#define SIGBUS_MAPS 1024U

static struct sigbus_map sigbus_maps[SIGBUS_MAPS];
static struct sigaction sigbus_old;
static size_t sigbus_page;
static atomic_bool sigbus_zero;
static atomic_uint_fast64_t sigbus_pages;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static int sigbus_error;

/* A fault inside a registered mapping: zeroes from its page to the mapping's end, marked. */
static bool sigbus_in_map(uintptr_t a) {
        for (size_t i = 0; i < SIGBUS_MAPS; i++) {
                uintptr_t start = atomic_load(&sigbus_maps[i].start), page;
                size_t len = atomic_load(&sigbus_maps[i].len);

                if (len == 0 || a < start || a - start >= len)
                        continue;
                page = a & ~(uintptr_t) (sigbus_page - 1);
                if (mmap((void *) page, start + len - page, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
                        return false;
                atomic_store(&sigbus_maps[i].hit, true);
                return true;
        }
        return false;
}

static void sigbus_handler(int sig, siginfo_t *si, void *ctx) {
        (void) ctx;
        if (si->si_code > 0 && sigbus_in_map((uintptr_t) si->si_addr))
                return;
        if (si->si_code == BUS_ADRERR && si->si_addr &&
            atomic_load_explicit(&sigbus_zero, memory_order_relaxed)) {
                void *page = (void *) ((uintptr_t) si->si_addr & ~(uintptr_t) (sigbus_page - 1));

                if (mmap(page, sigbus_page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                         0) == page) {
                        atomic_fetch_add_explicit(&sigbus_pages, 1, memory_order_relaxed);
                        return;
                }
        }
        (void) sigaction(SIGBUS, &sigbus_old, NULL);
        if (si->si_code <= 0)
                (void) raise(sig); /* sent, not a fault: it would not come back by itself */
}

static void sigbus_install_once(void) {
        struct sigaction sa = { .sa_sigaction = sigbus_handler, .sa_flags = SA_SIGINFO | SA_NODEFER };
        long ps = sysconf(_SC_PAGESIZE);

        if (ps <= 0) {
                sigbus_error = -EINVAL;
                return;
        }
        sigbus_page = (size_t) ps;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, &sigbus_old) < 0)
                sigbus_error = -errno;
}

static int sigbus_install(void) {
        if (pthread_once(&sigbus_once, sigbus_install_once) != 0)
                return -EINVAL;
        return sigbus_error;
}

int sigbus_zero_install(void) {
        int r = sigbus_install();

        if (r < 0)
                return r;
        atomic_store(&sigbus_zero, true);
        return 0;
}

uint64_t sigbus_zero_pages(void) {
        return atomic_load_explicit(&sigbus_pages, memory_order_relaxed);
}

size_t sigbus_page_size(void) {
        return sigbus_page;
}

struct sigbus_map *sigbus_map_add(const void *start, size_t len) {
        if (len == 0 || sigbus_install() < 0)
                return NULL;
        for (size_t i = 0; i < SIGBUS_MAPS; i++) {
                struct sigbus_map *m = &sigbus_maps[i];
                bool f = false;

                if (!atomic_compare_exchange_strong(&m->used, &f, true))
                        continue;
                atomic_store(&m->hit, false);
                atomic_store(&m->start, (uintptr_t) start);
                atomic_store(&m->len, (len + sigbus_page - 1) & ~(sigbus_page - 1));
                return m;
        }
        return NULL;
}

void sigbus_map_remove(struct sigbus_map *m) {
        if (!m)
                return;
        atomic_store(&m->len, 0);
        atomic_store(&m->start, 0);
        atomic_store(&m->used, false);
}
