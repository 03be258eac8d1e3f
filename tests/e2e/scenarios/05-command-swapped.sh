# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="command= swapped from pull to push, then used: command-mismatch"

scenario() {
        local src pullcmd pushcmd p
        src=$(kt_dir pull mirror05)
        cp -r "$KT_TMP/payload/." "$src/"
        chown -R "${KT_USER[pull]}:" "$src"
        pullcmd=$(kt_rsync_server_cmd pull "$src")
        pushcmd=$(kt_rsync_server_cmd push "$src")
        kt_key s05
        kt_intend pull "$(kt_line "command=\"$pullcmd\",restrict" s05)"
        # the tampering: the read-only key may now overwrite (and --delete) the mirror's source
        kt_tamper pull s05 "$(kt_line "command=\"$pushcmd\",restrict" s05)"

        kt_begin 05
        p=$(kt_client_port)
        kt_rsync_push s05 "$p" pull "$src" || kt_fail "rsync push failed"
        kt_end

        kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$pushcmd")' for ${KT_USER[pull]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_alert command-mismatch pull s05 "$p"
}
