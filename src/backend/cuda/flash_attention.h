// The fused attention (attention.h) on tensor cores, for 16-bit elements and head dimensions up
// to 128, with the scores in registers: passes 1 and 2 as one pass with the online softmax of
// FlashAttention-2, and pass 3.
#pragma once

#include <cuda_runtime.h>

#include "attention.h"

namespace bentov::cuda {

// Whether these kernels take the problem: bfloat16 or half, head_dim <= 128.
bool flash_forward_supports(const AttentionProblem& p);
// ctx (rows, ld_ctx) as attention_softmax's, and the scratch's rest_mass and row_max (here the
// rows' log-sum-exp in log2 units, pass 3's input).
void flash_forward(const AttentionProblem& p, const AttentionScratch& s, float* ctx, int ld_ctx, cudaStream_t stream);
// Pass 3's partial sums, as attention.cu's statistics kernel: key tiles [split * tiles_per_split,
// (split + 1) * tiles_per_split) of each query block, for `splits` splits.
void flash_statistics(const AttentionProblem& p, const AttentionScratch& s, int splits, int tiles_per_split,
                      cudaStream_t stream);

}  // namespace bentov::cuda
