#!/usr/bin/env bash
# `eddy query` against a running app: stream_app counts clicks per user on
# its own embedded broker and serves its count store with a query_server;
# `eddy produce` feeds it, and `eddy query` reads a key's count, a key range
# and the instances as JSON, and fails with the server's message on an
# unknown key or store, and with a clear one when no server answers. A
# second instance joins: a range asked of either is merged from both,
# --local gives each one's own keys, and once it is killed a range is a 502
# naming it (--partial: the rest, and the instance as "missing").
#
#   eddy_query_test.sh path/to/eddy path/to/stream_app
set -euo pipefail
eddy=$1
stream_app=$2
work=$(mktemp -d)
app_pid=
app2_pid=
cleanup() {
  [[ -z $app_pid ]] || kill "$app_pid" 2>/dev/null || true
  [[ -z $app2_pid ]] || kill -KILL "$app2_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

checks=0
fail() {
  echo "FAIL: $*"
  for f in "$work"/last.out "$work"/last.err "$work"/app.err "$work"/app2.err; do
    [[ -s $f ]] && { echo "--- $(basename "$f"):"; tail -40 "$f"; }
  done
  exit 1
}
ok() { checks=$((checks + 1)); }
run() {
  rc=0
  timeout 30 "$eddy" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  ((rc != 124)) || fail "eddy $* did not finish within 30 s"
}
expect_status() { [[ $rc == "$1" ]] || fail "eddy ${*:2}: exit status $rc, expected $1"; ok; }
expect_stdout_has() { grep -qF -- "$1" "$work/last.out" || fail "stdout lacks: $1"; ok; }
expect_stderr_has() { grep -qF -- "$1" "$work/last.err" || fail "stderr lacks: $1"; ok; }

# --- the app ------------------------------------------------------------------
"$stream_app" --bootstrap embedded --app-id query-cli --in clicks --out click-counts --topology count \
  --state-dir "$work/state" --http-port 0 --assignor range >"$work/app.out" 2>"$work/app.err" &
app_pid=$!
for _ in $(seq 300); do
  grep -q '^running$' "$work/app.out" && break
  kill -0 "$app_pid" 2>/dev/null || fail "stream_app exited"
  sleep 0.1
done
grep -q '^running$' "$work/app.out" || fail "stream_app did not start"
bootstrap=$(sed -n 's/^bootstrap=//p' "$work/app.out")
server=$(sed -n 's/^http=//p' "$work/app.out")
[[ -n $bootstrap && -n $server ]] || fail "stream_app printed no addresses"

# k1 and k51 belong to u1, k2 to u2 (user u<i mod 50>).
printf 'k1:a\nk51:b\nk2:c\n' | timeout 30 "$eddy" produce clicks -b "$bootstrap" >/dev/null 2>"$work/last.err" \
  || fail "eddy produce failed"

# --- a key, once counted --------------------------------------------------------
for _ in $(seq 300); do
  run query counts u1 --server "$server"
  ((rc == 0)) && grep -qF '"value":2' "$work/last.out" && break
  sleep 0.1
done
expect_status 0 query counts u1
expect_stdout_has '{"store":"counts","key":"u1","value":2,"host":"'"$server"'"}'
EDDY_QUERY_SERVER=$server run query counts u2
expect_status 0 query counts u2
expect_stdout_has '"key":"u2","value":1'

# --- a range, the instances -----------------------------------------------------
run query counts --server "$server"
expect_status 0 query counts
expect_stdout_has '"scope":"all","host":"'"$server"'","hosts":["'"$server"'"]'
expect_stdout_has '"entries":[{"key":"u1","value":2},{"key":"u2","value":1}]'
run query counts --from u2 --to u3 --server "$server"
expect_stdout_has '"entries":[{"key":"u2","value":1}]'
run query counts --local --server "$server"
expect_status 0 query counts --local
expect_stdout_has '{"store":"counts","scope":"local","host":"'"$server"'","entries":[{"key":"u1","value":2},{"key":"u2","value":1}]}'
run query counts u1 --local --server "$server"
expect_status 1 query counts u1 --local
expect_stderr_has 'eddy: --local and --partial are for a range'
run query --instances --server "$server"
expect_status 0 query --instances
expect_stdout_has '"host":"'"$server"'"'
expect_stdout_has '"stores":["counts"]'

# --- errors ---------------------------------------------------------------------
run query counts nobody --server "$server"
expect_status 1 query counts nobody
expect_stderr_has 'eddy: key nobody not found in store counts (HTTP 404)'
run query nope x --server "$server"
expect_status 1 query nope x
expect_stderr_has 'eddy: no store named nope is served here (served: counts) (HTTP 404)'
run query counts u1 --windows --server "$server"
expect_status 1 query counts u1 --windows
expect_stderr_has 'store counts is not a window store'
run query counts u1 --server 127.0.0.1:1
expect_status 1 query --server 127.0.0.1:1
expect_stderr_has 'eddy: cannot reach the query server at 127.0.0.1:1'
run query counts u1 --server nonsense
expect_status 1 query --server nonsense
expect_stderr_has 'eddy: --server nonsense: expected host:port'
env -u EDDY_QUERY_SERVER "$eddy" query counts u1 >"$work/last.out" 2>"$work/last.err" && rc=0 || rc=$?
expect_status 1 query without a server
expect_stderr_has 'no query server: pass --server host:port or set EDDY_QUERY_SERVER'

# --- a second instance: ranges merged from both --------------------------------
"$stream_app" --bootstrap "$bootstrap" --app-id query-cli --in clicks --out click-counts --topology count \
  --state-dir "$work/state2" --http-port 0 --assignor range >"$work/app2.out" 2>"$work/app2.err" &
app2_pid=$!
for _ in $(seq 300); do
  grep -q '^http=' "$work/app2.out" && break
  sleep 0.1
done
server2=$(sed -n 's/^http=//p' "$work/app2.out")
[[ -n $server2 ]] || fail "the second stream_app printed no address"
# Both instances own a partition of counts (2 partitions, the range
# assignor), as each sees it.
hosts=$(printf '"%s"\n' "$server" "$server2" | sort | paste -sd, -)
split=
for _ in $(seq 600); do
  run query counts --server "$server"
  grep -qF '"hosts":['"$hosts"']' "$work/last.out" || { sleep 0.1; continue; }
  run query counts --server "$server2"
  if grep -qF '"hosts":['"$hosts"']' "$work/last.out" \
    && grep -qF '"entries":[{"key":"u1","value":2},{"key":"u2","value":1}]' "$work/last.out"; then
    split=1
    break
  fi
  sleep 0.1
done
[[ -n $split ]] || fail "the partitions did not split between the two instances"
for s in "$server" "$server2"; do
  run query counts --server "$s"
  expect_status 0 query counts of "$s"
  expect_stdout_has '"scope":"all","host":"'"$s"'","hosts":['"$hosts"']'
  expect_stdout_has '"entries":[{"key":"u1","value":2},{"key":"u2","value":1}]'
done
# --local: each instance's own keys; together every key once.
run query counts --local --server "$server"
local1=$(grep -o '"key":"u[0-9]*"' "$work/last.out" || true)
run query counts --local --server "$server2"
expect_stdout_has '"scope":"local","host":"'"$server2"'"'
local2=$(grep -o '"key":"u[0-9]*"' "$work/last.out" || true)
[[ $(printf '%s\n' $local1 $local2 | sort) == $(printf '"key":"u1"\n"key":"u2"') ]] \
  || fail "--local of the two instances: [$local1] and [$local2], expected u1 and u2 once"
ok
# The second instance dies: a range is a 502 naming it, --partial the rest.
kill -KILL "$app2_pid"
wait "$app2_pid" 2>/dev/null || true
run query counts --server "$server"
expect_status 1 query counts without the second instance
expect_stderr_has "instance $server2 did not answer"
expect_stderr_has '(HTTP 502)'
run query counts --partial --server "$server"
expect_status 0 query counts --partial
expect_stdout_has '"missing":["'"$server2"'"]'
partial_keys=$(grep -o '"key":"u[0-9]*"' "$work/last.out" || true)
[[ $partial_keys == "$local1" ]] || fail "--partial gave [$partial_keys], expected the first instance's [$local1]"
ok

kill -TERM "$app_pid"
wait "$app_pid" || fail "stream_app did not stop cleanly"
app_pid=
echo "eddy query: $checks checks passed"
