/* SPDX-License-Identifier: MIT */
/*
 * keytrail scan: read sshd's entries once, from the journal files (or text logs) the options
 * name, and print the alerts. Exit status: 0 no alert, 1 alerts, 2 an error (like grep).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd-common.h"
#include "commands.h"
#include "policy-file.h"
#include "text-log.h"

static void help(void) {
        printf("Usage: keytrail scan [OPTIONS]\n"
               "\n"
               "Read sshd's journal entries once, join every public-key login to the sessions it\n"
               "started and alert when a key does what its authorized_keys line never meant it to.\n"
               "\n");
        cmd_help_groups(OPT_SOURCE | OPT_TEXT | OPT_JOBS | OPT_BASELINE | OPT_POLICY |
                        OPT_ANALYSIS | OPT_OUTPUT);
        printf("\nExit status: 0 no alert, 1 alerts raised, 2 an error.\n");
}

static const struct cmd_spec spec = {
        .name = "scan",
        .groups = OPT_SOURCE | OPT_TEXT | OPT_JOBS | OPT_BASELINE | OPT_POLICY | OPT_ANALYSIS |
                  OPT_OUTPUT,
        .help = help,
};

static int scan(void) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_(baseline_freep) struct baseline *baseline = NULL;
        _cleanup_(policy_file_freep) struct policy_file *policy = NULL;
        _cleanup_(source_freep) struct source *src = NULL;
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        struct pipeline_config cfg;
        struct cmd_output out;
        int r;

        r = cmd_load_rules(&rules);
        if (r < 0)
                return r;
        r = cmd_load_baseline(&baseline);
        if (r < 0)
                return r;
        r = cmd_load_policy(&policy);
        if (r < 0)
                return r;
        r = cmd_open_source(&src);
        if (r < 0)
                return r;
        cmd_output_init(&out);
        cmd_pipeline_config(rules, baseline, cmd_emit_alert, &out, &cfg);
        cfg.source = src;
        cfg.policy_file = policy;
        r = pipeline_new(&cfg, &p);
        if (r < 0)
                return log_error("%s", strerror(-r)), r;

        if (arg_n_inputs > 0 && arg_jobs > 1)
                (void) text_source_start_thread(src, rules); /* else: all in this thread */
        r = cmd_feed_all(src, p, NULL, NULL);
        if (fflush(stdout) != 0 && r >= 0) {
                log_error("writing alerts: %m");
                r = -EIO;
        }
        if (arg_stats)
                cmd_print_stats(p, src);
        if (r >= 0)
                r = cmd_check_skipped(src);
        if (r < 0)
                return r;
        return out.n > 0 ? 1 : 0;
}

int verb_scan(int argc, char *argv[]) {
        int r, ind;

        r = cmd_parse_argv(&spec, argc, argv, &ind);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = scan();
        return r < 0 ? 2 : r;
}
