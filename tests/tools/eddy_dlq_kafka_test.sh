#!/usr/bin/env bash
# `eddy dlq replay` on a real Kafka (EDDY_KAFKA_BOOTSTRAP, default
# 127.0.0.1:9092), where the embedded broker cannot go: the bookkeeping topic
# <dlq>.replays does not exist and replay creates it, then books into it, so
# that the same id replays nothing the second time. Topic names are unique
# per run. (eddy_dlq_test.sh covers the rest on eddy broker.)
#
#   eddy_dlq_kafka_test.sh path/to/eddy path/to/dlq_seed
set -euo pipefail
eddy=$1
seed=$2
bootstrap=${EDDY_KAFKA_BOOTSTRAP:-127.0.0.1:9092}
b=(-b "$bootstrap")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run_id="dlqcli-$(date +%s)-$$"
dlq=$run_id.dlq
source_topic=$run_id.orders

checks=0
fail() {
  echo "FAIL: $*"
  for f in "$work"/last.out "$work"/last.err; do
    [[ -s $f ]] && { echo "--- $(basename "$f"):"; cat "$f"; }
  done
  exit 1
}
run() {
  rc=0
  timeout 60 "$eddy" "$@" >"$work/last.out" 2>"$work/last.err" || rc=$?
  ((rc != 124)) || fail "eddy $* did not finish within 60 s"
}
expect() { [[ $rc == 0 && $(cat "$work/last.out") == "$1" ]] || fail "exit $rc, stdout is not:"$'\n'"$1"; checks=$((checks + 1)); }

run topics list "${b[@]}"
((rc == 0)) || fail "no Kafka at $bootstrap (scripts/kafka-local start)"
run topics create "$dlq" "${b[@]}"
((rc == 0)) || fail "topics create $dlq"
run topics create "$source_topic" --partitions 2 "${b[@]}"
((rc == 0)) || fail "topics create $source_topic"

"$seed" "$bootstrap" "$dlq" <<EOF 2>"$work/seed.err" || { cat "$work/seed.err"; fail "dlq_seed"; }
dead|k1|v1|serde_error|bad bytes|$source_topic|1|42|src|1|app|1700000000000|1699999999000|trace=abc
dead|\N|hex:00ff|processing_error|boom|$source_topic|0|7|map|5|app|1700000060000|1700000059000|
EOF

run topics describe "$dlq.replays" "${b[@]}"
((rc == 1)) || fail "$dlq.replays exists before the first replay"

run dlq replay "$dlq" --replay-id first "${b[@]}"
expect "replayed $dlq/0/0 -> $source_topic/1/0
replayed $dlq/0/1 -> $source_topic/0/0
replayed 2, skipped 0 already replayed with first"
grep -qF "created the replay bookkeeping topic $dlq.replays (compacted)" "$work/last.err" ||
  fail "replay did not say it created $dlq.replays"
checks=$((checks + 1))

run topics describe "$dlq.replays" "${b[@]}"
[[ $rc == 0 && $(head -1 "$work/last.out") == "$dlq.replays partitions=1" ]] || fail "$dlq.replays was not created"
checks=$((checks + 1))

run dlq replay "$dlq" --replay-id first "${b[@]}"
expect "replayed 0, skipped 2 already replayed with first"

run dlq inspect "$source_topic" --json "${b[@]}"
[[ $rc == 0 ]] || fail "inspect $source_topic"
got=$(jq -c -s 'sort_by(.partition) | map([.key, .value, .value_encoding, (.headers | map(.key + "=" + (.value // "")) | map(select(startswith("eddy.replay.time") | not)))])' "$work/last.out")
[[ $got == "[[null,\"AP8=\",\"base64\",[\"eddy.replay.id=first\",\"eddy.replayed.from=$dlq/0/1\"]],[\"k1\",\"v1\",\"utf8\",[\"trace=abc\",\"eddy.replay.id=first\",\"eddy.replayed.from=$dlq/0/0\"]]]" ]] ||
  fail "$source_topic holds $got"
checks=$((checks + 1))

run consume "$dlq.replays" --from-beginning --timeout-ms 3000 "${b[@]}"
[[ $(cut -f1 "$work/last.out" | sort | tr '\n' ' ') == "first/0/0 first/0/1 " ]] || fail "$dlq.replays holds:"$'\n'"$(cat "$work/last.out")"
checks=$((checks + 1))

echo "eddy dlq on Kafka: $checks checks passed"
