/* SPDX-License-Identifier: MIT */
/*
 * keytrail baseline: read every account's authorized_keys as sshd would find them (accounts from
 * the password database, files from sshd's effective AuthorizedKeysFile) and write one baseline
 * file (docs/baseline.md). Runs as root. Exit status: 0 written, 2 an error.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "baseline-file.h"
#include "cmd-common.h"
#include "commands.h"
#include "config.h"
#include "io-util.h"
#include "discover.h"
#include "escape.h"
#include "baseline-live.h"
#include "sshd-config.h"
#include "timeutil.h"


static const char *arg_output;
static const char *arg_sshd = SSHD_DEFAULT_PATH;

enum {
        ARG_OUTPUT = 0x200,
        ARG_SSHD,
};

static const struct option options[] = {
        { "output", required_argument, NULL, ARG_OUTPUT },
        { "sshd", required_argument, NULL, ARG_SSHD },
        {}
};

static void help(void) {
        printf("Usage: keytrail baseline [OPTIONS]\n"
               "\n"
               "Read every account's authorized_keys files as sshd finds them (accounts from the\n"
               "password database, files from sshd's effective AuthorizedKeysFile, read with\n"
               "sshd -T) and write a baseline file for --baseline FILE. Run as root.\n"
               "\n"
               "      --output FILE         write the baseline to FILE (replaced atomically, mode\n"
               "                            0644; default: standard output)\n"
               "      --sshd PATH           the sshd binary whose configuration counts\n"
               "                            (default %s)\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n"
               "\n"
               "Exit status: 0 the baseline was written, 2 an error.\n",
               SSHD_DEFAULT_PATH);
}

static int parse_extra(int c, const char *value) {
        switch (c) {
        case ARG_OUTPUT:
                arg_output = value;
                return 0;
        case ARG_SSHD:
                if (value[0] != '/') {
                        log_error("--sshd: '%s' is not an absolute path", value);
                        return -EINVAL;
                }
                arg_sshd = value;
                return 0;
        default:
                return -ENOENT;
        }
}

static const struct cmd_spec spec = {
        .name = "baseline",
        .groups = 0,
        .extra = options,
        .parse_extra = parse_extra,
        .help = help,
};

/*
 * sshd's expand_authorized_keys() (auth.c): %% %h %u %U expanded, and a relative result taken
 * under the home directory. Any other escape makes sshd refuse the configuration: -EINVAL.
 */
static int expand_pattern(const char *pattern, const struct passwd *pw, char **ret) {
        _cleanup_free_ char *out = NULL;
        char uid[32];
        size_t n = 0, cap = 0;

        (void) snprintf(uid, sizeof(uid), "%u", (unsigned) pw->pw_uid);
        for (const char *p = pattern; *p; p++) {
                const char *add;
                char one[2] = { *p, 0 };
                size_t l;
                char *grown;

                if (*p != '%')
                        add = one;
                else {
                        p++;
                        if (*p == '%')
                                add = "%";
                        else if (*p == 'h')
                                add = pw->pw_dir;
                        else if (*p == 'u')
                                add = pw->pw_name;
                        else if (*p == 'U')
                                add = uid;
                        else
                                return -EINVAL;
                }
                l = strlen(add);
                if (n + l + 1 > PATH_MAX)
                        return -ENAMETOOLONG;
                if (n + l + 1 > cap) {
                        cap = MAX(cap * 2, n + l + 1);
                        grown = realloc(out, cap);
                        if (!grown)
                                return -ENOMEM;
                        out = grown;
                }
                memcpy(out + n, add, l);
                n += l;
                out[n] = '\0';
        }
        if (!out)
                return -EINVAL;
        if (out[0] == '/') {
                *ret = TAKE_PTR(out);
                return 0;
        }
        if (asprintf(ret, "%s/%s", pw->pw_dir, out) < 0)
                return -ENOMEM;
        return 0;
}


/* Move b's keys into bf (each line parsed again from its text into a key of bf's own), in
 * load order. */
static int take_keys(struct baseline_file *bf, const struct baseline *b, struct baseline_totals *t) {
        int r;

        for (size_t i = 0; i < baseline_size(b); i++) {
                const struct baseline_entry *e = baseline_entry_at(b, i);
                _cleanup_(authkey_freep) struct authkey *k = NULL;

                r = authkeys_parse_line(e->key->text, strlen(e->key->text), &k, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0 || !e->user)
                        continue; /* cannot happen: it parsed once */
                k->file = strdup(e->key->file);
                if (!k->file)
                        return -ENOMEM;
                k->line = e->key->line;
                r = baseline_file_add_key(bf, e->user, k);
                if (r < 0)
                        return r;
                TAKE_PTR(k);
                t->keys++;
        }
        return 0;
}

static int refuse(struct baseline_file *bf, const struct passwd *pw, const char *path,
                  const char *why, struct baseline_totals *t) {
        t->files_refused++;
        if (!t->quiet)
                log_error("%s: not read: %s", path, why);
        return baseline_file_add_path(bf, pw->pw_name, path, BASELINE_PATH_REFUSED, why);
}

/*
 * One file that is not a home-relative name (an absolute or %-expanded AuthorizedKeysFile pattern,
 * which the discovery module does not take): absent, refused (and why), or read with its key lines
 * (sshd skips malformed lines; so does the baseline, and says so). Opened without following a
 * symbolic link and without waiting (a FIFO), read only when a regular file, at most
 * DISCOVER_FILE_MAX bytes. The folders above it are the administrator's (sshd reads such files as
 * root): discovery's StrictModes checks of a home do not apply.
 */
static int look_at(struct baseline_file *bf, const struct passwd *pw, const char *path,
                   struct baseline_totals *t) {
        _cleanup_(baseline_freep) struct baseline *b = baseline_new();
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = -1;
        unsigned keys = 0, skipped = 0, line = 0;
        const char *what = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        if (!b)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (IN_SET(errno, ENOENT, ENOTDIR))
                        return baseline_file_add_path(bf, pw->pw_name, path, BASELINE_PATH_ABSENT,
                                                      NULL);
                return refuse(bf, pw, path, errno == ELOOP ? "a symbolic link" : strerror(errno),
                              t);
        }
        if (fstat(fd, &st) < 0)
                return refuse(bf, pw, path, strerror(errno), t);
        if (!S_ISREG(st.st_mode))
                return refuse(bf, pw, path, "not a regular file", t);
        if (st.st_size > DISCOVER_FILE_MAX)
                return refuse(bf, pw, path, "longer than 8 MiB", t);
        /* read to the end, not to the size fstat saw: a file growing meanwhile is not cut */
        r = read_full_fd(fd, DISCOVER_FILE_MAX, &data, &len);
        if (r == -EFBIG)
                return refuse(bf, pw, path, "longer than 8 MiB", t);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return refuse(bf, pw, path, strerror(-r), t);
        r = baseline_add_buffer(b, pw->pw_name, path, data, len, false, &keys, &skipped, &line,
                                &what);
        if (r == -ENOMEM)
                return r;
        /* -ENOSPC: too many keys; those before the limit are in */
        r = baseline_file_add_path(bf, pw->pw_name, path, BASELINE_PATH_READ, NULL);
        if (r < 0)
                return r;
        r = take_keys(bf, b, t);
        if (r < 0)
                return r;
        t->files_read++;
        t->skipped += skipped;
        if (skipped > 0 && !t->quiet)
                log_error("%s:%u: %s; %u line%s that sshd ignores too, not in the baseline", path,
                          line, what ?: "malformed line", skipped, skipped == 1 ? "" : "s");
        return 0;
}

/* A pattern the discovery module reads (discover.h: as sshd would accept the file under
 * StrictModes, never following a link): relative to the home, no %-escape, no "..". */
static bool home_relative(const char *pattern) {
        return pattern[0] != '/' && !strchr(pattern, '%') && !strstr(pattern, "..") &&
               !strstr(pattern, "//") && !streq(pattern, "none");
}

/* "%h/NAME" is NAME under the home, the common way to write the default: the home-relative name,
 * or the pattern itself. */
static const char *home_name(const char *pattern) {
        if (strncmp(pattern, "%h/", 3) == 0 && home_relative(pattern + 3))
                return pattern + 3;
        return pattern;
}

/* The home-relative files of every account, through baseline_discover(): their keys, and each
 * file found with its verdict. */
static int discover_home_files(struct baseline_file *bf, const char *const *names,
                               struct discover_result *res, struct baseline_totals *t) {
        _cleanup_(baseline_freep) struct baseline *b = baseline_new();
        int r;

        if (!b)
                return -ENOMEM;
        r = baseline_discover(b, &(struct discover_options){ .names = names }, res);
        if (r < 0)
                return r;
        r = take_keys(bf, b, t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n; i++) {
                const struct discover_file *f = &res->files[i];
                _cleanup_free_ char *why = NULL;

                if (f->verdict == DISCOVER_READ) {
                        t->files_read++;
                        t->skipped += f->bad_lines;
                        if (f->bad_lines > 0 && !t->quiet)
                                log_error("%s:%u: %s; %u line%s that sshd ignores too, not in the "
                                          "baseline",
                                          f->path, f->first_bad_line,
                                          f->first_bad_what ?: "malformed line", f->bad_lines,
                                          f->bad_lines == 1 ? "" : "s");
                        r = baseline_file_add_path(bf, f->user, f->path, BASELINE_PATH_READ, NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (IN_SET(f->verdict, DISCOVER_ERROR, DISCOVER_DENIED))
                        r = asprintf(&why, "%s: %s", f->offender ?: f->path,
                                     strerror(f->error < 0 ? -f->error : EIO));
                else
                        r = asprintf(&why, "%s is %s", f->offender ?: f->path,
                                     discover_verdict_to_string(f->verdict));
                if (r < 0)
                        return -ENOMEM;
                t->files_refused++;
                if (!t->quiet)
                        log_error("%s: not read: %s", f->path, why);
                r = baseline_file_add_path(bf, f->user, f->path, BASELINE_PATH_REFUSED, why);
                if (r < 0)
                        return r;
        }
        if (res->more > 0 && !t->quiet)
                log_error("%zu more files not looked at (more than %d)", res->more,
                          DISCOVER_FILES_MAX);
        return 0;
}

static bool found(const struct discover_result *res, const char *user, const char *path) {
        for (size_t i = 0; i < res->n; i++)
                if (streq(res->files[i].user, user) && streq(res->files[i].path, path))
                        return true;
        return false;
}

#define PATTERNS_MAX 64

static int discover(struct baseline_file *bf, const char *patterns, struct baseline_totals *t) {
        struct discover_result res = {};
        char *names[PATTERNS_MAX + 1] = {};
        size_t n = 0;
        struct passwd *pw;
        int r = 0;

        for (const char *p = patterns; *p && n < PATTERNS_MAX;) {
                size_t l = strcspn(p, " \t");

                if (l > 0) {
                        names[n] = strndup(p, l);
                        if (!names[n]) {
                                r = -ENOMEM;
                                goto out;
                        }
                        if (home_relative(home_name(names[n]))) {
                                memmove(names[n], home_name(names[n]),
                                        strlen(home_name(names[n])) + 1);
                                n++;
                        }
                        else {
                                free(names[n]);
                                names[n] = NULL;
                        }
                }
                p += l;
                p += strspn(p, " \t");
        }
        if (n > 0) {
                r = discover_home_files(bf, (const char *const *) names, &res, t);
                if (r < 0)
                        goto out;
        }

        setpwent();
        while (r >= 0 && (pw = getpwent())) {
                const char *p = patterns;

                if (!pw->pw_name || !pw->pw_name[0] || !pw->pw_dir)
                        continue;
                r = baseline_file_add_account(bf, pw->pw_name);
                if (r < 0)
                        break;
                t->accounts++;
                while (r >= 0 && p && *p) {
                        _cleanup_free_ char *pattern = NULL, *path = NULL;
                        size_t l = strcspn(p, " \t");
                        struct stat st;

                        if (l == 0) {
                                p++;
                                continue;
                        }
                        pattern = strndup(p, l);
                        if (!pattern) {
                                r = -ENOMEM;
                                break;
                        }
                        p += l;
                        if (streq(pattern, "none"))
                                continue;
                        r = expand_pattern(pattern, pw, &path);
                        if ((r == -EINVAL || r == -ENAMETOOLONG) && t->quiet) {
                                r = 0;
                                continue;
                        }
                        if (r == -EINVAL || r == -ENAMETOOLONG) {
                                log_error("AuthorizedKeysFile '%s': %s for '%s'", pattern,
                                          r == -EINVAL ? "unknown %-escape (sshd refuses it too)"
                                                       : "path too long",
                                          pw->pw_name);
                                r = 0;
                                continue;
                        }
                        if (r < 0)
                                break;
                        if (!home_relative(home_name(pattern))) {
                                r = look_at(bf, pw, path, t);
                                continue;
                        }
                        /* Read or refused by discovery; else not there (or beyond its limit). */
                        if (found(&res, pw->pw_name, path) ||
                            !(lstat(path, &st) < 0 && IN_SET(errno, ENOENT, ENOTDIR)))
                                continue;
                        r = baseline_file_add_path(bf, pw->pw_name, path, BASELINE_PATH_ABSENT,
                                                   NULL);
                }
        }
        endpwent();
out:
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                free(names[i]);
        discover_result_done(&res);
        return r;
}

static int write_output(const struct baseline_file *bf, const char *comment) {
        _cleanup_free_ char *tmp = NULL, *output = NULL;
        FILE *f;
        int fd, r;

        if (!arg_output) {
                r = baseline_file_write(bf, comment, stdout);
                if (r < 0)
                        log_error("writing the baseline: %s", strerror(-r));
                return r;
        }
        if (asprintf(&tmp, "%s.XXXXXX", arg_output) < 0)
                return log_error("out of memory"), -ENOMEM;
        output = cmd_path_text(arg_output); /* for the lines below: any bytes, escaped */
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                log_error("--output: cannot create a file beside %s: %s", output ?: "?",
                          strerror(-r));
                return r;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                (void) close(fd);
                (void) unlink(tmp);
                return log_error("--output: %s", strerror(-r)), r;
        }
        r = fchmod(fd, 0644) < 0 ? -errno : 0;
        if (r >= 0)
                r = baseline_file_write(bf, comment, f);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, arg_output) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                log_error("--output: cannot write %s: %s", output ?: "?", strerror(-r));
                return r;
        }
        return 0;
}

int baseline_collect(const char *sshd, struct baseline_file **ret, struct baseline_totals *t) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = baseline_file_new();
        _cleanup_(sshd_config_done) struct sshd_config cfg = {};
        _cleanup_free_ char *message = NULL;
        const char *akf = NULL, *akc = NULL;
        bool is_default = false;
        int r;

        if (!bf)
                return log_error("out of memory"), -ENOMEM;
        r = sshd_config_query(sshd, &cfg, &message);
        if (r == -ENOMEM)
                return log_error("out of memory"), r;
        if (r >= 0) {
                akf = sshd_config_get(&cfg, "authorizedkeysfile");
                akc = sshd_config_get(&cfg, "authorizedkeyscommand");
        } else if (!t->quiet) {
                /* --sshd, and its stderr (which names it when it cannot run): any bytes */
                _cleanup_free_ char *p = cmd_path_text(sshd), *m = NULL;

                if (message && escape_terminal(message, strlen(message), &m) < 0)
                        m = NULL;
                log_error("%s -T failed (%s): assuming sshd's default AuthorizedKeysFile %s",
                          p ?: "?", m ?: strerror(-r), SSHD_DEFAULT_AUTHORIZED_KEYS_FILE);
        }
        if (!akf) {
                akf = SSHD_DEFAULT_AUTHORIZED_KEYS_FILE;
                is_default = true;
        }
        if (akc && streq(akc, "none"))
                akc = NULL;
        if (akc && !t->quiet)
                log_error("AuthorizedKeysCommand '%s' is set: the keys it returns are out of "
                          "keytrail's reach and not in the baseline",
                          akc);
        r = baseline_file_set_sshd(bf, akf, is_default, akc);
        if (r < 0)
                return log_error("AuthorizedKeysFile '%s': %s", akf, strerror(-r)), r;

        r = discover(bf, akf, t);
        if (r < 0)
                return log_error("reading the accounts' files: %s", strerror(-r)), r;
        *ret = TAKE_PTR(bf);
        return 0;
}

static int baseline(void) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = NULL;
        _cleanup_free_ char *comment = NULL, *output = NULL;
        struct baseline_totals t = {};
        char host[256] = "", when[TIMEUTIL_RFC3339_MAX] = "";
        int r;

        if (geteuid() != 0) {
                log_error("baseline must run as root: it reads every account's authorized_keys");
                return -EPERM;
        }
        r = baseline_collect(arg_sshd, &bf, &t);
        if (r < 0)
                return r;

        (void) gethostname(host, sizeof(host) - 1);
        (void) timeutil_format_rfc3339(timeutil_now_usec(), when);
        if (asprintf(&comment, "written by keytrail %s baseline on %s at %s", PACKAGE_VERSION,
                     host, when) < 0)
                return log_error("out of memory"), -ENOMEM;
        r = write_output(bf, comment);
        if (r < 0)
                return r;
        output = arg_output ? cmd_path_text(arg_output) : NULL;
        log_info("baseline: %u account%s, %u file%s read, %u refused, %u key%s%s%s", t.accounts,
                 t.accounts == 1 ? "" : "s", t.files_read, t.files_read == 1 ? "" : "s",
                 t.files_refused, t.keys, t.keys == 1 ? "" : "s", arg_output ? " -> " : "",
                 output ?: "");
        return 0;
}

int verb_baseline(int argc, char *argv[]) {
        int optind_ = 0, r;

        r = cmd_parse_argv(&spec, argc, argv, &optind_);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = baseline();
        return r < 0 ? 2 : 0;
}
