/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Journal files cut short under their reader. sd-journal maps the files, and touching a page that
 * a truncation cut off raises SIGBUS, which libsystemd leaves to the program (journalctl installs a
 * handler of its own, not in the library's API). journald itself truncates its files: the unused
 * tail of each file it archives, and files it gives up on; so any account that writes enough to
 * make its journal rotate could end a reader at will. As journalctl does: a fault at an address
 * maps zeroes over that page (sd-journal then reads a corrupt or empty object, an error it
 * handles) and is counted; any other SIGBUS goes to the disposition found at install (the text
 * reader's handler, installed later, passes on what is not its own map to this one).
 */

#include <stdint.h>

#include "macro.h"

/* Install the handler, once per process. 0 or -errno. */
_warn_unused_ int sigbus_zero_install(void);

/* Pages read as zeroes so far. */
uint64_t sigbus_zero_pages(void);
