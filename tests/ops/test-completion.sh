#!/bin/bash
# SPDX-License-Identifier: MIT
# bash completion (contrib/bash-completion/keytrail) driven as bash drives it, against the built
# programs: commands, each command's options, values (formats, folders, accounts), keytrail-gate.
#   test-completion.sh BUILD_DIR SOURCE_DIR          TAP on stdout
set -u
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
if [ ! -f /usr/share/bash-completion/bash_completion ]; then
        echo "1..0 # SKIP bash-completion is not installed"
        exit 0
fi
exec bash --norc --noprofile -s "$build" "$src" <<'INNER'
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
set +u
. /usr/share/bash-completion/bash_completion
. "$src/contrib/bash-completion/keytrail"
PATH=$build:$PATH
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/dirA" && touch "$tmp/fileB"

# complete LINE: the words bash would offer after LINE (the last word being completed)
complete_line() {
        COMP_LINE=$1
        COMP_POINT=${#COMP_LINE}
        read -ra COMP_WORDS <<<"$COMP_LINE"
        [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _keytrail "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # expect TITLE LINE WANT (WANT: the sorted words, space-separated)
        local got
        got=$(complete_line "$2")
        n=$((n + 1))
        if [ "$got" = "$3" ]; then echo "ok $n - $1"; else
                failed=$((failed + 1)); echo "not ok $n - $1"; echo "# got  '$got'"; echo "# want '$3'"; fi
}
has() { # has TITLE LINE WORD...: every WORD is offered
        local got w miss=""
        got=" $(complete_line "$2") "
        for w in "${@:3}"; do [[ $got == *" $w "* ]] || miss+=" $w"; done
        n=$((n + 1))
        if [ -z "$miss" ]; then echo "ok $n - $1"; else
                failed=$((failed + 1)); echo "not ok $n - $1"; echo "# missing:$miss"; echo "# got:$got"; fi
}

commands=$(keytrail --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' | sort | tr '\n' ' ' | sed 's/ $//')
expect "commands, from keytrail --help" "keytrail " "$commands"
expect "a command by its prefix" "keytrail bas" "baseline"
expect "options before a command" "keytrail --v" "--version"
has "scan's options" "keytrail scan --" --directory --file --since --until --authorized-keys --baseline --format --stats --rules --help
expect "scan's options by prefix" "keytrail scan --base" "--baseline"
expect "--format's values" "keytrail scan --format " "json text"
expect "-o is --format" "keytrail scan -o j" "json"
expect "baseline's options" "keytrail baseline --" "--help --output --sshd --version"
cd "$tmp"
expect "--directory takes a folder" "keytrail scan --directory " "dirA"
expect "--baseline takes a file" "keytrail scan --baseline f" "fileB"
has "-k offers accounts as USER:" "keytrail scan -k roo" "root:"
has "keytrail-gate's options" "keytrail-gate --" --allow --rsync-dir --read-only --write-only --no-delete --rsync
expect "no value after an option without one" "keytrail scan --stats --for" "--format"
# The alert types offered for a TYPE argument are those of the contract (docs/alerts.md).
doc=$(sed -nE 's/^\| `([a-z-]+)` \| (critical|high|medium) \|.*/\1/p' "$src/docs/alerts.md" | sort | tr '\n' ' ')
mine=$(printf '%s\n' $_keytrail_alert_types | sort | tr '\n' ' ')
n=$((n + 1))
if [ -n "$doc" ] && [ "$doc" = "$mine" ]; then echo "ok $n - the alert types are docs/alerts.md's"; else
        failed=$((failed + 1)); echo "not ok $n - alert types differ from docs/alerts.md"; echo "# doc:  $doc"; echo "# mine: $mine"; fi
echo "1..$n"
[ $failed = 0 ]
INNER
