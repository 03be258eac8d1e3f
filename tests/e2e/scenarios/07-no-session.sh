# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="ssh -N -L with the forced key, a connection tried through the tunnel: no-session"

scenario() {
        local dst cmd p lp pid i
        dst=$(kt_dir push backup07)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s07
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s07)"

        kt_begin 07
        p=$(kt_client_port)
        lp=$(kt_free_port)
        eval "exec $(kt_ssh_cmd s07 "$p") -N -L 127.0.0.1:$lp:127.0.0.1:$KT_SSHD_PORT \
                -o ExitOnForwardFailure=yes ${KT_USER[push]}@127.0.0.1" </dev/null 2>/dev/null &
        pid=$!
        kt_defer "kill $pid || true"
        for ((i = 0; i < 100; i++)); do kt_port_listening "$lp" && break; sleep 0.05; done
        kt_port_listening "$lp" || kt_fail "the tunnel did not come up"
        # use the tunnel once: sshd refuses it (no-port-forwarding) and says so
        (exec 3<>"/dev/tcp/127.0.0.1/$lp" && sleep 0.3) 2>/dev/null
        sleep 0.3
        kill "$pid"
        wait "$pid" 2>/dev/null
        kt_end

        kt_log_has "^Accepted publickey for ${KT_USER[push]} from 127\.0\.0\.1 port $p ssh2: ED25519 $(kt_q "${KT_FP[s07]}")$" 1
        kt_log_has "^refused local port forward: originator 127\.0\.0\.1 port [0-9]+, target 127\.0\.0\.1 port $KT_SSHD_PORT$" 1
        kt_log_lacks "^Starting session: "
        kt_alert no-session push s07 "$p"
}
