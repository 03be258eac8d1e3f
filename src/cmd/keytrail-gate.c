/* SPDX-License-Identifier: MIT */
/*
 * keytrail-gate: a forced command for authorized_keys that lets only the expected rsync through,
 * runs it with execv() (never a shell), and writes every decision to the journal with the fields of
 * include/gate-log.h. Falls back to syslog, then to stderr, so that a refusal is never silent.
 *
 * Exit status: the allowed command's (after exec), 1 for a refusal, 2 for a usage error.
 */

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "config.h"
#include "gate-auth.h"
#include "gate-log.h"
#include "gate-path.h"
#include "gate-rsync.h"
#include "macro.h"

#define DEFAULT_RSYNC "/usr/bin/rsync"
#define ALLOW_MAX 64
#define MESSAGE_COMMAND_MAX 300 /* bytes of the escaped command quoted in MESSAGE */
#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define SYSLOG_SOCKET "/dev/log"
#define RSYNC_HELP_MAX (256 * 1024) /* bytes of `rsync --help` read to learn its options */

static const char *arg_allow[ALLOW_MAX + 1];
static size_t arg_n_allow;
static const char *arg_rsync_dir;
static enum gate_access arg_access = _GATE_ACCESS_INVALID;
static bool arg_no_delete;
static const char *arg_rsync = DEFAULT_RSYNC;

/* What one decision record says; every pointer is borrowed from main(). */
struct decision {
        bool allowed;
        enum gate_reason reason;
        const char *detail;      /* the phrase for humans (MESSAGE, client line) */
        const char *token;       /* offending token, or NULL */
        const char *command;     /* SSH_ORIGINAL_COMMAND verbatim, or NULL */
        const char *connection;  /* SSH_CONNECTION, or NULL */
        const char *user;
        const char *fingerprint; /* or NULL */
        const char *key_type;    /* or NULL */
};

/*
 * Printable ASCII as is, except the quotes and the backslash; everything else as \xNN (control
 * bytes, DEL, bytes >= 0x80), '"' as \", '\'' as \x27, '\\' doubled; capped at max input bytes.
 * The result can sit inside '...' or "..." and never end the quote or start a line.
 */
static char *escape(const char *s, size_t max) {
        size_t len = strlen(s), o = 0;
        char *out = malloc(MIN(len, max) * 4 + 4);

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];

                if (o >= max) {
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                if (c == '\\' || c == '"') {
                        out[o++] = '\\';
                        out[o++] = (char) c;
                } else if (c >= 0x20 && c < 0x7f && c != '\'')
                        out[o++] = (char) c;
                else
                        o += (size_t) snprintf(out + o, 5, "\\x%02x", c);
        }
        out[o] = '\0';
        return out;
}

static char *message_text(const struct decision *d) {
        _cleanup_free_ char *cmd = NULL, *addr = NULL, *port = NULL, *key = NULL, *text = NULL,
                            *user = NULL, *eaddr = NULL, *eport = NULL, *efp = NULL,
                            *etype = NULL;
        const char *what;

        if (d->command) {
                cmd = escape(d->command, MESSAGE_COMMAND_MAX);
                if (!cmd)
                        return NULL;
        }
        if (d->connection && sscanf(d->connection, "%ms %ms", &addr, &port) != 2) {
                free(addr);
                free(port);
                addr = port = NULL;
        }
        user = escape(d->user, 100);
        eaddr = escape(addr ?: "unknown", 100);
        eport = escape(port ?: "unknown", 20);
        if (!user || !eaddr || !eport)
                return NULL;
        if (d->fingerprint) {
                efp = escape(d->fingerprint, 100);
                etype = escape(d->key_type ?: "?", 20);
                if (!efp || !etype || asprintf(&key, "key %s %s", etype, efp) < 0)
                        return NULL;
        } else {
                key = strdup("key not exposed by sshd");
                if (!key)
                        return NULL;
        }

        what = d->allowed ? "Allowed" : "Rejected";
        if (asprintf(&text, "%s %s%s%s for %s from %s port %s, %s: %s%s%s%s", what,
                     cmd ? "command '" : "login without a command", cmd ?: "", cmd ? "'" : "",
                     user, eaddr, eport, key,
                     gate_reason_to_string(d->reason), d->allowed ? "" : " (",
                     d->allowed ? "" : d->detail, d->allowed ? "" : ")") < 0)
                return NULL;
        return TAKE_PTR(text);
}

/*
 * journald reads the sender's _EXE, _COMM, _CMDLINE... from /proc/PID when it processes a message,
 * not when it is sent: a gate that exits (a refusal) or execs rsync right after sending gets a record
 * without them, or with rsync's, and keytrail rightly distrusts such an entry. So the record goes out
 * on a socket of our own, in journald's native protocol (binary-safe form for values with a newline),
 * and the gate waits until journald has dequeued it (SIOCOUTQ: bytes sent and not yet received drop
 * to 0), then a few milliseconds more for journald to look at /proc, at most JOURNAL_WAIT_MAX_MS in all.
 * Returns 0, or -errno (the caller then uses sd_journal_sendv()).
 */
#define JOURNAL_WAIT_MAX_MS 2000
#define JOURNAL_WAIT_AFTER_MS 10

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int journal_send_and_wait(const struct iovec *iov, size_t n) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = 0, cap = 0;

        for (size_t i = 0; i < n; i++)
                cap += iov[i].iov_len + 16;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *f = iov[i].iov_base, *eq = memchr(f, '=', iov[i].iov_len);
                size_t name = (size_t) (eq - f), vlen = iov[i].iov_len - name - 1;

                if (!eq)
                        return -EINVAL;
                if (!memchr(eq + 1, '\n', vlen)) {
                        memcpy(buf + len, f, iov[i].iov_len);
                        len += iov[i].iov_len;
                } else {
                        uint64_t le = htole64((uint64_t) vlen);

                        memcpy(buf + len, f, name);
                        len += name;
                        buf[len++] = '\n';
                        memcpy(buf + len, &le, sizeof(le));
                        len += sizeof(le);
                        memcpy(buf + len, eq + 1, vlen);
                        len += vlen;
                }
                buf[len++] = '\n';
        }

        strncpy(sa.sun_path, JOURNAL_SOCKET, sizeof(sa.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (send(fd, buf, len, MSG_NOSIGNAL) < 0)
                return -errno;
        for (int waited = 0; waited < JOURNAL_WAIT_MAX_MS; waited++) {
                int queued = 0;

                if (ioctl(fd, SIOCOUTQ, &queued) < 0 || queued <= 0)
                        break;
                sleep_ms(1);
        }
        sleep_ms(JOURNAL_WAIT_AFTER_MS);
        return 0;
}

static int journal_send(const struct decision *d, const char *message) {
        char *fields[16] = {};
        struct iovec iov[16];
        size_t n = 0;
        int r = 0;

#define ADD(...)                                                                                   \
        do {                                                                                       \
                if (asprintf(&fields[n], __VA_ARGS__) < 0) {                                       \
                        fields[n] = NULL;                                                          \
                        r = -ENOMEM;                                                               \
                        goto out;                                                                  \
                }                                                                                  \
                n++;                                                                               \
        } while (0)

        ADD("MESSAGE=%s", message);
        ADD("MESSAGE_ID=%s", d->allowed ? GATE_MESSAGE_ID_ALLOWED : GATE_MESSAGE_ID_REJECTED);
        ADD("SYSLOG_IDENTIFIER=%s", GATE_SYSLOG_IDENTIFIER);
        ADD("PRIORITY=%d", d->allowed ? LOG_INFO : LOG_WARNING);
        ADD("KEYTRAIL_VERDICT=%s", d->allowed ? "allowed" : "rejected");
        ADD("KEYTRAIL_REASON=%s", gate_reason_to_string(d->reason));
        if (d->command)
                ADD("SSH_ORIGINAL_COMMAND=%s", d->command);
        if (d->connection)
                ADD("SSH_CONNECTION=%s", d->connection);
        ADD("USER=%s", d->user);
        if (d->fingerprint) {
                ADD("KEYTRAIL_FINGERPRINT=%s", d->fingerprint);
                if (d->key_type)
                        ADD("KEYTRAIL_KEY_TYPE=%s", d->key_type);
        }
#undef ADD

        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec){ .iov_base = fields[i], .iov_len = strlen(fields[i]) };
        r = journal_send_and_wait(iov, n);
        if (r < 0) /* e.g. EMSGSIZE: sd_journal_sendv() passes big records in a memfd */
                r = sd_journal_sendv(iov, (int) n);
out:
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
        return r;
}

/*
 * Neither sd_journal_sendv() (it returns 0 when the journal socket is missing, on purpose) nor
 * syslog(3) reports that nobody listens: check that a datagram socket connects first.
 */
static bool socket_reachable(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        return connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

/* Write the decision: journal, else syslog, else stderr. Returns where it went. */
static const char *record(const struct decision *d) {
        _cleanup_free_ char *message = NULL, *cmd = NULL, *conn = NULL, *line = NULL, *user = NULL,
                            *fp = NULL, *type = NULL;
        int r;

        message = message_text(d);
        if (!message) {
                fprintf(stderr, "keytrail-gate: out of memory writing the record\n");
                return "nowhere";
        }
        if (socket_reachable(JOURNAL_SOCKET)) {
                r = journal_send(d, message);
                if (r >= 0)
                        return "journal";
        }

        /* The same content as the journal fields, as key="value" pairs (sshdo's convention). */
        cmd = escape(d->command ?: "", GATE_COMMAND_MAX);
        conn = escape(d->connection ?: "", 200);
        user = escape(d->user, 100);
        fp = escape(d->fingerprint ?: "-", 100);
        type = escape(d->key_type ?: "-", 20);
        if (!cmd || !conn || !user || !fp || !type ||
            asprintf(&line,
                     "%s [verdict=%s reason=%s user=\"%s\" connection=\"%s\" fingerprint=%s "
                     "key_type=%s command=%s%s%s message_id=%s]",
                     message, d->allowed ? "allowed" : "rejected",
                     gate_reason_to_string(d->reason), user, conn, fp, type,
                     d->command ? "\"" : "-", d->command ? cmd : "",
                     d->command ? "\"" : "",
                     d->allowed ? GATE_MESSAGE_ID_ALLOWED : GATE_MESSAGE_ID_REJECTED) < 0) {
                fprintf(stderr, "keytrail-gate: %s\n", message);
                return "stderr";
        }
        if (socket_reachable(SYSLOG_SOCKET)) {
                openlog(GATE_SYSLOG_IDENTIFIER, LOG_PID, LOG_AUTH);
                syslog(d->allowed ? LOG_INFO : LOG_WARNING, "%s", line);
                closelog();
                return "syslog";
        }
        fprintf(stderr, "keytrail-gate: journal and syslog unreachable: %s\n", line);
        return "stderr";
}

/* Record a refusal, tell the client in one line, return the exit status. */
static int refuse(struct decision *d, enum gate_reason reason, const char *detail,
                  const char *token, int status) {
        _cleanup_free_ char *tok = NULL;

        d->allowed = false;
        d->reason = reason;
        d->detail = detail;
        d->token = token;
        (void) record(d);
        if (token)
                tok = escape(token, 100);
        fprintf(stderr, "keytrail-gate: refused: %s%s%s%s (%s)\n", detail, tok ? " '" : "",
                tok ?: "", tok ? "'" : "", gate_reason_to_string(reason));
        return status;
}

/*
 * Ask the rsync the gate will run which options it has (`rsync --help`, no shell, stdin and stderr
 * on /dev/null). Returns 0 with *ret the GATE_RSYNC_* flags, or -errno when it cannot be run.
 */
static int rsync_features(const char *rsync, unsigned *ret) {
        _cleanup_free_ char *buf = NULL;
        int pipefd[2], status;
        size_t len = 0;
        pid_t pid;

        buf = malloc(RSYNC_HELP_MAX + 1);
        if (!buf)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;

                (void) close(pipefd[0]);
                (void) close(pipefd[1]);
                return -e;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0 ||
                    dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                (void) execl(rsync, "rsync", "--help", (char *) NULL);
                _exit(127);
        }
        (void) close(pipefd[1]);
        for (;;) {
                ssize_t n = read(pipefd[0], buf + len, RSYNC_HELP_MAX - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
                if (len >= RSYNC_HELP_MAX)
                        break;
        }
        (void) close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || len == 0)
                return -ENOEXEC;
        *ret = gate_rsync_features(buf, len);
        return 0;
}

static void help(void) {
        printf("Usage: keytrail-gate [OPTIONS]\n"
               "\n"
               "Forced command for authorized_keys: lets only the expected rsync through,\n"
               "runs it without a shell, and writes every decision to the journal.\n"
               "\n"
               "  --allow CMD        allow exactly this command (repeatable)\n"
               "  --rsync-dir DIR    allow `rsync --server` confined to DIR (needs rsync 3.5.0)\n"
               "  --read-only        with --rsync-dir: the client may only pull\n"
               "  --write-only       with --rsync-dir: the client may only push\n"
               "  --no-delete        with --rsync-dir: refuse --delete* and --remove-*\n"
               "  --rsync PATH       rsync binary to run (default " DEFAULT_RSYNC ")\n"
               "  --help             show this help\n"
               "  --version          show the version\n"
               "\n"
               "Example: command=\"keytrail-gate --rsync-dir /srv/backup --write-only\",restrict ...\n"
               "See docs/gate.md.\n");
}

/* Returns 1 to go on, 0 to exit 0 (help, version), or -EINVAL with *reterr_what set. */
static int parse_argv(int argc, char *argv[], const char **reterr_what,
                      const char **reterr_token) {
        enum {
                ARG_ALLOW = 0x100,
                ARG_RSYNC_DIR,
                ARG_READ_ONLY,
                ARG_WRITE_ONLY,
                ARG_NO_DELETE,
                ARG_RSYNC,
                ARG_HELP,
                ARG_VERSION,
        };
        static const struct option options[] = {
                { "allow", required_argument, NULL, ARG_ALLOW },
                { "rsync-dir", required_argument, NULL, ARG_RSYNC_DIR },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "write-only", no_argument, NULL, ARG_WRITE_ONLY },
                { "no-delete", no_argument, NULL, ARG_NO_DELETE },
                { "rsync", required_argument, NULL, ARG_RSYNC },
                { "help", no_argument, NULL, ARG_HELP },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case ARG_ALLOW:
                        if (arg_n_allow >= ALLOW_MAX) {
                                *reterr_what = "too many --allow options";
                                return -EINVAL;
                        }
                        arg_allow[arg_n_allow++] = optarg;
                        break;
                case ARG_RSYNC_DIR:
                        arg_rsync_dir = optarg;
                        break;
                case ARG_READ_ONLY:
                case ARG_WRITE_ONLY: {
                        enum gate_access a = c == ARG_READ_ONLY ? GATE_ACCESS_READ_ONLY
                                                                : GATE_ACCESS_WRITE_ONLY;

                        if (arg_access != _GATE_ACCESS_INVALID && arg_access != a) {
                                *reterr_what = "--read-only and --write-only exclude each other";
                                return -EINVAL;
                        }
                        arg_access = a;
                        break;
                }
                case ARG_NO_DELETE:
                        arg_no_delete = true;
                        break;
                case ARG_RSYNC:
                        if (optarg[0] != '/') {
                                *reterr_what = "--rsync needs an absolute path";
                                return -EINVAL;
                        }
                        arg_rsync = optarg;
                        break;
                case ARG_HELP:
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("keytrail-gate %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        *reterr_what = optopt
                                               ? "option needs a value"
                                               : "unknown option";
                        *reterr_token = argv[optind - 1];
                        return -EINVAL;
                }
        if (optind < argc) {
                *reterr_what = "unexpected argument";
                *reterr_token = argv[optind];
                return -EINVAL;
        }
        if (arg_access != _GATE_ACCESS_INVALID && !arg_rsync_dir) {
                *reterr_what = "--read-only/--write-only need --rsync-dir";
                return -EINVAL;
        }
        if (arg_no_delete && !arg_rsync_dir) {
                *reterr_what = "--no-delete needs --rsync-dir";
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *fingerprint = NULL, *key_type = NULL, *dir = NULL, *user_buf = NULL;
        _cleanup_(gate_verdict_done) struct gate_verdict v = {};
        const char *what = NULL, *token = NULL, *auth, *exe;
        struct passwd *pw;
        struct decision d = {};
        struct gate_policy policy;
        int r;

        d.command = getenv("SSH_ORIGINAL_COMMAND");
        d.connection = getenv("SSH_CONNECTION");
        pw = getpwuid(getuid());
        if (pw)
                d.user = pw->pw_name;
        else if (getenv("USER"))
                d.user = getenv("USER");
        else {
                if (asprintf(&user_buf, "%u", (unsigned) getuid()) < 0)
                        user_buf = NULL;
                d.user = user_buf ?: "?";
        }
        auth = getenv("SSH_USER_AUTH");
        if (auth && gate_auth_read_file(auth, &fingerprint, &key_type) > 0) {
                d.fingerprint = fingerprint;
                d.key_type = key_type;
        }

        r = parse_argv(argc, argv, &what, &token);
        if (r == 0)
                return EXIT_SUCCESS;
        if (r < 0)
                return refuse(&d, GATE_REASON_USAGE_ERROR, what, token, EXIT_USAGE);

        if (arg_rsync_dir) {
                dir = realpath(arg_rsync_dir, NULL);
                if (!dir)
                        return refuse(&d, GATE_REASON_DIR_UNAVAILABLE,
                                      "the allowed directory is unavailable", NULL, EXIT_REFUSED);
        }
        arg_allow[arg_n_allow] = NULL;
        policy = (struct gate_policy){
                .allow = arg_n_allow > 0 ? arg_allow : NULL,
                .dir = dir,
                .access = arg_access,
                .no_delete = arg_no_delete,
        };
        r = gate_policy_validate(&policy, &what);
        if (r == -ENOMEM)
                return refuse(&d, GATE_REASON_USAGE_ERROR, "out of memory", NULL, EXIT_USAGE);
        if (r < 0)
                return refuse(&d, GATE_REASON_USAGE_ERROR, what, NULL, EXIT_USAGE);

        r = gate_check(&policy, d.command, d.command ? strlen(d.command) : 0, &v);
        if (r < 0)
                return refuse(&d, GATE_REASON_USAGE_ERROR, "out of memory", NULL, EXIT_REFUSED);
        if (!v.allowed)
                return refuse(&d, v.reason, v.what, v.token, EXIT_REFUSED);

        if (v.reason == GATE_REASON_RSYNC_DIR) {
                _cleanup_close_ int dirfd = -1;
                unsigned features = 0;

                /* rsync resolves relative paths from here. */
                dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dirfd < 0 || fchdir(dirfd) < 0)
                        return refuse(&d, GATE_REASON_DIR_UNAVAILABLE,
                                      "the allowed directory is unavailable", NULL, EXIT_REFUSED);
                /* Every path and path option, every component, no symlink on the way. */
                for (char **p = v.resolve_paths; p && *p; p++) {
                        _cleanup_free_ char *link = NULL;

                        r = gate_path_resolve(dirfd, *p, GATE_PATH_AUTO, &link);
                        if (r == -ELOOP)
                                return refuse(&d, GATE_REASON_PATH_SYMLINK,
                                              "path goes through a symlink", link ?: *p,
                                              EXIT_REFUSED);
                        if (r < 0 && r != -ENOTDIR)
                                return refuse(&d, GATE_REASON_DIR_UNAVAILABLE,
                                              "a path inside the allowed directory cannot be "
                                              "checked", *p, EXIT_REFUSED);
                }
                /* The server options that hold even against a symlink made during this very
                 * transfer, as far as the installed rsync offers them. */
                r = rsync_features(arg_rsync, &features);
                if (r < 0)
                        return refuse(&d, GATE_REASON_RSYNC_UNSUPPORTED,
                                      "the installed rsync could not be asked for its options",
                                      arg_rsync, EXIT_REFUSED);
                r = gate_protect(&v, &policy, features);
                if (r < 0)
                        return refuse(&d, GATE_REASON_USAGE_ERROR, "out of memory", NULL,
                                      EXIT_REFUSED);
                if (r == 0)
                        return refuse(&d, v.reason, v.what, NULL, EXIT_REFUSED);
        }

        d.allowed = true;
        d.reason = v.reason;
        d.detail = v.what;
        (void) record(&d);

        exe = streq(v.argv[0], "rsync") ? arg_rsync : v.argv[0];
        (void) execv(exe, v.argv);
        return refuse(&d, GATE_REASON_EXEC_FAILED, "the allowed command could not be started",
                      exe, EXIT_REFUSED);
}
