#!/usr/bin/env bash
# Issue 14, finding 12, at the process level: a setting out of its range or
# unknown to eddy fails the start with exit 1 and a line naming it (before,
# commit.interval.ms=-100 ran, num.stream.threads=100000 was killed by the
# OOM killer with no message, and a misspelt setting did nothing).
#
#   settings_refused_test.sh STREAM_APP
set -euo pipefail
app=$1
base=(--app-id settings-test --bootstrap embedded --in in --out out)

refused() {
  local expected=$1
  shift
  local out rc
  set +e
  out=$(timeout 30 "$app" "${base[@]}" "$@" 2>&1)
  rc=$?
  set -e
  if [[ $rc != 1 ]]; then
    echo "FAIL: exit $rc (not 1) for $*: $out"
    exit 1
  fi
  if ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: '$expected' not in the output for $*: $out"
    exit 1
  fi
  echo "ok: $* -> $expected"
}

refused "setting commit.interval.ms=-100 must be at least 0" --commit-interval-ms -100
refused "setting num.stream.threads=100000 must be from 1 to 256" --threads 100000
refused "unknown setting comit.interval.ms (did you mean commit.interval.ms?)" --setting comit.interval.ms=5
refused "setting application.id=../../esc-out is not a valid id" --app-id ../../esc-out
# A password under a misspelt name never reaches the output.
out=$(timeout 30 "$app" "${base[@]}" --setting sasl_password=hunter2 2>&1 || true)
if grep -q hunter2 <<<"$out"; then
  echo "FAIL: the value of an unknown setting was printed: $out"
  exit 1
fi
echo "ok: the value of sasl_password is not printed"
