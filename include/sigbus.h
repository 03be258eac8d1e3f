/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Files cut short under their reader: touching a page of a mapping that a truncation cut off
 * raises SIGBUS. One handler, installed once per process, serves two kinds of readers:
 *
 *  - Mappings registered here (sigbus_map_add(): the text reader's mapped logs, which
 *    copytruncate or an account with write access can cut). A fault inside one maps zeroes over
 *    the rest of that mapping and marks it (sigbus_map_hit()); the reader, which checks the mark
 *    after it scanned a line's bytes, drops that line and goes on with read().
 *  - Journal files (sigbus_zero_install()). sd-journal maps the files, and libsystemd leaves
 *    SIGBUS to the program (journalctl installs a handler of its own, not in the library's API).
 *    journald itself truncates its files: the unused tail of each file it archives, and files it
 *    gives up on; so any account that writes enough to make its journal rotate could end a reader
 *    at will. As journalctl does: a fault at any other address maps zeroes over that page
 *    (sd-journal then reads a corrupt or empty object, an error it handles) and is counted.
 *
 * Any other SIGBUS (not a fault at an address, or with neither kind enabled) goes to the
 * disposition found at install, put back: the fault happens again under it.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Install the handler (once per process) and read a journal page cut off as zeroes from now on.
 * 0 or -errno. */
_warn_unused_ int sigbus_zero_install(void);

/* Journal pages read as zeroes so far. */
uint64_t sigbus_zero_pages(void);

/* One registered mapping: a slot of the handler's table (1024 of them). Public only so that the
 * reader's check of the mark, once per line, is inlined. */
struct sigbus_map {
        atomic_bool used;
        _Atomic uintptr_t start;
        _Atomic size_t len; /* page-rounded; 0: none */
        atomic_bool hit;    /* set by the handler: the file was cut short under the mapping */
};

/* Register the mapping [start, start + len) (installing the handler if need be), unmarked. NULL
 * when the table is full or the handler cannot be installed: the caller is not to map the file
 * then (or to unmap it). */
struct sigbus_map *sigbus_map_add(const void *start, size_t len);

/* Forget m; call it before the mapping is unmapped. NULL is ignored. */
void sigbus_map_remove(struct sigbus_map *m);

/* Whether a fault marked m: the mapping holds zeroes from the page cut off to its end. */
static inline bool sigbus_map_hit(const struct sigbus_map *m) {
        return atomic_load_explicit(&m->hit, memory_order_relaxed);
}

/* The page size the handler rounds by (sysconf(_SC_PAGESIZE)); 0 before any install. */
size_t sigbus_page_size(void);
