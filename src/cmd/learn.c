/* SPDX-License-Identifier: MIT */
/*
 * keytrail learn: read sshd's entries (journal files or text logs) and write, on standard output,
 * a policy file that describes what each key did: a proposal for a person to review and pass to
 * --policy (docs/policy.md). Exit status: 0, or 2 on an error.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd-common.h"
#include "commands.h"
#include "learn.h"

static void help(void) {
        printf("Usage: keytrail learn [OPTIONS] > policy\n"
               "\n"
               "Read sshd's entries (the journal, or text logs with --input) and propose a policy\n"
               "from history: per key the accounts it logged into, the forced commands it ran and\n"
               "how often, the addresses it came from; per account the keys that logged in.\n"
               "Review it, then pass it to keytrail scan --policy FILE (docs/policy.md).\n"
               "\n");
        cmd_help_groups(OPT_SOURCE | OPT_TEXT | OPT_ANALYSIS);
        printf("Output:\n"
               "      --stats               print counters on stderr at the end: what was read\n"
               "                            and matched, what was skipped\n"
               "\nExit status: 0, or 2 on an error.\n");
}

enum { ARG_LEARN_STATS = 0x300 };

static const struct option options[] = {
        { "stats", no_argument, NULL, ARG_LEARN_STATS },
        {}
};

static int parse_extra(int c, const char *value) {
        if (c != ARG_LEARN_STATS)
                return -ENOENT;
        arg_stats = true;
        return 0;
}

static const struct cmd_spec spec = {
        .name = "learn",
        .groups = OPT_SOURCE | OPT_TEXT | OPT_ANALYSIS,
        .extra = options,
        .parse_extra = parse_extra,
        .help = help,
};

/* Learning raises no alert: the baseline is empty, and alerts go nowhere. */
static int no_alert(void *userdata, const struct alert *a) {
        return 0;
}

static int learn(void) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_(baseline_freep) struct baseline *baseline = baseline_new();
        _cleanup_(source_freep) struct source *src = NULL;
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        _cleanup_(learn_freep) struct learn *l = learn_new();
        _cleanup_free_ char *header = NULL;
        struct pipeline_config cfg;
        int r;

        if (!baseline || !l)
                return log_error("out of memory"), -ENOMEM;
        r = cmd_load_rules(&rules);
        if (r < 0)
                return r;
        r = cmd_open_source(&src);
        if (r < 0)
                return r;
        cmd_pipeline_config(rules, baseline, no_alert, l, &cfg);
        cfg.source = src;
        cfg.observe = learn_decide;
        r = pipeline_new(&cfg, &p);
        if (r < 0)
                return log_error("%s", strerror(-r)), r;

        r = cmd_feed_all(src, p, NULL, NULL);
        if (r < 0)
                return r;
        /* What was read goes into the file: its reader must know what history it describes. */
        if (asprintf(&header, "Read: %s%s%s.",
                     arg_n_inputs > 0 ? "text logs " : arg_n_files > 0 ? "journal files "
                                                      : arg_directory ? "the journal directory "
                                                                      : "the system journal",
                     arg_n_inputs > 0 ? arg_inputs[0] : arg_n_files > 0 ? arg_files[0]
                                                        : arg_directory ?: "",
                     arg_n_inputs + arg_n_files > 1 ? " and others" : "") < 0)
                return log_error("out of memory"), -ENOMEM;
        r = learn_write(l, header, stdout);
        if (r < 0)
                return log_error("writing the policy: %s", strerror(-r)), r;
        if (arg_stats)
                cmd_print_stats(p, src);
        /* The policy covers what could be read; the unreadable part is an error. */
        return cmd_check_skipped(src);
}

int verb_learn(int argc, char *argv[]) {
        int r, ind;

        r = cmd_parse_argv(&spec, argc, argv, &ind);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = learn();
        return r < 0 ? 2 : 0;
}
