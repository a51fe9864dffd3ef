#!/bin/sh
# Writes pgbouncer.ini from the environment, then runs PgBouncer in the foreground.
# Transaction pooling: the app runs with DB_TRANSACTION_POOLING=1 (docs/scaling.md, "PgBouncer").
set -eu
: "${DB_HOST:?DB_HOST is required}" "${DB_NAME:?DB_NAME is required}" "${DB_USER:?DB_USER is required}"
: "${DB_PASSWORD:?DB_PASSWORD is required}"
dir=/tmp/pgbouncer
mkdir -p "$dir"
umask 077
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
$DB_NAME = host=$DB_HOST port=${DB_PORT:-5432} dbname=$DB_NAME

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = ${POOL_SIZE:-20}
reserve_pool_size = 5
max_client_conn = ${MAX_CLIENT_CONN:-2000}
server_lifetime = 3600
server_idle_timeout = 60
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
INI
exec pgbouncer "$dir/pgbouncer.ini"
