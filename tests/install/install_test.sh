#!/usr/bin/env bash
# The install test: installs the build into a temporary DESTDIR, then builds
# my_app.cc against it the way a user outside the tree would,
#
#   g++ -std=c++20 my_app.cc $(pkg-config --cflags --libs eddy)
#
# with pkg-config pointed into the DESTDIR, runs it and checks its output.
# Nothing is written outside the temporary directory.
#
# Then the same for my_protobuf_app.cc with pkg-config's eddy-protobuf: the
# Protobuf serdes are a piece of their own, and eddy.h does not need
# Protobuf.
#
#   install_test.sh MESON BUILD_ROOT PREFIX LIBDIR MY_APP_CC MY_PROTOBUF_APP_CC [EXTRA_CXXFLAGS...]
#
# EXTRA_CXXFLAGS: the sanitizer flags when the build is sanitized (a program
# linking a sanitized libeddy.so must be built with them too); none otherwise.
set -euo pipefail

meson=$1 build_root=$2 prefix=$3 libdir=$4 my_app=$5 my_protobuf_app=$6
shift 6
extra=("$@")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eddy-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
destdir=$tmp/destdir

# --no-rebuild: meson test has built what the test depends on, and a nested
# ninja in the same build directory would race the one meson test runs.
"$meson" install -C "$build_root" --destdir "$destdir" --no-rebuild --quiet

[[ $libdir == /* ]] || libdir=$prefix/$libdir
pc_dir=$destdir$libdir/pkgconfig
[[ -f $pc_dir/eddy.pc ]] || { echo "FAIL: no eddy.pc in $pc_dir; installed:"; find "$destdir" -name '*.pc'; exit 1; }
[[ -f $destdir$prefix/include/eddy/eddy.h ]] || { echo "FAIL: no include/eddy/eddy.h under $destdir$prefix"; exit 1; }

# The .pc file says prefix=$prefix; the files are under $destdir$prefix.
export PKG_CONFIG_PATH=$pc_dir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pkg_config=(pkg-config --define-variable=prefix="$destdir$prefix")
echo "eddy.pc:"
sed 's/^/    /' "$pc_dir/eddy.pc"
flags=$("${pkg_config[@]}" --cflags --libs eddy)
# Only the include root is on a program's path: eddy's headers reach each
# other by relative paths, so none of its folder names (operators/, runtime/,
# serde/, ...) becomes includable on its own.
if grep -Eq -- '-I[^ ]*/include/eddy( |$)' <<<"$flags"; then
  echo "FAIL: pkg-config puts include/eddy on the include path: $flags"
  exit 1
fi
printf '#include "topology/kstream.h"\n' >"$tmp/generic.cc"
# shellcheck disable=SC2086
if (cd "$tmp" && g++ -std=c++20 -fsyntax-only generic.cc $flags "${extra[@]}") 2>/dev/null; then
  echo "FAIL: a program can include \"topology/kstream.h\": eddy's folders are on its include path"
  exit 1
fi
echo "ok: only <eddy/...> is includable (\"topology/kstream.h\" is not)"

# <eddy/eddy.h> needs no Protobuf: it reaches no Protobuf header, and
# eddy.pc names no libprotobuf.
printf '#include <eddy/eddy.h>\n' >"$tmp/umbrella.cc"
# shellcheck disable=SC2086
if (cd "$tmp" && g++ -std=c++20 -MM umbrella.cc $flags "${extra[@]}") | grep -q 'google/protobuf'; then
  echo "FAIL: <eddy/eddy.h> reaches Protobuf's headers"
  exit 1
fi
if grep -q -- '-lprotobuf' <<<"$("${pkg_config[@]}" --libs --static eddy)"; then
  echo "FAIL: pkg-config's eddy links libprotobuf"
  exit 1
fi
echo "ok: <eddy/eddy.h> and eddy.pc need no Protobuf"

# Every installed header is one the public headers reach (<eddy/eddy.h>
# and the optional serdes, <eddy/serde/json.h> and <eddy/serde/protobuf.h>):
# nothing of the machinery is installed that no public header needs.
printf '#include <eddy/eddy.h>\n#include <eddy/serde/json.h>\n#include <eddy/serde/protobuf.h>\n' >"$tmp/reach.cc"
# shellcheck disable=SC2086
reached=$(cd "$tmp" && g++ -std=c++20 -MM reach.cc $flags "${extra[@]}" | tr ' \\' '\n\n' \
  | grep -F "$destdir$prefix/include/eddy/" | xargs -r realpath | sort -u)
installed=$(find "$destdir$prefix/include/eddy" -name '*.h' -print0 | xargs -0 realpath | sort -u)
unreached=$(comm -23 <(printf '%s\n' "$installed") <(printf '%s\n' "$reached"))
if [[ -n $unreached ]]; then
  echo "FAIL: installed headers that no public header reaches:"
  printf '    %s\n' "${unreached//$destdir$prefix\/include\//}"
  exit 1
fi
echo "ok: the $(wc -l <<<"$installed") installed headers are the ones the public headers reach"
echo "+ g++ -std=c++20 my_app.cc $flags ${extra[*]}"
cp "$my_app" "$tmp/my_app.cc"
# $flags unquoted on purpose: split into words, as $(pkg-config ...) is.
# shellcheck disable=SC2086
(cd "$tmp" && g++ -std=c++20 my_app.cc $flags "${extra[@]}" -o my_app)

# libeddy.so is in the DESTDIR, where the loader does not look by itself.
app_libdir=$("${pkg_config[@]}" --variable=libdir eddy)
output=$(LD_LIBRARY_PATH=$app_libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$tmp/my_app")
echo "my_app printed:"
printf '%s\n' "$output" | sed 's/^/    /'
expected=$'t-1=8\nt-3=8\nt-4=16'
[[ $output == "$expected" ]] || { echo "FAIL: my_app's output is not the expected one"; exit 1; }
echo "ok: my_app built against the installed eddy and printed the expected records"

echo "+ g++ -std=c++20 my_protobuf_app.cc \$(pkg-config --cflags --libs eddy-protobuf) ${extra[*]}"
pb_flags=$("${pkg_config[@]}" --cflags --libs eddy-protobuf)
cp "$my_protobuf_app" "$tmp/my_protobuf_app.cc"
# shellcheck disable=SC2086
(cd "$tmp" && g++ -std=c++20 my_protobuf_app.cc $pb_flags "${extra[@]}" -o my_protobuf_app)
pb_output=$(LD_LIBRARY_PATH=$app_libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$tmp/my_protobuf_app") || {
  echo "FAIL: my_protobuf_app printed $pb_output"
  exit 1
}
echo "ok: my_protobuf_app built against eddy-protobuf and printed $pb_output"
