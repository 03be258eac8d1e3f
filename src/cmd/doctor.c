/* SPDX-License-Identifier: MIT */
/*
 * keytrail doctor: check what keytrail depends on and say plainly what is wrong and how to fix it,
 * one line per check (or one JSON object per check with --format json). Exit status: 0 every
 * check passed (warnings allowed), 1 a check failed, 2 an error.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baseline-file.h"
#include "baseline-live.h"
#include "cmd-common.h"
#include "commands.h"
#include "config.h"
#include "escape.h"
#include "rules.h"
#include "sshd-config.h"

#define DEFAULT_BASELINE "/var/lib/keytrail/baseline"
#define DEFAULT_UNIT "keytrail.service"
#define SYSTEMCTL "/usr/bin/systemctl"

enum status { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_SKIP, _CHECK_STATUS_MAX };

static const char *const status_name[_CHECK_STATUS_MAX] = {
        [CHECK_OK] = "ok",
        [CHECK_WARN] = "warn",
        [CHECK_FAIL] = "fail",
        [CHECK_SKIP] = "skip",
};

static const char *arg_baseline_path = DEFAULT_BASELINE;
static const char *arg_rules_dir;
static const char *arg_sshd_path = SSHD_DEFAULT_PATH;
static const char *arg_unit = DEFAULT_UNIT;
static const char *arg_journal_dirs[2] = { "/var/log/journal", "/run/log/journal" };
static const char *arg_journald_conf = "/etc/systemd/journald.conf";
static bool arg_json;

/* The operator's paths and names as the report writes them (cmd_path_text(): any bytes, escaped, so
 * that none can forge a report line or reach the terminal), made when first needed; freed by
 * doctor(). */
static char *baseline_text, *sshd_text, *journal_dir_text, *unit_text;

static const char *baseline_shown(void) {
        return cmd_path_cached(&baseline_text, arg_baseline_path);
}

static const char *sshd_shown(void) {
        return cmd_path_cached(&sshd_text, arg_sshd_path);
}

static const char *journal_dir_shown(void) {
        return cmd_path_cached(&journal_dir_text, arg_journal_dirs[0]);
}

static const char *unit_shown(void) {
        return cmd_path_cached(&unit_text, arg_unit);
}

enum {
        ARG_FORMAT = 0x300,
        ARG_BASELINE_FILE,
        ARG_RULES_DIR,
        ARG_SSHD,
        ARG_UNIT,
        ARG_JOURNAL_DIR,
        ARG_JOURNALD_CONF,
};

static const struct option options[] = {
        { "format", required_argument, NULL, ARG_FORMAT },
        { "baseline", required_argument, NULL, ARG_BASELINE_FILE },
        { "rules", required_argument, NULL, ARG_RULES_DIR },
        { "sshd", required_argument, NULL, ARG_SSHD },
        { "unit", required_argument, NULL, ARG_UNIT },
        { "journal-dir", required_argument, NULL, ARG_JOURNAL_DIR },
        { "journald-conf", required_argument, NULL, ARG_JOURNALD_CONF },
        {}
};

static void help(void) {
        printf("Usage: keytrail doctor [OPTIONS]\n"
               "\n"
               "Check what keytrail depends on and say what is wrong and how to fix it, one line\n"
               "per check: sshd's LogLevel, persistent journal storage, read access to the system\n"
               "and user journals, the baseline file (missing, unreadable, stale against the live\n"
               "authorized_keys), the rules, forced commands that could use keytrail-gate,\n"
               "ExposeAuthInfo where the gate is used, and keytrail's own unit.\n"
               "\n"
               "  -o, --format text|json    one line per check, or one JSON object per check\n"
               "                            (default text)\n"
               "      --baseline FILE       the baseline file the service reads (default\n"
               "                            %s)\n"
               "      --rules DIR           rule files (default %s)\n"
               "      --sshd PATH           the sshd binary whose configuration counts (default\n"
               "                            %s)\n"
               "      --unit NAME           keytrail's systemd unit (default %s)\n"
               "      --journal-dir DIR     the persistent journal folder (default /var/log/journal)\n"
               "      --journald-conf FILE  journald's configuration (default\n"
               "                            /etc/systemd/journald.conf, and its .d folders)\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n"
               "\n"
               "Exit status: 0 every check passed (warnings allowed), 1 a check failed, 2 an error.\n",
               DEFAULT_BASELINE, RULESDIR, SSHD_DEFAULT_PATH, DEFAULT_UNIT);
}

static int parse_extra(int c, const char *value) {
        switch (c) {
        case ARG_FORMAT:
        case 'o':
                if (streq(value, "json"))
                        arg_json = true;
                else if (streq(value, "text"))
                        arg_json = false;
                else {
                        log_error("--format: '%s' is not text or json", value);
                        return -EINVAL;
                }
                return 0;
        case ARG_BASELINE_FILE:
                arg_baseline_path = value;
                return 0;
        case ARG_RULES_DIR:
                arg_rules_dir = value;
                return 0;
        case ARG_SSHD:
        case ARG_JOURNAL_DIR:
        case ARG_JOURNALD_CONF:
                if (value[0] != '/') {
                        log_error("%s: '%s' is not an absolute path",
                                  c == ARG_SSHD          ? "--sshd"
                                  : c == ARG_JOURNAL_DIR ? "--journal-dir"
                                                         : "--journald-conf",
                                  value);
                        return -EINVAL;
                }
                if (c == ARG_SSHD)
                        arg_sshd_path = value;
                else if (c == ARG_JOURNAL_DIR)
                        arg_journal_dirs[0] = value;
                else
                        arg_journald_conf = value;
                return 0;
        case ARG_UNIT:
                arg_unit = value;
                return 0;
        default:
                return -ENOENT;
        }
}

static const struct cmd_spec spec = {
        .name = "doctor",
        .groups = 0,
        .extra = options,
        .extra_short = "o:",
        .parse_extra = parse_extra,
        .help = help,
};

/* ---- reporting ------------------------------------------------------------------------------- */

struct report {
        unsigned n[_CHECK_STATUS_MAX];
        int error; /* < 0: an output error */
};

static void report(struct report *rep, const char *check, enum status st, const char *fix,
                   const char *fmt, ...) _printf_(5, 6);
static void report(struct report *rep, const char *check, enum status st, const char *fix,
                   const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                rep->error = -ENOMEM;
                return;
        }
        rep->n[st]++;
        if (arg_json) {
                json_t *o = json_pack("{s:s, s:s, s:s, s:s?}", "check", check, "status",
                                      status_name[st], "message", msg, "fix", fix);
                char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII)
                            : NULL;

                json_decref(o);
                if (!s) {
                        rep->error = -ENOMEM;
                        return;
                }
                puts(s);
                free(s);
                return;
        }
        printf("%-4s %s: %s%s%s\n", status_name[st], check, msg, fix ? "; fix: " : "", fix ?: "");
}

/* ---- checks ---------------------------------------------------------------------------------- */

struct context {
        struct sshd_config sshd; /* from sshd -T; n == 0 when it failed */
        char *sshd_error;        /* why sshd -T failed */
        struct baseline_file *recorded; /* the baseline file, when it could be read */
        struct baseline_file *live;     /* the live files, when root */
};

static void check_loglevel(struct report *rep, const struct context *c) {
        static const char *const enough[] = { "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3" };
        const char *level;

        if (c->sshd.n == 0) {
                report(rep, "sshd-loglevel", CHECK_WARN,
                       "run keytrail doctor as root where sshd runs (sshd -T needs root, the host "
                       "keys and /run/sshd)",
                       "cannot read sshd's effective LogLevel: %s -T failed (%s)", sshd_shown(),
                       c->sshd_error ?: "?");
                return;
        }
        level = sshd_config_get(&c->sshd, "loglevel");
        for (size_t i = 0; level && i < ELEMENTSOF(enough); i++)
                if (strcasecmp(level, enough[i]) == 0) {
                        report(rep, "sshd-loglevel", CHECK_OK, NULL, "sshd logs at LogLevel %s",
                               level);
                        return;
                }
        report(rep, "sshd-loglevel", CHECK_FAIL,
               "echo 'LogLevel VERBOSE' > /etc/ssh/sshd_config.d/keytrail.conf && sshd -t && "
               "systemctl reload ssh",
               "sshd logs at LogLevel %s, below VERBOSE: the lines that tie a key to its sessions "
               "and forced command are not logged",
               level ?: "(unknown)");
}

/* Storage= of journald.conf and its drop-ins (later ones win), as journald reads them. */
static char *journald_storage(void) {
        _cleanup_free_ char *conf_d = NULL;
        const char *dirs[4] = { "/usr/lib/systemd/journald.conf.d", "/run/systemd/journald.conf.d",
                                NULL, NULL };
        char *files[256];
        size_t n = 0;
        char *value = NULL;

        if (asprintf(&conf_d, "%s.d", arg_journald_conf) < 0)
                return NULL;
        dirs[2] = conf_d;
        files[n++] = strdup(arg_journald_conf);
        for (size_t d = 0; dirs[d]; d++) {
                struct dirent **list = NULL;
                int k = scandir(dirs[d], &list, NULL, alphasort);

                for (int i = 0; i < k; i++) {
                        size_t l = strlen(list[i]->d_name);

                        if (l > 5 && streq(list[i]->d_name + l - 5, ".conf") &&
                            n < ELEMENTSOF(files) &&
                            asprintf(&files[n], "%s/%s", dirs[d], list[i]->d_name) >= 0)
                                n++;
                        free(list[i]);
                }
                free(list);
        }
        for (size_t i = 0; i < n; i++) {
                FILE *f = files[i] ? fopen(files[i], "re") : NULL;
                char line[1024];
                bool in_journal = false;

                while (f && fgets(line, sizeof(line), f)) {
                        char *p = line + strspn(line, " \t");

                        p[strcspn(p, "\r\n")] = '\0';
                        if (p[0] == '[')
                                in_journal = streq(p, "[Journal]");
                        else if (in_journal && strncmp(p, "Storage=", 8) == 0) {
                                free(value);
                                value = strdup(p + 8);
                        }
                }
                if (f)
                        fclose(f);
                free(files[i]);
        }
        return value;
}

static bool is_dir(const char *p) {
        struct stat st;

        return stat(p, &st) >= 0 && S_ISDIR(st.st_mode);
}

static void check_storage(struct report *rep) {
        _cleanup_free_ char *storage = journald_storage();
        const char *s = storage && storage[0] ? storage : "auto";
        const char *fix = "mkdir -p /var/log/journal && systemd-tmpfiles --create --prefix "
                          "/var/log/journal && journalctl --flush (or Storage=persistent in "
                          "/etc/systemd/journald.conf.d/keytrail.conf)";

        if (streq(s, "persistent"))
                report(rep, "journal-storage", CHECK_OK, NULL, "journald keeps the journal in %s "
                       "(Storage=persistent)", journal_dir_shown());
        else if (streq(s, "auto") && is_dir(arg_journal_dirs[0]))
                report(rep, "journal-storage", CHECK_OK, NULL,
                       "journald keeps the journal in %s (Storage=auto, and the folder exists)",
                       journal_dir_shown());
        else if (streq(s, "auto"))
                report(rep, "journal-storage", CHECK_FAIL, fix,
                       "the journal is volatile (Storage=auto and no %s): sshd's history is lost "
                       "at every reboot",
                       journal_dir_shown());
        else
                report(rep, "journal-storage", CHECK_FAIL, fix,
                       "the journal is %s (Storage=%s): sshd's history is lost at every reboot",
                       streq(s, "none") ? "not kept at all" : "volatile", s);
}

static void check_journal_access(struct report *rep) {
        _cleanup_free_ char *unreadable = NULL;
        unsigned total = 0, bad = 0, bad_system = 0, bad_user = 0;
        size_t ulen = 0;
        FILE *f = fopen("/etc/machine-id", "re");
        char buf[64] = "";

        if (f) {
                if (fgets(buf, sizeof(buf), f))
                        buf[strcspn(buf, "\n")] = '\0';
                fclose(f);
        }
        for (size_t d = 0; d < ELEMENTSOF(arg_journal_dirs); d++) {
                _cleanup_free_ char *dir = NULL;
                struct dirent **list = NULL;
                int k;

                if (asprintf(&dir, "%s/%s", arg_journal_dirs[d], buf) < 0)
                        break;
                k = scandir(dir, &list, NULL, alphasort);
                for (int i = 0; i < k; i++) {
                        const char *name = list[i]->d_name;
                        size_t l = strlen(name);
                        bool sys = strncmp(name, "system", 6) == 0,
                             user = strncmp(name, "user-", 5) == 0;
                        _cleanup_free_ char *path = NULL;
                        int fd;

                        if ((sys || user) && l > 8 && streq(name + l - 8, ".journal") &&
                            asprintf(&path, "%s/%s", dir, name) >= 0) {
                                total++;
                                fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                                if (fd >= 0)
                                        close(fd);
                                else {
                                        bad++;
                                        if (sys)
                                                bad_system++;
                                        else
                                                bad_user++;
                                        if (ulen < 200) {
                                                /* a name is anyone's who writes there */
                                                _cleanup_free_ char *t = cmd_path_text(name);
                                                size_t tl = t ? strlen(t) : 0;
                                                char *n2 = t ? realloc(unreadable, ulen + tl + 3)
                                                             : NULL;

                                                if (n2) {
                                                        unreadable = n2;
                                                        ulen += (size_t) snprintf(
                                                                unreadable + ulen, tl + 3, "%s%s",
                                                                ulen ? ", " : "", t);
                                                }
                                        }
                                }
                        }
                        free(list[i]);
                }
                free(list);
        }
        if (total == 0) {
                _cleanup_free_ char *d0 = NULL, *d1 = NULL, *t0 = NULL, *t1 = NULL;

                if (asprintf(&d0, "%s/%s", arg_journal_dirs[0], buf) >= 0)
                        t0 = cmd_path_text(d0);
                if (asprintf(&d1, "%s/%s", arg_journal_dirs[1], buf) >= 0)
                        t1 = cmd_path_text(d1);
                report(rep, "journal-access", CHECK_FAIL,
                       "check that systemd-journald runs, and --journal-dir",
                       "no journal file found in %s or %s", t0 ?: "?", t1 ?: "?");
        } else if (bad == 0)
                report(rep, "journal-access", CHECK_OK, NULL,
                       "UID %u reads all %u system and user journal files", (unsigned) getuid(),
                       total);
        else
                report(rep, "journal-access", CHECK_FAIL,
                       "run keytrail as root, or add its account to the systemd-journal group "
                       "(usermod -a -G systemd-journal USER; in a unit: "
                       "SupplementaryGroups=systemd-journal)",
                       "UID %u cannot read %u of %u journal files (%u system, %u user: %s%s): "
                       "sshd's lines in them are never seen",
                       (unsigned) getuid(), bad, total, bad_system, bad_user, unreadable ?: "",
                       ulen >= 200 ? ", ..." : "");
}

struct diff_summary {
        unsigned n[_BASELINE_CHANGE_MAX];
        char first[512];
};

static int note_change(void *userdata, enum baseline_change change, const struct baseline_key *o,
                       const struct baseline_key *n) {
        struct diff_summary *d = userdata;
        const struct baseline_key *k = n ?: o;

        if (d->n[0] + d->n[1] + d->n[2] + d->n[3] == 0) {
                _cleanup_free_ char *user = cmd_path_text(k->user),
                                    *file = cmd_path_text(k->key->file);

                (void) snprintf(d->first, sizeof(d->first), "%s: %s %s:%u %s",
                                baseline_change_to_string(change), user ?: "?", file ?: "?",
                                k->key->line, k->key->fingerprint);
        }
        d->n[change]++;
        return 0;
}

static void check_baseline(struct report *rep, struct context *c) {
        _cleanup_free_ char *fix = NULL, *write = NULL;
        const char *what = NULL;
        unsigned line = 0;
        struct diff_summary d = {};
        int r;

        if (asprintf(&fix, "review the changes, then keytrail baseline --output %s",
                     baseline_shown()) < 0 ||
            asprintf(&write, "keytrail baseline --output %s", baseline_shown()) < 0) {
                rep->error = -ENOMEM;
                return;
        }
        r = baseline_file_load(arg_baseline_path, &c->recorded, &line, &what);
        if (r == -ENOENT) {
                report(rep, "baseline", CHECK_FAIL, write,
                       "no baseline file at %s: keytrail judges logins by what it finds at run "
                       "time, and the service cannot read home directories",
                       baseline_shown());
                return;
        }
        if (r < 0 && line > 0) {
                report(rep, "baseline", CHECK_FAIL, write,
                       "the baseline file is unreadable: %s:%u: %s", baseline_shown(), line,
                       what ?: "malformed line");
                return;
        }
        if (r < 0) {
                report(rep, "baseline", CHECK_FAIL,
                       "make it readable by keytrail's account (mode 0644)",
                       "cannot read the baseline file %s: %s", baseline_shown(), strerror(-r));
                return;
        }
        if (!c->live) {
                report(rep, "baseline", CHECK_WARN, "run keytrail doctor as root",
                       "%s has %zu keys of %zu accounts; not compared with the live "
                       "authorized_keys (they need root)",
                       baseline_shown(), c->recorded->n_keys, c->recorded->n_accounts);
                return;
        }
        r = baseline_file_diff(c->recorded, c->live, note_change, &d);
        if (r < 0) {
                rep->error = r;
                return;
        }
        if (r == 0)
                report(rep, "baseline", CHECK_OK, NULL,
                       "%s matches the live authorized_keys (%zu keys, %zu accounts)",
                       baseline_shown(), c->recorded->n_keys, c->recorded->n_accounts);
        else
                report(rep, "baseline", CHECK_FAIL, fix,
                       "%s is stale: %u key%s added, %u removed, %u with changed options, %u "
                       "moved in the live authorized_keys (first: %s)",
                       baseline_shown(), d.n[BASELINE_KEY_ADDED],
                       d.n[BASELINE_KEY_ADDED] == 1 ? "" : "s", d.n[BASELINE_KEY_REMOVED],
                       d.n[BASELINE_KEY_OPTIONS_CHANGED], d.n[BASELINE_KEY_MOVED], d.first);
}

static void check_rules(struct report *rep) {
        _cleanup_(rule_set_freep) struct rule_set *rules = rule_set_new();
        struct rule_load_error e = {};
        _cleanup_free_ char *dir_text = NULL;
        const char *dir = arg_rules_dir;
        struct stat st;
        int r;

        if (!rules) {
                rep->error = -ENOMEM;
                return;
        }
        if (!dir)
                dir = stat(RULESDIR, &st) >= 0 ? RULESDIR : SOURCE_RULESDIR;
        r = rule_set_load_dir(rules, dir, &e);
        if (r < 0) {
                _cleanup_free_ char *p = cmd_path_text(e.file ?: dir);

                if (e.file && e.line > 0)
                        report(rep, "rules", CHECK_FAIL, "fix the rule, or reinstall keytrail",
                               "%s:%u: %s", p ?: "?", e.line, e.message ?: strerror(-r));
                else
                        report(rep, "rules", CHECK_FAIL, "fix the rule, or reinstall keytrail",
                               "%s: %s", p ?: "?", e.message ?: strerror(-r));
                rule_load_error_done(&e);
                return;
        }
        dir_text = cmd_path_text(dir);
        if (rule_set_size(rules) == 0) {
                report(rep, "rules", CHECK_FAIL, "reinstall keytrail, or name --rules DIR",
                       "%s: no rules found", dir_text ?: "?");
                return;
        }
        report(rep, "rules", CHECK_OK, NULL, "%zu rules load from %s", rule_set_size(rules),
               dir_text ?: "?");
}

static bool uses_gate(const struct authkey *k) {
        return k->command && strstr(k->command, "keytrail-gate");
}

/* The keys the gate checks look at: the live ones when root, else the recorded ones. */
static const struct baseline_file *keys_of(const struct context *c) {
        return c->live ?: c->recorded;
}

static void check_gate_candidates(struct report *rep, const struct context *c) {
        const struct baseline_file *bf = keys_of(c);
        char first[512] = "";
        unsigned n = 0;

        if (!bf) {
                report(rep, "gate-candidates", CHECK_SKIP, NULL,
                       "no baseline file and no live authorized_keys (not root) to look at");
                return;
        }
        for (size_t i = 0; i < bf->n_keys; i++) {
                const struct authkey *k = bf->keys[i].key;

                if (!k->command || uses_gate(k))
                        continue;
                if (n++ == 0) {
                        _cleanup_free_ char *user = cmd_path_text(bf->keys[i].user),
                                            *file = cmd_path_text(k->file);

                        (void) snprintf(first, sizeof(first), "%s %s:%u", user ?: "?",
                                        file ?: "?", k->line);
                }
        }
        if (n == 0)
                report(rep, "gate-candidates", CHECK_OK, NULL,
                       "every key with command= already runs keytrail-gate, or none has one");
        else
                report(rep, "gate-candidates", CHECK_WARN,
                       "command=\"/usr/bin/keytrail-gate --rsync-dir DIR --write-only\" (rsync) or "
                       "--allow 'CMD' lets only that through and logs each refusal; see "
                       "keytrail-gate(1)",
                       "%u key%s with command= could use keytrail-gate, so that what the client "
                       "asked for is logged (first: %s)",
                       n, n == 1 ? "" : "s", first);
}

static void check_expose_auth_info(struct report *rep, const struct context *c) {
        const struct baseline_file *bf = keys_of(c);
        const char *v;
        unsigned n = 0;

        for (size_t i = 0; bf && i < bf->n_keys; i++)
                if (uses_gate(bf->keys[i].key))
                        n++;
        if (n == 0) {
                report(rep, "expose-auth-info", CHECK_OK, NULL,
                       "no key runs keytrail-gate: ExposeAuthInfo is not needed");
                return;
        }
        if (c->sshd.n == 0) {
                report(rep, "expose-auth-info", CHECK_WARN,
                       "run keytrail doctor as root where sshd runs",
                       "%u key%s run keytrail-gate, but sshd's ExposeAuthInfo cannot be read: %s "
                       "-T failed (%s)",
                       n, n == 1 ? "" : "s", sshd_shown(), c->sshd_error ?: "?");
                return;
        }
        v = sshd_config_get(&c->sshd, "exposeauthinfo");
        if (v && streq(v, "yes"))
                report(rep, "expose-auth-info", CHECK_OK, NULL,
                       "%u key%s run keytrail-gate and sshd has ExposeAuthInfo yes", n,
                       n == 1 ? "" : "s");
        else
                report(rep, "expose-auth-info", CHECK_FAIL,
                       "echo 'ExposeAuthInfo yes' >> /etc/ssh/sshd_config.d/keytrail.conf && "
                       "systemctl reload ssh",
                       "%u key%s run keytrail-gate but sshd has ExposeAuthInfo %s: the gate's "
                       "records carry no key fingerprint",
                       n, n == 1 ? "" : "s", v ?: "(unknown)");
}

static void check_unit(struct report *rep) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        char *argv[] = { (char *) SYSTEMCTL, (char *) "is-active", (char *) arg_unit, NULL };
        _cleanup_free_ char *fix = NULL;
        int status = 0, r;

        if (!is_dir("/run/systemd/system")) {
                report(rep, "unit", CHECK_SKIP, NULL,
                       "systemd is not PID 1: nothing runs keytrail as a service here");
                return;
        }
        r = cmd_run(argv, &out, &err, &status);
        if (r < 0) {
                report(rep, "unit", CHECK_WARN, NULL, "cannot run %s: %s", SYSTEMCTL,
                       strerror(-r));
                return;
        }
        out[strcspn(out, "\n")] = '\0';
        if (status == 0 && streq(out, "active")) {
                report(rep, "unit", CHECK_OK, NULL, "%s is active", unit_shown());
                return;
        }
        if (asprintf(&fix, "systemctl enable --now %s; journalctl -u %s says why it stopped",
                     unit_shown(), unit_shown()) < 0) {
                rep->error = -ENOMEM;
                return;
        }
        report(rep, "unit", CHECK_FAIL, fix,
               "%s is %s: no alert is raised while it does not run", unit_shown(),
               out[0] ? out : "not active");
}

static int doctor(void) {
        struct context c = {};
        struct report rep = {};
        int r;

        r = sshd_config_query(arg_sshd_path, &c.sshd, &c.sshd_error);
        if (r == -ENOMEM)
                return log_error("out of memory"), r;
        if (c.sshd_error) {
                /* sshd's (or cmd_run()'s) stderr, which names --sshd: any bytes */
                char *t = NULL;

                r = escape_terminal(c.sshd_error, strlen(c.sshd_error), &t);
                free(c.sshd_error);
                c.sshd_error = r < 0 ? NULL : t;
        }
        if (geteuid() == 0) {
                struct baseline_totals t = { .quiet = true };

                r = baseline_collect(arg_sshd_path, &c.live, &t);
                if (r == -ENOMEM)
                        return r;
        }

        check_loglevel(&rep, &c);
        check_storage(&rep);
        check_journal_access(&rep);
        check_baseline(&rep, &c);
        check_rules(&rep);
        check_gate_candidates(&rep, &c);
        check_expose_auth_info(&rep, &c);
        check_unit(&rep);

        sshd_config_done(&c.sshd);
        free(c.sshd_error);
        baseline_file_free(c.recorded);
        baseline_file_free(c.live);
        free(baseline_text);
        free(sshd_text);
        free(journal_dir_text);
        free(unit_text);
        if (rep.error < 0)
                return log_error("%s", strerror(-rep.error)), rep.error;
        if (fflush(stdout) != 0)
                return log_error("writing the report: %m"), -EIO;
        return rep.n[CHECK_FAIL] > 0 ? 1 : 0;
}

int verb_doctor(int argc, char *argv[]) {
        int optind_ = 0, r;

        r = cmd_parse_argv(&spec, argc, argv, &optind_);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = doctor();
        return r < 0 ? 2 : r;
}
