#!/bin/bash
# SPDX-License-Identifier: MIT
# For a newcomer on a fresh Debian 12 machine (root): install what keytrail needs, build it, and
# run its main job, `keytrail scan`, over a bundled journal recorded from a real sshd (the end-to-end
# scenarios of tests/e2e: rsync pushes and pulls, and every kind of misuse), so real alerts appear.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
        echo "quickstart: run as root (it installs packages with apt-get)" >&2
        exit 2
fi
export DEBIAN_FRONTEND=noninteractive
echo "== installing the build dependencies (apt-get)"
apt-get update -qq
apt-get install -y -qq --no-install-recommends build-essential meson ninja-build pkg-config \
        libsystemd-dev libpcre2-dev libjansson-dev libssl-dev zlib1g-dev libxxhash-dev systemd-journal-remote jq >/dev/null
echo "== building (meson, ninja)"
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

sample=tests/data/e2e-openssh-9.2.export
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/lib/systemd/systemd-journal-remote -o "$work/sample.journal" "$sample" 2>/dev/null
baseline=()
for f in tests/data/sample-authorized_keys-*; do
        baseline+=(--authorized-keys "ktdemo${f##*sample-authorized_keys-}:$f")
done

echo "== keytrail scan over $sample"
echo "   (a real OpenSSH 9.2 sshd; baseline: the intended authorized_keys in tests/data)"
echo
set +e
build/keytrail scan --file "$work/sample.journal" --rules rules --format text "${baseline[@]}"
rc=$?
echo
echo "== the first alert as NDJSON, for log shippers and jq:"
build/keytrail scan --file "$work/sample.journal" --rules rules --format json "${baseline[@]}" |
        head -n1 | jq .
echo "== keytrail exited $rc (0 no alert, 1 alerts, 2 error)"
[ "$rc" -le 1 ]
