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

static struct sigaction sigbus_old;
static size_t sigbus_page;
static atomic_uint_fast64_t sigbus_pages;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;
static int sigbus_error;

static void sigbus_handler(int sig, siginfo_t *si, void *ctx) {
        (void) ctx;
        if (si->si_code == BUS_ADRERR && si->si_addr) {
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

int sigbus_zero_install(void) {
        if (pthread_once(&sigbus_once, sigbus_install_once) != 0)
                return -EINVAL;
        return sigbus_error;
}

uint64_t sigbus_zero_pages(void) {
        return atomic_load_explicit(&sigbus_pages, memory_order_relaxed);
}
