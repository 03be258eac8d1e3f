# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="nine concurrent rsync pushes, one with a stripped command=: exactly that one unforced-session"

scenario() {
        local k dst cmd i pids=() bad max
        declare -A port
        for k in a b c d e f g h x; do
                dst=$(kt_dir push backup10$k)
                cmd=$(kt_rsync_server_cmd push "$dst")
                kt_key "s10$k"
                kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" "s10$k")"
                port[$k]=$(kt_client_port)
        done
        # the anomaly: backup job x's line lost its command=, its rsync runs whatever it asks for
        kt_tamper push s10x "$(kt_line "no-pty,no-agent-forwarding,no-port-forwarding" s10x)"

        kt_begin 10
        for k in a b c d x e f g h; do
                kt_rsync_push "s10$k" "${port[$k]}" push "${KT_HOME[push]}/backup10$k" &
                pids+=($!)
        done
        bad=0
        for i in "${pids[@]}"; do wait "$i" || bad=$((bad + 1)); done
        [ "$bad" = 0 ] || kt_fail "$bad of the rsync pushes failed"
        kt_end

        for k in a b c d e f g h; do
                kt_log_has "^Starting session: forced-command \(key-option\) 'rsync --server [^']*/backup10$k/' for ${KT_USER[push]} from 127\.0\.0\.1 port ${port[$k]} id 0$" 1
        done
        kt_log_has "^Starting session: command for ${KT_USER[push]} from 127\.0\.0\.1 port ${port[x]} id 0$" 1
        # the connections really overlapped: at most moments several were open at once
        max=$(awk '/^Connection from /{d++; if (d > m) m = d} /session closed for user/{d--} END {print m+0}' \
                "$KT_WINDOW_LOG")
        [ "$max" -ge 3 ] || kt_fail "connections did not overlap (at most $max open at once)"
        kt_diag "$KT_GEN/10: up to $max connections open at once"
        kt_alert unforced-session push s10x "${port[x]}"
}
