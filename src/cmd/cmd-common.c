/* SPDX-License-Identifier: MIT */
/*
 * The options and loading code keytrail's subcommands share; see cmd-common.h.
 */

#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline-file.h"
#include "cmd-common.h"
#include "sigbus.h"
#include "discover.h"
#include "config.h"
#include "gate-log.h"
#include "policy-file.h"
#include "session.h"
#include "text-log.h"
#include "timeutil.h"

const char *arg_directory;
char *arg_files[ARGS_MAX + 1];
size_t arg_n_files;
char *arg_inputs[ARGS_MAX + 1];
size_t arg_n_inputs;
const char *arg_policy;
char *arg_identifiers[ARGS_MAX + 1];
size_t arg_n_identifiers;
char *arg_exes[ARGS_MAX + 1];
size_t arg_n_exes;
char *arg_authkeys[ARGS_MAX + 1];
size_t arg_n_authkeys;
const char *arg_baseline;
const char *arg_rules;
uint64_t arg_since, arg_until;
bool arg_since_set, arg_until_set;
uint64_t arg_session_timeout = 60 * USEC_PER_SEC;
unsigned arg_max_connections;
enum output_format arg_format = FORMAT_AUTO;
bool arg_stats;
unsigned arg_jobs;

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

/* The trust lists the pipeline borrows: built once, live as long as the process. */
static char *trusted_exes[ELEMENTSOF(default_exes) + ARGS_MAX + 1];
static char *trusted_gate_exes[ELEMENTSOF(default_gate_exes) + ARGS_MAX + 1];
static char *journal_identifiers[ARGS_MAX + ELEMENTSOF(default_identifiers) + 8];

static void vlog(const char *fmt, va_list ap) _printf_(1, 0);
static void vlog(const char *fmt, va_list ap) {
        fputs("keytrail: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

void log_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(fmt, ap);
        va_end(ap);
}

void log_info(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vlog(fmt, ap);
        va_end(ap);
}

/* ---- options --------------------------------------------------------------------------------- */

enum {
        ARG_FILE = 0x100,
        ARG_INPUT,
        ARG_POLICY,
        ARG_IDENTIFIER,
        ARG_TRUSTED_EXE,
        ARG_RULES,
        ARG_SESSION_TIMEOUT,
        ARG_MAX_CONNECTIONS,
        ARG_STATS,
        ARG_VERSION,
        ARG_BASELINE,
        ARG_JOBS,
};

struct group_option {
        unsigned group;
        struct option opt;
        const char *short_spec; /* "D:" for a short option with a value, NULL for none */
};

static const struct group_option group_options[] = {
        { OPT_SOURCE, { "directory", required_argument, NULL, 'D' }, "D:" },
        { OPT_SOURCE, { "file", required_argument, NULL, ARG_FILE }, NULL },
        { OPT_TEXT, { "input", required_argument, NULL, ARG_INPUT }, NULL },
        { OPT_SOURCE, { "since", required_argument, NULL, 'S' }, "S:" },
        { OPT_SOURCE, { "until", required_argument, NULL, 'U' }, "U:" },
        { OPT_SOURCE, { "identifier", required_argument, NULL, ARG_IDENTIFIER }, NULL },
        { OPT_SOURCE, { "trusted-exe", required_argument, NULL, ARG_TRUSTED_EXE }, NULL },
        { OPT_JOBS, { "jobs", required_argument, NULL, 'j' }, "j:" },
        { OPT_BASELINE, { "authorized-keys", required_argument, NULL, 'k' }, "k:" },
        { OPT_BASELINE, { "baseline", required_argument, NULL, ARG_BASELINE }, NULL },
        { OPT_POLICY, { "policy", required_argument, NULL, ARG_POLICY }, NULL },
        { OPT_ANALYSIS, { "rules", required_argument, NULL, ARG_RULES }, NULL },
        { OPT_ANALYSIS, { "session-timeout", required_argument, NULL, ARG_SESSION_TIMEOUT }, NULL },
        { OPT_ANALYSIS, { "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS }, NULL },
        { OPT_OUTPUT, { "format", required_argument, NULL, 'o' }, "o:" },
        { OPT_OUTPUT, { "stats", no_argument, NULL, ARG_STATS }, NULL },
};

void cmd_help_groups(unsigned groups) {
        if (groups & OPT_SOURCE)
                printf("Source:\n"
                       "  -D, --directory DIR       read the journal files in DIR\n"
                       "      --file PATH           read this journal file (repeatable)\n");
        if ((groups & OPT_SOURCE) && (groups & OPT_TEXT))
                printf("      --input PATH          read this text log instead: syslog, rsyslog or\n"
                       "                            journalctl -o short-iso output; gzip too; - is\n"
                       "                            standard input; a pipe or FIFO too, e.g.\n"
                       "                            <(zcat auth.log.2.gz) (repeatable)\n");
        if (groups & OPT_SOURCE)
                printf("  -S, --since TIME          from TIME (journalctl syntax: \"2026-11-01 10:00\",\n"
                       "                            yesterday, -2h, @EPOCH)\n"
                       "  -U, --until TIME          up to TIME\n"
                       "      --identifier NAME     SYSLOG_IDENTIFIER to read (repeatable; default sshd,\n"
                       "                            sshd-session, sshd-auth)\n"
                       "      --trusted-exe PATH    also trust entries written by this binary (repeatable)\n");
        if (groups & OPT_JOBS)
                printf("  -j, --jobs N              read the journal files in N reader processes,\n"
                       "                            merged in journal order (default: the online CPUs,\n"
                       "                            at most one per file; 1: no reader process);\n"
                       "                            --input files: scan reads them in a second thread\n"
                       "                            when N > 1\n");
        if (groups & OPT_BASELINE)
                printf("Baseline:\n"
                       "  -k, --authorized-keys [USER:]PATH\n"
                       "                            what each key is meant to do (repeatable); default:\n"
                       "                            the readable authorized_keys of every account\n"
                       "      --baseline FILE       the baseline file keytrail baseline wrote (see\n"
                       "                            keytrail-baseline(5)); no home directory is read\n");
        if (groups & OPT_POLICY)
                printf("      --policy FILE         what keys and accounts may do beyond that:\n"
                       "                            commands, sources, labels (docs/policy.md)\n");
        if (groups & OPT_ANALYSIS)
                printf("Analysis:\n"
                       "      --rules DIR           rule files (default %s)\n"
                       "      --session-timeout SEC a forced key with no session after SEC of log time\n"
                       "                            raises no-session (default 60)\n"
                       "      --max-connections N   open connections kept (default %u)\n",
                       RULESDIR, CORRELATOR_CONNECTIONS_DEFAULT);
        if (groups & OPT_OUTPUT)
                printf("Output:\n"
                       "  -o, --format json|text    NDJSON or one line per alert (default: text on a\n"
                       "                            terminal, json otherwise)\n"
                       "      --stats               print counters on stderr at the end\n");
        printf("  -h, --help                show this help\n"
               "      --version             show the version\n");
}

static int push_arg(char **list, size_t *n, const char *what, char *value) {
        if (*n >= ARGS_MAX) {
                log_error("%s: more than %d given", what, ARGS_MAX);
                return -E2BIG;
        }
        list[(*n)++] = value;
        list[*n] = NULL;
        return 0;
}

static int parse_group_option(int c, char *value, uint64_t now) {
        uint64_t v;
        int r;

        switch (c) {
        case 'D':
                arg_directory = value;
                return 0;
        case ARG_FILE:
                return push_arg(arg_files, &arg_n_files, "--file", value);
        case ARG_INPUT:
                return push_arg(arg_inputs, &arg_n_inputs, "--input", value);
        case ARG_POLICY:
                arg_policy = value;
                return 0;
        case 'S':
        case 'U':
                r = timeutil_parse(value, now, &v);
                if (r < 0) {
                        log_error("%s: %s '%s'", c == 'S' ? "--since" : "--until",
                                  r == -ERANGE ? "time out of range:" : "cannot parse time", value);
                        return r;
                }
                if (c == 'S') {
                        arg_since = v;
                        arg_since_set = true;
                } else {
                        arg_until = v;
                        arg_until_set = true;
                }
                return 0;
        case ARG_IDENTIFIER:
                /* journal_source_open() matches "SYSLOG_IDENTIFIER=NAME" in 256 bytes */
                if (value[0] == '\0' || strlen(value) > IDENTIFIER_MAX) {
                        log_error("--identifier: '%.40s%s' is not 1 to %d bytes", value,
                                  strlen(value) > 40 ? "..." : "", IDENTIFIER_MAX);
                        return -EINVAL;
                }
                return push_arg(arg_identifiers, &arg_n_identifiers, "--identifier", value);
        case ARG_TRUSTED_EXE:
                if (value[0] != '/') {
                        log_error("--trusted-exe: '%s' is not an absolute path", value);
                        return -EINVAL;
                }
                return push_arg(arg_exes, &arg_n_exes, "--trusted-exe", value);
        case 'k':
                return push_arg(arg_authkeys, &arg_n_authkeys, "--authorized-keys", value);
        case ARG_BASELINE:
                arg_baseline = value;
                return 0;
        case ARG_RULES:
                arg_rules = value;
                return 0;
        case ARG_SESSION_TIMEOUT:
                r = timeutil_parse_duration(value, &arg_session_timeout);
                if (r < 0) {
                        log_error("--session-timeout: cannot parse duration '%s'", value);
                        return r;
                }
                return 0;
        case ARG_MAX_CONNECTIONS:
                if (strview_to_u64(strview_from(value), 100000000, &v) < 0 || v == 0) {
                        log_error("--max-connections: '%s' is not a number from 1 to 100000000",
                                  value);
                        return -EINVAL;
                }
                arg_max_connections = (unsigned) v;
                return 0;
        case 'o':
                if (streq(value, "json"))
                        arg_format = FORMAT_JSON;
                else if (streq(value, "text"))
                        arg_format = FORMAT_TEXT;
                else {
                        log_error("--format: '%s' is not json or text", value);
                        return -EINVAL;
                }
                return 0;
        case ARG_STATS:
                arg_stats = true;
                return 0;
        case 'j':
                if (strview_to_u64(strview_from(value), JOBS_MAX, &v) < 0 || v == 0) {
                        log_error("--jobs: '%s' is not a number from 1 to %d", value, JOBS_MAX);
                        return -EINVAL;
                }
                arg_jobs = (unsigned) v;
                return 0;
        default:
                return -ENOENT; /* not a group option */
        }
}

#define OPTIONS_MAX 64

static void append_spec(char *buf, size_t size, const char *s) {
        size_t l = strlen(buf), n = strlen(s);

        assert(l + n < size);
        memcpy(buf + l, s, n + 1);
}

int cmd_parse_argv(const struct cmd_spec *spec, int argc, char *argv[], int *ret_optind) {
        struct option options[OPTIONS_MAX + 1] = {};
        char shortopts[128] = ":h";
        size_t n = 0;
        uint64_t now = timeutil_now_usec();
        int c, r;

        for (size_t i = 0; i < ELEMENTSOF(group_options); i++) {
                if (!(group_options[i].group & spec->groups))
                        continue;
                assert(n < OPTIONS_MAX);
                options[n++] = group_options[i].opt;
                if (group_options[i].short_spec)
                        append_spec(shortopts, sizeof(shortopts), group_options[i].short_spec);
        }
        for (const struct option *o = spec->extra; o && o->name; o++) {
                assert(n < OPTIONS_MAX);
                options[n++] = *o;
        }
        if (spec->extra_short) {
                append_spec(shortopts, sizeof(shortopts), spec->extra_short);
        }
        assert(n + 2 <= OPTIONS_MAX);
        options[n++] = (struct option){ "help", no_argument, NULL, 'h' };
        options[n++] = (struct option){ "version", no_argument, NULL, ARG_VERSION };

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        spec->help();
                        return 0;
                case ARG_VERSION:
                        printf("keytrail %s\n", PACKAGE_VERSION);
                        return 0;
                case ':':
                        log_error("option '%s' needs a value", argv[optind - 1]);
                        return -EINVAL;
                case '?':
                        log_error("unknown option '%s' (see keytrail %s --help)", argv[optind - 1],
                                  spec->name);
                        return -EINVAL;
                default:
                        /* A command's own options come first: it may take an option of a
                         * group it does not use in its own way (report's --format html). */
                        r = spec->parse_extra ? spec->parse_extra(c, optarg) : -ENOENT;
                        if (r == -ENOENT)
                                r = parse_group_option(c, optarg, now);
                        if (r == -ENOENT) {
                                log_error("unknown option '%s' (see keytrail %s --help)",
                                          argv[optind - 1], spec->name);
                                return -EINVAL;
                        }
                        if (r < 0)
                                return r;
                }
        }
        if ((spec->groups & OPT_JOBS) && arg_jobs == 0) {
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);

                arg_jobs = (unsigned) MIN(MAX(cpus, 1L), (long) JOBS_MAX);
        }
        if (arg_directory && arg_n_files > 0) {
                log_error("--directory and --file cannot be combined");
                return -EINVAL;
        }
        if (arg_baseline && arg_n_authkeys > 0) {
                log_error("--baseline and --authorized-keys cannot be combined");
                return -EINVAL;
        }
        if (arg_n_inputs > 0 && (arg_directory || arg_n_files > 0)) {
                log_error("--input (text logs) cannot be combined with --%s (journals)",
                          arg_directory ? "directory" : "file");
                return -EINVAL;
        }
        if (arg_since_set && arg_until_set && arg_until < arg_since) {
                log_error("--until is before --since");
                return -EINVAL;
        }
        if ((unsigned) (argc - optind) > spec->max_positional) {
                log_error("unexpected argument '%s'", argv[optind + (int) spec->max_positional]);
                return -EINVAL;
        }
        *ret_optind = optind;
        return 1;
}

/* ---- loading --------------------------------------------------------------------------------- */

int cmd_load_rules(struct rule_set **ret) {
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
                _cleanup_free_ char *p = cmd_path_text(e.file ?: dir);

                if (e.file && e.line > 0)
                        log_error("%s:%u: %s", p ?: "?", e.line, e.message ?: strerror(-r));
                else
                        log_error("%s: %s", p ?: "?", e.message ?: strerror(-r));
                rule_load_error_done(&e);
                return r;
        }
        if (rule_set_size(rules) == 0) {
                _cleanup_free_ char *p = cmd_path_text(dir);

                log_error("%s: no rules found", p ?: "?");
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
        if (r < 0) {
                _cleanup_free_ char *p = cmd_path_text(path);

                if (r == -EBADMSG || r == -E2BIG || (r == -ENOSPC && line > 0))
                        log_error("%s:%u: %s", p ?: "?", line,
                                  what ?: "malformed authorized_keys line");
                else
                        log_error("--authorized-keys: cannot read %s: %s", p ?: "?",
                                  strerror(-r));
                return r;
        }
        return 0;
}

/* No --authorized-keys: every account's authorized_keys files, as sshd's default
 * AuthorizedKeysFile (.ssh/authorized_keys .ssh/authorized_keys2), opened as sshd would accept
 * them (discover.h). Lenient: a user must not be able to blind keytrail by writing a broken line
 * into their own file, nor hang or mislead it by what they put in its place. */
static int load_baseline_system(struct baseline *b) {
        struct discover_result res = {};
        unsigned files = 0, denied = 0;
        int r;

        r = baseline_discover(b, NULL, &res);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res.n; i++) {
                const struct discover_file *f = &res.files[i];

                switch (f->verdict) {
                case DISCOVER_READ:
                        files++;
                        fprintf(stderr, "keytrail: baseline: read %s for '%s' (%u key%s)\n",
                                f->path, f->user, f->keys, f->keys == 1 ? "" : "s");
                        if (f->error == -ENOSPC)
                                log_error("%s:%u: %s, ignoring the rest of the file", f->path,
                                          f->first_bad_line, f->first_bad_what ?: "too many keys");
                        else if (f->bad_lines > 0)
                                log_error("%s:%u: %s; %u malformed line%s skipped", f->path,
                                          f->first_bad_line, f->first_bad_what ?: "malformed line",
                                          f->bad_lines, f->bad_lines == 1 ? "" : "s");
                        break;
                case DISCOVER_DENIED:
                        denied++;
                        break;
                case DISCOVER_ERROR:
                        log_error("baseline: skipped %s for '%s': %s: %s", f->path, f->user,
                                  f->offender, strerror(-f->error));
                        break;
                default:
                        /* what sshd would refuse too, or could hang keytrail: not the account's */
                        log_error("baseline: skipped %s for '%s': %s is %s", f->path, f->user,
                                  f->offender, discover_verdict_to_string(f->verdict));
                        break;
                }
        }
        if (denied > 0)
                log_error("baseline: %u authorized_keys file%s not readable (permission denied); "
                          "run as root to read every account's", denied, denied == 1 ? "" : "s");
        if (res.more > 0)
                log_error("baseline: %zu more files not looked at (more than %d)", res.more,
                          DISCOVER_FILES_MAX);
        if (files == 0)
                fprintf(stderr, "keytrail: baseline: no readable authorized_keys file found\n");
        discover_result_done(&res);
        return 0;
}

/* --baseline FILE: the file keytrail baseline wrote. Strict: FILE:LINE on the first bad line. */
static int load_baseline_file(struct baseline *b) {
        _cleanup_(baseline_file_freep) struct baseline_file *bf = NULL;
        _cleanup_free_ char *p = NULL;
        const char *what = NULL;
        unsigned line = 0;
        int r;

        r = baseline_file_load(arg_baseline, &bf, &line, &what);
        if (r == -ENOMEM)
                return log_error("out of memory"), r;
        if (r < 0) {
                p = cmd_path_text(arg_baseline);
                if (line > 0)
                        log_error("%s:%u: %s", p ?: "?", line, what ?: "malformed line");
                else
                        log_error("--baseline: cannot read %s: %s", p ?: "?", strerror(-r));
                return r;
        }
        r = baseline_file_apply(bf, b);
        if (r < 0) {
                p = cmd_path_text(arg_baseline);
                return log_error("--baseline: %s: %s", p ?: "?", strerror(-r)), r;
        }
        return 0;
}

int cmd_load_baseline(struct baseline **ret) {
        _cleanup_(baseline_freep) struct baseline *baseline = baseline_new();
        int r;

        if (!baseline)
                return log_error("out of memory"), -ENOMEM;
        if (arg_baseline) {
                r = load_baseline_file(baseline);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(baseline);
                return 0;
        }
        for (size_t i = 0; i < arg_n_authkeys; i++) {
                r = load_baseline_arg(baseline, arg_authkeys[i]);
                if (r < 0)
                        return r;
        }
        if (arg_n_authkeys == 0 && arg_policy) {
                /* The policy (learned, for hosts with no trusted copy of authorized_keys) is
                 * what the logins are judged by: the accounts' files are not read. */
                log_info("baseline: none: judging by --policy alone");
        } else if (arg_n_authkeys == 0) {
                r = load_baseline_system(baseline);
                if (r < 0)
                        return log_error("baseline: %s", strerror(-r)), r;
        }
        *ret = TAKE_PTR(baseline);
        return 0;
}

static char **sshd_identifiers(void) {
        return arg_n_identifiers > 0 ? arg_identifiers : (char **) default_identifiers;
}

/* The entries read, from the journal or text: sshd's identifiers, the gate's and the wrappers'. */
static void fill_identifiers(void) {
        size_t ni = 0;

        for (char **i = sshd_identifiers(); *i; i++)
                journal_identifiers[ni++] = *i;
        journal_identifiers[ni++] = (char *) GATE_SYSLOG_IDENTIFIER;
        for (const char *const *i = pipeline_wrapper_identifiers;
             *i && ni < ELEMENTSOF(journal_identifiers) - 1; i++)
                journal_identifiers[ni++] = (char *) *i;
        journal_identifiers[ni] = NULL;
}

int cmd_open_journal(struct source **ret) {
        _cleanup_(source_freep) struct source *src = NULL;
        const char *path = NULL;
        int r;

        fill_identifiers();
        /* journald truncates the files it archives: a page cut off under a reader is read as
         * zeroes, not SIGBUS (sigbus.h) */
        r = sigbus_zero_install();
        if (r < 0) {
                log_error("SIGBUS handler: %s", strerror(-r));
                return r;
        }

        r = journal_source_open(
                &(struct journal_source_options){
                        .directory = arg_directory,
                        .files = arg_n_files > 0 ? arg_files : NULL,
                        .identifiers = journal_identifiers,
                        .also = (char **) pipeline_logger_matches,
                        .also_kept = (char **) pipeline_logger_kept,
                        .since_usec = arg_since,
                        .until_usec = arg_until,
                        .since_set = arg_since_set,
                        .until_set = arg_until_set,
                        .jobs = arg_jobs,
                },
                &src, &path);
        if (r < 0) {
                const char *why = IN_SET(r, -ENODATA, -EBADMSG, -EPROTONOSUPPORT)
                                          ? "not a journal file, or a corrupt one"
                                  : IN_SET(r, -EMFILE, -ENFILE) ? cmd_fd_limit_text(r)
                                                                : strerror(-r);
                _cleanup_free_ char *p = cmd_path_text(path ?: arg_n_files > 0 ? arg_files[0]
                                                                                : arg_directory);

                if (arg_n_files > 0)
                        log_error("--file: cannot open %s: %s", p ?: "?", why);
                else if (arg_directory)
                        log_error("--directory: cannot open %s: %s", p ?: "?", why);
                else
                        log_error("cannot open the local journal: %s", why);
                return r;
        }
        if (source_stats(src)->files == 0) {
                /* Nothing to read at all: one line that says why. */
                char why[1400];

                cmd_source_summary(src, why, sizeof(why));
                if (arg_directory) {
                        _cleanup_free_ char *d = cmd_path_text(arg_directory);

                        log_error("--directory: no readable journal file in %s: %s", d ?: "?",
                                  why);
                } else
                        log_error("no readable journal file in %s or %s: %s", journal_local_dirs[0],
                                  journal_local_dirs[1], why);
                return -ENOENT;
        }
        (void) cmd_source_problems(src);
        if (source_stats(src)->jobs_limited > 0) {
                /* journal.c's par_fit(): said, not an error (the exit status is unchanged) */
                struct rlimit rl = {};

                (void) getrlimit(RLIMIT_NOFILE, &rl);
                log_info("reading the %llu journal files with one reader, not %llu: the readers need "
                         "up to three descriptors per file, more than the limit of open files "
                         "allows (%llu); raise the hard limit (ulimit -Hn as root, LimitNOFILE= "
                         "in a systemd unit) to read them in parallel",
                         (unsigned long long) source_stats(src)->files,
                         (unsigned long long) source_stats(src)->jobs_limited + 1,
                         (unsigned long long) rl.rlim_cur);
        }
        if (source_stats(src)->jobs_unforked > 0)
                /* journal.c: said, not an error (the exit status is unchanged) */
                log_info("reading the %llu journal files with one reader, not %llu: cannot start "
                         "reader processes (the limit of processes, ulimit -u, or memory)",
                         (unsigned long long) source_stats(src)->files,
                         (unsigned long long) source_stats(src)->jobs_unforked + 1);
        *ret = TAKE_PTR(src);
        return 0;
}

static int open_text(struct source **ret) {
        _cleanup_free_ char *p = NULL;
        const char *path = NULL;
        uint64_t line = 0;
        int r;

        r = text_source_open(&(struct text_source_options){
                                     .paths = arg_inputs,
                                     .identifiers = journal_identifiers,
                                     .since_usec = arg_since,
                                     .until_usec = arg_until,
                                     .since_set = arg_since_set,
                                     .until_set = arg_until_set,
                             },
                             ret, &path, &line);
        if (r >= 0)
                return r;
        /* The name as typed, or as found; escaped like every file name on stderr. */
        p = streq_ptr(path, "-") ? strdup("(stdin)") : cmd_path_text(path);
        if (r == -EBADMSG && line > 0)
                log_error("%s:%llu: not a syslog, rsyslog or journalctl short-iso/short-precise "
                          "line (--input reads text logs)",
                          p ?: "?", (unsigned long long) line);
        else if (r == -E2BIG)
                log_error("--input: more than %d given", TEXT_INPUTS_MAX);
        else if (r == -EEXIST)
                log_error("--input: standard input (-) given twice");
        else
                log_error("--input: cannot read %s: %s", p ?: "?", strerror(-r));
        return r;
}

int cmd_open_source(struct source **ret) {
        if (arg_n_inputs == 0)
                return cmd_open_journal(ret);
        fill_identifiers();
        return open_text(ret);
}

/* The u evidence entries given a partial cursor (source.h's unresolved), and why (ending in its
 * ':' or ';'): one line. */
static void log_unresolved(unsigned long long u, const char *why) {
        log_error("%llu evidence entr%s %s %s a partial cursor (b=;m=;t=), and %s alert id%s "
                  "differ%s from a scan that finds %s",
                  u, plural(u, "y", "ies"), why, plural(u, "it has", "they have"),
                  plural(u, "its", "their"), plural(u, "", "s"), plural(u, "s", ""),
                  plural(u, "it", "them"));
}

int cmd_check_skipped(const struct source *src) {
        const char *why = NULL, *cur = source_first_skipped(src, &why);
        unsigned long long n = source_skipped(src), u = source_stats(src)->unresolved;
        int r = cmd_source_problems(src);
        char because[512];

        if (u > 0 && source_stats(src)->fd_limited > 0) {
                /* The files could not all be opened again to look it up */
                (void) snprintf(because, sizeof(because),
                                "could not be looked up in the journal files: %s;",
                                cmd_fd_limit_text(-EMFILE));
                log_unresolved(u, because);
                r = -EBADMSG;
        } else if (u > 0) {
                /* Evidence is looked up when an alert is built: a file emptied or rewritten in
                 * between leaves only what the entry was read with (source.h). */
                (void) snprintf(because, sizeof(because),
                                "had left the journal files by the time %s alert was built (a file "
                                "changed during the scan):",
                                plural(u, "its", "their"));
                log_unresolved(u, because);
        }

        if (n == 0)
                return r;
        /* Everything readable was read and judged; the unreadable part is an error. */
        if (arg_n_inputs > 0) {
                _cleanup_free_ char *path = cmd_path_text(cur);

                log_error("%s: %s; %llu line%s skipped", path ?: "?", why ?: "unreadable", n,
                          plural(n, "", "s"));
        } else
                log_error("the journal is corrupt: %llu entr%s skipped, the first at cursor '%s' "
                          "(%s)", n, plural(n, "y", "ies"), cur ?: "?", why ?: "unreadable");
        return -EBADMSG;
}

int cmd_load_policy(struct policy_file **ret) {
        struct policy_file_error e = {};
        int r;

        *ret = NULL;
        if (!arg_policy)
                return 0;
        r = policy_file_load(arg_policy, ret, &e);
        if (r < 0) {
                _cleanup_free_ char *p = cmd_path_text(arg_policy);

                if (e.line > 0)
                        log_error("%s:%u: %s", p ?: "?", e.line, e.message ?: strerror(-r));
                else
                        log_error("--policy: cannot read %s: %s", p ?: "?",
                                  e.message ?: strerror(-r));
        }
        return r;
}

void cmd_pipeline_config(struct rule_set *rules, struct baseline *baseline, alert_fn emit,
                         void *userdata, struct pipeline_config *ret) {
        size_t n = 0, ng = 0;

        for (const char *const *i = default_exes; *i; i++)
                trusted_exes[n++] = (char *) *i;
        for (const char *const *i = default_gate_exes; *i; i++)
                trusted_gate_exes[ng++] = (char *) *i;
        for (size_t i = 0; i < arg_n_exes; i++) {
                trusted_exes[n++] = arg_exes[i];
                trusted_gate_exes[ng++] = arg_exes[i];
        }
        trusted_exes[n] = trusted_gate_exes[ng] = NULL;

        *ret = (struct pipeline_config){
                .rules = rules,
                .baseline = baseline,
                .sshd_identifiers = sshd_identifiers(),
                .trust = { .exes = trusted_exes, .comms = (char **) default_comms },
                .gate_trust = { .exes = trusted_gate_exes, .comms = (char **) gate_comms },
                .session_timeout_usec = arg_session_timeout,
                .max_connections = arg_max_connections,
                .emit = emit,
                .userdata = userdata,
        };
}

int cmd_pipeline_new(struct rule_set *rules, struct baseline *baseline, alert_fn emit,
                     void *userdata, struct pipeline **ret) {
        struct pipeline_config cfg;
        int r;

        cmd_pipeline_config(rules, baseline, emit, userdata, &cfg);
        r = pipeline_new(&cfg, ret);
        if (r < 0)
                return log_error("%s", strerror(-r)), r;
        return 0;
}

/* How far ahead the duplicate table's slot is fetched: enough records to hide a miss to memory. */
#define PREFETCH_AHEAD 4

/* Why reading or processing failed: past the limit of open files, which limit and what to do;
 * a journal file's damage (or a cut under the reader, read as zeroes: sigbus.h) in one wording,
 * whichever error sd-journal or the parallel reader (--jobs) met it with. */
static const char *feed_error(int r) {
        if (arg_n_inputs > 0)
                return strerror(-r);
        if (IN_SET(r, -EMFILE, -ENFILE))
                return cmd_fd_limit_text(r);
        if (IN_SET(r, -EBADMSG, -ENODATA, -EADDRNOTAVAIL, -EPROTONOSUPPORT))
                return "a journal file is corrupt, or was cut short under the scan: reading "
                       "stopped there, the entries after it in every file are not read";
        return strerror(-r);
}

int cmd_feed_all(struct source *src, struct pipeline *p,
                 int (*hook)(void *userdata, const struct log_record *rec), void *userdata) {
        struct log_record scratch = {};
        const struct log_record *rec, *later;
        int r;

        for (;;) {
                r = source_next_borrowed(src, &scratch, &rec);
                if (r < 0) {
                        log_error("reading the %s: %s", arg_n_inputs > 0 ? "text logs" : "journal",
                                  feed_error(r));
                        break;
                }
                if (r == 0)
                        break;
                later = source_peek(src, PREFETCH_AHEAD);
                if (later)
                        pipeline_prefetch(p, later);
                r = hook ? hook(userdata, rec) : 0;
                if (r >= 0)
                        r = pipeline_feed(p, rec);
                if (r < 0) {
                        log_error("processing an entry: %s", feed_error(r));
                        break;
                }
        }
        if (r == 0) {
                /* The input ended: lines still held for their monitor are judged now. */
                r = pipeline_finish(p);
                if (r < 0)
                        log_error("processing an entry: %s", feed_error(r));
        }
        record_done(&scratch);
        return r;
}

void cmd_print_stats(const struct pipeline *p, const struct source *src) {
        const struct pipeline_stats *ps = pipeline_stats(p);
        const struct correlator_stats *cs = pipeline_correlator_stats(p);

        fprintf(stderr,
                "keytrail: stats: records=%llu matched=%llu unmatched=%llu spoofed=%llu "
                "match_errors=%llu skipped=%llu malformed=%llu oversized=%llu jobs_limited=%llu "
                "duplicates=%llu "
                "connections=%llu evicted=%llu evicted_authenticated=%llu orphan_sessions=%llu "
                "untied=%llu held=%llu held_overflow=%llu held_at_end=%llu hosts_peak=%llu "
                "alerts=%llu\n",
                (unsigned long long) ps->records, (unsigned long long) ps->matched,
                (unsigned long long) ps->unmatched, (unsigned long long) ps->spoofed,
                (unsigned long long) ps->match_errors,
                (unsigned long long) (src ? source_skipped(src) : 0),
                (unsigned long long) (src ? source_stats(src)->malformed : 0),
                (unsigned long long) (src ? source_stats(src)->oversized : 0),
                (unsigned long long) (src ? source_stats(src)->jobs_limited : 0),
                (unsigned long long) ps->duplicates, (unsigned long long) cs->connections,
                (unsigned long long) cs->evicted, (unsigned long long) cs->evicted_authenticated,
                (unsigned long long) cs->orphan_sessions, (unsigned long long) cs->untied,
                (unsigned long long) cs->held, (unsigned long long) cs->held_overflow,
                (unsigned long long) cs->held_at_end,
                (unsigned long long) cs->hosts_peak, (unsigned long long) pipeline_alerts(p));
        if (src && arg_n_inputs > 0) {
                const struct text_source_stats *ts = text_source_stats(src);

                fprintf(stderr,
                        "keytrail: text: lines=%llu entries=%llu ignored=%llu malformed=%llu "
                        "long_lines=%llu\n",
                        (unsigned long long) ts->lines, (unsigned long long) ts->entries,
                        (unsigned long long) ts->ignored, (unsigned long long) ts->malformed,
                        (unsigned long long) ts->long_lines);
        }
}

/* ---- output ---------------------------------------------------------------------------------- */

void cmd_output_init(struct cmd_output *o) {
        *o = (struct cmd_output){
                .json = arg_format == FORMAT_JSON ||
                        (arg_format == FORMAT_AUTO && !isatty(STDOUT_FILENO)),
                .provenance = arg_n_inputs > 0 ? "text" : NULL,
        };
}

int cmd_emit_alert(void *userdata, const struct alert *a) {
        struct cmd_output *o = userdata;
        _cleanup_free_ char *s = NULL;
        struct alert copy;
        int r;

        if (o->provenance && !a->provenance) {
                copy = *a;
                copy.provenance = o->provenance;
                a = &copy;
        }

        r = o->json ? alert_to_json(a, &s) : alert_to_text(a, &s);
        if (r < 0)
                return r;
        if (puts(s) == EOF)
                return -EIO;
        o->n++;
        return 0;
}
