#!/usr/bin/env bash
# Flood isolation scenario (issue 5, item 3): saturate the login route and watch a protected
# read keep answering. A benchmark to run by hand, not a test: timings depend on the machine.
#
# Start the server with the per-address limit raised (one machine floods from one address):
#   TokenServer__RateLimits__PermitLimit=1000000 dotnet run --project src/TokenServer
# then:  bench/flood/login-flood.sh [base-url] [parallel-login-loops] [seconds]
#
# Expect: login answers 200/401 at the hashing rate and 503 (Retry-After: 1) beyond the
# queue, while GET /api/v1/auth/me stays at a few milliseconds and always 200.
set -euo pipefail

base="${1:-http://localhost:8000}"
loops="${2:-32}"
seconds="${3:-20}"
email="flood-$$-$RANDOM@example.org"
password="flood-password-123"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

curl -sf -o /dev/null -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"full_name\":\"Flood\"}" "$base/api/v1/auth/register"
token="$(curl -sf -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"$password\"}" \
  "$base/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"

end=$((SECONDS + seconds))
for i in $(seq "$loops"); do
  (
    while [ "$SECONDS" -lt "$end" ]; do
      curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"wrong-$i\"}" "$base/api/v1/auth/login"
    done
  ) >"$out/login-$i" &
done

while [ "$SECONDS" -lt "$end" ]; do
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" "$base/api/v1/auth/me" >>"$out/me"
  sleep 0.1
done
wait

echo "login status counts:"
cat "$out"/login-* | sort | uniq -c
echo "GET /auth/me status counts:"
cut -d' ' -f1 "$out/me" | sort | uniq -c
echo "GET /auth/me latency (s): p50 p95 max"
cut -d' ' -f2 "$out/me" | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.5)+1], a[int(NR*0.95)+1], a[NR]}'
