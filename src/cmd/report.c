/* SPDX-License-Identifier: MIT */
/*
 * keytrail report: read sshd's entries once, like scan, and write one report of what every key
 * did, host by host, with every alert and a timeline (text, JSON or a self-contained HTML page).
 * Progress goes to stderr while it reads, when stderr is a terminal. Exit status: 0 no alert, 1
 * alerts in the report, 2 an error.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd-common.h"
#include "commands.h"
#include "policy-file.h"
#include "report.h"
#include "timeutil.h"

static enum report_format arg_report_format = _REPORT_FORMAT_INVALID;

static void help(void) {
        printf("Usage: keytrail report [OPTIONS]\n"
               "\n"
               "Read sshd's entries once and report what every key did, host by host:\n"
               "accounts, sessions, sources, commands and alerts per key, then every alert,\n"
               "then a timeline.\n"
               "\n");
        cmd_help_groups(OPT_SOURCE | OPT_TEXT | OPT_JOBS | OPT_BASELINE | OPT_POLICY |
                        OPT_ANALYSIS);
        printf("Output:\n"
               "  -o, --format text|json|html\n"
               "                            a report for the terminal (default on a terminal),\n"
               "                            one JSON document (default otherwise), or one\n"
               "                            self-contained HTML page with an SVG timeline\n"
               "      --stats               print counters on stderr at the end\n"
               "\nExit status: 0 no alert, 1 alerts in the report, 2 an error.\n");
}

enum { ARG_REPORT_STATS = 0x300 };

static const struct option options[] = {
        { "format", required_argument, NULL, 'o' },
        { "stats", no_argument, NULL, ARG_REPORT_STATS },
        {}
};

static int parse_extra(int c, const char *value) {
        switch (c) {
        case 'o':
                arg_report_format = report_format_from_string(value);
                if (arg_report_format < 0) {
                        log_error("--format: '%s' is not text, json or html", value);
                        return -EINVAL;
                }
                return 0;
        case ARG_REPORT_STATS:
                arg_stats = true;
                return 0;
        default:
                return -ENOENT;
        }
}

static const struct cmd_spec spec = {
        .name = "report",
        .groups = OPT_SOURCE | OPT_TEXT | OPT_JOBS | OPT_BASELINE | OPT_POLICY | OPT_ANALYSIS,
        .extra = options,
        .extra_short = "o:",
        .parse_extra = parse_extra,
        .help = help,
};

static uint64_t now_mono_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Progress on stderr, only when it is a terminal: entries read, log time covered, rate. */
struct progress {
        bool on, shown;
        uint64_t start, last;
};

#define PROGRESS_INTERVAL_USEC (250 * USEC_PER_MSEC)

static void progress_show(struct progress *pr, const struct report *rep, bool force) {
        char a[TIMEUTIL_RFC3339_MAX], b[TIMEUTIL_RFC3339_MAX];
        uint64_t now, first, last, n = report_entries(rep);
        double secs;

        if (!pr->on || (!force && (n & 1023) != 0))
                return;
        now = now_mono_usec();
        if (!force && now - pr->last < PROGRESS_INTERVAL_USEC)
                return;
        pr->last = now;
        secs = (double) (now - pr->start) / 1e6;
        report_time_covered(rep, &first, &last);
        /* The log times cut to the second: "2026-11-27T02:52:52". */
        timeutil_format_rfc3339(first, a);
        timeutil_format_rfc3339(last, b);
        fprintf(stderr, "\rkeytrail: %llu entries, %.19s to %.19s, %.0f entries/s\033[K",
                (unsigned long long) n, first ? a : "-", last ? b : "-",
                secs > 0 ? (double) n / secs : 0.0);
        pr->shown = true;
}

static void progress_end(struct progress *pr) {
        if (pr->shown)
                fputs("\r\033[K", stderr);
}

/* The report's alert_fn: alerts of text logs say so (provenance "text"), as scan's do. */
static int report_alert_of_source(void *userdata, const struct alert *a) {
        struct alert copy;

        if (arg_n_inputs > 0 && !a->provenance) {
                copy = *a;
                copy.provenance = "text";
                a = &copy;
        }
        return report_alert(userdata, a);
}

/* Every record goes to the report (its tables, the time covered) before the pipeline. */
struct report_feed {
        struct report *rep;
        struct progress pr;
};

static int report_hook(void *userdata, const struct log_record *rec) {
        struct report_feed *rf = userdata;
        int r;

        r = report_record(rf->rep, rec);
        if (r < 0)
                return r;
        progress_show(&rf->pr, rf->rep, false);
        return 0;
}

static int report(void) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_(baseline_freep) struct baseline *baseline = NULL;
        _cleanup_(policy_file_freep) struct policy_file *policy = NULL;
        _cleanup_(source_freep) struct source *src = NULL;
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        _cleanup_(report_freep) struct report *rep = NULL;
        struct pipeline_config cfg;
        struct report_feed rf = { .pr = { .on = isatty(STDERR_FILENO) } };
        char *sources[ARGS_MAX + 2] = {};
        enum report_format fmt = arg_report_format;
        int r;

        if (fmt < 0)
                fmt = isatty(STDOUT_FILENO) ? REPORT_FORMAT_TEXT : REPORT_FORMAT_JSON;
        if (arg_directory)
                sources[0] = (char *) arg_directory;
        else if (arg_n_inputs > 0)
                for (size_t i = 0; i < arg_n_inputs; i++)
                        sources[i] = arg_inputs[i];
        else
                for (size_t i = 0; i < arg_n_files; i++)
                        sources[i] = arg_files[i];

        r = cmd_load_rules(&rules);
        if (r < 0)
                return r;
        r = cmd_load_baseline(&baseline);
        if (r < 0)
                return r;
        r = cmd_load_policy(&policy);
        if (r < 0)
                return r;
        r = report_new(&(struct report_config){ .baseline = baseline,
                                                .sources = sources,
                                                .since_usec = arg_since,
                                                .until_usec = arg_until },
                       &rep);
        if (r < 0)
                return log_error("%s", strerror(-r)), r;
        r = cmd_open_source(&src);
        if (r < 0)
                return r;
        cmd_pipeline_config(rules, baseline, report_alert_of_source, rep, &cfg);
        cfg.source = src;
        cfg.policy_file = policy;
        cfg.observe = report_decide;
        r = pipeline_new(&cfg, &p);
        if (r < 0)
                return log_error("%s", strerror(-r)), r;

        rf.rep = rep;
        rf.pr.start = rf.pr.last = now_mono_usec();
        r = cmd_feed_all(src, p, report_hook, &rf);
        progress_show(&rf.pr, rep, true);
        progress_end(&rf.pr);
        if (arg_stats)
                cmd_print_stats(p, src);
        /* Report what could be read, then fail: the unreadable part is an error. */
        if (r >= 0)
                r = cmd_check_skipped(src);
        {
                int k = report_write(rep, fmt, stdout);

                if (k < 0) {
                        log_error("writing the report: %s", strerror(-k));
                        return k;
                }
        }
        if (r < 0)
                return r;
        return report_alerts(rep) > 0 ? 1 : 0;
}

int verb_report(int argc, char *argv[]) {
        int r, ind;

        r = cmd_parse_argv(&spec, argc, argv, &ind);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = report();
        return r < 0 ? 2 : r;
}
