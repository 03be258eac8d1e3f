/* SPDX-License-Identifier: MIT */
/*
 * What the journal source could not read, told once on stderr (see cmd-common.h): one line for
 * the files denied by permission, naming the groups that may read them; one per corrupt file.
 */

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd-common.h"
#include "escape.h"

static bool is_denied(const struct source_problem *p) {
        return IN_SET(p->error, -EACCES, -EPERM) && !p->partly && !p->note;
}

const char *cmd_fd_limit_text(int error) {
        static char buf[320];
        struct rlimit rl;

        if (error == -ENFILE)
                return "the system's limit of open files was reached (fs.file-max, "
                       "/proc/sys/fs/file-max): raise it, or read fewer journal files at once";
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return strerror(-error);
        (void) snprintf(buf, sizeof(buf),
                        "more journal files than the limit of open files allows (%llu; keytrail "
                        "needs one per file, more to look evidence up): raise the hard limit "
                        "(ulimit -Hn as root, LimitNOFILE= in a systemd unit) or read fewer "
                        "files at once (--file)",
                        (unsigned long long) rl.rlim_cur);
        return buf;
}

static const char *problem_why(const struct source_problem *p) {
        if (IN_SET(p->error, -EMFILE, -ENFILE))
                return cmd_fd_limit_text(p->error);
        if (p->note)
                /* journal.c: an entry of a match term no file held at the start was written (a
                 * note: a scan of a live journal never was sure to read what is written while it
                 * runs) */
                return "written to during the scan: entries written meanwhile may not have been "
                       "read, scan again";
        if (p->partly)
                return IN_SET(p->error, -EBADMSG, -ENODATA, -EADDRNOTAVAIL)
                               ? "corrupt, read only in part: entries after the damage are lost"
                               : strerror(-p->error);
        return IN_SET(p->error, -ENODATA, -EBADMSG, -EPROTONOSUPPORT)
                       ? "not a journal file, or a corrupt one"
                       : strerror(-p->error);
}

char *cmd_path_text(const char *path) {
        char *q = NULL;

        if (!path)
                return NULL;
        if (escape_is_token(path))
                return strdup(path);
        if (escape_quote(path, strlen(path), &q) < 0)
                return NULL;
        return q;
}

const char *cmd_path_cached(char **cache, const char *path) {
        if (!*cache)
                *cache = cmd_path_text(path);
        return *cache ?: "?";
}

/* Append to buf (of size, *len used so far), cutting at the end. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...) _printf_(4, 5);
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...) {
        va_list ap;
        int w;

        if (*len >= size)
                return;
        va_start(ap, fmt);
        w = vsnprintf(buf + *len, size - *len, fmt, ap);
        va_end(ap);
        if (w > 0)
                *len = MIN(*len + (size_t) w, size);
}

/* "the groups 'a' or 'b'" that may read the files denied by permission among p[from..n) */
static void reader_groups(const struct source_problem *p, size_t from, size_t n, char *buf,
                          size_t size) {
        gid_t seen[SOURCE_READERS_MAX * 4];
        size_t k = 0, len = 0;

        buf[0] = 0;
        for (size_t i = from; i < n; i++)
                for (size_t g = 0; is_denied(&p[i]) && g < p[i].n_readers && k < ELEMENTSOF(seen);
                     g++) {
                        bool dup = false;

                        for (size_t x = 0; x < k; x++)
                                dup = dup || seen[x] == p[i].readers[g];
                        if (!dup)
                                seen[k++] = p[i].readers[g];
                }
        for (size_t x = 0; x < k; x++) {
                struct group *gr = getgrgid(seen[x]);

                if (gr)
                        append(buf, size, &len, "%s'%s'", x == 0 ? "" : x + 1 == k ? " or " : ", ",
                               gr->gr_name);
                else
                        append(buf, size, &len, "%sgid %u", x == 0 ? "" : x + 1 == k ? " or " : ", ",
                               (unsigned) seen[x]);
        }
}

/* "N files, permission denied (A, B, ...; members of group 'x' may read them)" for the denied
 * problems among p[from..n); empty when none. */
static void denied_summary(const struct source_problem *p, size_t from, size_t n, char *buf,
                           size_t size) {
        size_t denied = 0, listed = 0, len = 0;
        char groups[256];

        buf[0] = 0;
        for (size_t i = from; i < n; i++)
                denied += is_denied(&p[i]);
        if (denied == 0)
                return;
        reader_groups(p, from, n, groups, sizeof(groups));
        append(buf, size, &len, "%zu journal file%s, permission denied (", denied,
               denied == 1 ? "" : "s");
        for (size_t i = from; i < n && listed < 5; i++)
                if (is_denied(&p[i])) {
                        _cleanup_free_ char *path = cmd_path_text(p[i].path);

                        append(buf, size, &len, "%s%s", listed++ ? ", " : "", path ?: "?");
                }
        append(buf, size, &len, "%s)", denied > listed ? ", ..." : "");
        if (groups[0])
                append(buf, size, &len, "; members of group %s may read them", groups);
}

void cmd_source_summary(const struct source *src, char *buf, size_t size) {
        const struct source_problem *p;
        size_t n = 0, more = 0, len, other = 0;

        p = source_problems(src, &n, &more);
        denied_summary(p, 0, n, buf, size);
        len = strlen(buf);
        for (size_t i = 0; i < n; i++)
                if (!is_denied(&p[i]) && other++ < 3) {
                        _cleanup_free_ char *path = cmd_path_text(p[i].path);

                        append(buf, size, &len, "%s%s: %s", len ? "; " : "", path ?: "?",
                               problem_why(&p[i]));
                }
        if (other > 3 || more > 0)
                append(buf, size, &len, "%s%zu more", len ? "; and " : "", other - MIN(other, 3) + more);
        if (len == 0)
                append(buf, size, &len, "none found");
}

int cmd_source_problems(const struct source *src) {
        static size_t reported, reported_more; /* problems are only appended: say each once */
        static bool limit_said;                /* the limit of open files: explained once */
        const struct source_problem *p;
        size_t n = 0, more = 0, limited = 0;
        char denied[1400];
        int ret = 0;

        p = source_problems(src, &n, &more);
        for (size_t i = 0; i < n; i++) {
                if (is_denied(&p[i]))
                        continue;
                if (!p[i].note)
                        ret = -EBADMSG;
                if (i < reported)
                        continue;
                if (IN_SET(p[i].error, -EMFILE, -ENFILE) && limit_said)
                        limited++;
                else {
                        _cleanup_free_ char *path = cmd_path_text(p[i].path);

                        log_error("%s: %s", path ?: "?", problem_why(&p[i]));
                        limit_said = limit_said || IN_SET(p[i].error, -EMFILE, -ENFILE);
                }
        }
        if (limited > 0)
                log_error("and %zu more journal file%s, for the same limit of open files", limited,
                          limited == 1 ? "" : "s");
        denied_summary(p, reported, n, denied, sizeof(denied));
        if (denied[0])
                log_error("cannot read %s", denied);
        if (more > reported_more)
                log_error("and %zu more journal file%s that could not be read", more - reported_more,
                          more - reported_more == 1 ? "" : "s");
        if (more > 0)
                ret = -EBADMSG;
        reported = n;
        reported_more = more;
        return ret;
}
