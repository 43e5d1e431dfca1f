#!/usr/bin/env bash
# Compiles one snippet with -fsyntax-only and checks the outcome.
#
#   expect_compile.sh rejects CONCEPT SNIPPET -- COMPILER [FLAGS...]
#       with -DEDDY_WRONG_SHAPE, the compile must fail on an unsatisfied
#       constraint, and the compiler's message must name CONCEPT;
#   expect_compile.sh accepts SNIPPET -- COMPILER [FLAGS...]
#       as is (the right lambda shape), the compile must succeed: the
#       positive control that keeps a broken include or flag from passing
#       as a rejection.
set -uo pipefail

mode=$1
shift
concept=
if [[ $mode == rejects ]]; then
  concept=$1
  shift
elif [[ $mode != accepts ]]; then
  echo "usage: $0 rejects CONCEPT SNIPPET -- CXX... | accepts SNIPPET -- CXX..." >&2
  exit 2
fi
snippet=$1
shift
[[ ${1-} == -- ]] && shift
(($# > 0)) || { echo "$0: no compiler command" >&2; exit 2; }

define=()
[[ $mode == rejects ]] && define=(-DEDDY_WRONG_SHAPE)

echo "+ $* ${define[*]} -fsyntax-only $snippet"
errors=$("$@" "${define[@]}" -fsyntax-only "$snippet" 2>&1)
rc=$?

fail() {
  echo "FAIL: $*"
  echo "--- compiler output:"
  printf '%s\n' "$errors"
  exit 1
}

if [[ $mode == accepts ]]; then
  ((rc == 0)) || fail "$snippet with the right lambda shape does not compile"
  echo "ok: $snippet compiles with the right lambda shape"
  exit 0
fi

((rc != 0)) || fail "$snippet compiled with a lambda of the wrong shape"
grep -q 'fatal error' <<<"$errors" && fail "$snippet failed for another reason (a missing file?)"
grep -q 'constraints not satisfied' <<<"$errors" \
  || fail "$snippet was rejected, but not by a constraint"
grep -Eq "(^|[^a-z_])${concept}<" <<<"$errors" \
  || fail "$snippet was rejected by a constraint, but the message does not name ${concept}"
echo "ok: $snippet is rejected with a message naming ${concept}"
