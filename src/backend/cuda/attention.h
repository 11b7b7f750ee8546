// The fused attention of the CUDA backend: causal (windowed) softmax attention of every head and
// every query row of a layer, with the row statistics of backend/row_stats.h, without writing a
// probability to global memory. Memory is O(rows) per head. Three passes over the key tiles, in
// the structure of FlashAttention (Dao-AILab/flash-attention, csrc/flash_attn/src/
// flash_fwd_kernel.h: a CTA per query block and head, key/value tiles streamed through shared
// memory, scores never leaving the CTA) and of FlashAttention's backward pass, which recomputes
// the scores from the saved row statistics instead of storing them:
//   1. the row maxima m_hi, and 2. e = exp(s - m) in float as the CPU's softmax, the row sum in
//      double, inv = 1 / sum, the output ctx = (e V) inv, and each row's mass beyond the sink key
//      (a CTA per block and head). The float kernels make both in one sweep, FlashAttention's
//      online softmax: the maximum as the tiles go by, the sums rescaled (in double) and the
//      output (in float) when it moves; the 16-bit kernels of head dims above 128 in two
//      (flash_attention.h serves the others, with row_max holding the log-sum-exp);
//   3. the statistics: a CTA per query block (and range of key tiles) recomputes every head's
//      scores, p = exp(s - m) inv exactly as the CPU's probabilities given m and inv, reduces
//      each head's rows and sums the head average in double in head order, then reduces the
//      average's rows.
// The entropy terms whose logarithm holds a row total (the row's own entropy needs the
// kept mass k, the sink-free entropy the sink-free mass z_f) are split exactly as
// p log(p / k + eps) = p log(p + eps k) - p log k, where eps k differs from eps by k - 1 (under
// 1e-6), and the sink-free threshold and shift use z_f as pass 2 estimated it (to about 1e-7),
// both far below the statistics' own rounding.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include "bentov/backend/row_stats.h"

namespace bentov::cuda {

// The element type the scores are computed in: float on CUDA cores (the exact mode), or bfloat16 /
// half on tensor cores with float accumulation.
enum class Precision { kFloat32, kBFloat16, kFloat16 };

// Where the heads are in the (rows, ld) Q|K|V buffer: query head h at q_base + h * q_stride, its
// key and value head g = h / (heads / kv_heads) at k_base + g * k_stride and v_base + g * v_stride.
struct HeadLayout {
  int ld = 0;
  int heads = 0, kv_heads = 0, head_dim = 0;
  int q_base = 0, q_stride = 0;
  int k_base = 0, k_stride = 0;
  int v_base = 0, v_stride = 0;
};

// Query rows [r0, min(r0 + kAttentionBlock, length)) of the text at packed rows [offset, offset + length).
struct QueryBlock {
  int offset = 0, length = 0, r0 = 0;
};
constexpr int kAttentionBlock = 64;  // query rows per block (32 for head dims above 128)
int attention_block_rows(int head_dim);

struct AttentionProblem {
  const void* qkv = nullptr;  // (rows, layout.ld) elements of `precision`
  Precision precision = Precision::kFloat32;
  HeadLayout layout;
  float scale = 1.0f;               // scores = scale * q . k
  float softcap = 0.0f;             // then scores = softcap * tanh(scores / softcap); 0: none
  int window = 0;                   // keys in (i - window, i]; 0: all keys <= i
  const QueryBlock* blocks = nullptr;  // (n_blocks) device table, blocks of attention_block_rows(head_dim)
  int n_blocks = 0;
  int rows = 0;                     // packed rows of all texts
  int max_length = 0;               // the longest text
};

// A CTA of pass 3: key tiles [split * tiles_per_split, (split + 1) * tiles_per_split) of query
// block `block` (an index into AttentionProblem::blocks).
struct StatisticsItem {
  int block = 0, split = 0;
};

// Per-layer scratch of the passes, device memory.
struct AttentionScratch {
  float* row_max = nullptr;     // (heads, rows) m = max_j s_j; the flash kernels': log2 of sum_j 2^(s_j log2 e)
  float* row_inv = nullptr;     // (heads, rows) 1 / sum_j exp(s_j - m); the fp32 kernels' only
  double* rest_mass = nullptr;  // (heads, rows) sum_{j >= 1} p_j
  double* partials = nullptr;   // statistics_partial_doubles(...) doubles
  int splits = 1;               // ranges of key tiles pass 3 splits each query block into
  int tiles_per_split = 1;
  const StatisticsItem* items = nullptr;  // (n_items) device table, StatisticsPlan::items
  int n_items = 0;
};

// How pass 3 divides its work: each query block's key tiles in ranges of tiles_per_split, a CTA
// per range that holds a tile (of the causal attention; a window only takes tiles away), the CTAs
// heaviest first so that none of the heaviest is left for the tail of the grid (longest
// processing time first). Of a few range lengths, the one whose schedule of the CTAs over the
// multiprocessors' slots ends first. `blocks` is the host copy of p.blocks.
constexpr int kStatisticsMaxSplits = 64;
struct StatisticsPlan {
  int splits = 1, tiles_per_split = 1;
  std::vector<StatisticsItem> items;
};
StatisticsPlan plan_statistics(const AttentionProblem& p, const std::vector<QueryBlock>& blocks, int sms);
// The partial sums pass 3 needs for `rows` packed rows of `heads` heads in `splits` ranges.
std::size_t statistics_partial_doubles(int rows, int heads, int splits);

// Passes 1 and 2: ctx (rows, ld_ctx), query head h at columns h * head_dim, is softmax(scores) V.
void attention_softmax(const AttentionProblem& p, const AttentionScratch& s, float* ctx, int ld_ctx,
                       cudaStream_t stream);
// Pass 3 (after attention_softmax): head_stats (heads, rows) and layer_stats (rows).
void attention_statistics(const AttentionProblem& p, const AttentionScratch& s, HeadRowStats* head_stats,
                          LayerRowStats* layer_stats, cudaStream_t stream);

// dst[i] = round(src[i]) to bfloat16 / half bits, i < count.
void narrow(const float* src, void* dst, std::size_t count, Precision to, cudaStream_t stream);

}  // namespace bentov::cuda
