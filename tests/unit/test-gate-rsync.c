/* SPDX-License-Identifier: MIT */
/*
 * keytrail-gate's checker (include/gate-rsync.h) on real client invocations and on hostile ones,
 * plus the SSH_USER_AUTH parser (include/gate-auth.h).
 *
 * The "real" requests were captured from rsync clients with a fake remote shell that prints its
 * arguments (`rsync -e ./printargs OPTS src/ host:backup/`); rsync 3.5.0 (protocol 32) locally, the
 * capability strings of older clients as they appear in published authorized_keys lines and in
 * authprogs' notes (3.1.x: -e.LsfxC / -e.iLsfxC, 3.0.x: -e.iLsf, 2.6.9: no -e at all).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate-auth.h"
#include "gate-path.h"
#include "gate-rsync.h"
#include "macro.h"
#include "tap.h"

#define DIR "/srv/backup"

static const char *exact_list[] = {
        "rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror",
        "/usr/local/bin/borg serve --append-only --restrict-to-path /srv/borg",
        NULL,
};

enum pol { W, R, WN, X, XW, _POL_MAX };

static const struct gate_policy policies[_POL_MAX] = {
        [W] = { .dir = DIR, .access = GATE_ACCESS_WRITE_ONLY },
        [R] = { .dir = DIR, .access = GATE_ACCESS_READ_ONLY },
        [WN] = { .dir = DIR, .access = GATE_ACCESS_WRITE_ONLY, .no_delete = true },
        [X] = { .allow = exact_list },
        [XW] = { .allow = exact_list, .dir = DIR, .access = GATE_ACCESS_WRITE_ONLY },
};

static const char *const pol_name[_POL_MAX] = {
        [W] = "write-only", [R] = "read-only", [WN] = "write-only,no-delete",
        [X] = "exact", [XW] = "exact+write-only",
};

#define OK_RSYNC GATE_REASON_RSYNC_DIR
#define OK_EXACT GATE_REASON_EXACT_MATCH

struct tcase {
        enum pol pol;
        const char *cmd;
        enum gate_reason want;
        const char *argv;  /* allowed: the exec vector joined with '|', or NULL not to check */
        const char *resolve; /* allowed in rsync mode: the paths to resolve joined with '|', or NULL */
};

static const struct tcase cases[] = {
        /* ---- real pushes, rsync 3.5.0 (rsync -e ./printargs OPTS src/ host:backup/) ---- */
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/", OK_RSYNC,
          "rsync|--server|-logDtpre.iLsfxCIvu|.|backup/", "backup" },                    /* -a */
        { W, "rsync --server -vlogDtprze.iLsfxCIvu . backup/", OK_RSYNC },               /* -avz */
        { W, "rsync --server -logDtpre.iLsfxCIvu --delete . backup/", OK_RSYNC },        /* --delete */
        { W, "rsync --server -nlogDtpre.iLsfxCIvu . backup/", OK_RSYNC },                /* -n */
        { W, "rsync --server -logDtpre.iLsfxCIvu --partial . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-format=X --partial . backup/", OK_RSYNC }, /* -aP */
        { W, "rsync --server -logDtpre.iLsfxCIvu --partial-dir .rsync-partial . backup/", OK_RSYNC,
          "rsync|--server|-logDtpre.iLsfxCIvu|--partial-dir|.rsync-partial|.|backup/",
          "backup|backup/.rsync-partial" },
        { W, "rsync --server -ltre.iLsfxCIvu . backup/", OK_RSYNC },                     /* -rlt */
        { W, "rsync --server -lHogDtpAXre.iLsfxCIvu . backup/", OK_RSYNC },              /* -aHAX */
        { W, "rsync --server -logDtpre.iLsfxCIvu --delete-after --numeric-ids . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --inplace . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --bwlimit=1000 . backup/", OK_RSYNC },
        { W, "rsync --server -blogDtpre.iLsfxCIvu --backup-dir old . backup/", OK_RSYNC, NULL,
          "backup|backup/old" },
        { W, "rsync --server -blogDtpre.iLsfxCIvu --backup-dir=/srv/backup/./old// . ./b//c/", OK_RSYNC,
          NULL, "b/c|old" },
        { W, "rsync --server -logDtprce.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION }, /* -c */
        { R, "rsync --server --sender -logDtprce.iLsfxCIvu . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --mkpath . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-format=%i . backup/", OK_RSYNC }, /* -i */
        { W, "rsync --server -logDtprRe.iLsfxCIvu . backup/", OK_RSYNC },                /* -R */
        { W, "rsync --server -logDtpRe.LsfxCIvu . backup/", OK_RSYNC },     /* --files-from=list */
        { W, "rsync --server -logDtpre.iLsfxCIvu --temp-dir tmp . backup/", OK_RSYNC, NULL,
          "backup|backup/tmp" },
        { W, "rsync --server -logDtpre.iLsfxCIvu --compress-level=3 . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --delete-excluded . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --list-only . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --max-delete=5 . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --stats . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --remove-source-files . backup/", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu . back\\ up/x", OK_RSYNC,               /* space */
          "rsync|--server|-logDtpre.iLsfxCIvu|.|back up/x", "back up/x" },
        { W, "rsync --server -logDtpre.iLsfxCIvu . .", OK_RSYNC,                         /* host: */
          "rsync|--server|-logDtpre.iLsfxCIvu|.|.", "." },
        { W, "rsync --server -logDtpre.iLsfxCIvu --link-dest /srv/backup/prev . backup/",
          GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /srv/backup/host1/", OK_RSYNC, NULL, "host1" },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /srv/backup", OK_RSYNC, NULL, "." },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/caf\xc3\xa9", OK_RSYNC },      /* UTF-8 */
        /* ---- real pulls, rsync 3.5.0 ---- */
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu . backup/", OK_RSYNC,
          "rsync|--server|--sender|-logDtpre.iLsfxCIvu|.|backup/", "backup" },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --link-dest=prev . backup/", OK_RSYNC,
          NULL, "backup|backup/prev" },
        { R, "rsync --server --sender -vlogDtprze.iLsfxCIvu . backup/", OK_RSYNC },
        { R, "rsync --server --sender -nlogDtpre.iLsfxCIvu . backup/", OK_RSYNC },
        { R, "rsync --server --sender -logDtpre.LsfxCIvu --numeric-ids . backup/", OK_RSYNC },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --inplace . backup/", OK_RSYNC },
        { R, "rsync --server --sender -blogDtpre.iLsfxCIvu --backup-dir old . backup/", OK_RSYNC },
        { R, "rsync --server --sender -logDtpRe.LsfxCIvu --files-from=- --from0 . backup/", OK_RSYNC },
        { R, "rsync --server --sender -logDtpRe.LsfxCIvu --files-from /srv/backup/list . backup/",
          OK_RSYNC, NULL, "backup|list" },
        { R, "rsync --server --sender -logDtpRe.LsfxCIvu --files-from list . backup/", OK_RSYNC,
          NULL, "backup|list" },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu . backup/a backup/sub", OK_RSYNC, NULL,
          "backup/a|backup/sub" },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu . /srv/backup/a", OK_RSYNC, NULL, "a" },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu . ./-rf", OK_RSYNC }, /* host:-rf */
        { R, "rsync --server --sender -lHogDtpAXre.iLsfxCIvu . backup/", OK_RSYNC },
        /* ---- older clients' capability strings ---- */
        { W, "rsync --server -vlogDtpre.iLsfxC --delete --partial-dir=.rsync-partial . dest", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxC . dest", OK_RSYNC },                  /* 3.1.x */
        { W, "rsync --server -e.LsfxC . dest", OK_RSYNC },                          /* 3.1.2 */
        { W, "rsync --server -vlogDtpre.iLsfxCIvu . dest", OK_RSYNC },              /* 3.2.x */
        { R, "rsync --server --sender -vlogDtpre.iLsf . dest", OK_RSYNC },          /* 3.0.x */
        { R, "rsync --server --sender -vlogDtpr . dest", OK_RSYNC },                /* 2.6.9 */
        { W, "rsync --server -vlogDtpre31.14iLsfxC . dest", OK_RSYNC },             /* pre-release */
        { W, "rsync --server -e.iLsfxCIvu -vlogDtpr . dest", OK_RSYNC },
        { W, "rsync  --server   -logDtpre.iLsfxCIvu  .  dest ", OK_RSYNC,           /* spacing */
          "rsync|--server|-logDtpre.iLsfxCIvu|.|dest", "dest" },
        /* ---- exact mode ---- */
        { X, "rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror", OK_EXACT,
          "rsync|--server|-vlogDtprze.iLsfxCIvu|--delete|.|/srv/mirror" },
        { X, "/usr/local/bin/borg serve --append-only --restrict-to-path /srv/borg", OK_EXACT,
          "/usr/local/bin/borg|serve|--append-only|--restrict-to-path|/srv/borg" },
        { X, "rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror ", GATE_REASON_NOT_ALLOWED },
        { X, "rsync --server -vlogDtprze.iLsfxCIvu . /srv/mirror", GATE_REASON_NOT_ALLOWED },
        { X, "rsync --server --sender -vlogDtprze.iLsfxCIvu . /srv/mirror", GATE_REASON_NOT_ALLOWED },
        { X, "cat /etc/shadow", GATE_REASON_NOT_ALLOWED },
        { X, "cat /etc/shadow; id", GATE_REASON_SHELL_METACHARACTERS },
        { XW, "rsync --server -vlogDtprze.iLsfxCIvu --delete . /srv/mirror", OK_EXACT },
        { XW, "rsync --server -logDtpre.iLsfxCIvu . backup/", OK_RSYNC },
        { XW, "rsync --server -logDtpre.iLsfxCIvu . /srv/mirror", GATE_REASON_PATH_OUTSIDE_DIR },

        /* ---- hostile: not rsync, wrong direction ---- */
        { W, NULL, GATE_REASON_NO_COMMAND },
        { W, "", GATE_REASON_BAD_SYNTAX },
        { W, "   ", GATE_REASON_BAD_SYNTAX },
        { W, "cat /etc/shadow", GATE_REASON_NOT_RSYNC },
        { W, "sh -c id", GATE_REASON_NOT_RSYNC },
        { W, "/usr/bin/rsync --server -logDtpre.iLsfxCIvu . b", GATE_REASON_NOT_RSYNC },
        { W, "rsync -logDtpre.iLsfxCIvu --server . backup/", GATE_REASON_NOT_RSYNC },
        { W, "rsync", GATE_REASON_NOT_RSYNC },
        { W, "rsync --server --daemon .", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server --sender -logDtpre.iLsfxCIvu . backup/", GATE_REASON_WRONG_DIRECTION },
        { R, "rsync --server -logDtpre.iLsfxCIvu . backup/", GATE_REASON_WRONG_DIRECTION },
        { R, "rsync --server -logDtpre.iLsfxCIvu --sender . backup/", GATE_REASON_WRONG_DIRECTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --sender . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender --sender -logDtpre.iLsfxCIvu . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server --server -logDtpre.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION },
        /* ---- hostile: remote shell and -e smuggled in other positions ---- */
        { W, "rsync --server --rsh=sh -logDtpre.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server --rsh sh -logDtpre.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -e sh . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -esh . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -vesh . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -e.LsfxC -e sh . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -e.Lsf/x . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -e.Lsf-x . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -e . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -e", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/ -e sh", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/ --rsh=sh", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --rsync-path=/tmp/x . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu -M--log-file=/tmp/x . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --remote-option=--x . b", GATE_REASON_FORBIDDEN_OPTION },
        /* ---- hostile: options that write, read or hide outside the checks ---- */
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-file=/etc/cron.d/x . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-file /tmp/x . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-file-format=%f . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --config=/tmp/c . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --write-batch=/tmp/b . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --read-batch=/tmp/b . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --only-write-batch=/tmp/b . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -svlogDtpre.iLsfxCIvu", GATE_REASON_FORBIDDEN_OPTION },     /* -s */
        { W, "rsync --server -svlogDtpre.iLsfxCIvu . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --protect-args . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --secluded-args . b", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -lLogDtpre.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION }, /* -L */
        { W, "rsync --server -logDtpKre.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -klogDtpre.iLsfxCIvu . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --copy-unsafe-links . b", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --copy-links . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --no-munge-links . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --copy-devices . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --write-devices . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --chmod=777 . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --frobnicate . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpVre.iLsfxCIvu . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server - . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu -- . b", GATE_REASON_UNKNOWN_OPTION },
        { R, "rsync --server --sender -B1024 -@-1 -logDtpre.iLsfxCIvu . b", OK_RSYNC },
        { R, "rsync --server --sender -Bx -logDtpre.iLsfxCIvu . b", GATE_REASON_BAD_SYNTAX },
        /* ---- hostile: read oracles on a write-only key (docs/gate.md) ---- */
        { W, "rsync --server -logDtpre.iLsfxCIvu -B1 --copy-dest cd . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -B1024 -logDtpre.iLsfxCIvu . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --block-size=1 . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --copy-dest=/srv/backup/x . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --compare-dest x . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --link-dest=x . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --append --append . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --files-from list . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --files-from=- . b", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-format=%C . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-format=%i%I . b", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --log-format=%o . b", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --debug=deltasum3 . b", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --info=NAME2 . b", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --debug=FILTER . b", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --info=flist2 . b", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --append . b", OK_RSYNC },
        { W, "rsync --server -blogDtpre.iLsfxCIvu --suffix=/../../x . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -blogDtpre.iLsfxCIvu --suffix=.old . b", OK_RSYNC },
        { W, "rsync --server -logDtpre.iLsfxCIvu --devices=1 . b", GATE_REASON_BAD_SYNTAX },
        /* ---- hostile: filter rules and their files on the server's command line (a client reads
         * --exclude-from and sends the rules in the protocol; the server never needs them) ---- */
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --exclude-from=/etc/passwd . b", GATE_REASON_UNKNOWN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --include-from /etc/passwd . b", GATE_REASON_UNKNOWN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --filter=.-/etc/passwd . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --insecure-links . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu --confine-root=/ . b", GATE_REASON_UNKNOWN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu . b --confine-root=/", GATE_REASON_FORBIDDEN_OPTION },
        /* ---- hostile: directory options, resolved from the destination ---- */
        { W, "rsync --server -blogDtpre.iLsfxCIvu --backup-dir=tl . x/", OK_RSYNC, NULL, "x|x/tl" },
        { W, "rsync --server -logDtpre.iLsfxCIvu --partial-dir=../p . x/", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu --temp-dir=/tmp . x/", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . x/d/s/", OK_RSYNC, NULL, "x/d/s" },
        { W, "rsync --server -logDtpre.iLsfxCIvu --delete=yes . b", GATE_REASON_BAD_SYNTAX },
        /* ---- deletion on read-only and with --no-delete ---- */
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --remove-source-files . backup/",
          GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --delete . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --remove-sent-files . b", GATE_REASON_FORBIDDEN_OPTION },
        { WN, "rsync --server -logDtpre.iLsfxCIvu --delete . backup/", GATE_REASON_FORBIDDEN_OPTION },
        { WN, "rsync --server -logDtpre.iLsfxCIvu --delete-missing-args . b", GATE_REASON_FORBIDDEN_OPTION },
        { WN, "rsync --server -logDtpre.iLsfxCIvu . backup/", OK_RSYNC },
        /* ---- hostile: paths ---- */
        { W, "rsync --server -logDtpre.iLsfxCIvu . ../etc", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/../../etc", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . ..", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a/..", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /etc", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /etc/cron.d/", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /srv/backup2", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /srv/backupx/y", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /srv/backup/../x", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . //srv//backup/./x", OK_RSYNC, NULL, "x" },
        { W, "rsync --server -logDtpre.iLsfxCIvu . /srv/./backup/x", OK_RSYNC, NULL, "x" },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu . backup/a /etc/shadow", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu . -rf", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/ --log-file=/tmp/x", GATE_REASON_FORBIDDEN_OPTION },
        { W, "rsync --server -logDtpre.iLsfxCIvu .", GATE_REASON_BAD_SYNTAX },
        { W, "rsync --server -logDtpre.iLsfxCIvu backup/", GATE_REASON_BAD_SYNTAX },
        { W, "rsync --server -logDtpre.iLsfxCIvu", GATE_REASON_BAD_SYNTAX },
        { W, "rsync --server -logDtpre.iLsfxCIvu --partial-dir", GATE_REASON_BAD_SYNTAX },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --link-dest=../prev . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --link-dest ../prev . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu --temp-dir=/tmp . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu --backup-dir /etc . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { W, "rsync --server -logDtpre.iLsfxCIvu --partial-dir=/var/tmp . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --compare-dest=/ . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { R, "rsync --server --sender -logDtpre.iLsfxCIvu --copy-dest=/srv . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { R, "rsync --server --sender -logDtpRe.LsfxCIvu --files-from=/etc/x . b", GATE_REASON_PATH_OUTSIDE_DIR },
        { R, "rsync --server --sender -logDtpRe.LsfxCIvu --files-from ../x . b", GATE_REASON_PATH_OUTSIDE_DIR },
        /* ---- hostile: shell metacharacters, control characters ---- */
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/; rm -rf /", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . $(id)", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . `id`", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a|b", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a&&b", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a>b", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . ~/backup", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/*.txt", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . 'backup'", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a\\;b", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a\\", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . {a,b}", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . a#b", GATE_REASON_SHELL_METACHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/\nid", GATE_REASON_CONTROL_CHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup/\rid", GATE_REASON_CONTROL_CHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu\t. backup/", GATE_REASON_CONTROL_CHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . \x1b[2Jbackup", GATE_REASON_CONTROL_CHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup\x7f", GATE_REASON_CONTROL_CHARACTERS },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup\xff", GATE_REASON_INVALID_UTF8 },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup\xc0\xaf", GATE_REASON_INVALID_UTF8 },
        { W, "rsync --server -logDtpre.iLsfxCIvu . backup\xed\xa0\x80", GATE_REASON_INVALID_UTF8 },
};

static size_t count(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

static char *join(char *const *l) {
        size_t n = 1;
        char *s;

        for (char *const *p = l; p && *p; p++)
                n += strlen(*p) + 1;
        s = calloc(1, n);
        if (!s)
                abort();
        for (char *const *p = l; p && *p; p++) {
                if (p != l)
                        strcat(s, "|");
                strcat(s, *p);
        }
        return s;
}

/* The request as a printable test name: TAP lines must not break on the hostile bytes. */
static const char *printable(const char *cmd) {
        static char buf[512];
        size_t o = 0;

        if (!cmd)
                return "(no command)";
        for (const unsigned char *c = (const unsigned char *) cmd; *c && o < sizeof(buf) - 8; c++)
                if (*c >= 0x20 && *c < 0x7f && *c != '#')
                        buf[o++] = (char) *c;
                else
                        o += (size_t) snprintf(buf + o, 5, "\\x%02x", *c);
        buf[o] = '\0';
        return buf;
}

static void check_one(const struct tcase *t) {
        struct gate_verdict v = {};
        const char *name = printable(t->cmd);
        int r;

        r = gate_check(&policies[t->pol], t->cmd, t->cmd ? strlen(t->cmd) : 0, &v);
        if (r < 0) {
                tap_ok(0, "%s: '%s': gate_check() failed: %s", pol_name[t->pol], name,
                       strerror(-r));
                return;
        }
        TAP_IS_STR(gate_reason_to_string(v.reason), gate_reason_to_string(t->want), "%s: '%s'",
                   pol_name[t->pol], name);
        if (v.allowed != gate_reason_is_allowed(t->want))
                tap_ok(0, "%s: '%s': allowed is %d", pol_name[t->pol], name, v.allowed);
        if (!v.allowed && !v.what)
                tap_ok(0, "%s: '%s': refusal without a phrase", pol_name[t->pol], name);
        if (v.allowed && t->argv) {
                _cleanup_free_ char *got = join(v.argv);

                TAP_IS_STR(got, t->argv, "  exec vector");
                TAP_IS_INT(v.argc, count(v.argv), "  argc");
        }
        if (v.allowed && t->resolve) {
                _cleanup_free_ char *got = join(v.resolve_paths);

                TAP_IS_STR(got, t->resolve, "  paths to resolve inside DIR");
        }
        gate_verdict_done(&v);
}

static void test_reason_table(void) {
        bool all = true;

        for (int i = 0; i < _GATE_REASON_MAX; i++) {
                const char *s = gate_reason_to_string(i);

                if (!s || gate_reason_from_string(s) != (enum gate_reason) i)
                        all = false;
        }
        tap_ok(all, "every reason has a name that round-trips");
        TAP_IS_INT(gate_reason_from_string("no-such-reason"), _GATE_REASON_INVALID,
                   "an unknown name is invalid");
        tap_ok(gate_reason_to_string(_GATE_REASON_MAX) == NULL, "out of range has no name");
        TAP_IS_STR(gate_reason_to_string(GATE_REASON_NO_COMMAND), "no-command",
                   "the contract's names (include/gate-log.h)");
        TAP_IS_STR(gate_reason_to_string(GATE_REASON_PATH_OUTSIDE_DIR), "path-outside-dir",
                   "the contract's names (include/gate-log.h)");
}

static void test_split(void) {
        char **argv = NULL;
        char *big;
        int r;

        r = gate_split("rsync  a\\ b c ", strlen("rsync  a\\ b c "), &argv);
        TAP_IS_INT(r, 0, "split: escaped space");
        if (r == 0) {
                _cleanup_free_ char *j = join(argv);

                TAP_IS_STR(j, "rsync|a b|c", "split: tokens");
                argv = strv_free(argv);
        }
        TAP_IS_INT(gate_split("a\\x", 3, &argv), -EBADMSG, "split: other backslash");
        TAP_IS_INT(gate_split("", 0, &argv), -EBADMSG, "split: empty");
        TAP_IS_INT(gate_split("a\0b", 3, &argv), -EBADMSG, "split: NUL");

        big = malloc(GATE_COMMAND_MAX * 2);
        if (!big)
                abort();
        memset(big, 'a', GATE_ARG_MAX + 1);
        TAP_IS_INT(gate_split(big, GATE_ARG_MAX + 1, &argv), -E2BIG, "split: token too long");
        for (size_t i = 0; i < (GATE_ARGS_MAX + 1) * 2; i += 2)
                big[i] = 'a', big[i + 1] = ' ';
        TAP_IS_INT(gate_split(big, (GATE_ARGS_MAX + 1) * 2, &argv), -E2BIG,
                   "split: too many tokens");
        free(big);
}

static void check_reason(const struct gate_policy *p, const char *cmd, size_t len,
                         enum gate_reason want, const char *name) {
        struct gate_verdict v = {};
        int r;

        r = gate_check(p, cmd, len, &v);
        TAP_IS_INT(r, 0, "%s: checked", name);
        TAP_IS_STR(gate_reason_to_string(v.reason), gate_reason_to_string(want), "%s", name);
        gate_verdict_done(&v);
}

static void test_long(void) {
        const char *prefix = "rsync --server -logDtpre.iLsfxCIvu . ";
        size_t pl = strlen(prefix);
        char *big = malloc(GATE_COMMAND_MAX + 2);

        if (!big)
                abort();
        memcpy(big, prefix, pl);
        memset(big + pl, 'a', GATE_COMMAND_MAX + 1 - pl);
        big[GATE_COMMAND_MAX + 1] = '\0';
        check_reason(&policies[W], big, GATE_COMMAND_MAX + 1, GATE_REASON_TOO_LONG,
                     "request over GATE_COMMAND_MAX");
        check_reason(&policies[W], big, pl + GATE_ARG_MAX + 1, GATE_REASON_TOO_LONG,
                     "path over GATE_ARG_MAX");
        check_reason(&policies[W], big, pl + GATE_ARG_MAX, OK_RSYNC, "path of GATE_ARG_MAX");
        for (size_t i = pl; i < pl + 2 * (GATE_ARGS_MAX + 1); i += 2)
                big[i] = 'a', big[i + 1] = ' ';
        check_reason(&policies[W], big, pl + 2 * (GATE_ARGS_MAX + 1), GATE_REASON_TOO_LONG,
                     "too many paths");
        /* A NUL inside the request (cannot come through the environment, but the checker works
         * on bytes): refused, not truncated. */
        memcpy(big, "rsync --server -logDtpre.iLsfxCIvu . b\0; id", 44);
        check_reason(&policies[W], big, 44, GATE_REASON_CONTROL_CHARACTERS, "embedded NUL");
        free(big);
}

static void test_validate(void) {
        const char *bad_allow[] = { "cat /etc/motd", NULL };
        const char *bad_escape[] = { "rsync a\\;b", NULL };
        const char *what = NULL;
        struct {
                struct gate_policy p;
                int want;
                const char *name;
        } t[] = {
                { {}, -EINVAL, "no mode" },
                { { .allow = bad_allow }, -EINVAL, "--allow of a relative program" },
                { { .allow = bad_escape }, -EINVAL, "--allow with a backslash" },
                { { .dir = "srv", .access = GATE_ACCESS_READ_ONLY }, -EINVAL, "relative dir" },
                { { .dir = "/srv/", .access = GATE_ACCESS_READ_ONLY }, -EINVAL, "trailing slash" },
                { { .dir = "/srv/../x", .access = GATE_ACCESS_READ_ONLY }, -EINVAL, "dotdot dir" },
                { { .dir = "/srv/.", .access = GATE_ACCESS_READ_ONLY }, -EINVAL, "dot dir" },
                { { .dir = "/srv", .access = _GATE_ACCESS_INVALID }, -EINVAL, "no direction" },
                { { .dir = "/srv", .access = GATE_ACCESS_WRITE_ONLY }, 0, "write-only" },
                { { .dir = "/", .access = GATE_ACCESS_READ_ONLY }, 0, "root dir" },
                { { .allow = exact_list }, 0, "exact list" },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                int r = gate_policy_validate(&t[i].p, &what);

                TAP_IS_INT(r, t[i].want, "validate: %s", t[i].name);
        }
}

/* Keys made with ssh-keygen; fingerprints as `ssh-keygen -lf` printed them. */
#define ED25519_LINE "publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH60goHE99LPjW3JLnaL+ILhVO1Vifutup8OFZ81SBr0"
#define ED25519_FP "SHA256:yCYl1JYx5Z6KGOw90Tsdca+4ZdDPv2tLpe8cqFcb7tk"
#define ECDSA_LINE                                                                                 \
        "publickey ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGgHc96" \
        "cfWiIcQElgCY3VUp83x7OCzMYuh558LAWtx0ekVMF7pBkZ/Prey2q+/WTH5WmeyLeCBruEcs9Y+ZWIL4="
#define ECDSA_FP "SHA256:00zQEHQstevh+ElJVtL73Iq6OFAmqFRkzHBVPI5d02s"

static void auth_one(const char *text, int want, const char *want_fp, const char *want_type,
                     const char *name) {
        _cleanup_free_ char *fp = NULL, *type = NULL;
        int r;

        r = gate_auth_parse(text, strlen(text), &fp, &type);
        TAP_IS_INT(r, want, "auth: %s", name);
        TAP_IS_STR(fp, want_fp, "auth: %s: fingerprint", name);
        TAP_IS_STR(type, want_type, "auth: %s: key type", name);
}

static void test_auth(void) {
        auth_one(ED25519_LINE "\n", 1, ED25519_FP, "ED25519", "one key");
        auth_one(ED25519_LINE, 1, ED25519_FP, "ED25519", "no final newline");
        auth_one(ED25519_LINE "\n" ECDSA_LINE "\n", 1, ECDSA_FP, "ECDSA",
                 "publickey,publickey: the last one");
        auth_one(ECDSA_LINE "\nkeyboard-interactive\n", 1, ECDSA_FP, "ECDSA",
                 "key then keyboard-interactive");
        auth_one("password\n", 0, NULL, NULL, "no publickey line");
        auth_one("", 0, NULL, NULL, "empty file");
        auth_one("publickey ssh-ed25519 !!!notbase64\n", 0, NULL, NULL, "broken key");
}

/* Lines of rsync 3.5.0's --help, and of 3.2.7's (no --confine-root, no --drop-D). */
#define HELP_350 "--munge-links            munge symlinks to make them safe & unusable\n" \
                 "--confine-root=DIR       refuse operator paths resolving outside DIR\n" \
                 "--drop-D                 receiver refuses to create devices/specials\n"
#define HELP_327 "--munge-links            munge symlinks to make them safe & unusable\n" \
                 "-D                       same as --devices --specials\n"

static void protect_one(const struct gate_policy *p, const char *cmd, unsigned features,
                         int want, const char *want_argv, const char *name) {
        struct gate_verdict v = {};
        int r;

        r = gate_check(p, cmd, strlen(cmd), &v);
        if (r < 0 || !v.allowed) {
                tap_ok(0, "protect: %s: not allowed by gate_check()", name);
                gate_verdict_done(&v);
                return;
        }
        r = gate_protect(&v, p, features);
        TAP_IS_INT(r, want, "protect: %s", name);
        if (r > 0) {
                _cleanup_free_ char *got = join(v.argv);

                TAP_IS_STR(got, want_argv, "protect: %s: exec vector", name);
                TAP_IS_INT(v.argc, count(v.argv), "protect: %s: argc", name);
                TAP_IS_STR(v.argv[v.dot], ".", "protect: %s: dot index follows", name);
        } else if (r == 0)
                TAP_IS_STR(gate_reason_to_string(v.reason), "rsync-unsupported",
                           "protect: %s: reason", name);
        gate_verdict_done(&v);
}

static void test_protect(void) {
        unsigned all = GATE_RSYNC_MUNGE_LINKS | GATE_RSYNC_CONFINE_ROOT | GATE_RSYNC_DROP_D;

        TAP_IS_INT(gate_rsync_features(HELP_350, strlen(HELP_350)), all, "features: rsync 3.5.0");
        TAP_IS_INT(gate_rsync_features(HELP_327, strlen(HELP_327)), GATE_RSYNC_MUNGE_LINKS,
                   "features: rsync 3.2.7");
        TAP_IS_INT(gate_rsync_features("--no-munge-links x\n--drop-Dx\n", 26), 0,
                   "features: only whole option names count");
        TAP_IS_INT(gate_rsync_features(NULL, 0), 0, "features: no help");

        protect_one(&policies[W], "rsync --server -logDtpre.iLsfxCIvu --delete . backup/", all, 1,
                    "rsync|--server|-logDtpre.iLsfxCIvu|--delete|--munge-links|"
                    "--confine-root=" DIR "|--drop-D|--whole-file|.|backup/",
                    "write-only push: munge, confine, drop-D, whole-file");
        protect_one(&policies[R], "rsync --server --sender -logDtpre.iLsfxCIvu . backup/", all, 1,
                    "rsync|--server|--sender|-logDtpre.iLsfxCIvu|--munge-links|"
                    "--confine-root=" DIR "|.|backup/",
                    "read-only pull: munge, confine");
        protect_one(&policies[W], "rsync --server -logDtpre.iLsfxCIvu . backup/",
                    GATE_RSYNC_MUNGE_LINKS, 0, NULL, "no --confine-root: refused");
        protect_one(&policies[R], "rsync --server --sender -logDtpre.iLsfxCIvu . b",
                    GATE_RSYNC_CONFINE_ROOT, 0, NULL, "no --munge-links: refused");
        protect_one(&policies[W], "rsync --server -logDtpre.iLsfxCIvu . backup/",
                    GATE_RSYNC_MUNGE_LINKS | GATE_RSYNC_CONFINE_ROOT, 0, NULL,
                    "-D push without --drop-D: refused");
        protect_one(&policies[W], "rsync --server -ltre.iLsfxCIvu . backup/",
                    GATE_RSYNC_MUNGE_LINKS | GATE_RSYNC_CONFINE_ROOT, 1,
                    "rsync|--server|-ltre.iLsfxCIvu|--munge-links|--confine-root=" DIR
                    "|--whole-file|.|backup/",
                    "push without -D, rsync without --drop-D: allowed");
}

static void resolve_one(int dirfd, const char *rel, int want, const char *want_link,
                        const char *name) {
        for (int m = GATE_PATH_AUTO; m <= GATE_PATH_WALK; m++) {
                _cleanup_free_ char *link = NULL;
                int r = gate_path_resolve(dirfd, rel, (enum gate_path_method) m, &link);

                TAP_IS_INT(r, want, "resolve (%s): %s", m == GATE_PATH_AUTO ? "auto" : "walk",
                           name);
                TAP_IS_STR(link, want_link, "resolve (%s): %s: the symlink",
                           m == GATE_PATH_AUTO ? "auto" : "walk", name);
        }
}

static void test_resolve(void) {
        char tmpl[] = "/tmp/test-gate-path.XXXXXX";
        _cleanup_close_ int dirfd = -1;
        char *d = mkdtemp(tmpl);
        char cmd[256];

        if (!d) {
                tap_ok(0, "resolve: mkdtemp");
                return;
        }
        (void) snprintf(cmd, sizeof(cmd),
                        "set -e; cd %s; mkdir -p x/d/real a; ln -s /etc x/d/s; ln -s real x/d/rel; "
                        "ln -s /etc top; touch a/f", d);
        if (system(cmd) != 0) {
                tap_ok(0, "resolve: fixture");
                return;
        }
        dirfd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
        resolve_one(dirfd, ".", 0, NULL, "DIR itself");
        resolve_one(dirfd, "x/d/real", 0, NULL, "real directories");
        resolve_one(dirfd, "x/d/real/new/deeper", 0, NULL, "a path not created yet");
        resolve_one(dirfd, "x/d/s", -ELOOP, "x/d/s", "a symlink as the last component");
        resolve_one(dirfd, "x/d/s/passwd", -ELOOP, "x/d/s", "a symlink deep down");
        resolve_one(dirfd, "x/d/rel/new", -ELOOP, "x/d/rel", "a relative symlink inside DIR");
        resolve_one(dirfd, "top", -ELOOP, "top", "a symlink at the top");
        resolve_one(dirfd, "a/f/x", -ENOTDIR, NULL, "a file before the last component");
        TAP_IS_INT(gate_path_resolve(dirfd, "/etc", GATE_PATH_AUTO, NULL), -EINVAL,
                   "resolve: an absolute path is a caller's bug");
        (void) snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
        (void) system(cmd);
}

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_one(&cases[i]);
        test_reason_table();
        test_split();
        test_long();
        test_validate();
        test_auth();
        test_protect();
        test_resolve();
        return tap_done();
}
