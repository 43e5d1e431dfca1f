#!/usr/bin/env bash
# `eddy dlq inspect` and `eddy dlq replay` end to end, on an `eddy broker` of
# their own. dlq_seed writes dead letters with eddy::make_dead_letter (and a
# record without dead-letter headers); inspect prints them (exact lines, each
# filter, --json fields, --follow); replay re-publishes them to their source
# topics and to --to with their original key, value and headers plus the
# replay marks, skips what the same replay id replayed already, replays again
# under another id, publishes nothing on --dry-run, goes in --limit steps, and
# refuses bad arguments and unknown topics with exit status 1 and a message.
# Last, a real dead letter: the todo app's unreadable seeded task event.
#
#   eddy_dlq_test.sh path/to/eddy path/to/dlq_seed path/to/todo
set -euo pipefail
shopt -s lastpipe
eddy=$1
seed=$2
todo=$3
work=$(mktemp -d)
broker_pid=
follow_pid=
todo_pid=
cleanup() {
  [[ -z $todo_pid ]] || kill "$todo_pid" 2>/dev/null || true
  [[ -z $follow_pid ]] || kill "$follow_pid" 2>/dev/null || true
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

run() {
  rc=0
  timeout 60 "$eddy" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  ((rc != 124)) || fail "eddy $* did not finish within 60 s"
}
out() { cat "$work/last.out"; }
expect_status() { [[ $rc == "$1" ]] || fail "eddy ${*:2}: exit status $rc, expected $1"; ok; }
expect_stdout() { [[ $(out) == "$1" ]] || fail "stdout is not:"$'\n'"$1"; ok; }
expect_stdout_has() { grep -qF -- "$1" "$work/last.out" || fail "stdout lacks: $1"; ok; }
expect_stderr_has() { grep -qF -- "$1" "$work/last.err" || fail "stderr lacks: $1"; ok; }
# jq_is FILTER EXPECTED: FILTER over the JSON lines of stdout (slurped).
jq_is() {
  local got
  got=$(jq -c -s "$1" "$work/last.out") || fail "jq $1"
  [[ $got == "$2" ]] || fail "jq $1: got $got, expected $2"
  ok
}

# --- the broker and the dead letters --------------------------------------------
"$eddy" broker --topic dlq --topic dlq.replays --topic orders:2 --topic payments --topic copies \
  --topic dlq2 --topic dlq3 --topic dlq3.replays --topic live >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
for _ in $(seq 1 100); do
  grep -q '^bootstrap.servers=' "$work/broker.out" && break
  kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.err"; fail "eddy broker exited early"; }
  sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")
[[ -n $bootstrap ]] || fail "no bootstrap.servers line"
b=(-b "$bootstrap")

# dead|KEY|VALUE|CLASS|MESSAGE|SOURCE_TOPIC|PARTITION|OFFSET|NODE|ATTEMPTS|APP|TIME_MS|TIMESTAMP|HEADERS
# 1700000000000 is 2023-11-14T22:13:20Z.
"$seed" "$bootstrap" dlq <<'EOF' 2>"$work/seed.err" || { cat "$work/seed.err"; fail "dlq_seed"; }
dead|k1|v1|serde_error|bad bytes: expected 4|orders|1|42|orders-source|1|todo|1700000000000|1699999999000|trace=abc
dead|k2|hex:0001ff|processing_error|division by zero|orders|0|7|KSTREAM-MAP-0000000002|5|todo|1700000060000|1700000059000|
plain|stray|not a dead letter|
dead|\N|{"amount":3}|serde_error|truncated protobuf|payments|0|3|payments-source|1|billing|1700000120000|1700000119000|h=
EOF
ok

line0='dlq/0/0 time=2023-11-14T22:13:20.000Z class=serde_error source=orders/1/42 node=orders-source attempts=1 app=todo message="bad bytes: expected 4" key=k1 value=v1 headers=[trace=abc]'
line1='dlq/0/1 time=2023-11-14T22:14:20.000Z class=processing_error source=orders/0/7 node=KSTREAM-MAP-0000000002 attempts=5 app=todo message="division by zero" key=k2 value=base64:AAH/'
line2='dlq/0/2 not a dead letter (no header eddy.error.class) key=stray value="not a dead letter"'
line3='dlq/0/3 time=2023-11-14T22:15:20.000Z class=serde_error source=payments/0/3 node=payments-source attempts=1 app=billing message="truncated protobuf" key=null value="{\"amount\":3}" headers=[h=""]'

# --- inspect ----------------------------------------------------------------------
run dlq inspect dlq "${b[@]}"
expect_status 0 dlq inspect dlq
expect_stdout "$line0"$'\n'"$line1"$'\n'"$line2"$'\n'"$line3"

run dlq inspect dlq --error serde "${b[@]}"
expect_status 0 dlq inspect --error serde
expect_stdout "$line0"$'\n'"$line3"
run dlq inspect dlq --error "division by" "${b[@]}"
expect_stdout "$line1"
run dlq inspect dlq --source-topic payments "${b[@]}"
expect_stdout "$line3"
run dlq inspect dlq --node orders-source "${b[@]}"
expect_stdout "$line0"
# --since inclusive, --until exclusive, ISO-8601 or epoch ms.
run dlq inspect dlq --since 2023-11-14T22:14:20Z --until 1700000120000 "${b[@]}"
expect_stdout "$line1"
run dlq inspect dlq --since 2023-11-14T23:14:20+01:00 "${b[@]}"
expect_stdout "$line1"$'\n'"$line3"
run dlq inspect dlq --limit 2 "${b[@]}"
expect_stdout "$line0"$'\n'"$line1"
run dlq inspect dlq --where offset=2-3 "${b[@]}"
expect_stdout "$line2"$'\n'"$line3"
run dlq inspect dlq --where error=serde --where source-topic=orders "${b[@]}"
expect_stdout "$line0"
run dlq inspect dlq --error nothing-like-this "${b[@]}"
expect_status 0 dlq inspect matching nothing
expect_stdout ""

run dlq inspect dlq --json "${b[@]}"
expect_status 0 dlq inspect --json
jq_is 'length' '4'
jq_is '.[0] | [.topic, .partition, .offset, .timestamp, .dead_letter]' '["dlq",0,0,1699999999000,true]'
jq_is '.[0] | [.error_class, .error_message, .source_topic, .source_partition, .source_offset, .processor_node, .attempts, .application_id, .error_time, .error_time_iso]' \
  '["serde_error","bad bytes: expected 4","orders",1,42,"orders-source",1,"todo",1700000000000,"2023-11-14T22:13:20.000Z"]'
jq_is '.[0] | [.key, .key_encoding, .value, .value_encoding, .headers]' \
  '["k1","utf8","v1","utf8",[{"key":"trace","value":"abc","value_encoding":"utf8"}]]'
jq_is '.[1] | [.value, .value_encoding, .attempts, .headers]' '["AAH/","base64",5,[]]'
jq_is '.[2] | [.dead_letter, .not_dead_letter, .key, .value, has("error_class")]' \
  '[false,"no header eddy.error.class","stray","not a dead letter",false]'
jq_is '.[3] | [.key, .key_encoding, .value, .application_id]' '[null,null,"{\"amount\":3}","billing"]'

# --follow: the records there, then one written later, until SIGTERM.
"$seed" "$bootstrap" live <<<'dead|a|1|c|first|orders|0|1|n|1|app|1700000000000|1700000000000|' 2>/dev/null
"$eddy" dlq inspect live --follow "${b[@]}" >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
for _ in $(seq 1 100); do
  [[ $(wc -l <"$work/follow.out") == 1 ]] && break
  sleep 0.1
done
"$seed" "$bootstrap" live <<<'dead|b|2|c|second|orders|0|2|n|1|app|1700000000000|1700000000000|' 2>/dev/null
for _ in $(seq 1 100); do
  [[ $(wc -l <"$work/follow.out") == 2 ]] && break
  sleep 0.1
done
kill -TERM "$follow_pid"
rc=0
wait "$follow_pid" || rc=$?
follow_pid=
((rc == 0)) || fail "dlq inspect --follow: exit status $rc after SIGTERM"
[[ $(cut -d' ' -f1,8 "$work/follow.out") == $'live/0/0 message=first\nlive/0/1 message=second' ]] ||
  fail "dlq inspect --follow printed:"$'\n'"$(cat "$work/follow.out")"
ok

# --- replay --dry-run publishes nothing --------------------------------------------
run dlq replay dlq --replay-id r1 --dry-run "${b[@]}"
expect_status 0 dlq replay --dry-run
expect_stdout 'would replay dlq/0/0 -> orders/1 key=k1 value=v1
would replay dlq/0/1 -> orders/0 key=k2 value=base64:AAH/
would replay dlq/0/3 -> payments/0 key=null value="{\"amount\":3}"
dry run: would replay 3, skipped 0 already replayed with r1, 1 not dead letters'
expect_stderr_has "skipped dlq/0/2: not a dead letter (no header eddy.error.class)"
for topic in orders payments dlq.replays; do
  run consume "$topic" --from-beginning --timeout-ms 1000 "${b[@]}"
  expect_status 0 consume "$topic"
  [[ -z $(out) ]] || fail "--dry-run published to $topic:"$'\n'"$(out)"
  ok
done

# A generated id is printed.
run dlq replay dlq --dry-run "${b[@]}"
expect_status 0 dlq replay --dry-run without an id
expect_stderr_has "replay id replay-"
expect_stdout_has "dry run: would replay 3, skipped 0 already replayed with replay-"

# --- replay to the source topics -----------------------------------------------------
run dlq replay dlq --replay-id r1 "${b[@]}"
expect_status 0 dlq replay --replay-id r1
expect_stdout 'replayed dlq/0/0 -> orders/1/0
replayed dlq/0/1 -> orders/0/0
replayed dlq/0/3 -> payments/0/0
replayed 3, skipped 0 already replayed with r1, 1 not dead letters'

# The original key and value bytes, the original headers without the
# dead-letter ones, the replay marks, the original timestamp.
run dlq inspect orders --json "${b[@]}"
expect_status 0 dlq inspect orders
jq_is 'length' '2'
jq_is 'sort_by(.partition) | map([.partition, .key, .value, .value_encoding, .timestamp])' \
  '[[0,"k2","AAH/","base64",1700000059000],[1,"k1","v1","utf8",1699999999000]]'
jq_is 'sort_by(.partition) | map(.headers | map(.key))' \
  '[["eddy.replay.id","eddy.replayed.from","eddy.replay.time"],["trace","eddy.replay.id","eddy.replayed.from","eddy.replay.time"]]'
jq_is 'sort_by(.partition) | map(.headers | map(select(.key != "eddy.replay.time")) | map(.value))' \
  '[["r1","dlq/0/1"],["abc","r1","dlq/0/0"]]'
jq_is 'map(.headers[] | select(.key == "eddy.replay.time") | .value | tonumber > 1700000000000) | all' 'true'
# The same through eddy consume: k1's bytes and headers.
run consume payments --from-beginning -n 1 --print-headers "${b[@]}"
expect_status 0 consume payments
[[ $(out) =~ ^\(null\)$'\t'\{\"amount\":3\}\ \[h=,eddy.replay.id=r1,eddy.replayed.from=dlq/0/3,eddy.replay.time=[0-9]{13}\]$ ]] ||
  fail "payments holds:"$'\n'"$(out)"
ok

# The same id again: nothing more.
run dlq replay dlq --replay-id r1 "${b[@]}"
expect_status 0 dlq replay r1 again
expect_stdout 'replayed 0, skipped 3 already replayed with r1, 1 not dead letters'
run dlq replay dlq --replay-id r1 --dry-run "${b[@]}"
expect_stdout 'dry run: would replay 0, skipped 3 already replayed with r1, 1 not dead letters'
run dlq inspect orders "${b[@]}"
[[ $(out | wc -l) == 2 ]] || fail "r1 again published to orders:"$'\n'"$(out)"
ok

# Another id replays again, with the same filters as inspect.
run dlq replay dlq --replay-id r2 --error division "${b[@]}"
expect_status 0 dlq replay r2 --error division
expect_stdout $'replayed dlq/0/1 -> orders/0/1\nreplayed 1, skipped 0 already replayed with r2'

# --- replay --to ------------------------------------------------------------------
run dlq replay dlq --to copies --replay-id r3 --where source-topic=orders "${b[@]}"
expect_status 0 dlq replay --to copies
expect_stdout $'replayed dlq/0/0 -> copies/0/0\nreplayed dlq/0/1 -> copies/0/1\nreplayed 2, skipped 0 already replayed with r3'
run dlq inspect copies --json "${b[@]}"
jq_is 'map([.key, .value, (.headers | map(select(.key == "eddy.replayed.from")) | .[0].value)])' \
  '[["k1","v1","dlq/0/0"],["k2","AAH/","dlq/0/1"]]'
# r3 without the filter: only what r3 has not replayed.
run dlq replay dlq --to copies --replay-id r3 "${b[@]}"
expect_stdout $'replayed dlq/0/3 -> copies/0/2\nreplayed 1, skipped 2 already replayed with r3, 1 not dead letters'

# --limit goes in steps under one id.
run dlq replay dlq --to copies --replay-id r4 --limit 1 "${b[@]}"
expect_stdout $'replayed dlq/0/0 -> copies/0/3\nreplayed 1, skipped 0 already replayed with r4, 1 not dead letters'
run dlq replay dlq --to copies --replay-id r4 --limit 1 "${b[@]}"
expect_stdout $'replayed dlq/0/1 -> copies/0/4\nreplayed 1, skipped 1 already replayed with r4, 1 not dead letters'

# The bookkeeping: one entry per replayed record and id.
run consume dlq.replays --from-beginning --timeout-ms 1000 "${b[@]}"
[[ $(out | cut -f1 | sort | tr '\n' ' ') == "r1/0/0 r1/0/1 r1/0/3 r2/0/1 r3/0/0 r3/0/1 r3/0/3 r4/0/0 r4/0/1 " ]] ||
  fail "dlq.replays holds:"$'\n'"$(out)"
ok
expect_stdout_has $'r1/0/0\t{"from":"dlq/0/0","replay_id":"r1"'
expect_stdout_has '"to":"orders/1/0"'

# --- failures -------------------------------------------------------------------
run dlq inspect no.such.topic "${b[@]}"
expect_status 1 dlq inspect no.such.topic
expect_stderr_has "eddy: topic no.such.topic does not exist on $bootstrap"
run dlq replay no.such.topic --replay-id x "${b[@]}"
expect_status 1 dlq replay no.such.topic
expect_stderr_has "topic no.such.topic does not exist"
run dlq replay dlq --to no.such.target --replay-id r5 "${b[@]}"
expect_status 1 dlq replay --to no.such.target
expect_stderr_has "topic no.such.target (the target of dlq/0/0) does not exist on $bootstrap; nothing replayed"
run dlq replay dlq --replay-id r5 --dry-run "${b[@]}"
expect_stdout_has "would replay 3, skipped 0 already replayed with r5"
run dlq inspect dlq --since soon "${b[@]}"
expect_status 1 dlq inspect --since soon
expect_stderr_has 'eddy: --since: "soon" is not a time'
run dlq inspect dlq --since 2000 --until 1000 "${b[@]}"
expect_status 1 dlq inspect --since after --until
expect_stderr_has "is not before --until"
run dlq inspect dlq --where colour=red "${b[@]}"
expect_status 1 dlq inspect --where colour=red
expect_stderr_has "unknown key colour"
run dlq replay dlq --replay-id a/b "${b[@]}"
expect_status 1 dlq replay --replay-id a/b
expect_stderr_has "--replay-id \"a/b\": 1 to 200 characters, no '/'"
run dlq replay dlq --to dlq --replay-id r6 "${b[@]}"
expect_status 1 dlq replay --to dlq
expect_stderr_has "not the dead-letter topic or its bookkeeping topic"
run dlq replay dlq --replays-topic dlq --replay-id r6 "${b[@]}"
expect_status 1 dlq replay --replays-topic dlq
expect_stderr_has "--replays-topic dlq: not the dead-letter topic itself"
run dlq inspect "bad topic" "${b[@]}"
expect_status 1 dlq inspect "bad topic"
expect_stderr_has "is not a legal topic name"
run dlq
((rc != 0)) || fail "eddy dlq without a subcommand succeeded"
ok
run dlq inspect
((rc != 0)) || fail "eddy dlq inspect without a topic succeeded"
expect_stderr_has "topic is required"
# The embedded broker creates no topic: the bookkeeping topic must exist.
"$seed" "$bootstrap" dlq2 <<<'dead|k|v|c|m|orders|0|1|n|1|app|1700000000000|1700000000000|' 2>/dev/null
run dlq replay dlq2 --replay-id r1 "${b[@]}"
expect_status 1 dlq replay dlq2 without dlq2.replays
expect_stderr_has "the replay bookkeeping topic dlq2.replays does not exist"
expect_stderr_has "eddy broker --topic dlq2.replays"
run dlq inspect orders "${b[@]}"
[[ $(out | wc -l) == 3 ]] || fail "a failed replay published to orders:"$'\n'"$(out)"
ok
# Dead letters with no topic or partition to go back to (a punctuation's
# failure names no source record): each is skipped with a line, the rest are
# replayed (such records stopped the whole replay, or failed it unnamed).
"$seed" "$bootstrap" dlq3 2>/dev/null <<'EOF'
dead|p|v|c|a punctuation failed||-1|-1|reminders|1|app|1700000000000|1700000000000|
dead|n|v|c|bad partition|payments|-5|7|n|1|app|1700000000000|1700000000000|
dead|g|v|c|good|payments|0|9|n|1|app|1700000000000|1700000000000|
EOF
run dlq replay dlq3 --replay-id s1 "${b[@]}"
expect_status 0 dlq replay dlq3 with unreplayable records
expect_stderr_has 'skipped dlq3/0/0: its source topic "" is not a legal topic name: 1 to 249 letters, digits, '"'.', '_' or '-': replay it with --to TOPIC"
expect_stderr_has 'skipped dlq3/0/1: its source partition -5 is not a partition: replay it with --to TOPIC'
expect_stdout $'replayed dlq3/0/2 -> payments/0/1\nreplayed 1, skipped 0 already replayed with s1, 2 without a source to replay to'
run dlq replay dlq3 --replay-id s2 --to copies "${b[@]}"
expect_status 0 dlq replay dlq3 --to copies
expect_stdout_has 'replayed 3, skipped 0 already replayed with s2'
run dlq inspect dlq -b 127.0.0.1:1
expect_status 1 dlq inspect -b 127.0.0.1:1
expect_stderr_has "cannot reach Kafka at 127.0.0.1:1"

# --- a real dead letter: the todo app's ------------------------------------------
# The app seeds task t-3 as bytes that are no TaskEvent; its audit topology's
# source dead-letters them into todo.dlq on the app's embedded broker.
"$todo" --http-port 0 >"$work/todo.out" 2>"$work/todo.err" &
todo_pid=$!
for _ in $(seq 1 300); do
  grep -q '^dlq    |' "$work/todo.out" && break
  kill -0 "$todo_pid" 2>/dev/null || { cat "$work/todo.err"; fail "the todo app exited early"; }
  sleep 0.1
done
todo_b=(-b "$(sed -n 's/^todo backbone running; bootstrap.servers=//p' "$work/todo.out")")
run dlq inspect todo.dlq "${todo_b[@]}"
expect_status 0 dlq inspect todo.dlq
[[ $(out) =~ ^todo.dlq/0/0\ time=[0-9T:.-]{23}Z\ class=eddy::serde_error\ source=todo.task-events/[0-2]/2\ node=todo-task-events-source\ attempts=1\ app=todo-backbone\ message=\"protobuf\<eddy.todo.TaskEvent\>:\ cannot\ parse\ 19\ bytes\"\ key=t-3\ value=base64:[A-Za-z0-9+/=]+$ ]] ||
  fail "todo.dlq:"$'\n'"$(out)"
ok
run dlq inspect todo.dlq --json --error "cannot parse" --source-topic todo.task-events "${todo_b[@]}"
jq_is 'map([.source_offset, .key, .value_encoding, .attempts, (.error_time > 1700000000000)])' '[[2,"t-3","base64",1,true]]'
run dlq replay todo.dlq --dry-run --replay-id poison "${todo_b[@]}"
expect_status 0 dlq replay todo.dlq --dry-run
expect_stdout_has "dry run: would replay 1, skipped 0 already replayed with poison"
kill -TERM "$todo_pid"
wait "$todo_pid" || true
todo_pid=

echo "eddy dlq: $checks checks passed"
