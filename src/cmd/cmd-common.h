/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What keytrail's subcommands share: logging to stderr (only src/cmd/ prints), the option groups
 * every command that reads sshd's entries takes (source, baseline, analysis, output), and the
 * loading of rules, baseline, journal and pipeline from those options. Private to src/cmd/.
 *
 * Option values live in arg_* globals (house style: command-line globals in cmd/ only). Strings
 * in them are borrowed from argv and live as long as the process.
 */

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "baseline.h"
#include "macro.h"
#include "pipeline.h"
#include "rules.h"
#include "source.h"

#define ARGS_MAX 256
#define IDENTIFIER_MAX 237 /* "SYSLOG_IDENTIFIER=" + NAME fits the source's 256-byte match */

enum output_format { FORMAT_AUTO, FORMAT_JSON, FORMAT_TEXT, FORMAT_HTML };

/* Option groups a command accepts (bit mask). */
enum {
        OPT_SOURCE = 1 << 0,   /* --directory --file --since --until --identifier --trusted-exe */
        OPT_BASELINE = 1 << 1, /* --authorized-keys --baseline */
        OPT_ANALYSIS = 1 << 2, /* --rules --session-timeout --max-connections */
        OPT_OUTPUT = 1 << 3,   /* --format --stats */
        OPT_TEXT = 1 << 4,     /* --input: the command reads text logs (cmd_open_source()) */
        OPT_POLICY = 1 << 5,   /* --policy: the command loads it (cmd_load_policy()) and sets
                                  pipeline_config.policy_file */
        OPT_JOBS = 1 << 6,     /* --jobs: journal files read by that many threads (default: the
                                  online CPUs); without it, one thread */
};

#define JOBS_MAX 256

extern const char *arg_directory;
extern char *arg_files[ARGS_MAX + 1];
extern size_t arg_n_files;
extern char *arg_inputs[ARGS_MAX + 1];
extern size_t arg_n_inputs;
extern const char *arg_policy;
extern char *arg_identifiers[ARGS_MAX + 1];
extern size_t arg_n_identifiers;
extern char *arg_exes[ARGS_MAX + 1];
extern size_t arg_n_exes;
extern char *arg_authkeys[ARGS_MAX + 1];
extern size_t arg_n_authkeys;
extern const char *arg_baseline;
extern const char *arg_rules;
extern uint64_t arg_since, arg_until;
extern bool arg_since_set, arg_until_set; /* given: 0 (@0) is a time too */
extern uint64_t arg_session_timeout;
extern unsigned arg_max_connections;
extern enum output_format arg_format;
extern bool arg_stats;
extern unsigned arg_jobs; /* 0: read the journal in this thread */

void log_error(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2);

/*
 * A subcommand's command line. extra: its own long options ({} terminated; may be NULL), with
 * their short letters in extra_short (getopt syntax, may be NULL); parse_extra handles them and
 * returns 0, or -errno after logging, or -ENOENT for an option that is not its own. It is asked
 * first, so it may take an option of the groups its own way. help prints the command's help.
 */
struct cmd_spec {
        const char *name;
        unsigned groups;
        const struct option *extra;
        const char *extra_short;
        int (*parse_extra)(int c, const char *value);
        void (*help)(void);
        unsigned max_positional; /* positional arguments accepted after the options */
};

/*
 * Parse argv (argv[0] is the verb) for spec. Returns 1 to go on (*ret_optind: the first
 * positional argument), 0 when --help or --version was handled, -errno after logging an error.
 */
int cmd_parse_argv(const struct cmd_spec *spec, int argc, char *argv[], int *ret_optind);

/* Help text of the option groups in mask, for a command's help(). */
void cmd_help_groups(unsigned groups);

/* The rule set of --rules (default: the installed rules, or the source tree's). Logs errors. */
int cmd_load_rules(struct rule_set **ret);

/* The baseline of --authorized-keys, or of every account's readable files. Logs errors. */
int cmd_load_baseline(struct baseline **ret);

/* Open the journal source of the source options: sshd's identifiers, keytrail-gate's and the
 * wrappers'. Logs errors. */
int cmd_open_journal(struct source **ret);

/* Say on stderr, once each, which files the source could not read: one line for those denied by
 * permission (naming the groups that may read them), one per corrupt file (cmd-source.c).
 * Returns -EBADMSG when a file is corrupt or not a journal (the read is incomplete), else 0. Call
 * after opening and again at the end of the read (cmd_check_skipped() does). */
int cmd_source_problems(const struct source *src);

/* One phrase for all the source's problems, or "none found" (for an error line). */
void cmd_source_summary(const struct source *src, char *buf, size_t size);

/* A file name for a stderr line: any bytes (a journal folder's names are chosen by whoever writes
 * there: journal-remote names files after the sending host), so bare only when escape_is_token(),
 * else escape_quote()'s "..." literal: a newline or an escape sequence in it can neither start a
 * line of its own nor reach the terminal. Returns a malloc'ed string, or NULL (path NULL, or out
 * of memory: callers print "?"). */
char *cmd_path_text(const char *path);

/* cmd_path_text(path) made once into *cache (owned by the caller, kept for its lines), or "?". */
const char *cmd_path_cached(char **cache, const char *path);

/* Open the source of the source options: the text logs of --input, else the journal
 * (cmd_open_journal). Logs errors. */
int cmd_open_source(struct source **ret);

/* After the read loop: when the source skipped entries (a corrupt journal, lines of a text log
 * that are not log lines), log it and return -EBADMSG; else 0. */
int cmd_check_skipped(const struct source *src);

/* The policy file of --policy, or *ret = NULL without one. Logs errors (FILE:LINE). */
struct policy_file;
int cmd_load_policy(struct policy_file **ret);

/* A pipeline with the trust lists of the options (default binaries plus --trusted-exe). The rule
 * set and baseline are borrowed and must outlive it. Logs errors. */
int cmd_pipeline_new(struct rule_set *rules, struct baseline *baseline, alert_fn emit,
                     void *userdata, struct pipeline **ret);

/* The configuration cmd_pipeline_new() uses, for a command that sets more of it (report's
 * observer). The trust lists in it are static and live as long as the process. */
void cmd_pipeline_config(struct rule_set *rules, struct baseline *baseline, alert_fn emit,
                         void *userdata, struct pipeline_config *ret);

/* Every record of src through p, to the end; each record first to hook when not NULL (with
 * userdata; a negative return stops the read as a stage's failure would). At the end,
 * pipeline_finish(). Returns 0, or -errno after logging (reading, or a stage or the sink
 * failing). */
int cmd_feed_all(struct source *src, struct pipeline *p,
                 int (*hook)(void *userdata, const struct log_record *rec), void *userdata);

/* Why a journal file could not be opened for the limit of open files (error -EMFILE or -ENFILE):
 * the limit and how to raise it. Static storage, valid until the next call. */
const char *cmd_fd_limit_text(int error);

/* The --stats line on stderr, and with --input a second one, the text reader's counters. src may
 * be NULL. */
void cmd_print_stats(const struct pipeline *p, const struct source *src);

/* Alert output to stdout, NDJSON or text (--format; auto: text on a terminal). */
struct cmd_output {
        bool json;
        const char *provenance; /* set on every alert: "text" with --input, else NULL */
        uint64_t n;
};

void cmd_output_init(struct cmd_output *o);

/* An alert_fn writing to stdout (userdata: struct cmd_output). */
int cmd_emit_alert(void *userdata, const struct alert *a);
