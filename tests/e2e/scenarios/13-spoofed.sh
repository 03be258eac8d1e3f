# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="logger -t sshd forging Accepted publickey and Starting session: spoofed-entry only"

# Next to a real, correct rsync push with a forced key, an unprivileged account forges the monitor's
# "Accepted publickey" line for that key and root forges the user child's "Starting session: shell"
# line, both under one made-up PID and port. Correlated naively they would make an unforced-session
# for a forced key. Expected: exactly two spoofed-entry alerts, one per forged entry, whose evidence
# points at the forged entries (and together at both), and nothing for the real push. The forged
# entries are recognised by their SYSLOG_PID (logger --id): a logger that exits quickly often gets
# no _COMM/_EXE from journald (see the reference's appendix), so those cannot be relied on here.
# The unprivileged forger exits at once (its entry may lack _COMM and _EXE: its _UID still gives it
# away, the monitor's lines are root's).

scenario() {
        local dst cmd p fp ident
        dst=$(kt_dir push backup13)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s13
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s13)"
        KT_FAKE=$((400000 + RANDOM))
        fp=$(kt_client_port)
        ident=sshd
        [ "$KT_GEN" = trixie ] && ident=sshd-session

        kt_begin 13
        p=$(kt_client_port)
        kt_rsync_push s13 "$p" push "$dst" || kt_fail "rsync push failed"
        setpriv --reuid="${KT_USER[other]}" --regid="${KT_USER[other]}" --clear-groups \
                logger -t sshd --id="$KT_FAKE" \
                "Accepted publickey for ${KT_USER[push]} from 127.0.0.1 port $fp ssh2: ED25519 ${KT_FP[s13]}"
        # root's forgery stays alive a moment after sending: journald reads _COMM/_EXE from /proc
        # when the datagram arrives, and an entry from a process already gone carries neither (a
        # root-written "Starting session" without them cannot be told from sshd's by any field)
        { echo "Starting session: shell for ${KT_USER[push]} from 127.0.0.1 port $fp id 0"; sleep 0.5; } |
                logger -t "$ident" --id="$KT_FAKE"
        kt_end

        kt_log_has "^Accepted publickey for ${KT_USER[push]} from 127\.0\.0\.1 port $fp ssh2: ED25519 $(kt_q "${KT_FP[s13]}")$" 1
        kt_log_has "^Starting session: shell for ${KT_USER[push]} from 127\.0\.0\.1 port $fp id 0$" 1
        kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$cmd")' for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_alert_raw spoofed-entry
        kt_alert_raw spoofed-entry
}

scenario_after_scan() {
        local c pid bad=0 seen
        seen=$(jq -r 'select(.type == "spoofed-entry") | .evidence[]' "$KT_SCAN_OUT" | sort -u)
        [ "$(echo "$seen" | grep -c .)" = 2 ] ||
                { kt_diag "$KT_GEN/13: the evidence does not name the two forged entries"; bad=1; }
        for c in $seen; do
                pid=$(kt_journal_entry "$c" | jq -r '.SYSLOG_PID // "?"')
                [ "$pid" = "$KT_FAKE" ] || { kt_diag "$KT_GEN/13: evidence $c is not a forged entry"; bad=1; }
        done
        return $bad
}
