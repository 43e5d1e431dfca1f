#!/usr/bin/env bash
# The todo app end to end on its embedded broker: the seeded events come out
# as audit records, the unreadable one as a dead letter, and SIGTERM stops
# the app cleanly. A record on todo.audit that is not an AuditRecord (anyone
# may write one) is shown as unreadable and the app goes on (it exited).
set -euo pipefail
todo=$1
eddy=$2

# Bad arguments fail at start with a message naming the option: no abort
# (it was exit 134 from an uncaught std::invalid_argument), no wrapped port.
for args in "--run-for abc" "--run-for 99999999999999" "--run-for 0" "--http-port abc" "--http-port 70000" \
  "--http-port -1" "--frobnicate"; do
  rc=0
  # shellcheck disable=SC2086 # the arguments' words
  err=$(timeout 10 "$todo" $args 2>&1 >/dev/null) || rc=$?
  ((rc != 0 && rc < 124)) || { echo "FAIL: todo $args: exit status $rc"; exit 1; }
  [[ $err == *"${args%% *}"* ]] || { echo "FAIL: todo $args: the error does not name ${args%% *}: $err"; exit 1; }
done
out=$(mktemp)
trap 'rm -f "$out"; kill "$pid" 2>/dev/null || true' EXIT
"$todo" --http-port 0 >"$out" 2>/dev/null &
pid=$!
for _ in $(seq 1 300); do
  [[ $(grep -c '^audit  |' "$out" || true) -ge 5 && $(grep -c '^dlq    |' "$out" || true) -ge 1 ]] && break
  sleep 0.1
done
# The task table over HTTP (bash's /dev/tcp: no client needed).
http_get() {
  local hostport=${server#http://}
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$hostport" >&3
  cat <&3
  exec 3<&-
}
server=$(sed -n 's/^query server: //p' "$out")
task_json=
for _ in $(seq 1 100); do
  [[ -n $server ]] || server=$(sed -n 's/^query server: //p' "$out")
  [[ -n $server ]] && { task_json=$(http_get /stores/todo.tasks/keys/t-1) || true; }
  [[ $task_json == *'"version":3'* ]] && break
  sleep 0.1
done
missing_json=$(http_get /stores/todo.tasks/keys/t-2) || true
bootstrap=$(sed -n 's/^todo backbone running; bootstrap.servers=//p' "$out")
printf 'x\x1b[2J:\xff\x01garbage\n' | "$eddy" produce -b "$bootstrap" todo.audit
for _ in $(seq 1 100); do
  grep -q '^unreadable |' "$out" && break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null || { echo "FAIL: the app stopped after an unreadable audit record"; cat "$out"; exit 1; }
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
((rc == 0)) || fail "exit status $rc after SIGTERM"
grep -q '^todo backbone running; bootstrap.servers=127.0.0.1:' "$out" || fail "no bootstrap line"
grep -q "^note: the embedded broker keeps every record in this process's memory" "$out" || fail "no in-memory note"
grep -q '^audit  | t-1 | user alice created task t-1 "Buy milk"$' "$out" || fail "created"
grep -q '^audit  | t-1 | user alice updated task t-1 "Buy oat milk"; title: "Buy milk" -> "Buy oat milk"$' "$out" || fail "updated"
grep -q '^audit  | t-1 | user alice completed task t-1$' "$out" || fail "completed"
grep -q '^audit  | t-2 | user alice created task t-2 "Call the plumber"$' "$out" || fail "created t-2"
grep -q '^audit  | t-2 | user alice deleted task t-2$' "$out" || fail "deleted"
grep -q '^dlq    | t-3 | offset 2 of todo.task-events | protobuf<eddy.todo.TaskEvent>: cannot parse 19 bytes$' "$out" || fail "dead letter"
[[ $(grep -c '^audit  |' "$out") -eq 5 ]] || fail "expected exactly 5 audit records"
grep -q '^unreadable | todo.audit partition [0-2] offset [0-9]* | x\\x1b\[2J | protobuf<eddy.todo.AuditRecord>: cannot parse 9 bytes$' "$out" \
  || fail "the unreadable audit record, its key escaped"
# The task table, queried from its stores: t-1 folded from 3 events, t-2
# deleted.
grep -q '^task   | t-1 | done | Buy oat milk | owner alice | version 3$' "$out" || fail "task table t-1"
grep -q '^task   | t-2 ' "$out" && fail "a deleted task is still in the table"
grep -q '^todo backbone stopped$' "$out" || fail "no clean stop"
[[ $task_json == *'HTTP/1.0 200 OK'* && $task_json == *'"key":"t-1","value":{"taskId":"t-1","ownerId":"alice","title":"Buy oat milk"'* ]] \
  || fail "GET /stores/todo.tasks/keys/t-1 answered: $task_json"
[[ $missing_json == *'HTTP/1.0 404'* && $missing_json == *'key t-2 not found in store todo.tasks'* ]] \
  || fail "GET /stores/todo.tasks/keys/t-2 answered: $missing_json"
echo "todo app: 5 audit records, 1 unreadable shown, 1 dead letter, the task table (also over HTTP), clean stop"
