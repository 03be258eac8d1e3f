/* SPDX-License-Identifier: MIT */
/*
 * Baseline discovery against what a hostile account can put in its own home: /dev/zero (a link to
 * it, and a device node), a FIFO, a symlink to another account's file, a symlinked .ssh, a huge
 * file, wrong modes and owners, a hard link. Each is reported and skipped, none hangs (an alarm
 * fails the test), and the accounts around them are still read. The README's promise: a user
 * cannot blind keytrail through their own file. The owner cases need root (chown); without it
 * they are reported as skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "discover.h"
#include "tap.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIxtjQpxiAfmcQnYGPuRslLBR3X/i91izmjfhg5cihbA a@x"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICC+lqfsrnC8Xu2NaouOVJJ2eYAk5VDHBgMbyPxoB5I1 b@x"

static char root[256];
static bool is_root;
static FILE *passwd;
static uid_t next_uid = 5001;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static void die(const char *what) {
        printf("Bail out! %s: %s\n", what, strerror(errno));
        exit(1);
}

static void on_alarm(int sig) {
        (void) sig;
        printf("Bail out! discovery hung (a FIFO or device was waited on)\n");
        _exit(1);
}

/* path below root, formatted */
static const char *at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *at(const char *fmt, ...) {
        static char buf[4][512];
        static int k;
        char rel[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        k = (k + 1) % 4;
        snprintf(buf[k], sizeof(buf[k]), "%s/%s", root, rel);
        return buf[k];
}

static void own(const char *path, uid_t uid) {
        if (is_root && lchown(path, uid, uid) < 0)
                die(path);
}

static void write_file(const char *path, const char *text, mode_t mode, uid_t uid) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text) || close(fd) < 0)
                die(path);
        if (chmod(path, mode) < 0)
                die(path);
        own(path, uid);
}

/* An account NAME with a home (mode 755) and .ssh (700) owned by it; returns its uid. */
static uid_t account(const char *name) {
        uid_t uid = is_root ? next_uid++ : getuid();

        fprintf(passwd, "%s:x:%u:%u::%s:/bin/sh\n", name, (unsigned) uid, (unsigned) uid,
                at("home/%s", name));
        if (mkdir(at("home/%s", name), 0755) < 0 || mkdir(at("home/%s/.ssh", name), 0700) < 0)
                die(name);
        own(at("home/%s", name), uid);
        own(at("home/%s/.ssh", name), uid);
        return uid;
}

static const struct discover_file *find_file(const struct discover_result *r, const char *user,
                                             const char *suffix) {
        for (size_t i = 0; i < r->n; i++) {
                size_t a = strlen(r->files[i].path), b = strlen(suffix);

                if (strcmp(r->files[i].user, user) == 0 && a >= b &&
                    strcmp(r->files[i].path + a - b, suffix) == 0)
                        return &r->files[i];
        }
        return NULL;
}

static void expect(const struct discover_result *r, const char *user, enum discover_verdict want,
                   const char *offender_rel, const char *title) {
        const struct discover_file *f = find_file(r, user, "/.ssh/authorized_keys");

        if (!tap_ok(f && f->verdict == want, "%s: %s", user, title)) {
                tap_diag("got %s, want %s", f ? discover_verdict_to_string(f->verdict) : "nothing",
                         discover_verdict_to_string(want));
                return;
        }
        if (offender_rel)
                TAP_IS_STR(f->offender, at("%s", offender_rel), "%s: the offender is named", user);
}

int main(void) {
        _cleanup_(baseline_freep) struct baseline *b = baseline_new();
        struct discover_result res = {};
        uid_t alice, uid;
        int fd, r;

        is_root = geteuid() == 0;
        snprintf(root, sizeof(root), "/tmp/kt-discover.XXXXXX");
        if (!mkdtemp(root) || chmod(root, 0755) < 0 || mkdir(at("home"), 0755) < 0)
                die("mkdtemp");
        passwd = fopen(at("passwd"), "we");
        if (!passwd || !b)
                die("passwd");
        signal(SIGALRM, on_alarm);
        alarm(60);

        /* alice: the good case, with one malformed line sshd would ignore too */
        alice = account("alice");
        write_file(at("home/alice/.ssh/authorized_keys"),
                   KEY1 "\nthis is not a key\ncommand=\"x\" " KEY2 "\n", 0600, alice);
        /* bob: authorized_keys -> /dev/zero */
        account("bob");
        if (symlink("/dev/zero", at("home/bob/.ssh/authorized_keys")) < 0)
                die("symlink");
        /* carol: a FIFO */
        account("carol");
        if (mkfifo(at("home/carol/.ssh/authorized_keys"), 0600) < 0)
                die("mkfifo");
        own(at("home/carol/.ssh/authorized_keys"), next_uid - 1);
        /* dave: a symlink to alice's file: alice's keys must not become dave's */
        account("dave");
        if (symlink("../../alice/.ssh/authorized_keys", at("home/dave/.ssh/authorized_keys")) < 0)
                die("symlink");
        /* erin: .ssh itself a symlink to alice's */
        account("erin");
        if (rmdir(at("home/erin/.ssh")) < 0 || symlink("../alice/.ssh", at("home/erin/.ssh")) < 0)
                die("symlink .ssh");
        /* frank: 9 MiB (sparse), beyond the cap */
        account("frank");
        fd = open(at("home/frank/.ssh/authorized_keys"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, KEY1 "\n", strlen(KEY1) + 1) < 0 ||
            ftruncate(fd, DISCOVER_FILE_MAX + 1024 * 1024) < 0 || close(fd) < 0)
                die("frank");
        own(at("home/frank/.ssh/authorized_keys"), next_uid - 1);
        /* grace: the file world-writable; heidi: .ssh group-writable; ivan: the home 777 */
        uid = account("grace"); /* first: account() reuses at()'s buffers */
        write_file(at("home/%s/.ssh/authorized_keys", "grace"), KEY1 "\n", 0600, uid);
        chmod(at("home/grace/.ssh/authorized_keys"), 0666);
        uid = account("heidi"); /* first: account() reuses at()'s buffers */
        write_file(at("home/heidi/.ssh/authorized_keys"), KEY1 "\n", 0600, uid);
        chmod(at("home/heidi/.ssh"), 0770);
        uid = account("ivan"); /* first: account() reuses at()'s buffers */
        write_file(at("home/ivan/.ssh/authorized_keys"), KEY1 "\n", 0600, uid);
        chmod(at("home/ivan"), 0777);
        /* zed: a good account after all of them */
        uid = account("zed"); /* first: account() reuses at()'s buffers */
        write_file(at("home/zed/.ssh/authorized_keys"), KEY2 "\n", 0644, uid);
        /* as root: judy's file owned by alice; ken's a hard link to a root file; leo's a device
         * node with /dev/zero's numbers; root-owned 0644 in mallory's .ssh is what sshd accepts */
        if (is_root) {
                uid = account("judy"); /* first: account() reuses at()'s buffers */
                write_file(at("home/judy/.ssh/authorized_keys"), KEY1 "\n", 0600, uid);
                own(at("home/judy/.ssh/authorized_keys"), alice);
                account("ken");
                write_file(at("rootkeys"), KEY1 "\n", 0644, 0);
                if (link(at("rootkeys"), at("home/ken/.ssh/authorized_keys")) < 0)
                        die("link");
                account("leo");
                if (mknod(at("home/leo/.ssh/authorized_keys"), S_IFCHR | 0644, makedev(1, 5)) < 0)
                        die("mknod");
                account("mallory");
                write_file(at("home/mallory/.ssh/authorized_keys"), KEY2 "\n", 0644, 0);
        }
        /* system accounts whose homes sshd would refuse but which hold no authorized_keys: a
         * symlinked home (/bin on merged-/usr systems), a group-writable one (/var/mail): nothing */
        if (mkdir(at("usr-bin"), 0755) < 0 || symlink("usr-bin", at("bin")) < 0 ||
            mkdir(at("mail"), 02775) < 0 || chmod(at("mail"), 02775) < 0)
                die("system homes");
        fprintf(passwd, "bin:x:2:2:bin:%s:/usr/sbin/nologin\n", at("bin"));
        fprintf(passwd, "mail:x:8:8:mail:%s:/usr/sbin/nologin\n", at("mail"));
        if (fclose(passwd) < 0)
                die("passwd");

        r = baseline_discover(b, &(struct discover_options){ .passwd = at("passwd") }, &res);
        TAP_IS_INT(r, 0, "discovery runs to the end");
        TAP_IS_INT(res.accounts, is_root ? 16 : 12, "every account looked at");
        tap_ok(!find_file(&res, "bin", "") && !find_file(&res, "mail", ""),
               "a symlinked or group-writable home without a file: nothing listed, nothing said");

        {
                const struct discover_file *f = find_file(&res, "alice", "/.ssh/authorized_keys");

                tap_ok(f && f->verdict == DISCOVER_READ && f->keys == 2 && f->bad_lines == 1 &&
                               f->first_bad_line == 2,
                       "alice: read, 2 keys, the malformed line 2 skipped and counted");
                tap_ok(!find_file(&res, "alice", "/.ssh/authorized_keys2"),
                       "alice: no authorized_keys2, nothing listed");
        }
        expect(&res, "bob", DISCOVER_SYMLINK, "home/bob/.ssh/authorized_keys",
               "a symlink to /dev/zero is skipped, never read");
        expect(&res, "carol", DISCOVER_NOT_REGULAR, "home/carol/.ssh/authorized_keys",
               "a FIFO is skipped, never waited on");
        expect(&res, "dave", DISCOVER_SYMLINK, "home/dave/.ssh/authorized_keys",
               "a symlink to another account's file is skipped");
        expect(&res, "erin", DISCOVER_SYMLINK, "home/erin/.ssh", "a symlinked .ssh is skipped");
        expect(&res, "frank", DISCOVER_TOO_BIG, "home/frank/.ssh/authorized_keys",
               "a file over 8 MiB is skipped");
        expect(&res, "grace", DISCOVER_WRITABLE, "home/grace/.ssh/authorized_keys",
               "a world-writable file is skipped (StrictModes)");
        expect(&res, "heidi", DISCOVER_WRITABLE, "home/heidi/.ssh",
               "a group-writable .ssh is skipped (StrictModes)");
        expect(&res, "ivan", DISCOVER_WRITABLE, "home/ivan", "a 777 home is skipped (StrictModes)");
        expect(&res, "zed", DISCOVER_READ, NULL, "an account after all of them is read");
        if (is_root) {
                expect(&res, "judy", DISCOVER_OWNER, "home/judy/.ssh/authorized_keys",
                       "a file owned by another account is skipped");
                expect(&res, "ken", DISCOVER_HARD_LINK, "home/ken/.ssh/authorized_keys",
                       "a hard link is skipped");
                expect(&res, "leo", DISCOVER_NOT_REGULAR, "home/leo/.ssh/authorized_keys",
                       "a character device (/dev/zero's numbers) is skipped, never read");
                expect(&res, "mallory", DISCOVER_READ, NULL,
                       "a root-owned 0644 file in the account's .ssh is read, as sshd reads it");
        } else
                for (int i = 0; i < 7; i++)
                        tap_ok(1, "# SKIP not root: cannot give files to other owners");

        tap_ok(baseline_covers_user(b, "alice") && baseline_covers_user(b, "zed"),
               "the accounts read are covered by the baseline");
        tap_ok(!baseline_covers_user(b, "dave") && !baseline_covers_user(b, "erin") &&
                       !baseline_covers_user(b, "bob") && !baseline_covers_user(b, "frank"),
               "the skipped ones are not: alice's keys are not dave's or erin's");
        TAP_IS_INT(baseline_size(b), is_root ? 4 : 3, "exactly the keys of the files read");

        discover_result_done(&res);
        /* the tree is ours: remove it without following its links */
        (void) chmod(at("home/ivan"), 0755);
        (void) nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);

        for (int v = 0; v < _DISCOVER_VERDICT_MAX; v++)
                tap_ok(discover_verdict_to_string(v) != NULL, "verdict %d has a reason", v);
        tap_ok(!discover_verdict_to_string(_DISCOVER_VERDICT_MAX) &&
                       !discover_verdict_to_string(_DISCOVER_VERDICT_INVALID),
               "no reason out of range");
        return tap_done();
}
