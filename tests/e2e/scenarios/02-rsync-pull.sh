# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="rsync pull (--sender) with a read-only key (command=...,restrict): no alert"

scenario() {
        local src cmd p
        src=$(kt_dir pull mirror02)
        cp -r "$KT_TMP/payload/." "$src/"
        chown -R "${KT_USER[pull]}:" "$src"
        cmd=$(kt_rsync_server_cmd pull "$src")
        kt_key s02
        kt_intend pull "$(kt_line "command=\"$cmd\",restrict" s02)"

        kt_begin 02
        p=$(kt_client_port)
        kt_rsync_pull s02 "$p" pull "$src" "$KT_TMP/run/pulled02" || kt_fail "rsync pull failed"
        kt_end

        kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$cmd")' for ${KT_USER[pull]} from 127\.0\.0\.1 port $p id 0$" 1
        cmp -s "$KT_TMP/run/pulled02/sub/numbers" "$KT_TMP/payload/sub/numbers" ||
                kt_fail "the pull did not arrive"
}
