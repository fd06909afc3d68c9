#!/bin/sh
# Managed by mhactl for cluster shop: keepalived's health check (chk_mysql).
# Exit 0 while the local database server answers a real query, 1 otherwise; keepalived
# kills the check after its `timeout`, so a hung server fails it too.
# It logs in as root over the local unix socket (socket authentication: keepalived runs
# it as root, no password). Where root cannot log in that way, it falls back to `ping`,
# which proves the server accepts connections (it exits 0 even on "Access denied").
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# `release`: switchover's VIP release file, checked this way where keepalived is older
# than 2.1 (no track_file): fail (FAULT) while it holds a value other than 0.
if [ "$1" = release ]; then
    v=$(cat /run/mhactl/vip-release 2>/dev/null | tr -d '[:space:]')
    [ "${v:-0}" = 0 ]
    exit
fi
if [ "${1:-}" = arbiter ]; then
    # chk_arbiter (vip.arbiter): exit 0 while this node reaches the arbiter 10.213.0.1
    # or its peer ($2). A node that reaches neither is cut off and must not hold the VIP;
    # one that still reaches one of them keeps it (an arbiter that is down alone must not
    # take the VIP off both nodes). Both are probed at once, so a run fails in one
    # probe's time. Without ping the check passes: verify's `arbiter` check fails instead,
    # a missing tool must not drop the VIP on both nodes.
    command -v ping >/dev/null 2>&1 || exit 0
    ping -n -q -c 2 -i 0.2 -W 1 10.213.0.1 >/dev/null 2>&1 &
    arbiter_probe=$!
    if [ -n "${2:-}" ] && ping -n -q -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1; then
        kill "$arbiter_probe" 2>/dev/null
        exit 0
    fi
    wait "$arbiter_probe"
    exit $?
fi
SOCKET=/run/mysqld/mysqld.sock
[ -S "$SOCKET" ] || SOCKET=/run/mariadbd/mysqld.sock   # the packaged default of newer releases
if [ -S "$SOCKET" ]; then
    set -- --socket="$SOCKET"
else
    set -- --protocol=TCP --host=127.0.0.1 --port=3306
fi
CLIENT=$(command -v mariadb || command -v mysql)
if [ -n "$CLIENT" ]; then
    out=$("$CLIENT" --no-defaults --connect-timeout=2 -u root "$@" -N -B -e 'SELECT 1' 2>&1)
    [ "$out" = 1 ] && exit 0
    case "$out" in
        *"Access denied"*) ;;   # no socket login for root here: fall back to ping
        *) exit 1 ;;
    esac
fi
ADMIN=$(command -v mariadb-admin || command -v mysqladmin) || exit 1
"$ADMIN" --no-defaults --connect-timeout=2 "$@" ping >/dev/null 2>&1 || exit 1
exit 0
