#!/usr/bin/env bash
# The eddy command line end to end, on an `eddy broker` of its own: topics
# are listed and described, `topics create` explains that the embedded broker
# ignores CreateTopics, produce and consume round-trip string and int32
# records, a bad int32 line fails the whole batch naming the line, describe
# prints the todo audit topology, kcat sees the broker's topics, and usage
# errors, a missing bootstrap address and an unreachable broker fail with
# their messages. The broker stops cleanly on SIGTERM.
#
#   eddy_cli_test.sh path/to/eddy
set -euo pipefail
# `printf ... | run ...` runs `run` in this shell, so that it sets $rc here.
shopt -s lastpipe
eddy=$1
work=$(mktemp -d)
broker_pid=
cleanup() {
  [[ -z $broker_pid ]] || kill "$broker_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

checks=0
fail() {
  echo "FAIL: $*"
  for f in "$work"/last.out "$work"/last.err; do
    [[ -s $f ]] && { echo "--- $(basename "$f"):"; cat "$f"; }
  done
  exit 1
}
ok() { checks=$((checks + 1)); }

# run [ARGS...]: runs eddy with ARGS (stdin from the caller), at most 30 s;
# stdout in $work/last.out, stderr in $work/last.err, the status in $rc.
run() {
  rc=0
  timeout 30 "$eddy" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  ((rc != 124)) || fail "eddy $* did not finish within 30 s"
}
out() { cat "$work/last.out"; }
err() { cat "$work/last.err"; }
expect_status() { [[ $rc == "$1" ]] || fail "eddy ${*:2}: exit status $rc, expected $1"; ok; }
expect_failure() { ((rc != 0)) || fail "eddy $*: exit status 0, expected a failure"; ok; }
expect_stdout() { [[ $(out) == "$1" ]] || fail "stdout is not:"$'\n'"$1"; ok; }
expect_stdout_has() { grep -qF -- "$1" "$work/last.out" || fail "stdout lacks: $1"; ok; }
expect_stderr_has() { grep -qF -- "$1" "$work/last.err" || fail "stderr lacks: $1"; ok; }

# --- the broker -------------------------------------------------------------
"$eddy" broker --topic t1:3 --topic nums --topic headers --topic escapes --partitions 1 >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 1 100); do
  grep -q '^bootstrap.servers=' "$work/broker.out" && break
  kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.err"; fail "eddy broker exited early"; }
  sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")
[[ $bootstrap =~ ^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+){2}$ ]] || fail "bootstrap line: '$bootstrap'"
[[ $(wc -l <"$work/broker.out") == 1 ]] || fail "eddy broker printed more than its one line"
ok
b=(-b "$bootstrap")

# --- topics -------------------------------------------------------------------
run topics list "${b[@]}"
expect_status 0 topics list
expect_stdout $'escapes partitions=1\nheaders partitions=1\nnums partitions=1\nt1 partitions=3'

# The bootstrap address from the environment.
rc=0
EDDY_BOOTSTRAP_SERVERS=$bootstrap timeout 30 "$eddy" topics list >"$work/last.out" 2>"$work/last.err" || rc=$?
expect_status 0 topics list with EDDY_BOOTSTRAP_SERVERS
expect_stdout_has "t1 partitions=3"

run topics describe t1 "${b[@]}"
expect_status 0 topics describe t1
[[ $(out | head -1) == "t1 partitions=3" ]] || fail "describe's first line: $(out | head -1)"
[[ $(out | grep -cE '^  partition=[0-2] leader=[1-3]$') == 3 ]] || fail "describe: one leader line per partition"
ok

run topics describe no.such.topic "${b[@]}"
expect_status 1 topics describe no.such.topic
expect_stderr_has "topic no.such.topic does not exist"

# The mock answers no CreateTopics: the command says so instead of timing out.
run topics create t2 --partitions 2 "${b[@]}"
expect_status 1 topics create t2
expect_stderr_has "ignores CreateTopics"
expect_stderr_has "eddy broker --topic t2:2"

run topics create t1 "${b[@]}"
expect_status 1 topics create t1
expect_stderr_has "topic t1 already exists with 3 partitions"
run topics create t1 --if-not-exists "${b[@]}"
expect_status 0 topics create t1 --if-not-exists

# --- produce and consume --------------------------------------------------------
printf 'a:1\nb:2\nno key here\n' | run produce t1 "${b[@]}"
expect_status 0 produce t1
expect_stderr_has "produced 3 records to t1"

# Three partitions: the order across them is not kept, so compare sorted.
run consume t1 --from-beginning -n 3 "${b[@]}"
expect_status 0 consume t1
[[ $(out | sort) == $(printf '(null)\tno key here\na\t1\nb\t2') ]] || fail "t1 did not round-trip:"$'\n'"$(out)"
ok

printf '1:10\n2:-20\n3:2147483647\n' | run produce nums --key-serde int32 --value-serde int32 "${b[@]}"
expect_status 0 produce nums
expect_stderr_has "produced 3 records to nums"

# A bad line anywhere fails the batch before anything is sent.
printf '4:40\n5:abc\n6:60\n' | run produce nums --key-serde int32 --value-serde int32 "${b[@]}"
expect_status 1 produce nums with a bad line
expect_stderr_has 'line 2: value "abc" is not an int32'
printf '99999999999:1\n' | run produce nums --key-serde int32 "${b[@]}"
expect_status 1 produce nums with an int32 out of range
expect_stderr_has 'line 1: key "99999999999" is out of range for int32'

# One partition: the order is kept, and only the first batch is there (the
# idle timeout ends the command).
run consume nums --from-beginning --key-serde int32 --value-serde int32 --timeout-ms 1500 "${b[@]}"
expect_status 0 consume nums
expect_stdout $'1\t10\n2\t-20\n3\t2147483647'

# Bytes the serde cannot read print as !<reason>.
run consume nums --from-beginning --key-serde int32 --value-serde int64 -n 1 "${b[@]}"
expect_status 0 consume nums as int64
expect_stdout $'1\t!int64: expected 8 bytes, got 4'

# A record's control bytes print escaped (they reached the terminal: ESC
# sequences, NUL, BEL), and so do bytes that are not UTF-8.
printf 'e\x1b[2J\x07:tab\there \xff\\ bell\x07\n' | run produce escapes "${b[@]}"
expect_status 0 produce escapes
run consume escapes --from-beginning -n 1 "${b[@]}"
expect_status 0 consume escapes
expect_stdout $'e\\x1b[2J\\x07\ttab\\x09here \\xff\\\\ bell\\x07'

if command -v kcat >/dev/null; then
  printf 'k:v\n' | timeout 30 kcat -b "$bootstrap" -P -t headers -K: -H h1=a -H h2=b
  run consume headers --from-beginning -n 1 --print-headers "${b[@]}"
  expect_status 0 consume headers
  expect_stdout $'k\tv [h1=a,h2=b]'

  timeout 30 kcat -b "$bootstrap" -L >"$work/last.out" 2>"$work/last.err" || fail "kcat -L failed"
  expect_stdout_has 'topic "t1" with 3 partitions'
  expect_stdout_has '3 brokers'
else
  echo "kcat not found: its checks are skipped"
fi

# --- describe -----------------------------------------------------------------
run describe todo-audit
expect_status 0 describe todo-audit
[[ $(out | head -4) == "Topologies:
   Sub-topology: 0
    Source: todo-task-events-source (topics: [todo.task-events])
      --> todo-audit-record" ]] || fail "describe todo-audit:"$'\n'"$(out)"
ok
run describe todo-audit --mermaid
expect_status 0 describe todo-audit --mermaid
[[ $(out | head -1) == "flowchart TD" ]] || fail "describe --mermaid:"$'\n'"$(out)"
ok
run describe no-such-app
expect_status 1 describe no-such-app
expect_stderr_has "unknown application no-such-app: known ones are todo-audit"

# --- usage errors and unreachable brokers ----------------------------------------
run frobnicate
expect_failure frobnicate
expect_stderr_has "unknown subcommand frobnicate"
run consume
expect_failure consume without a topic
expect_stderr_has "topic is required"
run produce t1 --value-serde float "${b[@]}"
expect_failure produce --value-serde float
# The embedded broker's bounds: asks the mock cluster would abort on are
# refused with the option named, before anything starts.
run broker --topic huge:100000000
expect_status 1 broker --topic huge:100000000
expect_stderr_has "--topic huge:100000000: expected NAME or NAME:PARTITIONS with PARTITIONS from 1 to 1000"
run broker --brokers 30000
expect_status 1 broker --brokers 30000
expect_stderr_has "--brokers 30000: from 1 to 32"
run broker --partitions 0
expect_status 1 broker --partitions 0
expect_stderr_has "--partitions 0: from 1 to 1000"

rc=0
env -u EDDY_BOOTSTRAP_SERVERS timeout 30 "$eddy" topics list >"$work/last.out" 2>"$work/last.err" || rc=$?
expect_status 1 topics list without bootstrap servers
expect_stderr_has "no bootstrap servers: pass -b or set EDDY_BOOTSTRAP_SERVERS"

for command in "topics list" "consume t1"; do
  start=$SECONDS
  # shellcheck disable=SC2086 # the command's words
  run $command -b 127.0.0.1:1
  expect_status 1 "$command" -b 127.0.0.1:1
  expect_stderr_has "cannot reach Kafka at 127.0.0.1:1"
  ((SECONDS - start <= 15)) || fail "$command: the unreachable broker took $((SECONDS - start)) s to report"
done

# --- the broker stops on SIGTERM ---------------------------------------------------
kill -TERM "$broker_pid"
rc=0
wait "$broker_pid" || rc=$?
broker_pid=
((rc == 0)) || fail "eddy broker: exit status $rc after SIGTERM"
ok

echo "eddy cli: $checks checks passed"
