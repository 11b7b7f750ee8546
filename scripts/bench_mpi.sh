#!/usr/bin/env bash
# Scaling of `bentov sweep` over MPI ranks on this machine (docs/CLUSTER.md, README).
#   scripts/bench_mpi.sh [BUILD_DIR] [CHECKPOINTS] [TOKENS] [MAX_RANKS]
# Makes CHECKPOINTS (default 8) random-weight checkpoints with pythia-160m's shapes
# (bentov_make_model, seeds 1..N) and sweeps them with TOKENS (default 512) token ids, one
# thread per rank, with 1 process (no mpirun) and then mpirun -n 2 .. MAX_RANKS (default 4,
# --oversubscribe past the core count). Prints one Markdown row per run; every run's JSON is
# checked to be the same bytes as the single process's.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mpi} n_ckpt=${2:-8} tokens=${3:-512} max_ranks=${4:-4}
bentov=$build/bentov
[[ -x $bentov && -x $build/bentov_make_model ]] || { echo "build $build with -DBENTOV_WITH_MPI=ON first" >&2; exit 2; }
work=${BENTOV_BENCH_DIR:-/tmp/bentov_bench_mpi}
mkdir -p "$work"
ckpts=()
for i in $(seq 1 "$n_ckpt"); do
  d=$work/pythia-160m-seed$i
  [[ -f $d/model.safetensors ]] || "$build/bentov_make_model" pythia-160m "$d" "$i" >/dev/null
  ckpts+=("$d")
done
ids=$(python3 -c "import random; r=random.Random(0); print(','.join(str(r.randrange(50000)) for _ in range($tokens)))")
export OMPI_MCA_btl_vader_single_copy_mechanism=none
root=(); [[ $(id -u) -eq 0 ]] && root=(--allow-run-as-root)
args=(sweep "${ckpts[@]}" --ids "$ids" --threads 1 --quiet)

echo "machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "sweep: $n_ckpt checkpoints (pythia-160m shapes, fp16), $tokens tokens, --threads 1 per rank"
echo
echo "| ranks | wall s | speed-up | speed-up per rank |"
echo "|---|---|---|---|"
t1=""
for n in $(seq 1 "$max_ranks"); do
  start=$(date +%s.%N)
  if [[ $n -eq 1 ]]; then
    "$bentov" "${args[@]}" --json "$work/sweep1.json" >/dev/null
  else
    mpirun "${root[@]}" --oversubscribe --bind-to none --mca btl self,vader -n "$n" \
      "$bentov" "${args[@]}" --json "$work/sweep$n.json" >/dev/null
    cmp -s "$work/sweep1.json" "$work/sweep$n.json" || { echo "sweep$n.json differs from one process" >&2; exit 1; }
  fi
  t=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
  [[ -z $t1 ]] && t1=$t
  python3 -c "t1, t, n = $t1, $t, $n; print(f'| {n} | {t:.1f} | {t1 / t:.2f} | {t1 / t / n:.2f} |')"
done
