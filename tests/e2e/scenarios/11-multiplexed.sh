# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="one ControlMaster connection carrying two sessions with a stripped key: each session checked"

# The key is meant for the backup push (forced command in the baseline) but its live line lost the
# command=. A master connection (-N, no session of its own) carries two sessions at once: id 0, an
# intruder's `cat /etc/passwd` riding the backup's connection, and id 1, the backup's rsync push.
# sshd logs neither command (unforced commands are not logged), so the two sessions look alike;
# keytrail checks each session on the connection, one alert per type per session: two
# unforced-session alerts on the same connection (same port), which must be distinct alerts
# (different ids), not one alert for the connection.

scenario() {
        local dst cmd p ctl master b i
        dst=$(kt_dir push backup11)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s11
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s11)"
        kt_tamper push s11 "$(kt_line "no-pty,no-agent-forwarding,no-port-forwarding" s11)"
        ctl=$KT_TMP/run/ctl11-$KT_GEN

        kt_begin 11
        p=$(kt_client_port)
        eval "exec $(kt_ssh_cmd s11 "$p") -M -S $ctl -N ${KT_USER[push]}@127.0.0.1" </dev/null &
        master=$!
        kt_defer "kill $master || true"
        for ((i = 0; i < 100; i++)); do [ -S "$ctl" ] && break; sleep 0.05; done
        [ -S "$ctl" ] || kt_fail "the master connection did not come up"
        ssh -F /dev/null -S "$ctl" "${KT_USER[push]}@127.0.0.1" 'cat /etc/passwd >/dev/null; sleep 2' \
                </dev/null &
        b=$!
        sleep 0.7
        rsync -a --delete -e "ssh -F /dev/null -S $ctl" "$KT_TMP/payload/" \
                "${KT_USER[push]}@127.0.0.1:$dst/" || kt_fail "rsync through the master failed"
        wait "$b" || kt_fail "the multiplexed cat failed"
        ssh -F /dev/null -S "$ctl" -O exit "${KT_USER[push]}@127.0.0.1" 2>/dev/null
        wait "$master"
        kt_end

        kt_log_has "^Accepted publickey for ${KT_USER[push]} from 127\.0\.0\.1 port $p ssh2: ED25519 $(kt_q "${KT_FP[s11]}")$" 1
        kt_log_has "^Starting session: command for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_log_has "^Starting session: command for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 1$" 1
        kt_log_has "^User child is on pid " 1
        kt_alert unforced-session push s11 "$p"
        kt_alert unforced-session push s11 "$p"
}

scenario_after_scan() {
        local ids
        ids=$(jq -r 'select(.type == "unforced-session") | .id' "$KT_SCAN_OUT" | sort -u | wc -l)
        [ "$ids" = 2 ] || { kt_diag "$KT_GEN/11: the two sessions' alerts share an id"; return 1; }
}
