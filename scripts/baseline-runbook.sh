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
# MySQL (`flavor: mysql` in the lab's inventory: MySQL 9.x installed the RPM way, see
# docs/lab.md): the runbook's MySQL 5.7 steps adapted to what 9.x accepts, each listed in
# docs/adopt.md ("The runbook on MySQL 9.x"): runbook 1.2.2 as written (the temporary
# password from the error log, `ALTER USER USER()`, then the validate_password policy
# lowered, now `validate_password.policy`/`.length` of the component, by `SET GLOBAL`:
# 5.7's `validate_password = off` in my.cnf is an unknown option that stops 9.x from
# starting); the runbook's my.cnf is `/etc/my.cnf`, as on EL, with `expire_logs_days=7`
# written `binlog_expire_logs_seconds=604800` (removed in 8.4); Debian's own
# mysql.conf.d/mysqld.cnf, read after /etc/my.cnf, binds 127.0.0.1: its line is set to
# 0.0.0.0 (EL's packaged my.cnf has none); `GRANT ... IDENTIFIED BY` is `CREATE USER` +
# `GRANT`; `CHANGE MASTER`/`START SLAVE`/`SHOW SLAVE STATUS` are `CHANGE REPLICATION
# SOURCE` (with `GET_SOURCE_PUBLIC_KEY=1`: the account is caching_sha2_password, 9.x has
# no mysql_native_password)/`START REPLICA`/`SHOW REPLICA STATUS` (removed in 8.4);
# `systemctl enable --now` instead of `service ... start` (the RPM enables mysqld; the
# lab's daemonless systemctl reports a unit that is not enabled as neither active nor
# inactive, where systemd says active); the runbook's `validate_password = off` in my.cnf
# (5.7's plugin) is the component's `validate_password.policy=0` and `.length=1`, the
# values runbook 1.2.2 sets with `SET GLOBAL`, which a restart would undo. root logs in with its password from an option file
# (/root/e2e.cnf, mode 0600, written through stdin). `slave_skip_errors` and
# `log_slave_updates` are kept as written: 9.x still accepts them (deprecated).
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
flavor=$(inv_value flavor)
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

# --- what differs between the flavors (MySQL: see the header) ----------------------------
if [ "$flavor" = mysql ]; then
  packages="mysql-server mysql-client"
  start_server="systemctl enable --now mysql"
  restart_server="systemctl restart mysql"
  start_keepalived="systemctl enable --now keepalived"
  cnf=/etc/my.cnf
  client="mysql --defaults-extra-file=/root/e2e.cnf"
  expire="binlog_expire_logs_seconds=604800"
  flavor_lines="validate_password.policy=0
validate_password.length=1"
  create_repl="CREATE USER '$repl_user'@'%' IDENTIFIED BY '$repl_pw';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$repl_user'@'%';"
  start_replica="START REPLICA"
  master_status="SHOW BINARY LOG STATUS"
  replica_status="SHOW REPLICA STATUS"
  running="Replica_IO_Running: Yes"
  sql_running="Replica_SQL_Running: Yes"
  root_pw=$(secret root_password)
else
  packages="mariadb-server mariadb-client"
  start_server="service mariadb start"
  restart_server="service mariadb restart"
  start_keepalived="service keepalived start"
  cnf=/etc/mysql/mariadb.conf.d/60-runbook.cnf
  client=mysql
  expire="expire_logs_days=7"
  flavor_lines="bind-address=0.0.0.0"
  create_repl="GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '$repl_user'@'%' IDENTIFIED BY '$repl_pw';"
  start_replica="START SLAVE"
  master_status="SHOW MASTER STATUS"
  replica_status="SHOW SLAVE STATUS"
  running="Slave_IO_Running: Yes"
  sql_running="Slave_SQL_Running: Yes"
fi

# runbook 1.2.2 on MySQL: root's temporary, expired password (from the error log, into a
# 0600 option file by the node's shell builtins, never an argv) replaced by the lab's root
# password; then the runbook's lower validate_password policy (the component's names).
mysql_root_password() {
  local node=$1
  on "$node" sh <<'EOF'
umask 077
t=$(sed -n 's/.*temporary password is generated for root@localhost: //p' /var/log/mysql/error.log | tail -n 1)
t=$(printf '%s' "$t" | sed 's/[\\"]/\\&/g')
printf '[client]\nuser=root\npassword="%s"\n' "$t" > /root/e2e-temporary.cnf
EOF
  on "$node" 'mysql --defaults-extra-file=/root/e2e-temporary.cnf --connect-expired-password; rc=$?; rm -f /root/e2e-temporary.cnf; exit $rc' <<EOF
ALTER USER USER() IDENTIFIED BY '$root_pw';
EOF
  on "$node" 'umask 077; cat > /root/e2e.cnf' <<EOF
[client]
user=root
password="$root_pw"
EOF
  on "$node" "$client" <<EOF
SET GLOBAL validate_password.policy = 0;
SET GLOBAL validate_password.length = 1;
FLUSH PRIVILEGES;
EOF
}

# runbook 1.1: the server packages. MySQL 9.7's Debian postinst sometimes fails to
# initialize the empty /var/lib/mysql (MY-010943, then MY-013236 "the designated data
# directory is unusable"; about once in 10 to 60 installs, see src/os/failed_init.rs) and
# leaves the package half-configured. A DBA building the pair by hand sets the broken
# directory's contents aside and configures the package again; so does this script, up to
# twice, and only for that failure. apt's output is shown when the install fails for good.
install_server() {
  local node=$1 try out
  local attempt="DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages"
  for try in 1 2 3; do
    if out=$(on "$node" "$attempt" 2>&1); then return 0; fi
    if [ "$flavor" != mysql ] || [ "$try" = 3 ] || ! grep -q "mysql-server.*post-installation script" <<<"$out"; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    say "$node: mysql-server's postinst could not initialize /var/lib/mysql: set aside, configure again"
    on "$node" 'pgrep -x mysqld >/dev/null && exit 1; t=/var/lib/mysql.failed-init-$(date -u +%Y%m%dT%H%M%SZ)
      mkdir -m 700 "$t" && find /var/lib/mysql -mindepth 1 -maxdepth 1 -exec mv -t "$t" {} +'
    attempt="DEBIAN_FRONTEND=noninteractive dpkg --configure -a"
  done
}

# --- 1. MySQL on each node, one after the other -----------------------------------------
for node in node-a node-b; do
  say "$node: install $flavor (runbook 1.1)"
  on "$node" apt-get update -q >/dev/null
  install_server "$node"
  say "$node: start (runbook 1.2.1)"
  on "$node" $start_server >/dev/null
  if [ "$flavor" = mysql ]; then
    say "$node: root password, validate_password policy (runbook 1.2.2)"
    mysql_root_password "$node"
    on "$node" sed -i "'s/^bind-address.*/bind-address = 0.0.0.0/'" /etc/mysql/mysql.conf.d/mysqld.cnf
  fi
  say "$node: my.cnf (runbook 1.3.1.1 / 1.3.2.1)"
  on "$node" "cat > $cnf" <<EOF
[mysqld]
server_id=${server_id[$node]}
log-bin=mysql-bin
binlog_cache_size=1M
binlog_format=mixed
$expire
slave_skip_errors=1062
relay_log=mysql-relay-bin
log_slave_updates=1
auto_increment_increment=2
auto_increment_offset=${server_id[$node]}
$flavor_lines
EOF
  say "$node: restart (runbook 1.3.1.2)"
  on "$node" $restart_server >/dev/null
  say "$node: replication user (runbook 1.3.1.2)"
  on "$node" "$client" <<EOF
$create_repl
FLUSH PRIVILEGES;
EOF
  say "$node: show master status (runbook 1.3.1.2)"
  status=$(on "$node" "$client -N -e '$master_status'")
  binlog_file[$node]=$(awk '{print $1}' <<<"$status")
  binlog_pos[$node]=$(awk '{print $2}' <<<"$status")
  [ -n "${binlog_file[$node]}" ] || { echo "baseline: $node: no binary log" >&2; exit 1; }
done

# --- 2. replication both ways (runbook 1.3.1.3-1.3.2.4) ----------------------------------
for node in node-b node-a; do
  source_node=${peer[$node]}
  say "$node: change master to $source_node"
  if [ "$flavor" = mysql ]; then
    change="CHANGE REPLICATION SOURCE TO SOURCE_HOST='${addr[$source_node]}', SOURCE_USER='$repl_user', SOURCE_PASSWORD='$repl_pw', SOURCE_PORT=3306, SOURCE_LOG_FILE='${binlog_file[$source_node]}', SOURCE_LOG_POS=${binlog_pos[$source_node]}, SOURCE_CONNECT_RETRY=30, GET_SOURCE_PUBLIC_KEY=1;"
  else
    change="CHANGE MASTER TO MASTER_HOST='${addr[$source_node]}', MASTER_USER='$repl_user', MASTER_PASSWORD='$repl_pw', MASTER_PORT=3306, MASTER_LOG_FILE='${binlog_file[$source_node]}', MASTER_LOG_POS=${binlog_pos[$source_node]}, MASTER_CONNECT_RETRY=30;"
  fi
  on "$node" "$client" <<<"$change"
  say "$node: start slave"
  on "$node" "$client -e '$start_replica'"
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
  on "$node" $start_keepalived >/dev/null
done

# --- 4. check, as the runbook does by looking (1.3.1.4 show slave status, 2.3) ----------
for node in node-a node-b; do
  for _ in $(seq 60); do
    st=$(on "$node" "$client -E -e '$replica_status'")
    if grep -q "$running" <<<"$st" && grep -q "$sql_running" <<<"$st"; then
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
