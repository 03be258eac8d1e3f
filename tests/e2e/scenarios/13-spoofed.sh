# shellcheck shell=bash
KT_TITLE="logger -t sshd forging Accepted publickey and Starting session: spoofed-entry only"

# Next to a real, correct rsync push with a forced key, an unprivileged account forges the monitor's
# "Accepted publickey" line for that key and root forges the user child's "Starting session: shell"
# line, both under one made-up PID and port. Correlated naively they would make an unforced-session
# for a forced key. Expected: exactly two spoofed-entry alerts, one per forged entry, whose evidence
# points at the logger entries, and nothing for the real push.

scenario() {
        local dst cmd p fake fp ident
        dst=$(kt_dir push backup13)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s13
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s13)"
        fake=$((400000 + RANDOM))
        fp=$(kt_client_port)
        ident=sshd
        [ "$KT_GEN" = trixie ] && ident=sshd-session

        kt_begin 13
        p=$(kt_client_port)
        kt_rsync_push s13 "$p" push "$dst" || kt_fail "rsync push failed"
        setpriv --reuid="${KT_USER[other]}" --regid="${KT_USER[other]}" --clear-groups \
                logger -t sshd --id="$fake" \
                "Accepted publickey for ${KT_USER[push]} from 127.0.0.1 port $fp ssh2: ED25519 ${KT_FP[s13]}"
        logger -t "$ident" --id="$fake" \
                "Starting session: shell for ${KT_USER[push]} from 127.0.0.1 port $fp id 0"
        kt_end

        kt_log_has "^Accepted publickey for ${KT_USER[push]} from 127\.0\.0\.1 port $fp ssh2: ED25519 $(kt_q "${KT_FP[s13]}")$" 1
        kt_log_has "^Starting session: shell for ${KT_USER[push]} from 127\.0\.0\.1 port $fp id 0$" 1
        kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$cmd")' for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_alert_raw spoofed-entry
        kt_alert_raw spoofed-entry
}

scenario_after_scan() {
        local c comm bad=0
        while read -r c; do
                comm=$(kt_journal_entry "$c" | jq -r '._COMM // "?"')
                [ "$comm" = logger ] || { kt_diag "$KT_GEN/13: evidence $c is from $comm"; bad=1; }
        done < <(jq -r 'select(.type == "spoofed-entry") | .evidence[]' "$KT_SCAN_OUT")
        [ -n "$(jq -r 'select(.type == "spoofed-entry") | .evidence[]' "$KT_SCAN_OUT")" ] ||
                { kt_diag "$KT_GEN/13: spoofed-entry alerts carry no evidence"; bad=1; }
        return $bad
}
