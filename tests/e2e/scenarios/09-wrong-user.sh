# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="a key bound to one account used on another account: wrong-user"

scenario() {
        local src cmd p
        src=$(kt_dir pull mirror09)
        cp -r "$KT_TMP/payload/." "$src/"
        chown -R "${KT_USER[pull]}:" "$src"
        cmd=$(kt_rsync_server_cmd pull "$src")
        kt_key s09
        # the baseline binds the key to the pull account ...
        kt_intend pull "$(kt_line "command=\"$cmd\",restrict" s09)"
        # ... and someone copied its line into the push account's file
        kt_live push "$(kt_line "command=\"$cmd\",restrict" s09)"

        kt_begin 09
        p=$(kt_client_port)
        kt_rsync_pull s09 "$p" push "$src" "$KT_TMP/run/pulled09" || kt_fail "rsync pull failed"
        kt_end

        kt_log_has "^Accepted publickey for ${KT_USER[push]} from 127\.0\.0\.1 port $p ssh2: ED25519 $(kt_q "${KT_FP[s09]}")$" 1
        kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$cmd")' for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_alert wrong-user push s09 "$p"
}
