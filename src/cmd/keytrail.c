/* SPDX-License-Identifier: MIT */
/*
 * keytrail: dispatch to the subcommands (src/cmd/<verb>.c). The only place, with the other files
 * of src/cmd/ and keytrail-gate, that prints: library modules return errors, src/cmd turns them
 * into one-line messages and exit statuses (0 no alert, 1 alerts, 2 error, like grep).
 */

#include <stdio.h>
#include <sys/resource.h>

#include "cmd-common.h"
#include "commands.h"
#include "config.h"

struct verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
};

static const struct verb verbs[] = {
        { "scan", verb_scan, "read sshd's journal entries once and print the alerts" },
        { "baseline", verb_baseline, "write every account's authorized_keys to a baseline file" },
        { "doctor", verb_doctor, "check what keytrail depends on, and say how to fix it" },
        { "report", verb_report, "what every key did, host by host: text, JSON or HTML" },
        { "learn", verb_learn, "propose a policy from history: per key its commands and sources" },
        { "follow", verb_follow, "tail the journal live: the service, exactly once across restarts" },
};

static void help(void) {
        printf("Usage: keytrail COMMAND [OPTIONS]\n"
               "       keytrail --help | --version\n"
               "\n"
               "Watch how SSH keys are used: join every public-key login in sshd's journal entries\n"
               "to the sessions it started and alert when a key does what its authorized_keys\n"
               "line never meant it to.\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\n'keytrail COMMAND --help' shows a command's options.\n");
}

/*
 * sd-journal keeps every journal file it reads open, and keytrail a lookup handle per file besides:
 * a folder of more files than the soft limit of open files (1,024 for most shells and services)
 * would be read only in part. Raise the soft limit to the hard one, as journalctl does; nothing
 * here uses select(). Past the hard limit the journal source refuses the folder and says why
 * (journal.c's fd_room(), cmd_fd_limit_text()).
 */
static void nofile_raise(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char *argv[]) {
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
        nofile_raise();
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].run(argc - 1, argv + 1);
        log_error("unknown command '%s' (see keytrail --help)", argv[1]);
        return 2;
}
