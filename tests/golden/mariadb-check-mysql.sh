#!/bin/sh
# Managed by mhactl for cluster shop: keepalived's health check (chk_mysql).
# Exit 0 while the local database server is alive, 1 otherwise.
# `ping` exits 0 whenever the server answers, even with "Access denied",
# so no credentials are needed. The unix socket is preferred; TCP is the fallback.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ADMIN=$(command -v mariadb-admin || command -v mysqladmin) || exit 1
SOCKET=/run/mysqld/mysqld.sock
if [ -S "$SOCKET" ]; then
    set -- --socket="$SOCKET"
else
    set -- --protocol=TCP --host=127.0.0.1 --port=3306
fi
"$ADMIN" --no-defaults --connect-timeout=2 "$@" ping >/dev/null 2>&1 || exit 1
exit 0
