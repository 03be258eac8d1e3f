/* SPDX-License-Identifier: MIT */
/* The id set and the follow state file: round trip, bounds, corruption, the lock, the background
 * writer. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "idset.h"
#include "state.h"
#include "tap.h"

static void make_id(unsigned n, char id[static 33]) {
        (void) snprintf(id, 33, "%08x%024x", n * 2654435761u, n);
}

static void test_idset(void) {
        _cleanup_(idset_freep) struct idset *s = idset_new(100);
        char id[33];
        const char *it;
        uint64_t usec;
        size_t pos = 0, n = 0;
        bool all = true;

        tap_ok(s != NULL, "idset_new");
        TAP_IS_INT(idset_add(s, "not-an-id", 1), -EBADMSG, "a malformed id is refused");
        TAP_IS_INT(idset_add(s, "0123456789ABCDEF0123456789abcdef", 1), -EBADMSG,
                   "upper-case hex is refused");
        for (unsigned i = 0; i < 100; i++) {
                make_id(i, id);
                if (idset_add(s, id, 1000 + i) != 1)
                        all = false;
        }
        tap_ok(all, "100 ids added");
        make_id(5, id);
        TAP_IS_INT(idset_add(s, id, 1), 0, "an id already there is not added twice");
        TAP_IS_INT(idset_size(s), 100, "size at the bound");
        make_id(1000, id);
        TAP_IS_INT(idset_add(s, id, 5000), 1, "an id past the bound is added");
        TAP_IS_INT(idset_size(s), 100, "the bound holds");
        TAP_IS_INT(idset_dropped(s), 1, "the drop is counted");
        make_id(0, id);
        tap_ok(!idset_contains(s, id), "the oldest id was the one dropped");
        make_id(1, id);
        tap_ok(idset_contains(s, id), "the next oldest is kept");
        idset_prune(s, 1050);
        TAP_IS_INT(idset_size(s), 51, "prune forgets the ids older than the floor");
        all = true;
        for (unsigned i = 50; i < 100; i++) {
                make_id(i, id);
                if (!idset_contains(s, id))
                        all = false;
        }
        tap_ok(all, "every id at or past the floor is still found after the shifts");
        while (idset_next(s, &pos, &it, &usec))
                n++;
        TAP_IS_INT(n, 51, "iteration visits each id once");
}

static const char *tmpdir;

static int write_file(const char *name, const char *text) {
        char path[512];
        FILE *f;

        (void) snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        f = fopen(path, "we");
        if (!f)
                return -1;
        fputs(text, f);
        return fclose(f);
}

static void test_round_trip(void) {
        _cleanup_(state_freep) struct state *s = NULL, *t = NULL;
        unsigned line = 99;
        char id[33];

        TAP_IS_INT(state_new(&s), 0, "state_new");
        TAP_IS_INT(strlen(s->instance), 32, "a new state has a 32-digit instance");
        TAP_IS_INT(state_load(tmpdir, &t, &line), -ENOENT, "no file: -ENOENT");
        TAP_IS_INT(state_set_cursor(s, "s=1;i=2;b=3;m=4;t=5;x=6"), 0, "set cursor");
        TAP_IS_INT(state_set_cursor(s, "a b"), -EINVAL, "a cursor with a space is refused");
        s->cursor_usec = 1764200000012000;
        s->replay_usec = 1764200000001000;
        s->commit_usec = 1796296730637121;
        TAP_IS_INT(state_set_sink_mark(s, "file", "2049:1234:5678"), 0, "set file mark");
        TAP_IS_INT(state_set_sink_mark(s, "journal", "1796296730637121"), 0, "set journal mark");
        TAP_IS_INT(state_set_sink_mark(s, "file", "2049:1234:9999"), 0, "replace file mark");
        make_id(7, id);
        TAP_IS_INT(idset_add(s->ids, id, 1764200000008000), 1, "add an id");
        TAP_IS_INT(state_save(tmpdir, s), 0, "save");
        TAP_IS_INT(state_load(tmpdir, &t, &line), 0, "load");
        if (!t)
                return;
        TAP_IS_STR(t->instance, s->instance, "instance kept");
        TAP_IS_STR(t->cursor, "s=1;i=2;b=3;m=4;t=5;x=6", "cursor kept");
        TAP_IS_INT(t->cursor_usec, 1764200000012000, "cursor_usec kept");
        TAP_IS_INT(t->replay_usec, 1764200000001000, "replay_usec kept");
        TAP_IS_INT(t->commit_usec, 1796296730637121, "commit_usec kept");
        TAP_IS_STR(state_sink_mark(t, "file"), "2049:1234:9999", "file mark kept (the last one)");
        TAP_IS_STR(state_sink_mark(t, "journal"), "1796296730637121", "journal mark kept");
        TAP_IS_STR(state_sink_mark(t, "socket"), NULL, "no mark for a sink never marked");
        tap_ok(idset_contains(t->ids, id), "the id is kept");
        TAP_IS_INT(idset_size(t->ids), 1, "only that id");
}

static void corrupt_one(const char *text, int want, unsigned want_line, const char *what) {
        _cleanup_(state_freep) struct state *t = NULL;
        unsigned line = 99;
        int r;

        if (write_file(STATE_FILE_NAME, text) < 0) {
                tap_ok(0, "%s: cannot write the file", what);
                return;
        }
        r = state_load(tmpdir, &t, &line);
        TAP_IS_INT(r, want, "%s: refused", what);
        if (want == -EBADMSG)
                TAP_IS_INT(line, want_line, "%s: the line is named", what);
        if (want < 0)
                tap_ok(t == NULL, "%s: nothing returned", what);
        else
                tap_ok(t && streq(t->cursor, "s=1"), "%s: the cursor is read", what);
}

#define HEAD "keytrail-follow-state 1\ninstance 0123456789abcdef0123456789abcdef\n"
#define MA "4c6f0b5e8f6a4c9aa1f2e3d4c5b6a7b8"
#define MB "0123456789abcdef0123456789abcdef"

/* Per-host positions: kept across a save, each host once, bounded; a state without them (written
 * before they existed) still loads, with its one cursor. */
static void test_hosts(void) {
        _cleanup_(state_freep) struct state *s = NULL, *t = NULL;
        const struct state_host *h;
        unsigned line = 99;
        char mid[33];
        int r = 0;

        TAP_IS_INT(state_new(&s), 0, "hosts: state_new");
        if (!s)
                return;
        TAP_IS_INT(state_set_host(s, MA, "s=1;i=2", 10), 0, "hosts: set A");
        TAP_IS_INT(state_set_host(s, MB, "s=3;i=4", 5), 0, "hosts: set B");
        TAP_IS_INT(state_set_host(s, MA, "s=1;i=9", 20), 0, "hosts: set A again");
        TAP_IS_INT(state_set_host(s, "0123", "s=1", 1), -EINVAL, "hosts: a short machine id is refused");
        TAP_IS_INT(state_set_host(s, "0123456789ABCDEF0123456789ABCDEF", "s=1", 1), -EINVAL,
                   "hosts: upper-case hex is refused");
        TAP_IS_INT(state_set_host(s, MB, "a b", 1), -EINVAL, "hosts: a cursor with a space is refused");
        TAP_IS_INT(s->n_hosts, 2, "hosts: two hosts");
        TAP_IS_INT(state_save(tmpdir, s), 0, "hosts: save");
        TAP_IS_INT(state_load(tmpdir, &t, &line), 0, "hosts: load");
        if (!t)
                return;
        TAP_IS_INT(t->n_hosts, 2, "hosts: two hosts loaded");
        h = state_host(t, MA);
        TAP_IS_STR(h ? h->cursor : NULL, "s=1;i=9", "hosts: A's last cursor kept");
        TAP_IS_INT(h ? h->cursor_usec : 0, 20, "hosts: A's time kept");
        h = state_host(t, MB);
        TAP_IS_STR(h ? h->cursor : NULL, "s=3;i=4", "hosts: B's cursor kept");
        TAP_IS_INT(h ? h->cursor_usec : 0, 5, "hosts: B's time kept");
        tap_ok(!state_host(t, "ffffffffffffffffffffffffffffffff"), "hosts: no other host");
        state_clear_hosts(t);
        TAP_IS_INT(t->n_hosts, 0, "hosts: cleared");
        for (unsigned i = 0; i < STATE_HOSTS_MAX && r == 0; i++) {
                (void) snprintf(mid, sizeof(mid), "%032x", i);
                r = state_set_host(t, mid, "s=1", i);
        }
        TAP_IS_INT(r, 0, "hosts: %u hosts", (unsigned) STATE_HOSTS_MAX);
        TAP_IS_INT(state_set_host(t, MA, "s=1", 1), -ENOSPC, "hosts: one more is refused");

        corrupt_one(HEAD "cursor s=1\nhost " MA " s=1;i=2 7\nhost " MA " s=1;i=3 8\nend 0\n",
                    -EBADMSG, 5, "hosts: one host twice");
        corrupt_one(HEAD "cursor s=1\nhost " MA " s=1;i=2\nend 0\n", -EBADMSG, 4,
                    "hosts: a host without time");
        corrupt_one(HEAD "cursor s=1\nhost 4C6F0B5E8F6A4C9AA1F2E3D4C5B6A7B8 s=1 7\nend 0\n", -EBADMSG,
                    4, "hosts: a machine id not as journald writes it");
        corrupt_one(HEAD "cursor s=1\nhost " MA " s=1 x7\nend 0\n", -EBADMSG, 4,
                    "hosts: a time that is no number");
        corrupt_one(HEAD "cursor s=1\nhost " MA " s=1 7 8\nend 0\n", -EBADMSG, 4,
                    "hosts: a word too many");
        corrupt_one(HEAD "cursor s=1\nhost " MA " s=1;i=2 7\nend 0\n", 0, 0,
                    "hosts: a state with a host is accepted");
        corrupt_one(HEAD "cursor s=1\ncursor_usec 7\nend 0\n", 0, 0,
                    "hosts: a state without hosts (the one cursor) is accepted");
}

static void test_corrupt(void) {
        corrupt_one("", -EBADMSG, 0, "an empty file");
        corrupt_one("keytrail-follow-state 2\n", -EBADMSG, 1, "another version");
        corrupt_one(HEAD "cursor s=1\nend 0", -EBADMSG, 4, "a last line without newline (cut)");
        corrupt_one(HEAD "cursor s=1\n", -EBADMSG, 0, "no end line (cut)");
        corrupt_one(HEAD "cursor s=1\nid 0123456789abcdef0123456789abcdef 5\nend 2\n", -EBADMSG, 5,
                    "an end count that disagrees");
        corrupt_one(HEAD "cursor s=1\nid 0123 5\nend 1\n", -EBADMSG, 4, "a malformed id");
        corrupt_one(HEAD "cursor s=1\ncursor_usec -5\nend 0\n", -EBADMSG, 4, "a negative number");
        corrupt_one(HEAD "cursor s=1\ncursor_usec 99999999999999999999999\nend 0\n", -EBADMSG, 4,
                    "a number out of range");
        corrupt_one(HEAD "cursor s=1\nwhat 1\nend 0\n", -EBADMSG, 4, "an unknown line");
        {
                _cleanup_(state_freep) struct state *t = NULL;
                unsigned line = 0;

                tap_ok(write_file(STATE_FILE_NAME, HEAD "end 0\n") == 0, "write a state without cursor");
                TAP_IS_INT(state_load(tmpdir, &t, &line), 0,
                           "no cursor (nothing read yet) is a valid state");
                tap_ok(t && !t->cursor, "and it has no cursor");
        }
        corrupt_one(HEAD "cursor s=1\nend 0\ncursor s=2\n", -EBADMSG, 5, "a line after the end");
        corrupt_one("keytrail-follow-state 1\ncursor s=1\nend 0\n", -EBADMSG, 0, "no instance");
        corrupt_one(HEAD "cursor s=1\0x\nend 0\n", -EBADMSG, 3, "a NUL byte");
        corrupt_one(HEAD "cursor s=1\nend 0\n", 0, 0, "a minimal valid file is accepted");
        {
                /* over the size cap: refused whole, never read in part */
                size_t n = STATE_FILE_MAX_BYTES + 1;
                char *big = malloc(n + 1);

                if (tap_ok(big != NULL, "a buffer over the cap")) {
                        memset(big, '#', n);
                        big[n] = 0;
                        corrupt_one(big, -E2BIG, 0, "a file one byte over STATE_FILE_MAX_BYTES");
                        free(big);
                }
        }
}

/* The background writer: states written whole and in order, the output file's descriptor fsync'ed
 * and closed, a second state refused while one is in flight, errors reported. */
static void test_writer(void) {
        _cleanup_(state_writer_freep) struct state_writer *w = NULL, *bad = NULL;
        _cleanup_(state_freep) struct state *s = NULL, *t = NULL;
        char out[512], *text = NULL;
        size_t len = 0;
        unsigned line = 0;
        int fd, r;

        TAP_IS_INT(state_new(&s), 0, "writer: a state");
        TAP_IS_INT(state_writer_new(tmpdir, &w), 0, "writer: started");
        if (!s || !w)
                return;
        TAP_IS_INT(state_writer_collect(w, false), 0, "writer: nothing finished yet");
        (void) snprintf(out, sizeof(out), "%s/out", tmpdir);
        for (unsigned i = 1; i <= 50; i++) {
                char cursor[32];

                (void) snprintf(cursor, sizeof(cursor), "c=%u", i);
                TAP_IS_INT(state_set_cursor(s, cursor), 0, "writer: cursor %u", i);
                TAP_IS_INT(state_format(s, &text, &len), 0, "writer: format %u", i);
                fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                r = state_writer_submit(w, text, len, fd);
                if (r == -EBUSY) {
                        /* One in flight: nothing was taken; wait for it, then hand this over. */
                        TAP_IS_INT(state_writer_collect(w, true), 1, "writer: %u waits", i);
                        r = state_writer_submit(w, text, len, fd);
                }
                TAP_IS_INT(r, 0, "writer: state %u handed over", i);
                if (r < 0) {
                        free(text);
                        close(fd);
                }
        }
        TAP_IS_INT(state_writer_collect(w, true), 1, "writer: the last one written");
        TAP_IS_INT(state_writer_collect(w, false), 0, "writer: and nothing since");
        TAP_IS_INT(state_load(tmpdir, &t, &line), 0, "writer: the file loads");
        TAP_IS_STR(t ? t->cursor : NULL, "c=50", "writer: the last state submitted is the file");
        (void) unlink(out);

        /* A folder it cannot write to: the error comes back from collect. */
        TAP_IS_INT(state_writer_new("/nonexistent/keytrail-test", &bad), 0, "writer: started on a bad folder");
        TAP_IS_INT(state_format(s, &text, &len), 0, "writer: format");
        TAP_IS_INT(state_writer_submit(bad, text, len, -1), 0, "writer: handed over");
        TAP_IS_INT(state_writer_collect(bad, true), -ENOENT, "writer: -ENOENT comes back");
        TAP_IS_INT(state_writer_collect(bad, false), 0, "writer: once");
}

static void test_lock(void) {
        int a, b;

        a = state_lock(tmpdir);
        tap_ok(a >= 0, "the lock is taken");
        b = state_lock(tmpdir);
        TAP_IS_INT(b, -EBUSY, "a second taker is refused");
        if (a >= 0)
                close(a);
        b = state_lock(tmpdir);
        tap_ok(b >= 0, "taken again once released");
        if (b >= 0)
                close(b);
}

int main(void) {
        char tmpl[] = "/tmp/test-state.XXXXXX";

        tmpdir = mkdtemp(tmpl);
        if (!tmpdir)
                return 1;
        test_idset();
        test_round_trip();
        test_corrupt();
        test_hosts();
        test_lock();
        test_writer();
        {
                char p[512];

                (void) snprintf(p, sizeof(p), "%s/%s", tmpdir, STATE_FILE_NAME);
                (void) unlink(p);
                (void) snprintf(p, sizeof(p), "%s/%s", tmpdir, STATE_LOCK_NAME);
                (void) unlink(p);
                (void) rmdir(tmpdir);
        }
        return tap_done();
}
