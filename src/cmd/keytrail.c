/* SPDX-License-Identifier: MIT */
/*
 * keytrail: command line, logging and the read loop. The only place (with keytrail-gate) that
 * prints: library modules return errors, this file turns them into one-line messages and exit
 * statuses (0 no alert, 1 alerts, 2 error, like grep).
 */

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "baseline.h"
#include "config.h"
#include "gate-log.h"
#include "pipeline.h"
#include "rules.h"
#include "source.h"
#include "timeutil.h"

enum output_format { FORMAT_AUTO, FORMAT_JSON, FORMAT_TEXT };

#define ARGS_MAX 256

static const char *arg_directory;
static char *arg_files[ARGS_MAX + 1];
static size_t n_files;
static char *arg_identifiers[ARGS_MAX + 1];
static size_t n_identifiers;
static char *arg_exes[ARGS_MAX + 1];
static size_t n_exes;
static char *arg_authkeys[ARGS_MAX + 1];
static size_t n_authkeys;
static const char *arg_rules;
static uint64_t arg_since, arg_until;
static uint64_t arg_session_timeout = 60 * USEC_PER_SEC;
static unsigned arg_max_connections;
static enum output_format arg_format = FORMAT_AUTO;
static bool arg_stats;

static const char *const default_identifiers[] = { "sshd", "sshd-session", "sshd-auth", NULL };

/* Where distributions install sshd and its helpers. --trusted-exe adds more. */
static const char *const default_exes[] = {
        "/usr/sbin/sshd",
        "/usr/lib/openssh/sshd-session",
        "/usr/lib/openssh/sshd-auth",
        "/usr/libexec/openssh/sshd-session",
        "/usr/libexec/openssh/sshd-auth",
        "/usr/libexec/sshd-session",
        "/usr/libexec/sshd-auth",
        "/usr/local/sbin/sshd",
        "/usr/local/libexec/sshd-session",
        "/usr/local/libexec/sshd-auth",
        NULL,
};

static const char *const default_comms[] = { "sshd", "sshd-session", "sshd-auth", NULL };

/* Where keytrail-gate is installed; --trusted-exe adds more (e.g. a build tree's). */
static const char *const default_gate_exes[] = {
        BINDIR "/keytrail-gate",
        "/usr/bin/keytrail-gate",
        "/usr/local/bin/keytrail-gate",
        NULL,
};
static const char *const gate_comms[] = { "keytrail-gate", NULL };

static void log_error(const char *fmt, ...) _printf_(1, 2);
static void log_error(const char *fmt, ...) {
        va_list ap;

        fputs("keytrail: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void help(void) {
        printf("Usage: keytrail scan [OPTIONS]\n"
               "       keytrail --help | --version\n"
               "\n"
               "Watch how SSH keys are used: join every public-key login in sshd's journal entries\n"
               "to the sessions it started and alert when a key does what its authorized_keys\n"
               "line never meant it to.\n"
               "\n"
               "Source:\n"
               "  -D, --directory DIR       read the journal files in DIR\n"
               "      --file PATH           read this journal file (repeatable)\n"
               "  -S, --since TIME          from TIME (journalctl syntax: \"2026-11-01 10:00\",\n"
               "                            yesterday, -2h, @EPOCH)\n"
               "  -U, --until TIME          up to TIME\n"
               "      --identifier NAME     SYSLOG_IDENTIFIER to read (repeatable; default sshd,\n"
               "                            sshd-session, sshd-auth)\n"
               "      --trusted-exe PATH    also trust entries written by this binary (repeatable)\n"
               "Baseline:\n"
               "  -k, --authorized-keys [USER:]PATH\n"
               "                            what each key is meant to do (repeatable); default:\n"
               "                            the readable authorized_keys of every account\n"
               "Analysis and output:\n"
               "      --rules DIR           rule files (default %s)\n"
               "      --session-timeout SEC a forced key with no session after SEC of log time\n"
               "                            raises no-session (default 60)\n"
               "      --max-connections N   open connections kept (default %u)\n"
               "  -o, --format json|text    NDJSON or one line per alert (default: text on a\n"
               "                            terminal, json otherwise)\n"
               "      --stats               print counters on stderr at the end\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n"
               "\n"
               "Exit status: 0 no alert, 1 alerts raised, 2 an error.\n",
               RULESDIR, CORRELATOR_CONNECTIONS_DEFAULT);
}

enum {
        ARG_FILE = 0x100,
        ARG_IDENTIFIER,
        ARG_TRUSTED_EXE,
        ARG_RULES,
        ARG_SESSION_TIMEOUT,
        ARG_MAX_CONNECTIONS,
        ARG_STATS,
        ARG_VERSION,
};

static int push_arg(char **list, size_t *n, const char *what, char *value) {
        if (*n >= ARGS_MAX) {
                log_error("%s: more than %d given", what, ARGS_MAX);
                return -E2BIG;
        }
        list[(*n)++] = value;
        list[*n] = NULL;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "directory", required_argument, NULL, 'D' },
                { "file", required_argument, NULL, ARG_FILE },
                { "since", required_argument, NULL, 'S' },
                { "until", required_argument, NULL, 'U' },
                { "identifier", required_argument, NULL, ARG_IDENTIFIER },
                { "trusted-exe", required_argument, NULL, ARG_TRUSTED_EXE },
                { "authorized-keys", required_argument, NULL, 'k' },
                { "rules", required_argument, NULL, ARG_RULES },
                { "session-timeout", required_argument, NULL, ARG_SESSION_TIMEOUT },
                { "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS },
                { "format", required_argument, NULL, 'o' },
                { "stats", no_argument, NULL, ARG_STATS },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        uint64_t now = timeutil_now_usec(), v;
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":D:S:U:k:o:h", options, NULL)) >= 0) {
                switch (c) {
                case 'D':
                        arg_directory = optarg;
                        break;
                case ARG_FILE:
                        r = push_arg(arg_files, &n_files, "--file", optarg);
                        if (r < 0)
                                return r;
                        break;
                case 'S':
                case 'U':
                        r = timeutil_parse(optarg, now, &v);
                        if (r < 0) {
                                log_error("%s: cannot parse time '%s'",
                                          c == 'S' ? "--since" : "--until", optarg);
                                return r;
                        }
                        if (c == 'S')
                                arg_since = v;
                        else
                                arg_until = v;
                        break;
                case ARG_IDENTIFIER:
                        r = push_arg(arg_identifiers, &n_identifiers, "--identifier", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_TRUSTED_EXE:
                        if (optarg[0] != '/') {
                                log_error("--trusted-exe: '%s' is not an absolute path", optarg);
                                return -EINVAL;
                        }
                        r = push_arg(arg_exes, &n_exes, "--trusted-exe", optarg);
                        if (r < 0)
                                return r;
                        break;
                case 'k':
                        r = push_arg(arg_authkeys, &n_authkeys, "--authorized-keys", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_RULES:
                        arg_rules = optarg;
                        break;
                case ARG_SESSION_TIMEOUT:
                        r = timeutil_parse_duration(optarg, &arg_session_timeout);
                        if (r < 0) {
                                log_error("--session-timeout: cannot parse duration '%s'", optarg);
                                return r;
                        }
                        break;
                case ARG_MAX_CONNECTIONS:
                        if (strview_to_u64(strview_from(optarg), 100000000, &v) < 0 || v == 0) {
                                log_error("--max-connections: '%s' is not a number from 1 to "
                                          "100000000", optarg);
                                return -EINVAL;
                        }
                        arg_max_connections = (unsigned) v;
                        break;
                case 'o':
                        if (streq(optarg, "json"))
                                arg_format = FORMAT_JSON;
                        else if (streq(optarg, "text"))
                                arg_format = FORMAT_TEXT;
                        else {
                                log_error("--format: '%s' is not json or text", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_STATS:
                        arg_stats = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("keytrail %s\n", PACKAGE_VERSION);
                        return 0;
                case ':':
                        log_error("option '%s' needs a value", argv[optind - 1]);
                        return -EINVAL;
                default:
                        log_error("unknown option '%s' (see keytrail --help)", argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (arg_directory && n_files > 0) {
                log_error("--directory and --file cannot be combined");
                return -EINVAL;
        }
        if (arg_since && arg_until && arg_until < arg_since) {
                log_error("--until is before --since");
                return -EINVAL;
        }
        return 1;
}

static int load_rules(struct rule_set **ret) {
        _cleanup_(rule_set_freep) struct rule_set *rules = rule_set_new();
        struct rule_load_error e = {};
        const char *dir = arg_rules;
        struct stat st;
        int r;

        if (!rules)
                return -ENOMEM;
        if (!dir)
                /* Installed rules; from a build tree that was never installed, the source's. */
                dir = stat(RULESDIR, &st) >= 0 ? RULESDIR : SOURCE_RULESDIR;
        r = rule_set_load_dir(rules, dir, &e);
        if (r < 0) {
                if (e.file && e.line > 0)
                        log_error("%s:%u: %s", e.file, e.line, e.message ?: strerror(-r));
                else
                        log_error("%s: %s", e.file ?: dir, e.message ?: strerror(-r));
                rule_load_error_done(&e);
                return r;
        }
        if (rule_set_size(rules) == 0) {
                log_error("%s: no rules found", dir);
                return -ENOENT;
        }
        *ret = TAKE_PTR(rules);
        return 0;
}

static int load_baseline_arg(struct baseline *b, const char *arg) {
        _cleanup_free_ char *user = NULL;
        const char *colon = strchr(arg, ':'), *path = arg, *what = NULL;
        unsigned line = 0;
        int r;

        /* USER:PATH when what comes before the first ':' cannot be part of a path. */
        if (colon && colon > arg && !memchr(arg, '/', (size_t) (colon - arg))) {
                user = strndup(arg, (size_t) (colon - arg));
                if (!user)
                        return -ENOMEM;
                path = colon + 1;
        }
        r = baseline_add_file(b, user, path, true, NULL, NULL, &line, &what);
        if (r == -EBADMSG || r == -E2BIG) {
                log_error("%s:%u: %s", path, line, what ?: "malformed authorized_keys line");
                return r;
        }
        if (r < 0) {
                log_error("--authorized-keys: cannot read '%s': %s", path, strerror(-r));
                return r;
        }
        return 0;
}

/* No --authorized-keys: every account's readable authorized_keys files, as sshd's default
 * AuthorizedKeysFile (.ssh/authorized_keys .ssh/authorized_keys2). Lenient: a user must not be
 * able to blind keytrail by writing a broken line into their own file. */
static int load_baseline_system(struct baseline *b) {
        static const char *const names[] = { ".ssh/authorized_keys", ".ssh/authorized_keys2" };
        struct passwd *pw;
        unsigned files = 0;
        int r;

        setpwent();
        while ((pw = getpwent())) {
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        _cleanup_free_ char *path = NULL;
                        unsigned keys = 0, skipped = 0, line = 0;
                        const char *what = NULL;

                        if (!pw->pw_dir || pw->pw_dir[0] != '/')
                                continue;
                        if (asprintf(&path, "%s/%s", streq(pw->pw_dir, "/") ? "" : pw->pw_dir,
                                     names[i]) < 0) {
                                endpwent();
                                return -ENOMEM;
                        }
                        if (access(path, R_OK) < 0)
                                continue;
                        r = baseline_add_file(b, pw->pw_name, path, false, &keys, &skipped, &line,
                                              &what);
                        if (r == -ENOMEM) {
                                endpwent();
                                return r;
                        }
                        if (r < 0) {
                                log_error("baseline: cannot read '%s': %s, ignoring", path,
                                          strerror(-r));
                                continue;
                        }
                        files++;
                        fprintf(stderr, "keytrail: baseline: read %s for '%s' (%u key%s)\n", path,
                                pw->pw_name, keys, keys == 1 ? "" : "s");
                        if (skipped > 0)
                                log_error("%s:%u: %s; %u malformed line%s skipped", path, line,
                                          what ?: "malformed line", skipped,
                                          skipped == 1 ? "" : "s");
                }
        }
        endpwent();
        if (files == 0)
                fprintf(stderr, "keytrail: baseline: no readable authorized_keys file found\n");
        return 0;
}

struct output {
        bool json;
        uint64_t n;
};

static int emit_alert(void *userdata, const struct alert *a) {
        struct output *o = userdata;
        _cleanup_free_ char *s = NULL;
        int r;

        r = o->json ? alert_to_json(a, &s) : alert_to_text(a, &s);
        if (r < 0)
                return r;
        if (puts(s) == EOF)
                return -EIO;
        o->n++;
        return 0;
}

static int cmd_scan(void) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_(baseline_freep) struct baseline *baseline = NULL;
        _cleanup_(source_freep) struct source *src = NULL;
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        struct log_record rec = {};
        struct output out = {};
        char *exes[ELEMENTSOF(default_exes) + ARGS_MAX + 1];
        char *gate_exes[ELEMENTSOF(default_gate_exes) + ARGS_MAX + 1];
        char *idents[ARGS_MAX + ELEMENTSOF(default_identifiers) + 8];
        char **sshd_idents = n_identifiers > 0 ? arg_identifiers : (char **) default_identifiers;
        size_t n = 0, ng = 0, ni = 0;
        int r;

        for (const char *const *i = default_exes; *i; i++)
                exes[n++] = (char *) *i;
        for (const char *const *i = default_gate_exes; *i; i++)
                gate_exes[ng++] = (char *) *i;
        for (size_t i = 0; i < n_exes; i++) {
                exes[n++] = arg_exes[i];
                gate_exes[ng++] = arg_exes[i];
        }
        exes[n] = gate_exes[ng] = NULL;

        /* The journal matches: sshd's identifiers, the gate's and the wrappers'. */
        for (char **i = sshd_idents; *i; i++)
                idents[ni++] = *i;
        idents[ni++] = (char *) GATE_SYSLOG_IDENTIFIER;
        for (const char *const *i = pipeline_wrapper_identifiers; *i && ni < ELEMENTSOF(idents) - 1;
             i++)
                idents[ni++] = (char *) *i;
        idents[ni] = NULL;

        r = load_rules(&rules);
        if (r < 0)
                return r;

        baseline = baseline_new();
        if (!baseline)
                return log_error("out of memory"), -ENOMEM;
        for (size_t i = 0; i < n_authkeys; i++) {
                r = load_baseline_arg(baseline, arg_authkeys[i]);
                if (r < 0)
                        return r;
        }
        if (n_authkeys == 0) {
                r = load_baseline_system(baseline);
                if (r < 0)
                        return log_error("baseline: %s", strerror(-r)), r;
        }

        r = journal_source_open(
                &(struct journal_source_options){
                        .directory = arg_directory,
                        .files = n_files > 0 ? arg_files : NULL,
                        .identifiers = idents,
                        .also = (char **) pipeline_logger_matches,
                        .since_usec = arg_since,
                        .until_usec = arg_until,
                },
                &src);
        if (r < 0) {
                if (n_files > 0)
                        log_error("--file: cannot open journal file(s) starting with '%s': %s",
                                  arg_files[0], strerror(-r));
                else if (arg_directory)
                        log_error("--directory: cannot open journal directory '%s': %s",
                                  arg_directory, strerror(-r));
                if (IN_SET(r, -ENODATA, -EBADMSG, -EPROTONOSUPPORT))
                        log_error("(not a journal file, or a corrupt one)");
                else
                        log_error("cannot open the system journal: %s", strerror(-r));
                return r;
        }

        out.json = arg_format == FORMAT_JSON || (arg_format == FORMAT_AUTO && !isatty(STDOUT_FILENO));
        r = pipeline_new(&(struct pipeline_config){
                                 .rules = rules,
                                 .baseline = baseline,
                                 .sshd_identifiers = sshd_idents,
                                 .trust = { .exes = exes, .comms = (char **) default_comms },
                                 .gate_trust = { .exes = gate_exes, .comms = (char **) gate_comms },
                                 .session_timeout_usec = arg_session_timeout,
                                 .max_connections = arg_max_connections,
                                 .emit = emit_alert,
                                 .userdata = &out,
                         },
                         &p);
        if (r < 0)
                return log_error("%s", strerror(-r)), r;

        for (;;) {
                r = source_next(src, &rec);
                if (r < 0) {
                        log_error("reading the journal: %s", strerror(-r));
                        break;
                }
                if (r == 0)
                        break;
                r = pipeline_feed(p, &rec);
                if (r < 0) {
                        log_error("processing an entry: %s", strerror(-r));
                        break;
                }
        }
        record_done(&rec);
        if (fflush(stdout) != 0 && r >= 0) {
                log_error("writing alerts: %m");
                r = -EIO;
        }
        if (arg_stats) {
                const struct pipeline_stats *ps = pipeline_stats(p);
                const struct correlator_stats *cs = pipeline_correlator_stats(p);

                fprintf(stderr,
                        "keytrail: stats: records=%llu matched=%llu unmatched=%llu spoofed=%llu "
                        "match_errors=%llu skipped=%llu connections=%llu evicted=%llu "
                        "orphan_sessions=%llu alerts=%llu\n",
                        (unsigned long long) ps->records, (unsigned long long) ps->matched,
                        (unsigned long long) ps->unmatched, (unsigned long long) ps->spoofed,
                        (unsigned long long) ps->match_errors,
                        (unsigned long long) source_skipped(src),
                        (unsigned long long) cs->connections, (unsigned long long) cs->evicted,
                        (unsigned long long) cs->orphan_sessions,
                        (unsigned long long) pipeline_alerts(p));
        }
        if (r >= 0 && source_skipped(src) > 0) {
                const char *why = NULL, *cur = source_first_skipped(src, &why);

                /* Everything readable was read and judged; the unreadable part is an error. */
                log_error("the journal is corrupt: %llu entr%s skipped, the first at cursor '%s' (%s)",
                          (unsigned long long) source_skipped(src),
                          source_skipped(src) == 1 ? "y" : "ies", cur ?: "?", why ?: "unreadable");
                r = -EBADMSG;
        }
        if (r < 0)
                return r;
        return out.n > 0 ? 1 : 0;
}

int main(int argc, char *argv[]) {
        const char *verb;
        int r;

        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h") ||
                          streq(argv[1], "help"))) {
                help();
                return 0;
        }
        if (argc >= 2 && streq(argv[1], "--version")) {
                printf("keytrail %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (argc < 2) {
                log_error("missing command (see keytrail --help)");
                return 2;
        }
        verb = argv[1];
        if (!streq(verb, "scan")) {
                log_error("unknown command '%s' (see keytrail --help)", verb);
                return 2;
        }
        r = parse_argv(argc - 1, argv + 1);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (optind < argc - 1) {
                log_error("unexpected argument '%s'", argv[optind + 1]);
                return 2;
        }
        r = cmd_scan();
        if (r < 0)
                return 2;
        return r;
}
