# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="an unprivileged account forges sshd's lines of open connections: spoofed-entry, real alerts unchanged"

# Two real connections are held open (ControlMaster, -N) while another unprivileged account writes
# lines that name them, each way it can:
#   A. the push key's live line lost command=. A forged "Disconnected from user ..." naming its
#      connection, written before its first session by a process that exits at once, would end it
#      early and turn the critical unforced-session into a medium no-session. Then a command runs
#      on the master: unforced-session, as without the forgery.
#   B. an innocent forced key that starts no session (a tunnel: no-session). Forged "Starting
#      session" lines naming its connection (logger -t sshd; a process that calls itself sshd with
#      prctl(PR_SET_NAME) and exits at once; systemd-cat -t sshd; a copy of logger named sshd
#      writing with --journald; a disconnect from a process named sshd) would give it a shell
#      session (unforced-session) or end it (no alert). Expected: its no-session, as without them.
#   C. a forged session line that names no open connection but claims root's account.
# Expected: exactly one spoofed-entry per forged entry (7), with each one's evidence pointing at a
# forged entry (found by the SYSLOG_PID of each forger), and the two real alerts.

kt_forge_prctl() { # NAME IDENT FAKEPID MESSAGE: as `other`, a process named NAME sends one line
        setpriv --reuid="${KT_USER[other]}" --regid="${KT_USER[other]}" --clear-groups \
                /usr/bin/python3 -c '
import ctypes, socket, sys
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(("<38>%s[%s]: %s" % (sys.argv[2], sys.argv[3], sys.argv[4])).encode(), "/dev/log")
' "$@"
}

kt_master_up() {
        local i
        for ((i = 0; i < 100; i++)); do [ -S "$1" ] && return 0; sleep 0.05; done
        return 1
}

scenario() {
        local dst cmd pa pb ctla ctlb ma mb ident u fake lg
        dst=$(kt_dir push backup14)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s14a
        kt_key s14b
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s14a)"
        kt_tamper push s14a "$(kt_line "no-pty,no-agent-forwarding,no-port-forwarding" s14a)"
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding" s14b)"
        kt_live push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding" s14b)"
        ctla=$KT_TMP/run/ctl14a-$KT_GEN
        ctlb=$KT_TMP/run/ctl14b-$KT_GEN
        ident=sshd
        [ "$KT_GEN" = trixie ] && ident=sshd-session
        u=${KT_USER[push]}
        KT_FAKE=$((500000 + RANDOM))
        fake=$KT_FAKE
        lg=$(mktemp -d)
        chmod 755 "$lg"
        kt_defer "rm -rf $lg"
        install -m 755 /usr/bin/logger "$lg/sshd"

        kt_begin 14
        pa=$(kt_client_port)
        eval "exec $(kt_ssh_cmd s14a "$pa") -M -S $ctla -N $u@127.0.0.1" </dev/null &
        ma=$!
        kt_defer "kill $ma || true"
        kt_master_up "$ctla" || kt_fail "master A did not come up"
        pb=$(kt_client_port)
        eval "exec $(kt_ssh_cmd s14b "$pb") -M -S $ctlb -N $u@127.0.0.1" </dev/null &
        mb=$!
        kt_defer "kill $mb || true"
        kt_master_up "$ctlb" || kt_fail "master B did not come up"

        # A: the end of A's connection, before its session
        kt_forge_prctl sshd "$ident" "$fake" "Disconnected from user $u 127.0.0.1 port $pa"
        # B: sessions and an end for B's connection
        setpriv --reuid="${KT_USER[other]}" --regid="${KT_USER[other]}" --clear-groups \
                logger -t "$ident" --id="$fake" "Starting session: shell on pts/3 for $u from 127.0.0.1 port $pb id 1"
        kt_forge_prctl sshd "$ident" "$fake" "Starting session: command for $u from 127.0.0.1 port $pb id 2"
        echo "Starting session: shell for $u from 127.0.0.1 port $pb id 3" |
                setpriv --reuid="${KT_USER[other]}" --regid="${KT_USER[other]}" --clear-groups \
                        systemd-cat -t "$ident"
        printf 'SYSLOG_IDENTIFIER=%s\nSYSLOG_PID=%s\nMESSAGE=%s\n' "$ident" "$fake" \
                "Starting session: subsystem 'sftp' for $u from 127.0.0.1 port $pb id 4" |
                setpriv --reuid="${KT_USER[other]}" --regid="${KT_USER[other]}" --clear-groups \
                        "$lg/sshd" --journald
        kt_forge_prctl sshd "$ident" "$fake" "Connection closed by 127.0.0.1 port $pb"
        # C: root's account, no open connection
        kt_forge_prctl sshd "$ident" "$fake" "Starting session: shell on pts/9 for root from 192.0.2.7 port 4242 id 0"
        sleep 0.5

        ssh -F /dev/null -S "$ctla" "$u@127.0.0.1" 'id -un >/dev/null' </dev/null ||
                kt_fail "the command on master A failed"
        ssh -F /dev/null -S "$ctla" -O exit "$u@127.0.0.1" 2>/dev/null
        ssh -F /dev/null -S "$ctlb" -O exit "$u@127.0.0.1" 2>/dev/null
        wait "$ma" "$mb"
        kt_end

        kt_log_has "^Starting session: command for $u from 127\.0\.0\.1 port $pa id 0$" 1
        kt_log_has "^Starting session: shell on pts/3 for $u from 127\.0\.0\.1 port $pb id 1$" 1
        kt_log_has "^Starting session: subsystem 'sftp' for $u from 127\.0\.0\.1 port $pb id 4$" 1
        kt_alert unforced-session push s14a "$pa"
        kt_alert no-session push s14b "$pb"
        local i
        for ((i = 0; i < 7; i++)); do kt_alert_raw spoofed-entry; done
}

scenario_after_scan() {
        local c pid n bad=0 seen
        seen=$(jq -r 'select(.type == "spoofed-entry") | .evidence[]' "$KT_SCAN_OUT" | sort -u)
        n=$(echo "$seen" | grep -c .)
        [ "$n" = 7 ] || { kt_diag "$KT_GEN/14: $n forged entries in the evidence, not 7"; bad=1; }
        for c in $seen; do
                pid=$(kt_journal_entry "$c" | jq -r '.SYSLOG_PID // "?"')
                # systemd-cat sets no SYSLOG_PID: its entry is the one from the stdout transport
                [ "$pid" = "$KT_FAKE" ] ||
                        [ "$(kt_journal_entry "$c" | jq -r '._TRANSPORT')" = stdout ] ||
                        { kt_diag "$KT_GEN/14: evidence $c is not a forged entry"; bad=1; }
        done
        return $bad
}
