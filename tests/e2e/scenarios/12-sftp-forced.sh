# shellcheck shell=bash
# shellcheck disable=SC2034 # read by run.sh
KT_TITLE="the sftp subsystem requested with a forced key: sshd runs the forced command, no alert"

# What should this raise? sshd puts command= above everything the client asks for: do_exec() logs
# "Starting session: forced-command (key-option) '<the key's command>'" and runs that command, even
# though the client requested the sftp subsystem. The request itself is logged only at DEBUG2
# ("subsystem request for sftp by user ..."), never at VERBOSE. So the journal shows exactly the
# baseline's forced command, and what ran is exactly that command: the fence held (sftp fails on
# rsync's protocol). keytrail cannot see the attempt and must not invent an alert: no alert, and in
# particular no command-mismatch or unforced-session. The bed checks that the log indeed says
# forced-command with the key's command and nothing about a subsystem.

scenario() {
        local dst cmd p
        dst=$(kt_dir push backup12)
        cmd=$(kt_rsync_server_cmd push "$dst")
        kt_key s12
        kt_intend push "$(kt_line "command=\"$cmd\",no-pty,no-agent-forwarding,no-port-forwarding" s12)"

        kt_begin 12
        p=$(kt_client_port)
        echo 'ls /' | timeout 20 sftp -b - -F /dev/null -i "$(kt_keyfile s12)" -P "$KT_SSHD_PORT" \
                -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o IdentitiesOnly=yes -o IdentityAgent=none -o LogLevel=ERROR \
                -o "ProxyCommand=perl $KT_E2E_DIR/bindconnect.pl 127.0.0.1 $p %h %p" \
                "${KT_USER[push]}@127.0.0.1" >/dev/null 2>&1 && kt_fail "sftp worked through a forced key"
        kt_end

        kt_log_has "^Starting session: forced-command \(key-option\) '$(kt_q "$cmd")' for ${KT_USER[push]} from 127\.0\.0\.1 port $p id 0$" 1
        kt_log_lacks "subsystem"
}
