/* SPDX-License-Identifier: MIT */
/*
 * The one SIGBUS handler (sigbus.h) serves both readers in one process, whichever came first: a
 * registered mapping cut short reads zeroes to its end and is marked (the text reader), a page cut
 * off any other mapping reads as zeroes and is counted (sd-journal's maps).
 */

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigbus.h"
#include "tap.h"

#define PAGES 3

/* A file of PAGES pages of 'x', mapped; its descriptor in *ret_fd. */
static char *map_file(size_t page, int *ret_fd) {
        char path[] = "/tmp/test-sigbus.XXXXXX";
        char *buf = malloc(PAGES * page);
        int fd = mkstemp(path);
        void *p = MAP_FAILED;

        if (fd >= 0 && buf) {
                memset(buf, 'x', PAGES * page);
                if (write(fd, buf, PAGES * page) == (ssize_t) (PAGES * page))
                        p = mmap(NULL, PAGES * page, PROT_READ, MAP_PRIVATE, fd, 0);
                (void) unlink(path);
        }
        free(buf);
        *ret_fd = fd;
        return p == MAP_FAILED ? NULL : p;
}

int main(void) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        struct sigbus_map *m;
        int fd_text = -1, fd_journal = -1;
        char *text = map_file(page, &fd_text), *journal = map_file(page, &fd_journal);
        volatile const char *t = text, *j = journal;

        if (!text || !journal) {
                tap_ok(0, "map two files");
                return tap_done();
        }
        /* the text reader first, as a process reading both would: then the journal's mode */
        m = sigbus_map_add(text, PAGES * page);
        tap_ok(m != NULL, "a mapping registered");
        TAP_IS_INT(sigbus_page_size(), page, "the page size");
        TAP_IS_INT(sigbus_zero_install(), 0, "journal pages read as zeroes from now on");
        TAP_IS_INT(ftruncate(fd_text, (off_t) page), 0, "the registered file cut to one page");
        TAP_IS_INT(ftruncate(fd_journal, (off_t) page), 0, "the other file cut to one page");

        tap_ok(t[0] == 'x' && !sigbus_map_hit(m), "the page left is read, no mark");
        tap_ok(t[page + 1] == 0 && t[3 * page - 1] == 0, "the registered map: zeroes to its end");
        tap_ok(sigbus_map_hit(m), "  marked");
        TAP_IS_INT(sigbus_zero_pages(), 0, "  not counted as a journal page");

        tap_ok(j[0] == 'x' && j[page] == 0, "the other map: the page cut off reads zeroes");
        TAP_IS_INT(sigbus_zero_pages(), 1, "  one page counted");
        tap_ok(j[2 * page] == 0, "  the next page too");
        TAP_IS_INT(sigbus_zero_pages(), 2, "  two pages counted");

        sigbus_map_remove(m);
        m = sigbus_map_add(journal, PAGES * page);
        tap_ok(m && !sigbus_map_hit(m), "a slot given back is taken again, unmarked");
        sigbus_map_remove(m);
        sigbus_map_remove(NULL);
        (void) munmap(text, PAGES * page);
        (void) munmap(journal, PAGES * page);
        close(fd_text);
        close(fd_journal);
        return tap_done();
}
