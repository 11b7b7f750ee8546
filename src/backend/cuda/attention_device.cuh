// Device-side pieces every fused attention kernel shares (attention.cu, flash_attention.cu): which
// keys a query attends, which key tiles a query block needs, and how a dot product becomes a
// score. The kernels compute scores with the same code, so they agree bit for bit.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "attention.h"
#include "context.h"

namespace bentov::cuda::device {

inline constexpr double kEps = 1e-10;  // the notebook's entropy threshold (row_stats.h)

namespace fields {
// Head partial sums (per split, head and row) and the head average's (per split and row).
enum HeadField { kHeadMass, kHeadWeighted, kHeadKept, kHeadPlogp, kHeadFields };
enum LayerField {
  kMass,
  kWeighted,
  kOffDiagonal,
  kSink,
  kRest,          // z = sum_{j >= 1} a_j
  kRestWeighted,  // sum_{j >= 1} a_j |i - j|
  kRestFloat,     // z_f = sum_{j >= 1} a_f,j
  kKept,
  kPlogp,
  kPlogpUnit,     // sum_{a_f > eps} a_f log(a_f + eps): the row's own entropy, before log k
  kKeptNoSink,
  kPlogpNoSink,   // sum a_f log(a_f + eps (n - 1) z_f), before log(w / (n - 1))
  kLayerFields
};
}  // namespace fields

// Keys [first, last] of the tiles of `bm` keys a query block needs.
struct KeyTiles {
  int first, last;
};
__device__ inline KeyTiles key_tiles(const QueryBlock& q, int window, int bm) {
  const int lo = window > 0 ? max(0, q.r0 - window + 1) : 0;
  const int hi = min(q.r0 + bm, q.length) - 1;
  return {lo / bm, hi / bm};
}

// The query block and head of a forward CTA, grid (heads, blocks): the table holds the blocks by
// first row ascending (a block's causal work grows with its row), and the CTAs take them last
// first, every head of a block before the next block: the longest tasks first, which leaves the
// shortest for the tail of the grid (FlashAttention-2's causal forward orders its blocks so; with
// the heads inner, no head's long blocks wait behind another head's short ones).
__device__ inline int longest_first(const AttentionProblem& p) { return p.n_blocks - 1 - static_cast<int>(blockIdx.y); }
__device__ inline int forward_head() { return static_cast<int>(blockIdx.x); }

__device__ inline bool attends(int i, int j, int window) { return j <= i && (window == 0 || j > i - window); }

// A score from its dot product q . k: times the scale, then cap * tanh(s / cap) when softcap > 0
// (ops::tanh_softcap).
__device__ inline float finish_score(float dot, float scale, float softcap) {
  const float s = __fmul_rn(dot, scale);
  return softcap > 0.0f ? tanhf(s / softcap) * softcap : s;
}

// A kernel's `bytes` of dynamic shared memory, and all of the unified L1 / shared memory as shared:
// the attention kernels' CTAs are bound by it. Host side.
template <typename Kernel>
void set_shared_memory(Kernel kernel, std::size_t bytes) {
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
        "cudaFuncSetAttribute (attention)");
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared),
        "cudaFuncSetAttribute (attention)");
}

// How many CTAs of `threads` a multiprocessor holds at once with `bytes` of shared memory. Host side.
template <typename Kernel>
int ctas_per_sm(Kernel kernel, int threads, std::size_t bytes) {
  set_shared_memory(kernel, bytes);
  int ctas = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&ctas, kernel, threads, bytes),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor (attention)");
  return std::max(ctas, 1);
}

// Whether every head row can be copied 16 bytes at a time (cp.async): full-width heads of the
// bucket at 16-byte offsets. Host side.
inline bool rows_copy_by_16_bytes(const AttentionProblem& p, int dh_bucket) {
  const HeadLayout& L = p.layout;
  const int vec = p.precision == Precision::kFloat32 ? 4 : 8;  // elements per 16 bytes
  const bool offsets = L.ld % vec == 0 && L.q_base % vec == 0 && L.q_stride % vec == 0 && L.k_base % vec == 0 &&
                       L.k_stride % vec == 0 && L.v_base % vec == 0 && L.v_stride % vec == 0;
  return L.head_dim == dh_bucket && offsets && reinterpret_cast<std::uintptr_t>(p.qkv) % 16 == 0;
}

}  // namespace bentov::cuda::device
