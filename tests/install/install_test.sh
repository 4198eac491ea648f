#!/bin/sh
# install_embed: installs a finished build into a temporary prefix and uses
# it as a user would: builds examples/embed against the CMake package (shared,
# then static), trains, resumes and checks retention, verifies the checkpoint
# with the installed ckpt_dump, checks the SONAMEs, compiles every installed
# header, and builds programs with `pkg-config ckpt` (shared and static).
#   install_test.sh BUILD_DIR EMBED_SOURCE_DIR [CMAKE [GENERATOR]]
# Run by ctest after the build: `cmake --install` copies, it never builds.
set -eu
build=$1
embed=$2
cmake=${3:-cmake}
generator=${4:-Ninja}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckpt_install_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
fail() { echo "install_embed: FAIL: $*" >&2; exit 1; }
start=$(date +%s)
step() { echo "== [$(($(date +%s) - start)) s] $*"; }
# Runs a command quietly; on failure shows its output and fails with $1.
quiet() {
  what=$1; shift
  "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "$what"; }
}
prefix=$tmp/prefix

step "cmake --install $build --prefix <tmp>"
quiet "cmake --install failed (is every target built? cmake --build $build)" \
  "$cmake" --install "$build" --prefix "$prefix"
pc=$(find "$prefix" -name ckpt.pc)
[ -n "$pc" ] || fail "no ckpt.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in include/ckpt/version.h include/ckpt/bundle_reader.h include/ckpt/runtime/session.h \
         include/ckpt/proto/tensor_bundle.pb.h include/ckpt/proto/tensor_bundle.proto \
         bin/ckpt_dump bin/ckpt_diff bin/ckpt_convert bin/ckpt_run; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
for f in libckpt.a libckpt_runtime.a libckpt.so libckpt_runtime.so cmake/ckpt/ckptConfig.cmake \
         cmake/ckpt/ckptConfigVersion.cmake pkgconfig/ckpt_runtime.pc; do
  [ -e "$libdir/$f" ] || fail "$libdir/$f is not installed"
done

export PKG_CONFIG_PATH="$libdir/pkgconfig"
version=$(pkg-config --modversion ckpt) || fail "pkg-config cannot read $pc"
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
# While the major version is 0 the SONAME names major.minor (CMakeLists.txt).
if [ "$major" = 0 ]; then abi=0.$minor; else abi=$major; fi
step "SONAMEs (version $version)"
for lib in ckpt ckpt_runtime; do
  soname=$(readelf -d "$libdir/lib$lib.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
  [ "$soname" = "lib$lib.so.$abi" ] || fail "lib$lib.so has SONAME '$soname', expected lib$lib.so.$abi"
  [ -f "$libdir/lib$lib.so.$version" ] || fail "lib$lib.so.$version is not installed"
done
readelf -d "$libdir/libckpt_runtime.so" | grep -q "Shared library: \[libckpt.so.$abi\]" ||
  fail "libckpt_runtime.so does not depend on libckpt.so.$abi"

# Builds examples/embed against the prefix into $1 with extra cmake args.
build_embed() {
  out=$1; shift
  quiet "examples/embed does not configure against the installed package" \
    "$cmake" -S "$embed" -B "$out" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" "$@"
  grep -q "^ckpt_DIR:PATH=$libdir/cmake/ckpt\$" "$out/CMakeCache.txt" ||
    fail "examples/embed found a ckpt other than the one just installed: $(grep ckpt_DIR "$out/CMakeCache.txt")"
  quiet "examples/embed does not build against the installed package" "$cmake" --build "$out"
}

step "examples/embed against ckpt::ckpt (shared)"
build_embed "$tmp/embed"
trainer=$tmp/embed/embed_trainer
ldd "$trainer" | grep -q "libckpt.so.$abi => $libdir/" ||
  fail "embed_trainer does not load the installed libckpt.so: $(ldd "$trainer" | grep ckpt)"
run=$tmp/run
"$trainer" "$run" --steps 120 --save_every 25 --keep 2 >"$tmp/run1" 2>&1 ||
  { cat "$tmp/run1" >&2; fail "first run of embed_trainer failed"; }
cat "$tmp/run1"
grep -q "no checkpoint in $run, starting at step 0" "$tmp/run1" ||
  fail "first run did not start from scratch"
# "w=... b=... loss=..." as the first run saved them at step 120.
state1=$(sed -n 's/^step 120: \(w=.* loss=[^,]*\), saved .*/\1/p' "$tmp/run1")
[ -n "$state1" ] || fail "first run did not save at step 120"
"$trainer" "$run" --steps 120 --save_every 25 --keep 2 >"$tmp/run2" 2>&1 ||
  { cat "$tmp/run2" >&2; fail "second run of embed_trainer failed"; }
cat "$tmp/run2"
grep -qxF "ckpt $version: restored $run/ckpt-120 at step 120: $state1" "$tmp/run2" ||
  fail "second run did not restore step 120 as saved ($state1)"
# Saves at 125, 150, ..., 225 and at the last step, 240; --keep 2.
kept=$(cd "$run" && ls ckpt-*.index | tr '\n' ' ')
[ "$kept" = "ckpt-225.index ckpt-240.index " ] ||
  fail "retention kept '$kept', expected ckpt-225 and ckpt-240"

step "installed ckpt_dump --verify"
quiet "ckpt_dump --verify $run failed" "$prefix/bin/ckpt_dump" --verify "$run"
grep -q "verify: 2 ok, 0 bad" "$tmp/log" || { cat "$tmp/log" >&2; fail "unexpected verify report"; }
quiet "ckpt_dump --tensor global_step failed" "$prefix/bin/ckpt_dump" "$run" --tensor global_step
grep -qx "240" "$tmp/log" || { cat "$tmp/log" >&2; fail "global_step of the latest checkpoint is not 240"; }

step "examples/embed against ckpt::ckpt_static"
build_embed "$tmp/embed-static" -DEMBED_STATIC=ON
if ldd "$tmp/embed-static/embed_trainer" | grep -q libckpt; then
  fail "the static build of embed_trainer still loads libckpt.so"
fi
"$tmp/embed-static/embed_trainer" "$run" --steps 10 --keep 2 >"$tmp/run3" 2>&1 ||
  { cat "$tmp/run3" >&2; fail "static embed_trainer failed"; }
grep -q "restored $run/ckpt-240 at step 240" "$tmp/run3" ||
  { cat "$tmp/run3" >&2; fail "static embed_trainer did not restore step 240"; }

cxx=${CXX:-c++}
step "every installed header compiles (all in one file, pkg-config ckpt_runtime)"
(cd "$prefix/include" && find ckpt -name '*.h' ! -name '*.pb.h' | sort |
  sed 's/.*/#include "&"/') >"$tmp/all_headers.cc"
# shellcheck disable=SC2046
quiet "the installed headers do not compile" \
  "$cxx" -std=c++17 -fsyntax-only $(pkg-config --cflags ckpt_runtime) "$tmp/all_headers.cc"

step "a program built with pkg-config ckpt, shared and static"
cat >"$tmp/pc.cc" <<'CC'
#include <cstdio>
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/version.h"
int main(int argc, char** argv) {
  ckpt::Tensor t(ckpt::DT_FLOAT, ckpt::TensorShape({3}));
  t.mutable_flat<float>()[2] = 2.5f;
  ckpt::BundleWriter writer(argv[1]);
  if (!writer.Add("t", t).ok() || !writer.Finish().ok()) return 1;
  auto reader = ckpt::BundleReader::Open(argv[1]);
  if (!reader.ok()) return 1;
  auto back = (*reader)->Read("t");
  if (!back.ok()) return 1;
  std::printf("%s %g\n", ckpt::Version(), back->flat<float>()[2]);
  return 0;
}
CC
# shellcheck disable=SC2046
quiet "cannot build with pkg-config --cflags --libs ckpt" \
  "$cxx" -std=c++17 "$tmp/pc.cc" -o "$tmp/pc" $(pkg-config --cflags --libs ckpt)
out=$(LD_LIBRARY_PATH=$libdir "$tmp/pc" "$tmp/pc_out/a") || fail "the pkg-config program failed"
[ "$out" = "$version 2.5" ] || fail "the pkg-config program printed '$out', expected '$version 2.5'"
# Static: libckpt.a by name, then what `pkg-config --static` says it needs.
static_libs=$(pkg-config --static --libs ckpt | sed 's/-lckpt\( \|$\)/-l:libckpt.a /')
# shellcheck disable=SC2086
quiet "cannot link libckpt.a with pkg-config --static --libs ckpt" \
  "$cxx" -std=c++17 "$tmp/pc.cc" -o "$tmp/pc_static" $(pkg-config --cflags ckpt) $static_libs
out=$("$tmp/pc_static" "$tmp/pc_out/b") || fail "the statically linked pkg-config program failed"
[ "$out" = "$version 2.5" ] || fail "the static pkg-config program printed '$out'"

echo "install_embed: OK"
