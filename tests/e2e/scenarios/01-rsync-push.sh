# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="rsync push with a key forced to rsync --server ... --delete . DIR, three times: no alert"

scenario() {
        local dst cmd p i
        dst=$(kt_dir push backup01)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s01
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding,no-X11-forwarding" s01)"

        kt_begin 01
        for i in 1 2 3; do
                p[i]=$(kt_client_port)
                kt_rsync_push s01 "${p[i]}" push "$dst" || kt_fail "rsync push $i failed"
        done
        kt_end

        for i in 1 2 3; do
                kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$cmd")' for ${KT_USER[push]} from 127\.0\.0\.1 port ${p[i]} id 0$" 1
        done
        [ -f "$dst/sub/numbers" ] || kt_fail "the push did not arrive"
}
