#!/bin/sh
# Managed by mhactl for cluster billing: keepalived's health check (chk_mysql).
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
SOCKET=/var/lib/mysql/mysql.sock
if [ -S "$SOCKET" ]; then
    set -- --socket="$SOCKET"
else
    set -- --protocol=TCP --host=127.0.0.1 --port=3307
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
