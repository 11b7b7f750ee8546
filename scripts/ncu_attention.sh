#!/usr/bin/env bash
# Nsight Compute on the fused attention's kernels, one launch each, in a bench pass on the GPU
# machine: throughput against the hardware's peaks, occupancy, warp stall reasons, memory
# traffic, instruction mix and the hottest instructions' stalls, one text report per kernel.
# Where the attention's time goes, beyond the phase totals of BENTOV_CUDA_PHASES.
#
#   scripts/ncu_attention.sh BENTOV_BENCH MODEL_DIR DTYPE TOKENS TEXTS OUT_PREFIX [KERNEL...]
#
# MODEL_DIR: a checkpoint (bentov_make_model writes one; scripts/bench_gpu.py leaves its own under
# --work). KERNELs default to the fp32 passes: float_forward_kernel statistics_kernel (the 16-bit
# ones: flash_forward_kernel flash_statistics_kernel).
set -euo pipefail
(($# >= 6)) || { sed -n 2,11p "$0" >&2; exit 2; }
bench=$1 model=$2 dtype=$3 tokens=$4 texts=$5 prefix=$6
shift 6
kernels=("$@")
((${#kernels[@]})) || kernels=(float_forward_kernel statistics_kernel)
ncu=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
for kernel in "${kernels[@]}"; do
  # The third layer's launch: past the first passes' warm-up.
  BENTOV_BENCH_MODEL=$model BENTOV_BENCH_DEVICE=cuda BENTOV_BENCH_DTYPE=$dtype BENTOV_BENCH_TOKENS=$tokens \
    BENTOV_BENCH_TEXTS=$texts "$ncu" --kernel-name "regex:$kernel" --launch-skip 2 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
    --section SchedulerStats --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
    --section InstructionStats --section SourceCounters \
    "$bench" --benchmark_filter=^BM_Forward --benchmark_min_time=0.01 > "$prefix.$kernel.txt" 2>&1 ||
    echo "ncu failed on $kernel: see $prefix.$kernel.txt" >&2
done
