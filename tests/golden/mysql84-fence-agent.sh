#!/bin/bash
# Managed by mhactl for cluster billing: the write fence agent (`writes: vip-holder`).
# keepalived starts it as `vrrp_notify_fifo_script` with the notify FIFO as $1 and writes
# one line per transition, in order: INSTANCE "VI_x" MASTER|BACKUP|FAULT|STOP <priority>.
# It keeps this server read-only unless it holds the VIP 192.168.10.20, and makes it writable
# only after its SQL thread has executed every event its IO thread had received (the old
# holder's last writes). It fences at once on BACKUP/FAULT/STOP and when keepalived stops
# (SIGTERM once the VIP is gone; on a reload keepalived also sends SIGTERM, but the VIP
# stays and a new agent starts at once, so a holder is left writable). Every second it
# also reconciles with the truth (is the VIP on a
# local interface? is the server read-only?), so a missed event or a restarted server is
# repaired. While /run/mhactl/fence-hold exists (a planned switchover is moving the VIP away
# from this node) it keeps the server fenced and never unfences it, even as the VIP
# holder. Credentials come from /etc/mysql/mhactl-fence.cnf (root only), never from argv.
# Each takeover is recorded in /run/mhactl/fence-takeover (overwritten, tmpfs): when this node
# first held the VIP read-only, how far behind it was, and when it became writable
# (failover-test reads it: the agent's own clock, no polling error). Every keepalived
# transition is appended to /run/mhactl/fence-events (`<time> <state>`; the previous 1000 lines
# move to /run/mhactl/fence-events.1), which has no syslog to depend on.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
FIFO=$1
VIP=192.168.10.20
HOLD=/run/mhactl/fence-hold
CATCH_UP_TIMEOUT=10
TAKEOVER=/run/mhactl/fence-takeover
EVENTS=/run/mhactl/fence-events
events=$(wc -l 2>/dev/null < "$EVENTS") || events=0   # lines in $EVENTS (kept across agent restarts)
CLIENT=$(command -v mariadb || command -v mysql)
ADMIN=$(command -v mariadb-admin || command -v mysqladmin)
role=""            # last keepalived state of our instance ("" until the first line)
waiting_since=""   # when we started waiting for the SQL thread to catch up
warned=""
tick=1             # seconds between reconciliations; 0.1 while a new VIP holder is pending
master_since=0     # when keepalived last said MASTER
takeover_at=""     # wall clock when this node first held the VIP read-only ("" otherwise)
behind_bytes=""    # received minus executed bytes, from the last caught_up ("" unknown)
backlog=""         # behind_bytes as the takeover began
down_since=""      # when the server last stopped answering ("" while it answers)

log() {
    logger -t mhactl-fence -- "$*" 2>/dev/null
    echo "mhactl-fence: $*" >&2
}

sql() {
    "$CLIENT" --defaults-extra-file=/etc/mysql/mhactl-fence.cnf --connect-timeout=2 -N -B -e "$1"
}

# ask OPTION_FILE CONNECT_TIMEOUT SQL: SQL's rows in ANSWER, through this shell's own
# long-lived client (a coprocess reading statements on its standard input and answering
# each, then `mhactl-end`), started at the first question: the agent asks every second on
# every node, and a client process per question cost 8 ms of CPU each (lab). Returns 1 when
# no answer came (an error, which also ends the client; nothing within 2 s): that client
# is ended and the next question starts a new one. ASK_FRESH is 1 when this question
# started the client. The agent and its client-list poller each have their own.
ask_pid=""
ask() {
    local line sent
    ANSWER=""
    ASK_FRESH=""
    if [ -z "$ask_pid" ]; then
        ASK_FRESH=1
        coproc ASKER { exec "$CLIENT" --defaults-extra-file="$1" --connect-timeout="$2" -N -B --unbuffered 2>&1; }
        ask_pid=$ASKER_PID
        ask_in=${ASKER[0]}
        ask_out=${ASKER[1]}
    fi
    # A client that ended closed its end: the write fails instead of killing the agent.
    trap '' PIPE
    printf '%s;\nSELECT '"'"'mhactl-end'"'"';\n' "$3" >&"$ask_out" 2>/dev/null
    sent=$?
    trap - PIPE
    if [ "$sent" = 0 ]; then
        while IFS= read -r -t 2 -u "$ask_in" line 2>/dev/null; do
            [ "$line" = mhactl-end ] && return 0
            ANSWER=${ANSWER:+$ANSWER$'\n'}$line
        done
    fi
    end_ask
    return 1
}

end_ask() {
    [ -n "$ask_pid" ] || return 0
    kill "$ask_pid" 2>/dev/null
    wait "$ask_pid" 2>/dev/null
    ask_pid=""
}

# The reconciliation's question (is the server read-only?) in RO, through `ask`. An
# answer other than 0 or 1 ends that client. A client that had answered before and fails
# now is asked once more through `sql`, so a killed session is not taken for a server
# that does not answer; one started just now that got no answer means the server does not
# answer (asking again would only double the client runs while it is down).
read_only_now() {
    if ask /etc/mysql/mhactl-fence.cnf 2 'SELECT @@GLOBAL.read_only'; then
        case $ANSWER in 0|1) RO=$ANSWER; return 0 ;; esac
        end_ask
    fi
    [ -z "$ASK_FRESH" ] || return 1
    RO=$(sql 'SELECT @@GLOBAL.read_only')
}

fence() {
    sql 'SET GLOBAL super_read_only = ON' || { log "fence failed: SET GLOBAL super_read_only = ON"; return 1; }
}

# One client run for all statements: each run costs a process and a login, and this
# one is on the failover's critical path. $1: a statement to run first (or nothing).
unfence() {
    sql "${1:+$1; }SET GLOBAL super_read_only = OFF; SET GLOBAL read_only = OFF" || { log "unfence failed: ${1:+$1; }SET GLOBAL super_read_only = OFF; SET GLOBAL read_only = OFF"; return 1; }
}

# Wall clock with microseconds in $NOW: bash 5's EPOCHREALTIME costs no process (this is
# on the failover's critical path); older bash forks date. The locale may use a comma.
stamp() {
    NOW=${EPOCHREALTIME:-$(date +%s.%N)}
    NOW=${NOW/,/.}
}

# One takeover's record, rewritten whole at each step (one small write: readers never
# see half a line). Fields: vip <time>, behind_bytes <n|unknown>, writable <time>.
record_takeover() {
    { printf 'vip %s\nbehind_bytes %s\n' "$takeover_at" "${backlog:-unknown}"
      [ -z "$1" ] || printf 'writable %s\n' "$1"
    } > "$TAKEOVER" 2>/dev/null
}

# One keepalived transition, appended with its time (no process: on the critical path).
record_event() {
    stamp
    if [ "$events" -ge 1000 ]; then
        mv -f "$EVENTS" "$EVENTS.1" 2>/dev/null
        events=0
    fi
    printf '%s %s\n' "$NOW" "$1" >> "$EVENTS" 2>/dev/null
    events=$((events + 1))
}

holds_vip() {
    ip -o addr show 2>/dev/null | grep -qF " inet $VIP/"
}

# True when the SQL thread has executed everything the IO thread received (or this
# server replicates from nobody). Column names differ by flavor and version.
caught_up() {
    local st
    # Vertical output, with column names (-N would drop them, measured on MariaDB 10.11).
    behind_bytes=""
    st=$("$CLIENT" --defaults-extra-file=/etc/mysql/mhactl-fence.cnf --connect-timeout=2 --vertical \
        -e 'SHOW REPLICA STATUS') || return 1
    [ -z "$st" ] && { behind_bytes=0; return 0; }
    # Parsed without a process: this is on the failover's critical path, and a dozen
    # sed runs cost 0.2 s on a loaded host (seen on the lab).
    local line read_file="" read_pos="" exec_file="" exec_pos=""
    while IFS= read -r line; do
        line=${line#"${line%%[! ]*}"}
        case $line in
            "Master_Log_File: "*|"Source_Log_File: "*) : "${read_file:=${line#*: }}" ;;
            "Read_Master_Log_Pos: "*|"Read_Source_Log_Pos: "*) : "${read_pos:=${line#*: }}" ;;
            "Relay_Master_Log_File: "*|"Relay_Source_Log_File: "*) : "${exec_file:=${line#*: }}" ;;
            "Exec_Master_Log_Pos: "*|"Exec_Source_Log_Pos: "*) : "${exec_pos:=${line#*: }}" ;;
        esac
    done <<<"$st"
    [ "$read_file" = "$exec_file" ] && [ -n "$read_pos" ] && [ -n "$exec_pos" ] &&
        behind_bytes=$((read_pos - exec_pos))
    [ -n "$read_file" ] && [ "$read_file" = "$exec_file" ] && [ "$read_pos" = "$exec_pos" ]
}
# Semi-synchronous replication: the source side follows the VIP. A commit waits for the
# peer's acknowledgement only where the source side is on: on while this node holds the
# VIP, off on the passive node. Why: a source keeps counting a replica whose server
# crashed until its dump thread next sends (a hung or cut-off one much longer), killing
# that thread takes effect only after about a second (the acknowledgement receiver's
# poll), and switching the source side off stalls every new connection for as long
# (measured on MySQL 9.7); a new holder whose source side was on made its first commits
# wait out the whole timeout (+1 s on the write gap after kill-mysqld). So a new holder
# starts with it off and becomes writable at once; a background job (the verdict) lists
# its dump threads and asks each replica's server (up to 1 s): when all
# answer, the source side goes on (with the unfence when the verdict is ready by then,
# otherwise as soon as it is); a thread whose server does not answer is killed, and the
# node stays asynchronous (nobody is there to acknowledge) until the peer's replica is
# back. `ping` exits 0 when a server answers at all, "Access denied" included (there is
# no account for this probe: an authentication failure does not count towards the
# peer's max_connect_errors, a dropped handshake would).
ss_on=""          # 1 once this agent turned the source side on for the VIP holder
ss_killed=""      # dump threads this agent killed, until the server dropped them
ss_off_due=""     # SECONDS when a passive node turns its source side off; "done" after
ss_pid=""         # the verdict started on MASTER, in the background
SS_FILE=/run/mhactl/semi-sync-verdict

peer_answers() {
    [ -n "$ADMIN" ] || return 0
    timeout 1 "$ADMIN" --no-defaults --connect-timeout=1 --host="$1" \
        --port=3307 --user=mhactl_probe ping >/dev/null 2>&1
}

# Prints `killed ID` for each dump thread whose replica's server does not answer (it is
# killed) or that was killed before and is still there, then `on` when none is left, or
# `stale`. Nothing when the threads cannot be read.
ss_verdict() {
    local threads id host stale=""
    threads=$(sql "SELECT ID, HOST FROM performance_schema.processlist WHERE COMMAND LIKE 'Binlog Dump%'") || return 0
    while read -r id host; do
        case $id in ''|*[!0-9]*) continue ;; esac
        case " $ss_killed " in
            *" $id "*) stale=1; echo "killed $id"; continue ;;
        esac
        peer_answers "${host%:*}" && continue
        stale=1
        echo "killed $id"
        sql "KILL CONNECTION $id" >/dev/null &&
            log "VIP holder: the server at ${host%:*} does not answer: its replica's dump thread $id killed, commits asynchronous until it is back"
    done <<<"$threads"
    if [ -n "$stale" ]; then echo stale; else echo on; fi
}

# On MASTER: the verdict in the background, while the takeover checks the catch-up.
ss_start() {
    rm -f "$SS_FILE"
    { ss_verdict > "$SS_FILE.new" && mv -f "$SS_FILE.new" "$SS_FILE"; } &
    ss_pid=$!
}

# Takes the verdict of the background job: remembers the killed threads; 0 when the
# source side may go on, 1 when not, 2 while the job still runs (or was only started
# now): the reconciliation never waits for a probe.
ss_take_verdict() {
    local v="" line
    if [ -z "$ss_pid" ]; then
        ss_start
        return 2
    fi
    kill -0 "$ss_pid" 2>/dev/null && return 2
    wait "$ss_pid" 2>/dev/null
    ss_pid=""
    [ -r "$SS_FILE" ] && v=$(<"$SS_FILE")
    ss_killed=""
    while read -r line; do
        case $line in
            "killed "*) ss_killed="$ss_killed ${line#killed }" ;;
            on) return 0 ;;
        esac
    done <<<"$v"
    return 1
}

# A writable VIP holder whose source side is not on yet: on once the verdict allows.
# Asked every 0.1 s while a probe runs, then at each reconciliation.
ss_holder() {
    ss_off_due=""
    [ -z "$ss_on" ] || return 0
    ss_take_verdict
    case $? in
        0) sql 'SET GLOBAL rpl_semi_sync_source_enabled = ON' && ss_on=1 ;;
        2) tick=0.1 ;;
    esac
}

# The passive node: source side off, 5 s after the fence, in the background.
ss_passive() {
    ss_on=""
    ss_killed=""
    # A verdict still probing finishes on its own (its kills only make the peer's replica
    # connect again); one that finished is reaped.
    if [ -n "$ss_pid" ] && ! kill -0 "$ss_pid" 2>/dev/null; then
        wait "$ss_pid" 2>/dev/null
        ss_pid=""
    fi
    [ "$ss_off_due" != done ] || return 0
    [ -n "$ss_off_due" ] || ss_off_due=$((SECONDS + 5))
    [ "$SECONDS" -ge "$ss_off_due" ] || return 0
    ss_off_due=done
    { [ "$(sql "SELECT @@GLOBAL.rpl_semi_sync_source_enabled")" != 1 ] || sql 'SET GLOBAL rpl_semi_sync_source_enabled = OFF'; } >/dev/null 2>&1 &
}


# --- Tickle ACKs (issue 17) ---------------------------------------------------------------
# A holder cut off (partition, isolate) cannot reset its clients, and a client's request
# in flight to it waits for TCP's retransmission (0.24, 0.72, 1.68 s after it was sent)
# before it reaches the new holder and is reset. The new holder ends that wait itself: it
# must know the old holder's connections before the cut, so while this node does not hold
# the VIP it reads the holder's client list once a second (in the background: a cut-off
# peer never stalls the loop above) with /etc/mysql/mhactl-clients.cnf (the peer's address and a
# PROCESS-only login) into /run/mhactl/peer-clients (`address port` lines, written whole).
CLIENTS=/run/mhactl/peer-clients
TICKLE_RECORD=/run/mhactl/tickle-last
held_vip_at_start=""

# Called once as the agent starts: notes whether the node holds the VIP already (a
# reload), and starts the poller.
start_tickle() {
    holds_vip && held_vip_at_start=1
    poll_peer_clients 3<&- &
}

poll_peer_clients() {
    local agent=$$
    # Ends with the agent (a new agent starts its own poller). The option file may come
    # after the agent (bootstrap writes it in the step after the agent's). Asked through
    # the poller's own long-lived client (`ask`), closed while this node holds the VIP.
    while kill -0 "$agent" 2>/dev/null; do
        if [ -r /etc/mysql/mhactl-clients.cnf ] && ! holds_vip; then
            ask /etc/mysql/mhactl-clients.cnf 1 'SELECT HOST, COMMAND, ID = CONNECTION_ID() FROM information_schema.PROCESSLIST' &&
                peer_clients "$ANSWER" > "$CLIENTS.tmp" && mv -f "$CLIENTS.tmp" "$CLIENTS"
        else
            end_ask
        fi
        sleep 1
    done
    end_ask
}

# The client list's rows (HOST, COMMAND, this query's own connection) as `address port`:
# TCP clients only (a socket's `localhost` and the server's own threads have no port),
# not the peer's replication (its binlog dump) nor this poll. MySQL may print an IPv4
# client as an IPv4-mapped IPv6 address.
peer_clients() {
    local host command self
    while IFS=$'\t' read -r host command self; do
        [ "$self" = 0 ] || continue
        case $command in "Binlog Dump"*) continue ;; esac
        host=${host#::ffff:}
        if [[ $host =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+$ ]]; then
            echo "${host%%:*} ${host#*:}"
        fi
    done <<<"$1"
}

# On MASTER after BACKUP or FAULT (a takeover; not an agent started while holding the
# VIP): tickle the old holder's clients through the VIP, in the background (never delays
# the unfence). keepalived writes MASTER after it added the VIP and sent its gratuitous
# ARPs, so the clients' answers reach this node. A tickled client whose connection is
# already gone, or was never to the VIP, only resets the probe; one still connected to
# the old holder through the VIP is cut off from it anyway now that the VIP is here.
# The list is used once (renamed to $CLIENTS.used): a later takeover uses a fresh one.
# /run/mhactl/tickle-last says when the last tickle ran and what it sent.
tickle_on_takeover() {
    [ "$1" = MASTER ] || return 0
    # No line yet since this agent started (keepalived reloaded): a takeover only if the
    # node did not hold the VIP when the agent started.
    case $2 in BACKUP|FAULT) ;; "") [ -z "$held_vip_at_start" ] || return 0 ;; *) return 0 ;; esac
    [ -s "$CLIENTS" ] && mv -f "$CLIENTS" "$CLIENTS.used" 2>/dev/null || return 0
    [ -x /usr/local/libexec/mhactl/tickle ] || { log "no /usr/local/libexec/mhactl/tickle: the old holder's clients are not tickled"; return 0; }
    {
        local out start
        stamp
        start=$NOW
        if out=$(/usr/local/libexec/mhactl/tickle 192.168.10.20 3307 < "$CLIENTS.used" 2>&1); then
            log "tickled the old holder's clients: $out"
        else
            log "tickle failed: $out"
        fi
        stamp
        # The last tickle, for failover-test's tests: when it started and ended (its second
        # round is 0.6 s after the first), and what the script said.
        printf '%s %s %s\n' "$start" "$NOW" "${out//$'\n'/ }" > "$TICKLE_RECORD" 2>/dev/null
    } 3<&- &
}

# One keepalived line: our instance's state becomes the role; BACKUP, FAULT, STOP and
# DELETED (the instance gone at a reload) fence.
handle_line() {
    local kind name state _prio
    read -r kind name state _prio <<<"$1"
    [ "$kind" = INSTANCE ] || return 0
    [ "$name" = '"VI_billing"' ] || [ "$name" = 'VI_billing' ] || return 0
    case $state in
        MASTER|BACKUP|FAULT|STOP|DELETED) ;;
        # Not a state: keepalived tells a MASTER that it received the advert of a lower
        # priority (MASTER_RX_LOWER_PRI: the peer missed ours and thinks it is MASTER
        # too; ours send it back to BACKUP). Taken as a role it fenced the VIP holder for
        # good (seen on a loaded lab: writes through the VIP refused until the next MASTER).
        *) log "keepalived says $state: not a state change"; return 0 ;;
    esac
    tickle_on_takeover "$state" "$role"
    role=$state
    record_event "$state"
    if [ "$state" = MASTER ]; then
        master_since=$SECONDS
        # The health check may have put the VIP in the draining set when this node's
        # server hung a moment ago (check-mysql.sh); holding the VIP again, it serves.
        nft flush set ip mhactl draining >/dev/null 2>&1 &
        ss_start
    fi
    case $state in
        BACKUP|FAULT|STOP|DELETED) log "$state: fencing"; fence ;;
    esac
}

# Handles the lines waiting in the FIFO, waiting up to 0.3 s for the first (keepalived
# writes its line a moment after it added the VIP).
read_waiting_lines() {
    local chunk wait=0.3
    while :; do
        if IFS= read -r -t "$wait" chunk <&3; then
            handle_line "$partial$chunk"
            partial=""
        else
            [ $? -gt 128 ] && partial=$partial$chunk
            return 0
        fi
        read -r -t 0 <&3 || return 0
        wait=0.2
    done
}

reconcile() {
    local ro
    tick=1
    if read_only_now; then ro=$RO; else
        # The server does not answer. One that restarts comes up fenced (its option file);
        # one that was hung (SIGSTOP, a stalled disk) resumes as it was, writable if it held
        # the VIP: a node that must be fenced asks again every 0.1 s, so that it is fenced
        # within 0.1 s of answering, not a second later (it would take writes meanwhile).
        # For 30 s; then every second (a server stopped for good costs a client run a second).
        [ -n "$down_since" ] || down_since=$SECONDS
        [ "$role" != MASTER ] && [ $((SECONDS - down_since)) -lt 30 ] && tick=0.1
        return 0
    fi
    down_since=""
    # A switchover holds the fence: it unfences (or rolls back) itself, then removes it.
    if [ -e "$HOLD" ]; then
        waiting_since=""
        warned=""
        takeover_at=""
        [ "$ro" = 1 ] || { log "fence hold $HOLD present: fencing"; fence; }
        return 0
    fi
    # A writable VIP holder whose last line is not MASTER: keepalived adds the VIP before
    # it writes MASTER, and a planned switchover unfences the new holder at once. If that
    # happened while this agent was in its query, the MASTER line is waiting in the FIFO:
    # read it before fencing (seen: a switchover's canary hit the fence).
    if [ "$ro" = 0 ] && [ "$role" != MASTER ] && [ -n "$role" ] && holds_vip; then
        read_waiting_lines
    fi
    if [ "$role" != MASTER ] && [ -n "$role" ] || ! holds_vip; then
        waiting_since=""
        warned=""
        takeover_at=""
        [ "$ro" = 1 ] || { log "not the VIP holder: fencing"; fence; }
        [ "$ro" = 1 ] && ss_passive
        # keepalived said MASTER and the VIP is not up yet: look again soon (for a while).
        [ "$role" = MASTER ] && [ $((SECONDS - master_since)) -lt 3 ] && tick=0.1
        return 0
    fi
    [ "$ro" = 0 ] && { ss_holder; return 0; }
    ss_on=""
    # A read-only VIP holder: a takeover begins (its first sight of the VIP is its start).
    local first=""
    [ -n "$takeover_at" ] || { stamp; takeover_at=$NOW; first=1; }
    local ok=""
    caught_up && ok=1
    [ -z "$first" ] || backlog=$behind_bytes
    if [ -n "$ok" ]; then
        local first_sql=""
        # The source side on in the same client run as the unfence, when the verdict
        # allows: the first commit is acknowledged by the peer, or waits for nobody.
        ss_take_verdict && first_sql='SET GLOBAL rpl_semi_sync_source_enabled = ON'
        if unfence "$first_sql"; then
            # Still probing: writable now (the source side is off, no commit waits), on as
            # soon as the verdict allows.
            if [ -n "$first_sql" ]; then ss_on=1; else tick=0.1; fi
            stamp
            record_takeover "$NOW"
            log "VIP holder and caught up: writable (held the VIP read-only since $takeover_at)"
        fi
        waiting_since=""
        warned=""
        takeover_at=""
        return 0
    fi
    # The backlog as first seen; the record says the takeover is waiting.
    [ -z "$first" ] || record_takeover ""
    # Consistency first: stay read-only until the relay log is executed, however long;
    # polled every 0.1 s for the first seconds (the usual case: milliseconds to apply).
    [ -n "$waiting_since" ] || waiting_since=$SECONDS
    [ $((SECONDS - waiting_since)) -lt 3 ] && tick=0.1
    if [ -z "$warned" ] && [ $((SECONDS - waiting_since)) -ge "$CATCH_UP_TIMEOUT" ]; then
        log "VIP holder still read-only: the SQL thread has not executed the received relay log after ${CATCH_UP_TIMEOUT}s (check replication)"
        warned=1
    fi
}

on_term() {
    # A reload restarts the agent and the VIP stays; keepalived stopping terminates it
    # too, and drops the VIP a moment later (seen: after the agent had checked, leaving
    # the old holder writable until someone started keepalived again). Up to 1 s tells
    # the two apart.
    local waited=0
    while [ $waited -lt 20 ] && holds_vip; do
        sleep 0.05
        waited=$((waited + 1))
    done
    if holds_vip; then
        log "terminated while holding the VIP (keepalived reloads; the next agent takes over)"
    else
        log "terminated: fencing"
        fence
    fi
    exit 0
}
trap on_term TERM INT HUP
# mhactl's runtime directory (tmpfs: gone after a reboot); other mhactl files live there.
install -d -o root -g root -m 0755 /run/mhactl 2>/dev/null
# The VIP refusal (bootstrap's vip-refuse step) serves what keepalived does, and a reboot
# empties nftables: keepalived starting this agent loads it again.
if [ -r /etc/keepalived/mhactl-vip-refuse.nft ] && command -v nft >/dev/null 2>&1; then
    nft -f /etc/keepalived/mhactl-vip-refuse.nft || log "could not load /etc/keepalived/mhactl-vip-refuse.nft"
fi
# Read and write, so the FIFO never reports end-of-file while keepalived reopens it.
exec 3<>"$FIFO" || { log "cannot open $FIFO"; fence; exit 1; }
start_tickle
reconcile
# What a timed-out read got of a line so far. bash reads a FIFO byte by byte, and when
# its timer fires in the middle of a line (a loaded host: the line was there, the agent
# was not scheduled) it returns the bytes read so far and drops them from the FIFO; the
# next read would start mid-line and a lost MASTER line left a new VIP holder read-only
# (seen at load 40 in about 1 of 25 failovers). They are kept and completed instead.
partial=""
while :; do
    if IFS= read -r -t "$tick" chunk <&3; then
        handle_line "$partial$chunk"
        partial=""
    elif [ $? -gt 128 ]; then
        partial=$partial$chunk
    fi
    reconcile
done
