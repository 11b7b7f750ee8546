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
// Pass 3's partial sums, as attention.cu's statistics kernel: a CTA per item of s.items.
void flash_statistics(const AttentionProblem& p, const AttentionScratch& s, cudaStream_t stream);
// How many of pass 3's CTAs a multiprocessor holds at once.
int flash_statistics_ctas_per_sm(const AttentionProblem& p);

}  // namespace bentov::cuda
