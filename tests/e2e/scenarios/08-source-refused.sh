# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="the forced key from 127.0.0.2 while from=\"127.0.0.1\": source-refused"

scenario() {
        local dst cmd p
        dst=$(kt_dir push backup08)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s08
        kt_intend push "$(kt_line "from=\"127.0.0.1\",command=\"$cmd\",restrict" s08)"

        kt_begin 08
        p=$(kt_client_port)
        kt_rsync_push s08 "$p" push "$dst" 127.0.0.2 2>/dev/null && kt_fail "sshd let the push in"
        kt_end

        kt_log_has "Authentication tried for ${KT_USER[push]} with correct key but not from a permitted host \(host=127\.0\.0\.2, ip=127\.0\.0\.2, required=127\.0\.0\.1\)\.$"
        kt_log_has "^Failed publickey for ${KT_USER[push]} from 127\.0\.0\.2 port $p ssh2: ED25519 $(kt_q "${KT_FP[s08]}")$" 1
        kt_log_lacks "^Accepted publickey "
        kt_alert source-refused push s08 "$p"
}
