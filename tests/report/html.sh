#!/bin/bash
# SPDX-License-Identifier: MIT
# keytrail report --format html: the page parsed back (Python's html.parser) and checked against
# the JSON report of the same entries; then loaded in a real headless chromium: no console error
# (an SVG attribute it cannot parse, a blocked load or script), the timeline SVG in the DOM with a
# mark per session, login, refusal and alert, the hostile host name as text, not markup; and a
# screenshot taken and kept for a person to look at (BUILD_DIR/meson-logs/report-*.png).
#   html.sh KEYTRAIL SOURCE_DIR      TAP on stdout
set -u
kt=$1 src=$2
. "$src/tests/report/lib.sh"
facts=$src/tests/report/html-facts.py
journal_from_export "$data/e2e-openssh-9.2.export" "$tmp/s.journal"
two_hosts "$tmp/remote" || exit 1

# The sample, and the two hosts: JSON and HTML of each.
for r in sample remote; do
        if [ $r = sample ]; then in=(--file "$tmp/s.journal"); else in=(--directory "$tmp/remote"); fi
        "$kt" report "${in[@]}" --rules "$src/rules" "${baseline[@]}" --format json >"$tmp/$r.json"
        "$kt" report "${in[@]}" --rules "$src/rules" "${baseline[@]}" --format html >"$tmp/$r.html"
        check "$r: html, exit status 1" test "$?" = 1
        python3 "$facts" "$tmp/$r.html" >"$tmp/$r.facts"
        # What the page must show, from the JSON report of the same entries.
        jq -S '. as $d | {marks: (.timeline | group_by(.event) | map({("m-" + .[0].event): length}) | add),
             key_sections: ([.hosts[].keys[]] | length), alert_rows: (.alerts | length),
             event_rows: (.timeline | length),
             lanes: ([.hosts[] | .machine_id as $m | (.keys | length) + (if any($d.timeline[];
                     .machine_id == $m and .fingerprint == null) then 1 else 0 end)] | add)}' \
                "$tmp/$r.json" >"$tmp/$r.want"
        check "$r: html parsed back: a mark per session, login, refusal and alert; a section per key; a row per alert and event" \
                diff -u "$tmp/$r.want" <(jq -S '{marks, key_sections, alert_rows, event_rows, lanes}' "$tmp/$r.facts")
        jcheck "$r: one self-contained page: a doctype, one timeline SVG, nothing that loads or runs" \
                '.doctype == "DOCTYPE html" and .timeline_svgs == 1 and .active == [] and .title == "keytrail report"' \
                "$tmp/$r.facts"
        jcheck "$r: a Content-Security-Policy that forbids scripts and loads" \
                '.csp == "default-src '"'none'"'; style-src '"'unsafe-inline'"'"' "$tmp/$r.facts"
done
jcheck "sample: the marks, by number" '.marks == {"m-session": 24, "m-login": 24, "m-refused": 1, "m-alert": 11}' \
        "$tmp/sample.facts"
jcheck "sample: one host band, vm" '.host_bands == ["Host vm"] and .hosts == ["Host vm machine 3d1219c7c4c5404aaa1f6d2a48adfda4"]' \
        "$tmp/sample.facts"
check "remote: the hostile host name is text in the band and the heading, its escape shown" \
        jq -e --arg h "Host evil<img src=x onerror=alert(1)>\"'&\\u001b[31m" \
        '.host_bands == [$h, "Host vm"] and (.hosts[0] | startswith($h + " machine "))' "$tmp/remote.facts"
check "remote: no ESC byte in the page" \
        python3 -c 'import sys; sys.exit(1 if b"\x1b" in open(sys.argv[1], "rb").read() else 0)' "$tmp/remote.html"

# ---- a real browser ---------------------------------------------------------------------------
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
        not_ok "chromium is installed (Debian package chromium; .ci/run installs it)"
        done_tap
        exit 1
fi
browse() { # browse PROFILE ARGS... : one headless chromium, no network, no state kept
        mkdir -p "$tmp/$1"
        local p=$1
        shift
        timeout 180 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
                --disable-background-networking --disable-component-update --disable-sync \
                --user-data-dir="$tmp/$p" --enable-logging=stderr --v=0 "$@"
}
# 1. The two-host page, loaded; the DOM it built, and its console.
browse profile1 --dump-dom "file://$tmp/remote.html" >"$tmp/dom.html" 2>"$tmp/console.log"
check "chromium: the page loaded (a DOM came back)" grep -q '<svg' "$tmp/dom.html"
check "chromium: no console message (error, blocked load, bad SVG attribute)" \
        bash -c "! grep ':CONSOLE' '$tmp/console.log'"
python3 "$facts" "$tmp/dom.html" >"$tmp/dom.facts"
jcheck "chromium DOM: the timeline SVG with the right number of marks" \
        '.timeline_svgs == 1 and .marks == {"m-session": 48, "m-login": 48, "m-refused": 2, "m-alert": 22}' "$tmp/dom.facts"
jcheck "chromium DOM: two host bands, 44 lanes (42 keys, a no-key lane per host)" \
        '(.host_bands | length) == 2 and .lanes == 44' "$tmp/dom.facts"
jcheck "chromium DOM: nothing that loads or runs (the hostile name stayed text)" '.active == []' "$tmp/dom.facts"
check "chromium DOM: the hostile name is the band's text" jq -e --arg h "Host evil<img src=x onerror=alert(1)>\"'&\\u001b[31m" \
        '.host_bands[0] == $h' "$tmp/dom.facts"

# 2. The sample's page, as a person sees it: a screenshot, kept.
shots=${BUILD_DIR:-$tmp}/meson-logs
mkdir -p "$shots" 2>/dev/null || shots=$tmp
browse profile2 --window-size=1280,2400 --hide-scrollbars --screenshot="$shots/report-sample.png" \
        "file://$tmp/sample.html" >/dev/null 2>"$tmp/console2.log"
check "chromium: a screenshot of the report, 1280x2400, not blank ($shots/report-sample.png)" python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
ok = b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (1280, 2400) and len(b) > 50000
print(len(b), struct.unpack(">II", b[16:24]) if len(b) > 24 else None)
sys.exit(0 if ok else 1)' "$shots/report-sample.png"
check "chromium: no console message on the sample's page either" bash -c "! grep ':CONSOLE' '$tmp/console2.log'"
done_tap
