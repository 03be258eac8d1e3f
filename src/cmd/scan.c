/* SPDX-License-Identifier: MIT */
/*
 * keytrail scan: read sshd's entries once, from the journal files the options name, and print the
 * alerts. Exit status: 0 no alert, 1 alerts, 2 an error (like grep).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd-common.h"
#include "commands.h"

static void help(void) {
        printf("Usage: keytrail scan [OPTIONS]\n"
               "\n"
               "Read sshd's journal entries once, join every public-key login to the sessions it\n"
               "started and alert when a key does what its authorized_keys line never meant it to.\n"
               "\n");
        cmd_help_groups(OPT_SOURCE | OPT_BASELINE | OPT_ANALYSIS | OPT_OUTPUT);
        printf("\nExit status: 0 no alert, 1 alerts raised, 2 an error.\n");
}

static const struct cmd_spec spec = {
        .name = "scan",
        .groups = OPT_SOURCE | OPT_BASELINE | OPT_ANALYSIS | OPT_OUTPUT,
        .help = help,
};

static int scan(void) {
        _cleanup_(rule_set_freep) struct rule_set *rules = NULL;
        _cleanup_(baseline_freep) struct baseline *baseline = NULL;
        _cleanup_(source_freep) struct source *src = NULL;
        _cleanup_(pipeline_freep) struct pipeline *p = NULL;
        struct log_record rec = {};
        struct cmd_output out;
        int r;

        r = cmd_load_rules(&rules);
        if (r < 0)
                return r;
        r = cmd_load_baseline(&baseline);
        if (r < 0)
                return r;
        r = cmd_open_journal(&src);
        if (r < 0)
                return r;
        cmd_output_init(&out);
        r = cmd_pipeline_new(rules, baseline, cmd_emit_alert, &out, &p);
        if (r < 0)
                return r;

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
        if (arg_stats)
                cmd_print_stats(p, src);
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

int verb_scan(int argc, char *argv[]) {
        int r, ind;

        r = cmd_parse_argv(&spec, argc, argv, &ind);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = scan();
        return r < 0 ? 2 : r;
}
