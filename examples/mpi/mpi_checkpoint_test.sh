#!/bin/sh
# End-to-end test of mpi_checkpoint, registered with ctest by CMakeLists.txt:
#
#   sh mpi_checkpoint_test.sh MPIEXEC MPI_CHECKPOINT CKPT_DUMP WORK_DIR
#
# Saves on 4 ranks and checks the merged checkpoint (one data file per rank,
# nothing left of the parts, every checksum verified by ckpt_dump); restores
# it on 4, 3 and 1 ranks; saves again on 3 ranks and restores on 4. And the
# failures: a restore with one data file missing and a save whose directory
# cannot be created must make every rank exit 2, naming the problem, well
# within the time limit (no rank left waiting at a barrier), and values
# that differ from the expected ones must make every rank exit 1.
set -u

if [ $# -ne 4 ]; then
  echo "usage: sh mpi_checkpoint_test.sh MPIEXEC MPI_CHECKPOINT CKPT_DUMP WORK_DIR" >&2
  exit 2
fi
mpiexec=$1
exe=$2
dump=$3
# A fresh directory per run, so files of an earlier run never matter.
work=$(mktemp -d "$4/mpi_checkpoint_test.XXXXXX") || exit 2
dir=$work/ckpts
out=$work/output.txt
started=$(date +%s.%N)

# Open MPI, as root, in a container, on one machine:
# - --allow-run-as-root (on each mpirun below): Open MPI refuses to start as
#   root without it, and containers usually run as root.
# - --oversubscribe: 4 ranks on 2 cores; Open MPI allows one per core unless told.
# - plm=isolated launches ranks on this host only. The default launcher (rsh)
#   insists on finding ssh or rsh even for local ranks, and slim containers
#   have neither.
# - btl_vader_single_copy_mechanism=none: shared-memory transfers of large
#   messages use CMA (process_vm_readv), which needs ptrace permission
#   between the ranks; containers without CAP_SYS_PTRACE deny it and the
#   transfer fails. Plain copies through shared memory always work.
# - pml=ob1, btl=self,vader: one host, so shared memory only; Open MPI then
#   does not probe for InfiniBand, UCX or network devices, which prints
#   warnings and costs time in a container.
export OMPI_MCA_plm=isolated
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_pml=ob1
export OMPI_MCA_btl=self,vader

fail() {
  echo "FAIL: $*" >&2
  echo "(files kept in $work)" >&2
  exit 1
}

# run NP ARGS...: mpi_checkpoint on NP ranks; prints the output (kept in
# $out) and sets $rc.
run() {
  np=$1
  shift
  echo "\$ mpirun -np $np mpi_checkpoint $*"
  timeout -k 5 60 "$mpiexec" --allow-run-as-root --oversubscribe -np "$np" "$exe" "$@" \
    >"$out" 2>&1
  rc=$?
  cat "$out"
  [ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "mpirun -np $np $* did not finish within 60 s"
}

# expect_lines COUNT REGEX: exactly COUNT lines of the last output match.
expect_lines() {
  n=$(grep -c -E -e "$2" "$out")
  [ "$n" -eq "$1" ] || fail "expected $1 line(s) matching '$2', found $n"
}

# The model's element count: 1 + 64*128 + 128 + 128*32 + 32 + 32*10 + 10 +
# 1000 + 50 + 1000*16 + 1001*8 (see Model() in mpi_checkpoint.cc).
values=37837

# ---- save on 4 ranks: one checkpoint with 4 data files ---------------------
run 4 save "$dir" --step=100
[ $rc -eq 0 ] || fail "save on 4 ranks exited $rc"
expect_lines 4 '^rank [0-3] of 4: saved [0-9]+ variables .*embedding rows .*softmax/weights rows .* bytes\)$'
expect_lines 1 "^merged 4 parts into $dir/model.ckpt-100 in "
[ "$(ls "$dir" | grep -c -E '^model\.ckpt-100\.data-0000[0-3]-of-00004$')" -eq 4 ] ||
  fail "model.ckpt-100 should have 4 data files: $(ls "$dir")"
# The data files, the index and the state file; no part or temporary file.
[ "$(ls -A "$dir" | wc -l)" -eq 6 ] || fail "unexpected files: $(ls -A "$dir")"
grep -q -x 'model_checkpoint_path: "model.ckpt-100"' "$dir/checkpoint" ||
  fail "$dir/checkpoint does not name model.ckpt-100"

echo "\$ ckpt_dump --verify $dir/model.ckpt-100"
"$dump" --verify "$dir/model.ckpt-100" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || fail "ckpt_dump --verify exited $rc"
expect_lines 1 '^format: +V2 tensor bundle, 4 shards, '
expect_lines 2 '^(embedding|softmax/weights) +.* 4 slices$'
expect_lines 1 '^verify: 11 ok, 0 bad$'

# ---- restore on 4, 3 and 1 ranks: re-partitioned ---------------------------
for np in 4 3 1; do
  run $np restore "$dir"
  [ $rc -eq 0 ] || fail "restore on $np ranks exited $rc"
  expect_lines $np "^rank [0-9]+ of $np: .*: [0-9]+ values match$"
  expect_lines 1 "^restored $dir/model.ckpt-100 on $np ranks in .* s: all $values values match$"
done

# ---- a data file is missing: every rank exits 2 ----------------------------
# Restoring on 4 ranks what 4 ranks saved, rank 2 alone reads the data file
# rank 2 wrote. With it gone, rank 2 fails naming it; the other ranks find
# their values intact, print so, and exit 2 as well instead of waiting.
missing=$dir/model.ckpt-100.data-00002-of-00004
mv "$missing" "$missing.away"
run 4 restore "$dir"
[ $rc -eq 2 ] || fail "restore with a missing data file exited $rc, not 2"
expect_lines 1 "^mpi_checkpoint: rank 2 of 4: NOT_FOUND: data file $missing of checkpoint .* does not exist$"
expect_lines 3 "^rank [013] of 4: .*: [0-9]+ values match$"
expect_lines 1 "^mpi_checkpoint: restoring $dir/model.ckpt-100 failed on 1 of 4 ranks \(exit 2\)$"
mv "$missing.away" "$missing"

# ---- save again on 3 ranks, restore on 4 -----------------------------------
run 3 save "$dir" --step=200
[ $rc -eq 0 ] || fail "save on 3 ranks exited $rc"
[ "$(ls "$dir" | grep -c -E '^model\.ckpt-200\.data-0000[0-2]-of-00003$')" -eq 3 ] ||
  fail "model.ckpt-200 should have 3 data files: $(ls "$dir")"
grep -q -x 'all_model_checkpoint_paths: "model.ckpt-100"' "$dir/checkpoint" ||
  fail "$dir/checkpoint no longer lists model.ckpt-100"
run 4 restore "$dir"
[ $rc -eq 0 ] || fail "restore of model.ckpt-200 on 4 ranks exited $rc"
expect_lines 1 "^restored $dir/model.ckpt-200 on 4 ranks in .* s: all $values values match$"

# ---- a save that fails on every rank: all exit 2 ---------------------------
# The checkpoint directory cannot be created (a file is in the way).
: >"$work/a_file"
run 2 save "$work/a_file/ckpts" --step=1
[ $rc -eq 2 ] || fail "save into an impossible directory exited $rc, not 2"
expect_lines 2 "^mpi_checkpoint: rank [01] of 2: .*$work/a_file"

# ---- values that differ from what the model expects: exit 1 ----------------
# model.ckpt-100's files copied under the name model.ckpt-101: every value
# is expected to be that of step 101, and none is.
for f in "$dir"/model.ckpt-100.*; do
  cp "$f" "$dir/model.ckpt-101${f#"$dir"/model.ckpt-100}"
done
printf 'model_checkpoint_path: "model.ckpt-101"\n' >"$dir/checkpoint"
run 2 restore "$dir"
[ $rc -eq 1 ] || fail "restore of mislabelled values exited $rc, not 1"
expect_lines 1 '^rank 0 of 2: .*: ([0-9]+) of \1 values differ; first: global_step element 0 is 100, expected 101$'
expect_lines 1 '^rank 1 of 2: .*: ([0-9]+) of \1 values differ; first: dense_0/kernel element 0 is .*, expected '
expect_lines 1 "^mpi_checkpoint: restoring $dir/model.ckpt-101 failed on 2 of 2 ranks \(exit 1\)$"

awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "PASS in %.1f s\n", e - s }'
rm -rf "$work"
