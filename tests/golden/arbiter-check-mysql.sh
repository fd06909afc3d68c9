#!/bin/bash
# Managed by mhactl for cluster shop: keepalived's checks of this node.
#   (no argument)  chk_mysql, the health check: exit 0 once the local server ran a real
#                  query, 1 when 2 attempts of 0.5 s each failed (a hung server too).
#   watch          chk_mysql_process: exit 1 the moment the server's listening socket is
#                  gone (it exited or is shutting down), 0 after most of a second.
#   arbiter PEER   chk_arbiter (vip.arbiter): exit 1 once neither the arbiter nor the
#                  peer answered for a while, 0 after most of a second.
#   release        switchover's release file, where keepalived has no track_file.
# A failure is noted once (on the transition) in $LOG: failover-test
# reports from it which check fired.
# Cost: keepalived starts these every second on every node, so a poll never starts a
# process: bash builtins read the files, sleep (nap) and time (now_cs) (a fleet's idle
# nodes spent 0.1 core each on forks before).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# keepalived runs its scripts at normal priority; on a host saturated by other work a
# probe that waits for the CPU longer than its timeout would fail a healthy node (seen
# on the lab at a load of 20 on two cores). The checks are tiny: let them go first.
renice -n -10 -p $$ >/dev/null 2>&1
RUN_DIR=/run/mhactl
LOG=/run/mhactl/detection.log
# `release`: switchover's VIP release file, checked this way where keepalived is older
# than 2.1 (no track_file): fail (FAULT) while it holds a value other than 0.
if [ "$1" = release ]; then
    v=""
    read -r v < /run/mhactl/vip-release 2>/dev/null
    v=${v//[[:space:]]/}
    [ "${v:-0}" = 0 ]
    exit
fi
# failed SOURCE DETAIL: note the first failure of SOURCE (then exit 1); passed SOURCE:
# forget it. The marker files make one line per outage, not one per run.
failed() {
    if [ ! -e "$RUN_DIR/detect-$1.failing" ]; then
        [ -d "$RUN_DIR" ] || mkdir -p -m 0755 "$RUN_DIR"
        : > "$RUN_DIR/detect-$1.failing"
        local now=${EPOCHREALTIME:-$(date +%s.%N)}
        echo "${now/,/.} $1 $2" >> "$LOG"
    fi
    exit 1
}
passed() {
    [ ! -e "$RUN_DIR/detect-$1.failing" ] || rm -f "$RUN_DIR/detect-$1.failing"
    exit 0
}
# NOW = hundredths of a second since boot, without a fork (for the polling loops).
now_cs() {
    read -r up _ < /proc/uptime
    NOW=$((10#${up%.*}${up#*.}))
}
# nap SECONDS: a sleep without a process, a read that times out on a FIFO nobody writes
# (opened read and write, so it never reports end-of-file); `sleep` where there is none.
NAP_FD=""
nap() {
    if [ -z "$NAP_FD" ]; then
        NAP_FD=none
        [ -p "$RUN_DIR/nap.fifo" ] || { mkdir -p -m 0755 "$RUN_DIR" && mkfifo -m 0600 "$RUN_DIR/nap.fifo"; } 2>/dev/null
        [ -p "$RUN_DIR/nap.fifo" ] && exec {NAP_FD}<>"$RUN_DIR/nap.fifo"
    fi
    if [ "$NAP_FD" = none ]; then sleep "$1"; else read -r -t "$1" -u "$NAP_FD" _; fi
}
# CS_TEXT = hundredths of a second ($1) as seconds, for read -t and sleep.
cs_text() {
    printf -v CS_TEXT '%d.%02d' $(($1 / 100)) $(($1 % 100))
}
if [ "${1:-}" = arbiter ]; then
    # chk_arbiter: this node is cut off when neither the arbiter 10.213.0.1 nor its
    # peer ($2) answered an echo request for 45/100 s; then it must not hold the VIP.
    # One that still reaches either keeps it (an arbiter that is down alone must not take
    # the VIP off both nodes). Each run starts one ping per target (`timeout 0.55 ping -n -O -i 0.1`:
    # an echo request every 0.1 s until the run's window ends) and reads their answers.
    # The time of the last answer survives between runs in $RUN_DIR, so the gap between
    # two runs does not reset the count; a failure needs 0.2 s of asking without an
    # answer in this run, counted from ping's first line (a node that stalled asks again
    # before it gives up). Without ping the check passes: verify's `arbiter` check fails
    # instead, a missing tool must not drop the VIP on both nodes.
    command -v ping >/dev/null 2>&1 || exit 0
    state=$RUN_DIR/arbiter-answered
    now_cs
    start=$NOW
    last=""
    read -r last < "$state" 2>/dev/null
    case "$last" in ''|*[!0-9]*) last=$start;; esac
    [ "$last" -le "$start" ] || last=$start   # after a reboot
    [ -d "$RUN_DIR" ] || mkdir -p -m 0755 "$RUN_DIR"
    exec {answers}< <(timeout 0.55 ping -n -O -i 0.1 "${2:-10.213.0.1}" 2>&1 & timeout 0.55 ping -n -O -i 0.1 10.213.0.1 2>&1 & wait)
    # The asking counts from ping's first line, an answer or (-O) "no answer yet" for a
    # request sent 0.1 s before: on a loaded host starting the two processes can take
    # longer than the probe's wait, and the last answer is already the gap between two runs old.
    asking=""
    while :; do
        now_cs
        left=$((start + 55 - NOW))
        [ "$left" -gt 0 ] || break
        [ "$left" -le 20 ] || left=20
        cs_text "$left"
        if IFS= read -r -t "$CS_TEXT" -u "$answers" line; then
            now_cs
            [ -n "$asking" ] || asking=$((NOW - 10))
            case $line in
                *" bytes from "*)
                    last=$NOW
                    echo "$last" > "$state"
                    continue ;;
            esac
        elif [ $? -le 128 ]; then
            nap "$CS_TEXT"   # both pings ended early (no route): nothing more comes
        elif read -r -t 0 -u "$answers"; then
            continue   # the timer ran out while a line waited (a starved run): read it first
        fi
        now_cs
        [ -n "$asking" ] && [ $((NOW - asking)) -ge 20 ] &&
            [ $((NOW - last)) -ge 45 ] &&
            failed arbiter "no answer from the arbiter 10.213.0.1 nor the peer ${2:-} for $((NOW - last))0 ms"
    done
    [ $((NOW - last)) -ge 45 ] || passed arbiter
    exit 0
fi
SOCKET=/run/mysqld/mysqld.sock
[ -S "$SOCKET" ] || SOCKET=/run/mariadbd/mysqld.sock   # the packaged default of newer releases
if [ "${1:-}" = watch ]; then
    # chk_mysql_process: the server listens on its unix socket (/proc/net/unix lists only
    # sockets a live process holds open, under the path it bound: after a crash the file
    # stays, the entry goes), or, without a socket file, on TCP port 3306
    # (/proc/net/tcp*, state 0A: LISTEN). Polled every 0.1 s for 75/100 s; a hung
    # server still listens (chk_mysql notices it).
    real=$(readlink -f "$SOCKET" 2>/dev/null) || real=$SOCKET
    now_cs
    start=$NOW
    while :; do
        if [ -S "$SOCKET" ]; then
            # The path ends its line; the server may have bound /var/run/... for /run/...:
            # any of the names.
            unix=""
            IFS= read -r -d '' unix < /proc/net/unix
            case $unix in
                *" $SOCKET"$'\n'*|*" $real"$'\n'*|*" /var$real"$'\n'*) ;;
                *) failed process "no process listens on $SOCKET" ;;
            esac
        else
            grep -q ":0CEA [0-9A-F:]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null ||
                failed process "no socket file $SOCKET and nothing listens on port 3306"
        fi
        now_cs
        [ $((NOW - start)) -lt 75 ] || passed process
        nap 0.1
    done
fi
# chk_mysql: root over the local unix socket (socket authentication: keepalived runs it
# as root, no password), or TCP when there is no socket file. Each attempt is cut off
# after 0.5 s by `timeout` (a stopped server accepts the connection and never
# answers: only a client-side limit notices it) and the query carries the same limit on
# the server's side. Where root cannot log in that way, it falls back to `ping`, which
# proves the server accepts connections (it exits 0 even on "Access denied").
if [ -S "$SOCKET" ]; then
    set -- --socket="$SOCKET"
else
    set -- --protocol=TCP --host=127.0.0.1 --port=3306
fi
# TOOL = the first of the programs named on PATH (no subshell, unlike $(command -v)).
find_tool() {
    local name dir
    for name; do
        for dir in ${PATH//:/ }; do
            [ -x "$dir/$name" ] && { TOOL=$dir/$name; return 0; }
        done
    done
    TOOL=""
}
find_tool mariadb mysql
CLIENT=$TOOL
find_tool mariadb-admin mysqladmin
ADMIN=$TOOL
why="no client"
i=0
while [ $i -lt 2 ]; do
    i=$((i + 1))
    if [ -n "$CLIENT" ]; then
        out=$(timeout 0.5 "$CLIENT" --no-defaults --connect-timeout=1 -u root "$@" -N -B \
            -e 'SET STATEMENT max_statement_time = 0.5 FOR SELECT COUNT(*) >= 0 FROM mysql.innodb_table_stats' 2>&1)
        status=$?
        [ "$out" = 1 ] && passed health-check
        case "$out" in
            *"Access denied"*) ;;   # no socket login for root here: ping instead
            *) why="exit $status: $(echo "$out" | head -n 1)"; continue ;;
        esac
    fi
    [ -n "$ADMIN" ] || continue
    timeout 0.5 "$ADMIN" --no-defaults --connect-timeout=1 "$@" ping >/dev/null 2>&1 &&
        passed health-check
    why="ping exit $?"
done
[ "$why" != "exit 124: " ] || why="no answer within 0.5 s"
# This run's failure hands the VIP to the peer, but a hung server's clients would wait on
# their requests in flight until their own read timeout: their TCP has nothing to resend
# (this kernel acknowledged the requests), so nothing of theirs reaches the new holder.
# While this node still holds the VIP: refuse new connections to it for a moment
# (nftables set draining, 2 s: keepalived removes the VIP within milliseconds
# of this exit, then the refusal rule for a node without the VIP takes over) and reset
# the established ones, which works only while the VIP is this node's address. The
# clients see an error at once, connect again and reach the new holder. A request the
# server had not answered is not acknowledged: nothing acknowledged is lost. Without
# mhactl's nftables table (no nft, EL7) nothing is reset: a client connecting again would
# reach the hung server before the VIP left.
if ip -4 -o addr show 2>/dev/null | grep -qF " inet 10.213.0.100/" &&
    nft add element ip mhactl draining "{ 10.213.0.100 timeout 2s }" 2>/dev/null; then
    ss -K -tnH state established src 10.213.0.100 sport = :3306 >/dev/null 2>&1
    why="$why (connections to the VIP reset)"
fi
failed health-check "$why"
