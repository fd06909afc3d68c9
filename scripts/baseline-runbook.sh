#!/usr/bin/env bash
# The baseline for scripts/bench: the manual runbook (docs/runbook.md; the original is a
# Chinese guide for MySQL 5.7 on CentOS 7) scripted the naive way for the lab's MariaDB:
# one `ssh` invocation per runbook command, node-a first and then node-b, nothing in
# parallel, nothing checked before it is done. It is what mhactl replaces, run on a fresh
# `mhactl lab up` so that the two can be compared (docs/benchmarks.md).
#
#   scripts/baseline-runbook.sh LAB_DIR
#
# REPL_USER=NAME names the runbook's replication account (default `repl`; the runbook's
# own example is `hadoop`): a pair built with another account than the inventory's is the
# starting point of the e2e scenario
# replication::bootstrap_takes_over_a_runbook_pair_under_writes_without_losing_a_row.
#
# Runbook order: install, start, my.cnf, restart, replication user, SHOW MASTER STATUS on
# each node; CHANGE MASTER + START SLAVE both ways; install keepalived, keepalived.conf,
# start keepalived on each node; then wait until both replicas run and MySQL answers
# through the VIP (what mhactl's bootstrap also waits for before it finishes).
#
# Deviations from the runbook, all needed on Debian or in the lab: apt instead of yum
# (plus `apt-get update` for the lab's offline repository); `bind-address = 0.0.0.0`
# (Debian's MariaDB listens on 127.0.0.1 only); no `binlog-do-db`/`replicate-do-db`
# filters for the runbook's example databases; root through the unix socket (MariaDB on
# Debian has no temporary root password, so runbook 1.2.2/1.2.3 do not apply); the
# keepalived `virtual_server` (LVS) block and its `pkill keepalived` notify script are
# left out: the VIP itself is plain VRRP.
#
# Secrets: the passwords are read from LAB_DIR/secrets.yaml into shell variables and
# sent to the nodes inside SQL or config text on ssh's standard input, so they are in no
# process's argv on the control host or on the nodes. (The runbook itself types them into
# interactive clients and uses `mysql -uroot -p123456` on the command line; scripting it
# as `ssh node "mysql -e \"... IDENTIFIED BY '$pw'\""`, the usual naive way, puts them in
# the argv of ssh, sh and mysql. mhactl never puts a secret in a command line.)
#
# Counting: every ssh invocation is one SSH connection and one remote command. With
# MHACTL_STATS_FILE set, one JSON line per node is appended at the end, in mhactl's format:
# {"node":..,"ssh_connections":N,"remote_commands":N,"forwards":0}.
set -euo pipefail

dir=${1:?usage: scripts/baseline-runbook.sh LAB_DIR}
dir=$(cd "$dir" && pwd)
inv=$dir/inventory.yaml
[ -f "$inv" ] && [ -f "$dir/secrets.yaml" ] || { echo "baseline: no lab in $dir" >&2; exit 2; }

# --- what the lab's inventory says --------------------------------------------------------
node_address() { awk -v n="$1" '$0 ~ "name: "n"$" {getline; sub(/.*address: */, ""); print; exit}' "$inv"; }
inv_value() { sed -n "s/^ *$1: *//p" "$inv" | head -n 1 | tr -d '"'; }
secret() { sed -n "s/^$1: *\"\\(.*\\)\"\$/\\1/p" "$dir/secrets.yaml"; }

declare -A addr=([node-a]=$(node_address node-a) [node-b]=$(node_address node-b))
declare -A server_id=([node-a]=1 [node-b]=2) priority=([node-a]=100 [node-b]=90)
declare -A peer=([node-a]=node-b [node-b]=node-a)
vip=$(awk '/^vip:/ {v=1} v && /address:/ {sub(/.*address: */, ""); print; exit}' "$inv")
prefix=$(inv_value prefix)
interface=$(inv_value interface)
vrid=$(inv_value virtual_router_id)
repl_user=${REPL_USER:-repl}
repl_pw=$(secret replication_password)
vrrp_pw=$(secret vrrp_password)
[ -n "${addr[node-a]}" ] && [ -n "${addr[node-b]}" ] && [ -n "$vip" ] && [ -n "$repl_pw" ] && [ -n "$vrrp_pw" ] \
  || { echo "baseline: cannot read the lab's inventory or secrets in $dir" >&2; exit 2; }

# --- one ssh invocation per command, counted --------------------------------------------
count_file=$(mktemp)
trap 'rm -f "$count_file"' EXIT
ssh_opts=(-i "$dir/id_ed25519" -o "UserKnownHostsFile=$dir/known_hosts" -o StrictHostKeyChecking=yes
          -o BatchMode=yes -o LogLevel=ERROR)
# on NODE CMD...: run CMD on NODE over a new SSH connection (stdin passes through).
on() {
  local node=$1; shift
  echo "$node" >> "$count_file"
  ssh "${ssh_opts[@]}" "root@${addr[$node]}" "$@"
}
say() { printf '[%6.1fs] %s\n' "$(( $(date +%s%N) / 1000000 - t0 ))e-3" "$*" >&2; }
t0=$(( $(date +%s%N) / 1000000 ))

declare -A binlog_file binlog_pos

# --- 1. MySQL on each node, one after the other -----------------------------------------
for node in node-a node-b; do
  say "$node: install mariadb (runbook 1.1)"
  on "$node" apt-get update -q >/dev/null
  on "$node" DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server mariadb-client >/dev/null
  say "$node: start (runbook 1.2.1)"
  on "$node" service mariadb start >/dev/null
  say "$node: my.cnf (runbook 1.3.1.1 / 1.3.2.1)"
  on "$node" 'cat > /etc/mysql/mariadb.conf.d/60-runbook.cnf' <<EOF
[mysqld]
server_id=${server_id[$node]}
log-bin=mysql-bin
binlog_cache_size=1M
binlog_format=mixed
expire_logs_days=7
slave_skip_errors=1062
relay_log=mysql-relay-bin
log_slave_updates=1
auto_increment_increment=2
auto_increment_offset=${server_id[$node]}
bind-address=0.0.0.0
EOF
  say "$node: restart (runbook 1.3.1.2)"
  on "$node" service mariadb restart >/dev/null
  say "$node: replication user (runbook 1.3.1.2)"
  on "$node" mysql <<EOF
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$repl_user'@'%' IDENTIFIED BY '$repl_pw';
FLUSH PRIVILEGES;
EOF
  say "$node: show master status (runbook 1.3.1.2)"
  status=$(on "$node" mysql -N -e "'SHOW MASTER STATUS'")
  binlog_file[$node]=$(awk '{print $1}' <<<"$status")
  binlog_pos[$node]=$(awk '{print $2}' <<<"$status")
  [ -n "${binlog_file[$node]}" ] || { echo "baseline: $node: no binary log" >&2; exit 1; }
done

# --- 2. replication both ways (runbook 1.3.1.3-1.3.2.4) ----------------------------------
for node in node-b node-a; do
  source_node=${peer[$node]}
  say "$node: change master to $source_node"
  on "$node" mysql <<EOF
CHANGE MASTER TO MASTER_HOST='${addr[$source_node]}', MASTER_USER='$repl_user', MASTER_PASSWORD='$repl_pw', MASTER_PORT=3306, MASTER_LOG_FILE='${binlog_file[$source_node]}', MASTER_LOG_POS=${binlog_pos[$source_node]}, MASTER_CONNECT_RETRY=30;
EOF
  say "$node: start slave"
  on "$node" mysql -e "'START SLAVE'"
done

# --- 3. keepalived on each node (runbook 2.1, 2.2) -------------------------------------
for node in node-a node-b; do
  say "$node: install keepalived (runbook 2.1)"
  on "$node" DEBIAN_FRONTEND=noninteractive apt-get install -y -q keepalived >/dev/null
  say "$node: keepalived.conf (runbook 2.2)"
  on "$node" 'cat > /etc/keepalived/keepalived.conf' <<EOF
! Configuration File for keepalived (runbook 2.2, without the LVS virtual_server block)
global_defs {
    router_id HA_MySQL
}
vrrp_instance VI_1 {
    state BACKUP
    interface $interface
    virtual_router_id $vrid
    priority ${priority[$node]}
    advert_int 1
    nopreempt
    authentication {
        auth_type PASS
        auth_pass $vrrp_pw
    }
    virtual_ipaddress {
        $vip/$prefix
    }
}
EOF
  say "$node: start keepalived"
  on "$node" service keepalived start >/dev/null
done

# --- 4. check, as the runbook does by looking (1.3.1.4 show slave status, 2.3) ----------
for node in node-a node-b; do
  for _ in $(seq 60); do
    st=$(on "$node" mysql -e "'SHOW SLAVE STATUS\\G'")
    if grep -q 'Slave_IO_Running: Yes' <<<"$st" && grep -q 'Slave_SQL_Running: Yes' <<<"$st"; then
      say "$node: replicating"; break
    fi
    sleep 1
  done
done
answered=
for _ in $(seq 60); do
  # runbook 2.3.2: MySQL through the VIP (here from node-b with the replication account,
  # its password in an option file on stdin rather than `-p` on the command line)
  if id=$(on node-b mysql --defaults-extra-file=/dev/stdin -h "$vip" -u "$repl_user" -N -e "'SELECT @@server_id'" 2>/dev/null <<EOF
[client]
password=$repl_pw
EOF
  ); then
    answered=$id; break
  fi
  sleep 1
done
[ -n "$answered" ] || { echo "baseline: nothing answers through the VIP $vip" >&2; exit 1; }
say "VIP $vip answers with server_id $answered"

total=$(wc -l < "$count_file")
say "done: $total ssh connections, one remote command each"
if [ -n "${MHACTL_STATS_FILE:-}" ]; then
  for node in node-a node-b; do
    n=$(grep -cx "$node" "$count_file" || true)
    printf '{"node":"%s","ssh_connections":%d,"remote_commands":%d,"forwards":0}\n' "$node" "$n" "$n" >> "$MHACTL_STATS_FILE"
  done
fi
