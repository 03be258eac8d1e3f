# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="a key not in the baseline appended to authorized_keys and used: unknown-key"

scenario() {
        local p
        kt_key s06
        kt_live push "$(kt_line "" s06)"

        kt_begin 06
        p=$(kt_client_port)
        [ "$(kt_ssh s06 "$p" push id -un)" = "${KT_USER[push]}" ] || kt_fail "ssh id failed"
        kt_end

        kt_log_has "^Accepted publickey for ${KT_USER[push]} from 127\.0\.0\.1 port $p ssh2: ED25519 $(kt_q "${KT_FP[s06]}")$" 1
        kt_log_has "^Starting session: command for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_alert unknown-key push s06 "$p"
}
