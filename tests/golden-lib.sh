# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the scan tests and the e2e bed: golden alert files that assert every field.
#
# A golden file holds one alert per line as sorted-key compact JSON (jq -S -c), lines sorted
# (LC_ALL=C). Evidence cursors are written without their s= part: it is the seqnum id of the journal
# file, random for every file journal-remote writes; the rest (i=, b=, m=, t=, x=) names the entry.

# golden_normalise [JQ-FILTER] < NDJSON > golden lines. JQ-FILTER (default .) runs on each alert
# after the cursors are normalised, to replace fields a scenario cannot know in advance.
golden_normalise() {
        jq -S -c "(.evidence |= map(if type == \"string\" then (split(\";\") | map(select(startswith(\"s=\") | not)) | join(\";\")) else . end)) | ${1:-.}" |
                LC_ALL=C sort
}

# golden_check_cursors JOURNAL-FILE < NDJSON: every evidence cursor names an entry of the file:
# journalctl positioned on it prints that very entry first.
golden_check_cursors() {
        local file=$1 c got ok=0
        while IFS= read -r c; do
                [ -n "$c" ] || continue
                got=$(journalctl --file "$file" --no-pager -q -o json --cursor "$c" 2>/dev/null |
                        head -n 1 | jq -r '.__CURSOR' 2>/dev/null)
                if [ "$got" != "$c" ]; then
                        echo "evidence cursor does not resolve in $file: $c (journalctl gave '${got}')" >&2
                        ok=1
                fi
        done < <(jq -r '.evidence[]?')
        return $ok
}
