# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="command= stripped from the line, the key then runs cat /etc/passwd: unforced-session"

scenario() {
        local dst cmd p
        dst=$(kt_dir push backup04)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s04
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s04)"
        # the tampering: the same line without its command=
        kt_tamper push s04 "$(kt_line "no-pty,no-agent-forwarding,no-port-forwarding" s04)"

        kt_begin 04
        p=$(kt_client_port)
        kt_ssh s04 "$p" push cat /etc/passwd | grep -q "^${KT_USER[push]}:" ||
                kt_fail "cat /etc/passwd did not run"
        kt_end

        kt_log_has "^Starting session: command for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_alert unforced-session push s04 "$p"
}
