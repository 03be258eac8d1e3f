#!/bin/bash
# SPDX-License-Identifier: MIT
# The manual pages cannot drift from the programs: every command of `keytrail --help` has its
# section in keytrail(1), every option of `keytrail CMD --help` and `keytrail-gate --help` (long
# and short) is in the page, every option the hand-written prose names exists, and every page
# renders without a single groff warning.
#   test-man.sh BUILD_DIR SOURCE_DIR          TAP on stdout
set -u
build=$1 src=$2
kt=$build/keytrail gate=$build/keytrail-gate man=$build/man
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)) failed=$((failed + 1)); echo "not ok $n - $1"; }
if ! command -v man >/dev/null; then
        echo "1..0 # SKIP man (man-db) is not installed"
        exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Options of a --help text: "-X, --long" pairs and lone "--long", one per line.
options_of() { grep -oE -- '^ {2,6}(-[A-Za-z0-9], )?--[a-z0-9][a-z0-9-]*' | sed -E 's/^ +//'; }
# The same in roff: "\fB\-X\fR, \fB\-\-long\fR" at the start of a .TP tag line.
roff_options() {
        grep -oE '^\\fB\\-(\\-)?[A-Za-z0-9][a-z0-9\\-]*\\fR(, \\fB\\-\\-[a-z0-9\\-]+\\fR)?' |
                sed -E 's/\\fB|\\fR//g; s/\\-/-/g'
}
# The lines of keytrail(1) from .SS "keytrail CMD" to the next section.
section_of() { awk -v h=".SS \"keytrail $1\"" '$0 == h { on = 1; next } /^\.S[SH] / { on = 0 } on' "$man/keytrail.1"; }

pages=$(cd "$man" && ls keytrail*.[1-8])
for p in keytrail.1 keytrail-gate.1 keytrail-baseline.5 keytrail-rules.5 keytrail-alerts.7; do
        [[ " $(echo $pages) " == *" $p "* ]] || not_ok "$p is built"
done
for page in $pages; do
        if [ ! -s "$man/$page" ]; then
                not_ok "$page is built"
                continue
        fi
        LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -E UTF-8 -l -Tutf8 -Z "$man/$page" >"$tmp/out" 2>"$tmp/err"
        if [ -s "$tmp/err" ] || [ ! -s "$tmp/out" ]; then
                not_ok "$page renders without a groff warning"
                sed 's/^/# /' "$tmp/err" | head
        else
                ok "$page renders without a groff warning"
        fi
done

commands=$("$kt" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$commands" ] && ok "keytrail --help lists commands: $(echo $commands)" || not_ok "keytrail --help lists commands"
for c in $commands; do
        section_of "$c" >"$tmp/sec"
        if [ ! -s "$tmp/sec" ]; then
                not_ok "keytrail.1 has a section for '$c'"
                continue
        fi
        "$kt" "$c" --help | options_of | sort >"$tmp/help"
        roff_options <"$tmp/sec" | sort >"$tmp/page"
        if [ -s "$tmp/help" ] && cmp -s "$tmp/help" "$tmp/page"; then
                ok "keytrail $c: the same $(wc -l <"$tmp/help") options in --help and keytrail.1"
        else
                not_ok "keytrail $c: options of --help and keytrail.1 differ"
                diff "$tmp/help" "$tmp/page" | sed 's/^/# /'
        fi
done
# No section for a command that no longer exists.
grep -oE '^\.SS "keytrail [a-z-]+"' "$man/keytrail.1" | sed -E 's/.* ([a-z-]+)"$/\1/' | sort >"$tmp/secs"
echo "$commands" | sort >"$tmp/cmds"
cmp -s "$tmp/secs" "$tmp/cmds" && ok "keytrail.1 documents exactly the commands of --help" ||
        { not_ok "keytrail.1's command sections differ from --help"; diff "$tmp/cmds" "$tmp/secs" | sed 's/^/# /'; }

"$gate" --help | options_of | sort >"$tmp/help"
roff_options <"$man/keytrail-gate.1" | sort >"$tmp/page"
if [ -s "$tmp/help" ] && cmp -s "$tmp/help" "$tmp/page"; then
        ok "keytrail-gate: the same $(wc -l <"$tmp/help") options in --help and keytrail-gate.1"
else
        not_ok "keytrail-gate: options of --help and keytrail-gate.1 differ"
        diff "$tmp/help" "$tmp/page" | sed 's/^/# /'
fi

# Every option the hand-written prose names is one some --help has (rsync's own are rsync's).
{
        for c in $commands; do "$kt" "$c" --help; done
        "$gate" --help
} | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u >"$tmp/known"
grep -ohE -- '\\-\\-([a-z0-9]|\\-)+' "$src"/man/*.in | sed 's/\\-/-/g' | sort -u |
        grep -vxE -- '--(server|sender|delete.*|remove.*)' >"$tmp/named"
unknown=$(comm -23 "$tmp/named" "$tmp/known")
[ -z "$unknown" ] && ok "every option the pages' prose names exists ($(wc -l <"$tmp/named"))" ||
        not_ok "the pages' prose names options no command has: $(echo $unknown)"

# A fault is seen: an option missing from the page fails the comparison above.
section_of scan | grep -v -- '\\-\\-stats' | roff_options | sort >"$tmp/page"
"$kt" scan --help | options_of | sort >"$tmp/help"
! cmp -s "$tmp/help" "$tmp/page" && ok "the check sees an option left out" || not_ok "the check sees an option left out"

echo "1..$n"
[ $failed = 0 ]
