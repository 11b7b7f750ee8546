// One pass over the key tiles for the attention output and the row statistics pass 3 needs, on
// tensor cores, in the structure of FlashAttention-2 (Dao-AILab/flash-attention,
// csrc/flash_attn/src/flash_fwd_kernel.h compute_attn_1rowblock, softmax.h softmax_rescale_o):
//   - a CTA of four warps per query block of 64 rows and head; each warp owns 16 rows, and the
//     scores, exponentials and output of its rows never leave its registers;
//   - key and value tiles of 64 rows stream through shared memory by cp.async, the next tile's
//     copies in flight while this one is computed;
//   - the softmax in base 2 on scores s log2(e); the running row maximum m rescales the row sum l
//     and the output O when it moves: alpha = 2^(m_old - m_new), l = alpha l + sum_j e_j,
//     O = alpha O + P V.
// The exponentials are float (the special function unit's ex2.approx, as FlashAttention's exp2f:
// these kernels serve 16-bit scores, whose own rounding is far larger); l and the sink-free mass
// are summed in float within a tile and in double across tiles. The log-sum-exp m + log2 l and
// the sink-free mass go to the scratch (row_max holds the log-sum-exp; row_inv is the fp32
// kernels' alone) for pass 3, which recomputes p = 2^(s log2 e - lse) from it.
#include "flash_attention.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "attention_device.cuh"
#include "bentov/error.h"
#include "context.h"
#include "mma.cuh"

namespace bentov::cuda {
namespace {

using namespace device;

constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kRows = 16 * kWarps;  // query rows per block: kAttentionBlock
constexpr int kKeys = 64;           // keys per tile
static_assert(kRows == kAttentionBlock, "query blocks are built with kAttentionBlock rows");

// Shared memory of a CTA: Q (kRows, LD), then K[2] and V[2] (kKeys, LD), rows padded by 16 bytes
// so that ldmatrix's eight rows fall in distinct banks.
template <typename T, int DH>
struct Layout {
  static constexpr int LD = DH + 8;
  static constexpr int kQElems = kRows * LD;
  static constexpr int kKVElems = kKeys * LD;
  static constexpr std::size_t kBytes = sizeof(T) * (kQElems + 4 * kKVElems);
  // Pass 3: Q[2] and K[2], then each row's sums of the head average, (kRows, kLayerFields) doubles:
  // 74 KiB at DH 128, three CTAs to a multiprocessor.
  static constexpr std::size_t kSumsOffset = sizeof(T) * (2 * kQElems + 2 * kKVElems);
  static constexpr std::size_t kStatisticsBytes = kSumsOffset + sizeof(double) * kRows * fields::kLayerFields;
};
constexpr int kScoreTiles = kKeys / 8;  // n-tiles of 8 keys in a warp's scores
constexpr float kLog2e = 1.4426950408889634f;
constexpr double kLn2 = 0.69314718055994530942;

// dst (rows, LD) = head columns [0, dh) of `count` rows of src (row stride ld_src), zero beyond.
// By cp.async when `by_16_bytes` (complete after wait_async_all), else by plain stores.
template <typename T, int DH, int kTileRows>
__device__ void load_tile(T* dst, const T* src, int ld_src, int count, int dh, bool by_16_bytes) {
  constexpr int LD = Layout<T, DH>::LD;
  if (by_16_bytes) {
    constexpr int kPerRow = DH / 8;
    for (int idx = static_cast<int>(threadIdx.x); idx < kTileRows * kPerRow; idx += kThreads) {
      const int r = idx / kPerRow, c = (idx % kPerRow) * 8;
      const bool ok = r < count;
      copy16_async(dst + r * LD + c, src + static_cast<std::size_t>(ok ? r : 0) * ld_src + c, ok);
    }
    return;
  }
  for (int idx = static_cast<int>(threadIdx.x); idx < kTileRows * DH; idx += kThreads) {
    const int r = idx / DH, c = idx % DH;
    dst[r * LD + c] = (r < count && c < dh) ? src[static_cast<std::size_t>(r) * ld_src + c] : T(0.0f);
  }
}

__device__ inline float max_quad(float v) {  // over the four lanes of a fragment row
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ inline float quad_sum(float v) {  // the same order in all four lanes
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}
__device__ inline double sum_quad(double v) {  // the same order in all four lanes
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// This warp's 16 rows of Q (kRows, LD) as A fragments, one per k-step of 16.
template <typename T, int DH>
__device__ inline void load_query_fragments(unsigned (&qa)[DH / 16][4], const T* Qs, int warp, int lane) {
  constexpr int LD = Layout<T, DH>::LD;
#pragma unroll
  for (int k = 0; k < DH / 16; ++k) {
    load_matrix_x4(qa[k], Qs + (warp * 16 + (lane & 15)) * LD + k * 16 + (lane >> 4) * 8);
  }
}

// s (16, kKeys) += the warp's rows of Q times K^T, K (kKeys, LD) in shared memory: the dot
// products q . k of C fragment element e of n-tile nt at row group + 8 (e / 2), key nt * 8 +
// 2 quad + e % 2.
template <typename T, int DH>
__device__ inline void warp_dots(const unsigned (&qa)[DH / 16][4], const T* Kt, float (&s)[kScoreTiles][4],
                                 int lane) {
  constexpr int LD = Layout<T, DH>::LD;
#pragma unroll
  for (int k = 0; k < DH / 16; ++k) {
#pragma unroll
    for (int np = 0; np < kScoreTiles / 2; ++np) {
      unsigned b[4];
      load_matrix_x4(b, Kt + (np * 16 + (lane & 7) + ((lane >> 4) << 3)) * LD + k * 16 + ((lane >> 3) & 1) * 8);
      mma_16x8x16<T>(s[2 * np], qa[k], b[0], b[1]);
      mma_16x8x16<T>(s[2 * np + 1], qa[k], b[2], b[3]);
    }
  }
}

// The warp's scores of a key tile in log2 units, s log2(e) (FlashAttention-2's softmax in base 2,
// softmax.h scale_apply_exp2), and -inf where a row does not attend the key. kWhole: the warp's
// rows attend every key of the tile, so no mask is tested per element.
template <bool kWhole, bool kSoftcap>
__device__ inline void scores_log2(float (&s)[kScoreTiles][4], const AttentionProblem& p, float scale_log2,
                                   const int (&i_half)[2], int j0, int quad) {
#pragma unroll
  for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int half = e >> 1, j = j0 + nt * 8 + 2 * quad + (e & 1);
      float v = kSoftcap ? finish_score(s[nt][e], p.scale, p.softcap) * kLog2e : s[nt][e] * scale_log2;
      if (!kWhole && !attends(i_half[half], j, p.window)) v = -INFINITY;
      s[nt][e] = v;
    }
  }
}

// Whether every row of the warp's 16 (from row `warp_first`) attends every key of tile j0.
__device__ inline bool warp_attends_whole_tile(int warp_first, int rows_left, int j0, int window) {
  return rows_left >= 16 && j0 + kKeys - 1 <= warp_first && (window == 0 || j0 > warp_first + 15 - window);
}

template <typename T, int DH>
__global__ void __launch_bounds__(kThreads) flash_forward_kernel(AttentionProblem p, AttentionScratch scratch,
                                                                 float* ctx, int ld_ctx, bool by_16_bytes) {
  using LY = Layout<T, DH>;
  constexpr int LD = LY::LD;
  constexpr int kOutTiles = DH / 8;       // n-tiles of 8 output columns
  extern __shared__ __align__(128) unsigned char smem[];
  T* Qs = reinterpret_cast<T*>(smem);  // (kRows, LD)
  T* Ks = Qs + LY::kQElems;            // [2] (kKeys, LD)
  T* Vs = Ks + 2 * LY::kKVElems;       // [2] (kKeys, LD)

  const QueryBlock q = p.blocks[longest_first(p)];
  const HeadLayout& L = p.layout;
  const int h = forward_head(), g = h / (L.heads / L.kv_heads), dh = L.head_dim;
  const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
  const int group = lane >> 2, quad = lane & 3;
  const int count = min(kRows, q.length - q.r0);
  const T* qkv = static_cast<const T*>(p.qkv);
  auto head_rows = [&](int first, int base, int stride, int head) {  // row `first` of a head
    return qkv + static_cast<std::size_t>(q.offset + first) * L.ld + base + stride * head;
  };
  auto load_keys = [&](int tile, int buffer) {
    const int j0 = tile * kKeys, keys = min(kKeys, q.length - j0);
    load_tile<T, DH, kKeys>(Ks + buffer * LY::kKVElems, head_rows(j0, L.k_base, L.k_stride, g), L.ld, keys, dh,
                            by_16_bytes);
    load_tile<T, DH, kKeys>(Vs + buffer * LY::kKVElems, head_rows(j0, L.v_base, L.v_stride, g), L.ld, keys, dh,
                            by_16_bytes);
  };

  const KeyTiles kt = key_tiles(q, p.window, kRows);
  load_tile<T, DH, kRows>(Qs, head_rows(q.r0, L.q_base, L.q_stride, h), L.ld, count, dh, by_16_bytes);
  load_keys(kt.first, 0);
  commit_async();
  wait_async_all();
  __syncthreads();

  // This warp's rows of Q as A fragments, (DH / 16) k-steps.
  unsigned qa[DH / 16][4];
  load_query_fragments<T, DH>(qa, Qs, warp, lane);

  // Rows warp * 16 + group (half 0) and + 8 (half 1).
  const int i_half[2] = {q.r0 + warp * 16 + group, q.r0 + warp * 16 + group + 8};
  const float scale_log2 = p.scale * kLog2e;
  float m[2] = {-INFINITY, -INFINITY};             // running row maxima, log2 units
  double l[2] = {0.0, 0.0}, rest[2] = {0.0, 0.0};  // this lane's share of the row sums
  float o[kOutTiles][4] = {};

  for (int tile = kt.first; tile <= kt.last; ++tile) {
    const int buffer = (tile - kt.first) & 1;
    if (tile > kt.first) {
      wait_async_all();
      __syncthreads();  // this tile is in; every warp is done with the other buffer
    }
    if (tile < kt.last) {
      load_keys(tile + 1, buffer ^ 1);
      commit_async();
    }
    const T* Kt = Ks + buffer * LY::kKVElems;
    const T* Vt = Vs + buffer * LY::kKVElems;

    // s (16, kKeys) = Q K^T of this warp's rows, then the scores in log2 units, masked.
    float s[kScoreTiles][4] = {};
    warp_dots<T, DH>(qa, Kt, s, lane);
    const int j0 = tile * kKeys;
    const bool whole = warp_attends_whole_tile(q.r0 + warp * 16, count - warp * 16, j0, p.window);
    if (p.softcap > 0.0f) {
      whole ? scores_log2<true, true>(s, p, scale_log2, i_half, j0, quad)
            : scores_log2<false, true>(s, p, scale_log2, i_half, j0, quad);
    } else {
      whole ? scores_log2<true, false>(s, p, scale_log2, i_half, j0, quad)
            : scores_log2<false, false>(s, p, scale_log2, i_half, j0, quad);
    }

    // The tile's row maxima; the running ones, and the rescaling of l and O when they move.
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) tile_max[e >> 1] = fmaxf(tile_max[e >> 1], s[nt][e]);
    }
    float shift[2];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const float m_new = fmaxf(m[half], max_quad(tile_max[half]));
      shift[half] = m_new == -INFINITY ? 0.0f : m_new;  // a row with no key yet: everything is 0
      const float alpha = fast_exp2(m[half] - shift[half]);
      m[half] = m_new;
      l[half] *= alpha;
      rest[half] *= alpha;
#pragma unroll
      for (int dt = 0; dt < kOutTiles; ++dt) {
        o[dt][2 * half] *= alpha;
        o[dt][2 * half + 1] *= alpha;
      }
    }

    // e = 2^(s - m), summed in float over the tile (this lane's 16 terms of a row), the tile's
    // first key of the lane added last: without it, the sum beyond the sink key 0.
    float beyond_first[2] = {0.0f, 0.0f};
#pragma unroll
    for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int half = e >> 1;
        const float x = fast_exp2(s[nt][e] - shift[half]);
        s[nt][e] = x;
        if (nt > 0 || (e & 1)) beyond_first[half] += x;
      }
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const float first = s[0][2 * half], tile_sum = beyond_first[half] + first;  // key j0 + 2 quad
      l[half] += tile_sum;
      rest[half] += (j0 == 0 && quad == 0) ? beyond_first[half] : tile_sum;
    }

    // O += P V, P as A fragments (16 bits).
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      const unsigned pa[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int dp = 0; dp < DH / 16; ++dp) {
        unsigned b[4];
        load_matrix_x4_transposed(b, Vt + (kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + dp * 16 + (lane >> 4) * 8);
        mma_16x8x16<T>(o[2 * dp], pa, b[0], b[1]);
        mma_16x8x16<T>(o[2 * dp + 1], pa, b[2], b[3]);
      }
    }
  }

  // The rows' totals: log2 of the row sum of 2^s for pass 3, the sink-free mass, and the output O / l.
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const double total = sum_quad(l[half]), beyond_sink = sum_quad(rest[half]);
    const float inv = static_cast<float>(1.0 / total);
    const int local = warp * 16 + group + 8 * half;
    if (local >= count) continue;
    const std::size_t row = static_cast<std::size_t>(q.offset + q.r0 + local);
    if (quad == 0) {
      const std::size_t at = static_cast<std::size_t>(h) * p.rows + row;
      scratch.row_max[at] = static_cast<float>(static_cast<double>(m[half]) + log2(total));
      scratch.rest_mass[at] = static_cast<double>(inv) * beyond_sink;
    }
    float* out = ctx + row * ld_ctx + static_cast<std::size_t>(h) * dh;
#pragma unroll
    for (int dt = 0; dt < kOutTiles; ++dt) {
      const int col = dt * 8 + 2 * quad;
      if (col < dh) out[col] = __fmul_rn(o[dt][2 * half], inv);
      if (col + 1 < dh) out[col + 1] = __fmul_rn(o[dt][2 * half + 1], inv);
    }
  }
}

// Pass 3 with the scores in registers: a CTA per query block and range of key tiles. For each tile
// it recomputes every head's scores and p = 2^(s log2 e - lse) from the forward pass's log-sum-exp
// (in log2 units; FlashAttention-2's backward recomputes P from its LSE the same way). Each head's
// row sums over a tile are float (16 terms per lane), added in double across tiles to the head
// partials by reductions that do not wait. The head average a = (sum over heads of p) / H stays
// in registers (float, in head order), and its sums, in double, go to the row's in shared memory
// after the tile's last head. The (tile, head) steps are one cp.async pipeline: the
// next step's Q, K and log-sum-exp load while this one is computed. Masked keys get p = 0 from a
// score of -inf, so the sums need no test of the mask: no branch splits a tile's 32 terms per
// lane, and the terms' exponentials and logarithms overlap. Float sums and the special function
// unit's 2^x and log2 where pass 3 of attention.cu has double sums and libm: these kernels serve
// 16-bit scores, whose own rounding is far larger.
template <typename T, int DH>
__global__ void __launch_bounds__(kThreads, 3) flash_statistics_kernel(AttentionProblem p, AttentionScratch scratch,
                                                                    bool by_16_bytes) {
  using namespace fields;
  using LY = Layout<T, DH>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* Qs = reinterpret_cast<T*>(smem);  // [2] (kRows, LD)
  T* Ks = Qs + 2 * LY::kQElems;        // [2] (kKeys, LD)
  // The head average's sums of each row, (kRows, kLayerFields): row r's only by lane quad 0 of its group.
  double* row_sums = reinterpret_cast<double*>(smem + LY::kSumsOffset);

  const StatisticsItem item = scratch.items[blockIdx.x];
  const QueryBlock q = p.blocks[item.block];
  const HeadLayout& L = p.layout;
  const int split = item.split, tiles_per_split = scratch.tiles_per_split;
  const int H = L.heads, per_kv = H / L.kv_heads, dh = L.head_dim;
  const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
  const int group = lane >> 2, quad = lane & 3;
  const int count = min(kRows, q.length - q.r0);
  const std::size_t rows = static_cast<std::size_t>(p.rows);
  double* head_part = scratch.partials + static_cast<std::size_t>(split) * H * rows * kHeadFields;
  double* layer_part = scratch.partials + static_cast<std::size_t>(scratch.splits) * H * rows * kHeadFields +
                       static_cast<std::size_t>(split) * rows * kLayerFields;
  // Each p log(p / n + eps) term in float, as the CPU's vectorized sum_plogp (ops/vmath.cpp).
  const float eps_f = static_cast<float>(kEps), inv_n_f = static_cast<float>(1.0 / q.length);
  const float scale_log2 = p.scale * kLog2e;
  const double n_minus_1 = q.length > 1 ? q.length - 1 : 1, inv_heads = 1.0 / H;

  // Rows warp * 16 + group + 8 half; the sink-free threshold and shift from pass 2's sink-free mass.
  int i_half[2];
  bool ok[2];
  std::size_t row[2];
  float threshold_ns[2], shift_ns[2];
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int local = warp * 16 + group + 8 * half;
    i_half[half] = q.r0 + local;
    ok[half] = local < count;
    row[half] = static_cast<std::size_t>(q.offset + q.r0 + local);
    double z = 0.0;
    if (ok[half]) {
      for (int h = 0; h < H; ++h) z += scratch.rest_mass[static_cast<std::size_t>(h) * rows + row[half]];
    }
    z /= H;
    threshold_ns[half] = static_cast<float>(kEps * z);
    shift_ns[half] = static_cast<float>(kEps * z * n_minus_1);
    if (quad == 0 && ok[half]) {
      for (int h = 0; h < H; ++h) {
        for (int f = 0; f < kHeadFields; ++f) head_part[(h * rows + row[half]) * kHeadFields + f] = 0.0;
      }
    }
  }
  if (quad == 0) {
    for (int half = 0; half < 2; ++half) {
      for (int f = 0; f < kLayerFields; ++f) row_sums[(warp * 16 + group + 8 * half) * kLayerFields + f] = 0.0;
    }
  }

  const T* qkv = static_cast<const T*>(p.qkv);
  const KeyTiles kt = key_tiles(q, p.window, kRows);
  const int first = max(kt.first, split * tiles_per_split), last = min(kt.last, (split + 1) * tiles_per_split - 1);
  const int steps = max(0, last - first + 1) * H;
  auto issue = [&](int step, int buffer) {  // Q of head step % H, K of tile first + step / H
    const int h = step % H, j0 = (first + step / H) * kKeys;
    const T* qh = qkv + static_cast<std::size_t>(q.offset + q.r0) * L.ld + L.q_base + h * L.q_stride;
    const T* kh = qkv + static_cast<std::size_t>(q.offset + j0) * L.ld + L.k_base + (h / per_kv) * L.k_stride;
    load_tile<T, DH, kRows>(Qs + buffer * LY::kQElems, qh, L.ld, count, dh, by_16_bytes);
    load_tile<T, DH, kKeys>(Ks + buffer * LY::kKVElems, kh, L.ld, min(kKeys, q.length - j0), dh, by_16_bytes);
    commit_async();
  };
  // The forward pass's log-sum-exp (log2 units) of this lane's rows for head h; +inf for rows past
  // the block's end, whose p are then 0.
  auto row_lse = [&](int h, float (&lse)[2]) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      lse[half] = ok[half] ? scratch.row_max[static_cast<std::size_t>(h) * rows + row[half]] : INFINITY;
    }
  };
  float lse_next[2];  // of the next step, read while this one runs
  if (steps > 0) {
    issue(0, 0);
    row_lse(0, lse_next);
  }

  for (int tile = first; tile <= last; ++tile) {
    const int j0 = tile * kKeys;
    const bool whole = warp_attends_whole_tile(q.r0 + warp * 16, count - warp * 16, j0, p.window);
    // i - j = di - c for the term of key j = j0 + 2 quad + c.
    const float di[2] = {static_cast<float>(i_half[0] - j0 - 2 * quad), static_cast<float>(i_half[1] - j0 - 2 * quad)};
    float a[kScoreTiles][4] = {};  // sum over heads of p, in head order
    for (int h = 0; h < H; ++h) {
      const int step = (tile - first) * H + h, buffer = step & 1;
      const float lse[2] = {lse_next[0], lse_next[1]};
      wait_async_all();
      __syncthreads();  // this step is in; every warp is done with the other buffer
      if (step + 1 < steps) {
        issue(step + 1, buffer ^ 1);
        row_lse((step + 1) % H, lse_next);
      }
      unsigned qa[DH / 16][4];
      load_query_fragments<T, DH>(qa, Qs + buffer * LY::kQElems, warp, lane);
      float s[kScoreTiles][4] = {};
      warp_dots<T, DH>(qa, Ks + buffer * LY::kKVElems, s, lane);

      // The head's row sums over this tile, in float (16 terms per lane), then in double across
      // tiles: mass, sum of p c (the distance's part within the tile), kept mass, sum of p log2(p / n + eps).
      float mass[2] = {}, by_key[2] = {}, kept[2] = {}, plogp2[2] = {};
      auto add = [&](auto whole_tile, auto softcapped) {
#pragma unroll
        for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const int half = e >> 1, c = nt * 8 + (e & 1);
            float x = decltype(softcapped)::value
                          ? finish_score(s[nt][e], p.scale, p.softcap) * kLog2e - lse[half]
                          : fmaf(s[nt][e], scale_log2, -lse[half]);
            if (!decltype(whole_tile)::value && !attends(i_half[half], j0 + 2 * quad + c, p.window)) x = -INFINITY;
            const float v = fast_exp2(x);
            a[nt][e] += v;
            mass[half] += v;
            by_key[half] = fmaf(v, static_cast<float>(c), by_key[half]);
            const float kept_v = v > eps_f ? v : 0.0f;
            kept[half] += kept_v;
            plogp2[half] = fmaf(kept_v, fast_log2(fmaf(v, inv_n_f, eps_f)), plogp2[half]);
          }
        }
      };
      if (p.softcap > 0.0f) {
        whole ? add(std::true_type{}, std::true_type{}) : add(std::false_type{}, std::true_type{});
      } else {
        whole ? add(std::true_type{}, std::false_type{}) : add(std::false_type{}, std::false_type{});
      }
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const float sums[kHeadFields] = {quad_sum(mass[half]), quad_sum(fmaf(di[half], mass[half], -by_key[half])),
                                         quad_sum(kept[half]), quad_sum(plogp2[half])};
        if (quad == 0 && ok[half]) {
          // Reductions (no value returned, so no wait): one lane adds to these in tile order.
          double* out = head_part + (static_cast<std::size_t>(h) * rows + row[half]) * kHeadFields;
          atomicAdd(out + kHeadMass, static_cast<double>(sums[kHeadMass]));
          atomicAdd(out + kHeadWeighted, static_cast<double>(sums[kHeadWeighted]));
          atomicAdd(out + kHeadKept, static_cast<double>(sums[kHeadKept]));
          atomicAdd(out + kHeadPlogp, static_cast<double>(sums[kHeadPlogp]) * kLn2);
        }
      }
    }
    // The head average's sums; masked keys have a = 0 and add nothing.
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int i = i_half[half];
      double u[kLayerFields] = {};
#pragma unroll
      for (int nt = 0; nt < kScoreTiles; ++nt) {
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int j = j0 + nt * 8 + 2 * quad + c;
          const double av = static_cast<double>(a[nt][2 * half + c]) * inv_heads;
          const float af = static_cast<float>(av);
          const double rest_av = j >= 1 ? av : 0.0;
          const float rest_af = j >= 1 ? af : 0.0f;
          const float kept_ns = i >= 1 && rest_af > threshold_ns[half] ? rest_af : 0.0f;
          const float kept_f = af > eps_f ? af : 0.0f;
          u[kMass] += av;
          u[kWeighted] += av * (i - j);
          u[kOffDiagonal] += j != i ? av : 0.0;
          u[kSink] += j == 0 ? av : 0.0;
          u[kRest] += rest_av;
          u[kRestWeighted] += rest_av * (i - j);
          u[kRestFloat] += static_cast<double>(rest_af);
          u[kKeptNoSink] += kept_ns;
          u[kPlogpNoSink] += static_cast<double>(kept_ns * fast_log2(rest_af + shift_ns[half]));
          u[kKept] += kept_f;
          u[kPlogp] += static_cast<double>(kept_f * fast_log2(fmaf(af, inv_n_f, eps_f)));
          u[kPlogpUnit] += static_cast<double>(kept_f * fast_log2(af + eps_f));
        }
      }
      u[kPlogpNoSink] *= kLn2;
      u[kPlogp] *= kLn2;
      u[kPlogpUnit] *= kLn2;
      double* sums = row_sums + (warp * 16 + group + 8 * half) * kLayerFields;
#pragma unroll
      for (int f = 0; f < kLayerFields; ++f) {
        const double v = sum_quad(u[f]);
        if (quad == 0) sums[f] += v;
      }
    }
  }
  if (quad == 0) {
    for (int half = 0; half < 2; ++half) {
      if (!ok[half]) continue;
      const double* sums = row_sums + (warp * 16 + group + 8 * half) * kLayerFields;
      for (int f = 0; f < kLayerFields; ++f) layer_part[row[half] * kLayerFields + f] = sums[f];
    }
  }
}

template <typename Kernel, typename... Args>
void launch(Kernel kernel, std::size_t bytes, dim3 grid, cudaStream_t stream, Args... args) {
  set_shared_memory(kernel, bytes);
  kernel<<<grid, kThreads, bytes, stream>>>(args...);
  check(cudaGetLastError(), "flash attention launch");
}

// Calls f(T{}, std::integral_constant<int, DH>{}) for the problem's element type and head-dim bucket.
template <typename F>
void dispatch(const AttentionProblem& p, F&& f) {
  auto by_dim = [&](auto element) {
    const int dh = p.layout.head_dim;
    if (dh <= 32) {
      f(element, std::integral_constant<int, 32>{});
    } else if (dh <= 64) {
      f(element, std::integral_constant<int, 64>{});
    } else {
      f(element, std::integral_constant<int, 128>{});
    }
  };
  if (p.precision == Precision::kBFloat16) {
    by_dim(__nv_bfloat16{});
  } else {
    by_dim(__half{});
  }
}

}  // namespace

bool flash_forward_supports(const AttentionProblem& p) {
  return p.precision != Precision::kFloat32 && p.layout.head_dim >= 1 && p.layout.head_dim <= 128;
}

void flash_forward(const AttentionProblem& p, const AttentionScratch& s, float* ctx, int ld_ctx, cudaStream_t stream) {
  if (p.n_blocks == 0) return;
  dispatch(p, [&](auto element, auto dim) {
    using T = decltype(element);
    constexpr int DH = decltype(dim)::value;
    const dim3 grid(static_cast<unsigned>(p.layout.heads), static_cast<unsigned>(p.n_blocks));
    launch(flash_forward_kernel<T, DH>, Layout<T, DH>::kBytes, grid, stream, p, s, ctx, ld_ctx,
           rows_copy_by_16_bytes(p, DH));
  });
}

void flash_statistics(const AttentionProblem& p, const AttentionScratch& s, cudaStream_t stream) {
  if (s.n_items == 0) return;
  dispatch(p, [&](auto element, auto dim) {
    using T = decltype(element);
    constexpr int DH = decltype(dim)::value;
    launch(flash_statistics_kernel<T, DH>, Layout<T, DH>::kStatisticsBytes, dim3(static_cast<unsigned>(s.n_items)),
           stream, p, s, rows_copy_by_16_bytes(p, DH));
  });
}

int flash_statistics_ctas_per_sm(const AttentionProblem& p) {
  int ctas = 1;
  dispatch(p, [&](auto element, auto dim) {
    using T = decltype(element);
    constexpr int DH = decltype(dim)::value;
    ctas = ctas_per_sm(flash_statistics_kernel<T, DH>, kThreads, Layout<T, DH>::kStatisticsBytes);
  });
  return ctas;
}

}  // namespace bentov::cuda
