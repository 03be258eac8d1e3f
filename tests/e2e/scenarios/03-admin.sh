# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="an unrestricted admin key running commands and a shell: no alert"

scenario() {
        local p1 p2 p3 out
        kt_key s03
        kt_intend admin "$(kt_line "" s03)"

        kt_begin 03
        p1=$(kt_client_port)
        out=$(kt_ssh s03 "$p1" admin 'id -un; uname -s') || kt_fail "ssh command failed"
        [ "$out" = "${KT_USER[admin]}
Linux" ] || kt_fail "unexpected command output: $out"
        p2=$(kt_client_port)
        # a shell without a terminal, reading its commands from stdin
        # (Debian's pam_motd prints the motd first)
        out=$(echo 'echo shell-ok' | eval "exec $(kt_ssh_cmd s03 "$p2") -T ${KT_USER[admin]}@127.0.0.1" |
                tail -n1) || kt_fail "ssh shell failed"
        [ "$out" = shell-ok ] || kt_fail "unexpected shell output: $out"
        p3=$(kt_client_port)
        kt_ssh s03 "$p3" admin 'ls /' >/dev/null || kt_fail "ssh ls failed"
        kt_end

        kt_log_has "^Starting session: command for ${KT_USER[admin]} from 127\.0\.0\.1 port $p1 id 0$" 1
        kt_log_has "^Starting session: shell for ${KT_USER[admin]} from 127\.0\.0\.1 port $p2 id 0$" 1
        kt_log_has "^Starting session: command for ${KT_USER[admin]} from 127\.0\.0\.1 port $p3 id 0$" 1
}
