#!/usr/bin/env bash
# mpirun -n 4 of bentov against one process of the same binary: the outputs must be the same
# bytes. Registered with CTest when BENTOV_WITH_MPI=ON (CMakeLists.txt).
#   mpi_identity.sh sweep|corpus|resume BENTOV SOURCE_DIR [MPIEXEC]
# The forward pass gives the same bits for any --threads (tests/unit/forward_threads_test.cpp),
# so the single process and the ranks use different thread counts on purpose. CI runs it once
# per OpenBLAS core type the machine can execute (OPENBLAS_CORETYPE reaches every rank).
set -euo pipefail
case_name=$1 bentov=$2 src=$3 mpiexec=${4:-mpirun}
models=$src/models
corpus=$src/tests/data/corpus/sentences.txt
work=$(mktemp -d "${TMPDIR:-/tmp}/bentov_mpi_${case_name}.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# Four ranks on whatever cores there are, shared memory between them. Inside containers
# the cross-memory-attach copy of Open MPI's vader transport is often forbidden: plain copies.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_oob_tcp_if_include=lo  # one node: the launcher's own traffic on loopback
mpi=("$mpiexec" --oversubscribe --bind-to none --mca btl self,vader -n 4)
[[ $(id -u) -eq 0 ]] && mpi=("$mpiexec" --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader -n 4)

# A failure names the OpenBLAS kernels: the bits are the same for any --threads and any rank
# count on one machine and one core type (README, Exactness).
fail() { echo "mpi_identity $case_name: FAIL: $* ($("$bentov" --version 2>&1))" >&2; exit 1; }
same() {  # same FILE_A FILE_B
  cmp -s "$1" "$2" || { diff <(head -c 4000 "$1") <(head -c 4000 "$2") | head -20 >&2; fail "$1 and $2 differ"; }
}
# run RC_WANTED NAME cmd...: runs, keeps stdout in NAME.out and stderr in NAME.err.
run() {
  local want=$1 name=$2
  shift 2
  local rc=0
  "$@" >"$name.out" 2>"$name.err" || rc=$?
  if [[ $rc -ne $want ]]; then
    tail -30 "$name.err" >&2
    fail "$name: exit status $rc, expected $want"
  fi
}

case $case_name in
  sweep)
    # Five checkpoints, one missing: reported as a failure by both, the rest analyzed.
    args=(sweep "$models/pythia-demo" "$models/gpt2-demo" "$work/missing-checkpoint" "$models/opt-demo"
          "$models/pythia-demo" --quiet)
    run 1 one "$bentov" "${args[@]}" --threads 3 --json one.json
    run 1 four "${mpi[@]}" "$bentov" "${args[@]}" --threads 1 --json four.json
    same one.json four.json
    same one.out four.out
    grep -q '"source": "'"$work"'/missing-checkpoint"' four.json || fail "the missing checkpoint is not in failures"
    [[ -d four.json.journal ]] || fail "a run with a failure keeps its journal"
    # The MPI build without mpirun, MPI initialized as a singleton: one rank, the same bytes.
    BENTOV_MPI=1 run 1 singleton "$bentov" "${args[@]}" --json singleton.json
    same one.json singleton.json
    ;;
  corpus)
    # Three models x 12 texts in ranges of 3: 12 work items over 4 ranks.
    args=(analyze "$models/pythia-demo" "$models/gpt2-demo" "$models/opt-demo" --corpus "$corpus"
          --bootstrap 300 --seed 11 --quiet)
    run 0 one "$bentov" "${args[@]}" --threads 2 --json one.json --per-text one.jsonl --csv one.csv
    run 0 four "${mpi[@]}" "$bentov" "${args[@]}" --threads 1 --shard-texts 3 --json four.json --per-text four.jsonl --csv four.csv
    same one.json four.json
    same one.jsonl four.jsonl
    same one.csv four.csv
    same one.out four.out
    [[ ! -e four.json.journal ]] || fail "a complete run leaves its journal behind"
    grep -q '"cross_model"' four.json || fail "no cross-model summary"
    ;;
  resume)
    # A rank crashes on item 4 (test hook): mpirun fails, the journal keeps the finished
    # items; --resume redoes the rest and gives the single-process outputs.
    args=(analyze "$models/pythia-demo" "$models/opt-demo" --corpus "$corpus" --bootstrap 200 --seed 3
          --threads 1)
    run 0 one "$bentov" "${args[@]}" --quiet --out one
    rc=0
    BENTOV_DISTRIB_CRASH_ITEM=4 "${mpi[@]}" "$bentov" "${args[@]}" --shard-texts 3 --out four \
      >crash.out 2>crash.err || rc=$?
    [[ $rc -ne 0 ]] || fail "the crashing run exited 0"
    [[ -f four/results.json.journal/plan.json ]] || fail "no journal after the crash"
    [[ ! -e four/results.json ]] || fail "results.json written by a crashed run"
    grep -q '"4":1' four/results.json.journal/attempts.json || fail "the crashed item is not counted in attempts.json"
    run 0 resumed "${mpi[@]}" "$bentov" "${args[@]}" --shard-texts 3 --out four --resume
    grep -q "resuming from four/results.json.journal: [0-9]* of 8 work items already finished" resumed.err ||
      fail "the resumed run did not read the journal"
    for f in results.json layers.csv per_text.jsonl; do same "one/$f" "four/$f"; done
    [[ ! -e four/results.json.journal ]] || fail "a complete resumed run leaves its journal behind"
    ;;
  *) fail "unknown case" ;;
esac
echo "mpi_identity $case_name: ok"
