#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the PostgreSQL half of the test suite
# and prints the connection string to put in TOKENSERVER_TEST_POSTGRES. Needs Debian's
# postgresql package (apt-get install postgresql). Tuned for tests, not for data you keep:
# fsync is off.
#   export TOKENSERVER_TEST_POSTGRES="$(scripts/start-test-postgres.sh)"
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ]; then
  echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2
  exit 1
fi
data=${TOKENSERVER_PG_DIR:-/tmp/tokenserver-test-pg}
port=${TOKENSERVER_PG_PORT:-55432}
as_owner=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root; the cluster belongs to the postgres system user.
  as_owner=(runuser -u postgres --)
fi

if ! "${as_owner[@]}" "$pgbin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
  rm -rf "$data"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres "$data"
  "${as_owner[@]}" "$pgbin/initdb" -D "$data" -U tokenserver --auth=trust -E UTF8 >/dev/null
  "${as_owner[@]}" "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
fi
echo "Host=127.0.0.1;Port=$port;Username=tokenserver;Database=postgres"
