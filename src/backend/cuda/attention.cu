// The fused attention passes (attention.h). A CTA of 256 threads owns a query block of BM rows;
// key (and value) tiles of BN = BM rows stream through shared memory. Thread t = 16 ty + tx owns
// the score elements (ty * RM + r, tx * CN + c) of a tile (the float kernels': keys tx + 16 c),
// r < RM = BM / 16, c < CN = BN / 16, so a row's elements sit in 16 consecutive lanes and reduce
// with four xor shuffles. Pass 3 reads
// the tile back in its own ownership (RowLanes: a row to 4 lanes), so its many sums per row and
// head reduce over fewer lanes.
// Scores: float FMAs on CUDA cores (Precision::kFloat32), or WMMA 16x16x16 tensor-core fragments
// with float accumulators (bfloat16, half, head dims above 128), stored to shared memory as dot
// products and finished (scale, soft cap) by whoever reads them. The passes compute a score with
// the same chain of operations, so they agree bit for bit.
// The float dot products are register tiles, as a CUDA-core SGEMM's (the outer-product form of
// CUTLASS's SIMT "thread tile"): Q and K sit in shared memory row-major, XOR-swizzled by vectors
// of four columns (swizzled()), so for every four columns a thread reads its RM query rows and CN
// keys as one vector load each and makes 4 RM CN FMAs, the columns in order 0, 1, ..., DH - 1 for
// every element (add_tile_dots). Tiles arrive by cp.async, the next while this one computes. P V
// reads P by rows four keys at a time and V by rows, each thread's output columns in groups of four.
#include "attention.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <type_traits>
#include <vector>

#include "bentov/error.h"
#include "attention_device.cuh"
#include "mma.cuh"
#include "context.h"
#include "flash_attention.h"

namespace bentov::cuda {

int attention_block_rows(int head_dim) { return head_dim > 128 ? 32 : kAttentionBlock; }

namespace {

using device::attends;
using device::ctas_per_sm;
using device::set_shared_memory;
using device::finish_score;
using device::key_tiles;
using device::KeyTiles;
using device::forward_head;
using device::longest_first;
using device::kEps;
using namespace device::fields;

constexpr int kThreads = 256;
template <typename E, int kDH, int kBM>
struct Tile {
  using T = E;
  static constexpr int DH = kDH, BM = kBM, BN = kBM;
  static constexpr int RM = BM / 16, CN = BN / 16;
  static constexpr bool kTensor = !std::is_same_v<T, float>;
  // Row strides: the WMMA tiles' padded by 16 bytes; the float kernels' Q and K unpadded, their
  // vectors of four swizzled (swizzled()); Ss padded for pass 3's reads by column.
  static constexpr int QLD = kTensor ? DH + 8 : DH;  // Qs (BM, DH)
  static constexpr int KLD = kTensor ? DH + 8 : DH;  // Ks (BN, DH)
  static constexpr int VLD = kTensor ? DH + 8 : DH;  // Vs (BN, DH)
  static constexpr int SLD = BN + 4;                 // Ss (BM, BN) float
  static constexpr int PLD = BN + 8;                 // Ps (BM, BN) T, tensor only
  static constexpr int OLD = DH + 4;                 // Os (BM, DH) float, tensor only
  // Shared memory, in the order the passes need it: the scores' Q, K and S (pass 1 of the 16-bit
  // kernels: kRow bytes); pass 3 also each
  // thread's sums (Row); the 16-bit pass 2 also the per-row values (Row), V, P and O, where O,
  // written after the last key tile, takes the place of K and S where it fits there. The float
  // forward keeps its per-row values in registers and puts V in Row's place: 113 KiB at DH 128,
  // two CTAs to a multiprocessor.
  static constexpr std::size_t up(std::size_t b) { return (b + 127) / 128 * 128; }
  static constexpr std::size_t kQ = 0;
  static constexpr std::size_t kK = up(kQ + sizeof(T) * BM * QLD);
  static constexpr std::size_t kS = up(kK + sizeof(T) * BN * KLD);
  static constexpr std::size_t kRow = up(kS + sizeof(float) * BM * SLD);  // per-row or per-thread values
  static constexpr std::size_t kRowEnd = up(kRow + sizeof(double) * kThreads * kLayerFields);
  static constexpr std::size_t kV = kTensor ? kRowEnd : kRow;
  static constexpr std::size_t kP = up(kV + sizeof(T) * BN * VLD);
  static constexpr std::size_t kAfterP = up(kP + (kTensor ? sizeof(T) * BM * PLD : 0));
  static constexpr std::size_t kOBytes = kTensor ? sizeof(float) * BM * OLD : 0;
  static constexpr bool kOOverKS = kK + kOBytes <= kRow;
  static constexpr std::size_t kO = kOOverKS ? kK : kAfterP;
  static constexpr std::size_t kBytesStatistics = kRowEnd;                           // pass 3
  static constexpr std::size_t kBytes = kOOverKS ? kAfterP : up(kAfterP + kOBytes);  // pass 2
  static_assert(kO + kOBytes <= kBytes && (!kOOverKS || kO + kOBytes <= kRow), "O overlaps what pass 2 still reads");
};

template <typename T>
__device__ T from_float(float v) {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(v);
  } else {
    return __float2half_rn(v);
  }
}

__device__ inline int lane_x() { return threadIdx.x & 15; }
__device__ inline int lane_y() { return threadIdx.x >> 4; }

// v = src[0, N) and dst[0, N) = v as one shared-memory access (src, dst aligned to N floats).
template <int N>
__device__ inline void load_vector(float (&v)[N], const float* src) {
  if constexpr (N == 4) {
    const float4 t = *reinterpret_cast<const float4*>(src);
    v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
  } else if constexpr (N == 2) {
    const float2 t = *reinterpret_cast<const float2*>(src);
    v[0] = t.x, v[1] = t.y;
  } else {
#pragma unroll
    for (int i = 0; i < N; ++i) v[i] = src[i];
  }
}
template <int N>
__device__ inline void store_vector(float* dst, const float (&v)[N]) {
  if constexpr (N == 4) {
    *reinterpret_cast<float4*>(dst) = make_float4(v[0], v[1], v[2], v[3]);
  } else if constexpr (N == 2) {
    *reinterpret_cast<float2*>(dst) = make_float2(v[0], v[1]);
  } else {
#pragma unroll
    for (int i = 0; i < N; ++i) dst[i] = v[i];
  }
}

__device__ inline float max16(float v) {
  for (int off = 1; off < 16; off <<= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}
__device__ inline double sum16(double v) {  // the same order in every lane
  for (int off = 1; off < 16; off <<= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// dst (rows, DH) = head columns [0, dh) of `count` packed rows from src, zero beyond: the
// padding adds nothing to a dot product. The 16-bit kernels'.
template <class TL>
__device__ void load_rows(typename TL::T* dst, int ld_dst, const typename TL::T* src, int ld_src, int count,
                          int dh) {
  using T = typename TL::T;
  constexpr int kVec = 16 / sizeof(T);  // elements per 16-byte load
  // Full-width heads at 16-byte aligned rows (every checkpoint's layout with dh % 8 == 0) move
  // 16 bytes per load.
  const bool by_vector = dh == TL::DH && ld_src % kVec == 0 && reinterpret_cast<std::uintptr_t>(src) % 16 == 0;
  if (by_vector && ld_dst % kVec == 0) {
    constexpr int kPerRow = TL::DH / kVec;
    for (int idx = threadIdx.x; idx < TL::BM * kPerRow; idx += kThreads) {
      const int r = idx / kPerRow, c = (idx % kPerRow) * kVec;
      const uint4 v = r < count ? *reinterpret_cast<const uint4*>(src + static_cast<std::size_t>(r) * ld_src + c)
                                : make_uint4(0, 0, 0, 0);
      *reinterpret_cast<uint4*>(dst + r * ld_dst + c) = v;
    }
    return;
  }
  for (int idx = threadIdx.x; idx < TL::BM * TL::DH; idx += kThreads) {
    const int r = idx / TL::DH, c = idx % TL::DH;
    dst[r * ld_dst + c] = (r < count && c < dh) ? src[static_cast<std::size_t>(r) * ld_src + c] : from_float<T>(0.0f);
  }
}

// The float kernels' tiles: (rows, W) floats, W a multiple of 32, unpadded, the vector of four
// columns [4 v, 4 v + 4) of row r stored at vector v ^ (r & kMask) of its row (the XOR swizzle of
// CUTLASS's shared-memory layouts). K tiles take kMask 7: a quarter-warp's 16-byte reads of one
// vector in eight consecutive rows fall in distinct banks. Q tiles take kMask RM: a warp reads
// rows RM apart (its two lane rows ty), in distinct banks, and a thread's RM rows share the swizzle.
// V tiles (kMask 0) are plainly row-major.
template <int W, int kMask>
__device__ inline int swizzled(int r, int v) {
  static_assert(W % 32 == 0, "eight vectors of four to a row at least");
  return r * W + 4 * (v ^ (r & kMask));
}

// dst (kTileRows, W) = columns [col0, col0 + W) of `count` rows of src (row stride ld_src), zero
// beyond the rows and beyond dh, swizzled by kMask: by cp.async when `by_16_bytes` (complete once
// waited for), else by plain stores.
template <int kTileRows, int W, int kMask>
__device__ void load_float_rows(float* dst, const float* src, int ld_src, int count, int col0, int dh,
                                bool by_16_bytes) {
  constexpr int kPerRow = W / 4;
  if (by_16_bytes) {
    for (int idx = static_cast<int>(threadIdx.x); idx < kTileRows * kPerRow; idx += kThreads) {
      const int r = idx / kPerRow, v = idx % kPerRow;
      const bool ok = r < count;
      device::copy16_async(dst + swizzled<W, kMask>(r, v), src + static_cast<std::size_t>(ok ? r : 0) * ld_src + col0 + 4 * v,
                           ok);
    }
    return;
  }
  for (int idx = static_cast<int>(threadIdx.x); idx < kTileRows * W; idx += kThreads) {
    const int r = idx / W, c = idx % W;
    dst[swizzled<W, kMask>(r, c / 4) + c % 4] =
        (r < count && col0 + c < dh) ? src[static_cast<std::size_t>(r) * ld_src + col0 + c] : 0.0f;
  }
}
template <class TL>
constexpr int kQueryMask = TL::RM;  // a Q tile's swizzle
constexpr int kKeyMask = 7;         // a K tile's

// acc[r][c] += q_{ty RM + r} . k_{tx + 16 c} over the W columns of swizzled Qs (BM, W) and Ks
// (BN, W), the columns in order, four a vector load. Every float kernel's dot products are this
// chain of FMAs from acc = 0 over the head's columns in order, so the passes agree bit for bit.
template <class TL, int W>
__device__ void add_tile_dots(const float* Qs, const float* Ks, float (&acc)[TL::RM][TL::CN]) {
  static_assert((TL::RM & (TL::RM - 1)) == 0 && TL::RM <= 4, "a thread's rows share the Q swizzle");
  const int tx = lane_x(), ty = lane_y();
  const float* q_rows = Qs + ty * TL::RM * W;  // rows ty RM + r, swizzled by (ty RM) & RM
  const float* k_rows = Ks + tx * W;           // rows tx + 16 c, swizzled by tx & 7
  const int q_key = (ty * TL::RM) & kQueryMask<TL>, k_key = tx & kKeyMask;
#pragma unroll 1
  for (int v = 0; v < W / 4; ++v) {
    const int qv = 4 * (v ^ q_key), kv = 4 * (v ^ k_key);
    float q[TL::RM][4], kk[TL::CN][4];
#pragma unroll
    for (int r = 0; r < TL::RM; ++r) load_vector<4>(q[r], q_rows + r * W + qv);
#pragma unroll
    for (int c = 0; c < TL::CN; ++c) load_vector<4>(kk[c], k_rows + 16 * c * W + kv);
#pragma unroll
    for (int u = 0; u < 4; ++u) {
#pragma unroll
      for (int r = 0; r < TL::RM; ++r) {
#pragma unroll
        for (int c = 0; c < TL::CN; ++c) acc[r][c] = fmaf(q[r][u], kk[c][u], acc[r][c]);
      }
    }
  }
}

template <class TL>
__device__ void load_query(unsigned char* smem, const AttentionProblem& p, const QueryBlock& q, int h) {
  const auto* qkv = static_cast<const typename TL::T*>(p.qkv);
  const HeadLayout& L = p.layout;
  const std::size_t row0 = static_cast<std::size_t>(q.offset + q.r0);
  load_rows<TL>(reinterpret_cast<typename TL::T*>(smem + TL::kQ), TL::QLD,
                qkv + row0 * L.ld + L.q_base + h * L.q_stride, L.ld, min(TL::BM, q.length - q.r0), L.head_dim);
}

template <class TL>
__device__ void load_keys(unsigned char* smem, const AttentionProblem& p, const QueryBlock& q, int g, int tile,
                          bool values) {
  const auto* qkv = static_cast<const typename TL::T*>(p.qkv);
  const HeadLayout& L = p.layout;
  const int j0 = tile * TL::BN, count = min(TL::BN, q.length - j0);
  const auto* base = qkv + static_cast<std::size_t>(q.offset + j0) * L.ld;
  auto* K = reinterpret_cast<typename TL::T*>(smem + TL::kK);
  load_rows<TL>(K, TL::KLD, base + L.k_base + g * L.k_stride, L.ld, count, L.head_dim);
  if (values) {
    load_rows<TL>(reinterpret_cast<typename TL::T*>(smem + TL::kV), TL::VLD, base + L.v_base + g * L.v_stride, L.ld,
                  count, L.head_dim);
  }
}

// Ss (BM, BN) = the tile's dot products q_r . k_c as WMMA fragments (the 16-bit kernels). All
// threads call it; Ss is complete for every thread on return.
template <class TL>
__device__ void dot_tile_to_smem(unsigned char* smem) {
  static_assert(TL::kTensor, "the float kernels' dot products are add_tile_dots");
  using namespace nvcuda;
  using T = typename TL::T;
  float* Ss = reinterpret_cast<float*>(smem + TL::kS);
  const T* Qs = reinterpret_cast<const T*>(smem + TL::kQ);
  const T* Ks = reinterpret_cast<const T*>(smem + TL::kK);
  constexpr int FR = TL::BM / 16, FC = TL::BN / 16;
  for (int f = static_cast<int>(threadIdx.x >> 5); f < FR * FC; f += kThreads / 32) {
    const int fr = f / FC, fc = f % FC;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.0f);
#pragma unroll
    for (int k = 0; k < TL::DH; k += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> b;
      wmma::load_matrix_sync(a, Qs + fr * 16 * TL::QLD + k, TL::QLD);
      wmma::load_matrix_sync(b, Ks + fc * 16 * TL::KLD + k, TL::KLD);
      wmma::mma_sync(acc, a, b, acc);
    }
    wmma::store_matrix_sync(Ss + fr * 16 * TL::SLD + fc * 16, acc, TL::SLD, wmma::mem_row_major);
  }
  __syncthreads();
}

// s[r][c] = the score of (q_{ty RM + r}, k_{tx CN + c}) of the tile in shared memory (the 16-bit
// kernels). All threads call it.
template <class TL>
__device__ void score_tile(unsigned char* smem, float scale, float softcap, float (&s)[TL::RM][TL::CN]) {
  const int tx = lane_x(), ty = lane_y();
  dot_tile_to_smem<TL>(smem);
  const float* Ss = reinterpret_cast<const float*>(smem + TL::kS);
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) {
    float dots[TL::CN];
    load_vector<TL::CN>(dots, Ss + (ty * TL::RM + r) * TL::SLD + tx * TL::CN);
#pragma unroll
    for (int c = 0; c < TL::CN; ++c) s[r][c] = finish_score(dots[c], scale, softcap);
  }
}

// Pass 1 of the 16-bit kernels: row_max (heads, rows). Grid (heads, blocks).
template <class TL>
__global__ void __launch_bounds__(kThreads) row_max_kernel(AttentionProblem p, float* row_max) {
  extern __shared__ __align__(128) unsigned char smem[];
  const QueryBlock q = p.blocks[longest_first(p)];
  const int h = forward_head(), g = h / (p.layout.heads / p.layout.kv_heads);
  const int tx = lane_x(), ty = lane_y();
  load_query<TL>(smem, p, q, h);
  float m[TL::RM];
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) m[r] = -INFINITY;
  const KeyTiles kt = key_tiles(q, p.window, TL::BM);
  for (int tile = kt.first; tile <= kt.last; ++tile) {
    __syncthreads();
    load_keys<TL>(smem, p, q, g, tile, false);
    __syncthreads();
    float s[TL::RM][TL::CN];
    score_tile<TL>(smem, p.scale, p.softcap, s);
#pragma unroll
    for (int r = 0; r < TL::RM; ++r) {
      const int i = q.r0 + ty * TL::RM + r;
#pragma unroll
      for (int c = 0; c < TL::CN; ++c) {
        if (attends(i, tile * TL::BN + tx * TL::CN + c, p.window)) m[r] = fmaxf(m[r], s[r][c]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) {
    const float v = max16(m[r]);
    const int local = ty * TL::RM + r;
    if (tx == 0 && q.r0 + local < q.length) row_max[static_cast<std::size_t>(h) * p.rows + q.offset + q.r0 + local] = v;
  }
}

// The query block and head of a forward CTA (grid (blocks, heads)): query head h reads key and
// value head g; its rows' scratch entries start at head_rows; count rows of the block exist.
struct HeadBlock {
  QueryBlock q;
  int h, g, count;
  std::size_t head_rows;
};
template <class TL>
__device__ HeadBlock head_block(const AttentionProblem& p) {
  HeadBlock b;
  b.q = p.blocks[longest_first(p)];
  b.h = forward_head();
  b.g = b.h / (p.layout.heads / p.layout.kv_heads);
  b.count = min(TL::BM, b.q.length - b.q.r0);
  b.head_rows = static_cast<std::size_t>(b.h) * p.rows + b.q.offset + b.q.r0;
  return b;
}

// Pass 2 of the 16-bit kernels: e = exp(s - m), sum in double, ctx = (e V) / sum, P V on WMMA
// fragments. Grid (heads, blocks).
template <class TL>
__global__ void __launch_bounds__(kThreads) softmax_kernel(AttentionProblem p, AttentionScratch scratch, float* ctx,
                                                           int ld_ctx) {
  static_assert(TL::kTensor, "the float kernels' forward is float_forward_kernel");
  extern __shared__ __align__(128) unsigned char smem[];
  using T = typename TL::T;
  using namespace nvcuda;
  const HeadBlock b = head_block<TL>(p);
  const QueryBlock& q = b.q;
  const int h = b.h, g = b.g, count = b.count, tx = lane_x(), ty = lane_y(), dh = p.layout.head_dim;
  const std::size_t head_rows = b.head_rows;
  load_query<TL>(smem, p, q, h);
  float m[TL::RM];
  double sum[TL::RM] = {}, rest[TL::RM] = {};
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) {
    const int local = ty * TL::RM + r;
    m[r] = local < count ? scratch.row_max[head_rows + local] : 0.0f;
  }
  constexpr int kOutFrags = ((TL::BM / 16) * (TL::DH / 16) + kThreads / 32 - 1) / (kThreads / 32);
  constexpr int FC = TL::DH / 16;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> o_frag[kOutFrags];
  for (auto& f : o_frag) wmma::fill_fragment(f, 0.0f);
  T* Ps = reinterpret_cast<T*>(smem + TL::kP);
  const T* Vs = reinterpret_cast<const T*>(smem + TL::kV);
  const KeyTiles kt = key_tiles(q, p.window, TL::BM);
  for (int tile = kt.first; tile <= kt.last; ++tile) {
    __syncthreads();
    load_keys<TL>(smem, p, q, g, tile, true);
    __syncthreads();
    float s[TL::RM][TL::CN];
    score_tile<TL>(smem, p.scale, p.softcap, s);
#pragma unroll
    for (int r = 0; r < TL::RM; ++r) {
      const int local = ty * TL::RM + r, i = q.r0 + local;
#pragma unroll
      for (int c = 0; c < TL::CN; ++c) {
        const int j = tile * TL::BN + tx * TL::CN + c;
        const float e = attends(i, j, p.window) ? expf(__fsub_rn(s[r][c], m[r])) : 0.0f;
        sum[r] += e;
        if (j >= 1) rest[r] += e;
        Ps[local * TL::PLD + tx * TL::CN + c] = from_float<T>(e);
      }
    }
    __syncthreads();
#pragma unroll
    for (int t = 0; t < kOutFrags; ++t) {
      const int f = static_cast<int>(threadIdx.x >> 5) + t * (kThreads / 32);
      if (f >= (TL::BM / 16) * FC) break;
      const int fr = f / FC, fc = f % FC;
#pragma unroll
      for (int k = 0; k < TL::BN; k += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b;
        wmma::load_matrix_sync(a, Ps + fr * 16 * TL::PLD + k, TL::PLD);
        wmma::load_matrix_sync(b, Vs + k * TL::VLD + fc * 16, TL::VLD);
        wmma::mma_sync(o_frag[t], a, b, o_frag[t]);
      }
    }
  }
  float* inv_rows = reinterpret_cast<float*>(smem + TL::kRow);  // (BM)
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) {
    const int local = ty * TL::RM + r;
    const double total = sum16(sum[r]), beyond_sink = sum16(rest[r]);
    const float inv = static_cast<float>(1.0 / total);
    if (tx == 0) inv_rows[local] = inv;
    if (tx == 0 && local < count) {
      scratch.row_inv[head_rows + local] = inv;
      scratch.rest_mass[head_rows + local] = static_cast<double>(inv) * beyond_sink;
    }
  }
  __syncthreads();  // Ps and Vs read by every warp; inv_rows written
  float* Os = reinterpret_cast<float*>(smem + TL::kO);
#pragma unroll
  for (int t = 0; t < kOutFrags; ++t) {
    const int f = static_cast<int>(threadIdx.x >> 5) + t * (kThreads / 32);
    if (f >= (TL::BM / 16) * FC) break;
    wmma::store_matrix_sync(Os + (f / FC) * 16 * TL::OLD + (f % FC) * 16, o_frag[t], TL::OLD, wmma::mem_row_major);
  }
  __syncthreads();
  float* out = ctx + static_cast<std::size_t>(q.offset + q.r0) * ld_ctx + static_cast<std::size_t>(h) * dh;
  for (int idx = threadIdx.x; idx < count * dh; idx += kThreads) {
    const int r = idx / dh, c = idx % dh;
    out[static_cast<std::size_t>(r) * ld_ctx + c] = __fmul_rn(Os[r * TL::OLD + c], inv_rows[r]);
  }
}

// The float P V's output column of a thread's value u of its vector g: each thread owns OC = DH / 16
// columns, in OC / OG vectors of OG adjacent ones, vector g of the 16 lanes side by side.
template <class TL>
constexpr int kOutputColumns = TL::DH / 16;  // OC
template <class TL>
constexpr int kOutputVector = kOutputColumns<TL> < 4 ? kOutputColumns<TL> : 4;  // OG
template <class TL>
__device__ inline int output_column(int g, int u) {
  return g * 16 * kOutputVector<TL> + lane_x() * kOutputVector<TL> + u;
}

// o[r][g OG + u] += e_{row, j} V[j][output_column(g, u)] over the tile's keys j in order, e from Ss.
template <class TL>
__device__ void add_pv_tile(const unsigned char* smem, float (&o)[TL::RM][kOutputColumns<TL>]) {
  constexpr int OG = kOutputVector<TL>;
  const int ty = lane_y();
  const float* Ss = reinterpret_cast<const float*>(smem + TL::kS);
  const float* Vs = reinterpret_cast<const float*>(smem + TL::kV);
#pragma unroll 2
  for (int j = 0; j < TL::BN; j += 4) {
    float e[TL::RM][4];
#pragma unroll
    for (int r = 0; r < TL::RM; ++r) load_vector<4>(e[r], Ss + (ty * TL::RM + r) * TL::SLD + j);
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      float v[kOutputColumns<TL> / OG][OG];
#pragma unroll
      for (int g = 0; g < kOutputColumns<TL> / OG; ++g) load_vector<OG>(v[g], Vs + (j + u) * TL::VLD + output_column<TL>(g, 0));
#pragma unroll
      for (int r = 0; r < TL::RM; ++r) {
#pragma unroll
        for (int g = 0; g < kOutputColumns<TL> / OG; ++g) {
#pragma unroll
          for (int w = 0; w < OG; ++w) o[r][g * OG + w] = fmaf(e[r][u], v[g][w], o[r][g * OG + w]);
        }
      }
    }
  }
}

// Passes 1 and 2 of the float kernels in one sweep over the key tiles, as FlashAttention's online
// softmax (Dao-AILab/flash-attention, csrc/flash_attn/src/softmax.h softmax_rescale_o): when a
// tile raises a row's maximum from m to m', the row's sums and output so far are scaled by
// exp(m - m'), and the tile's e = exp(s - m'). row_max and row_inv get the final m and 1 / sum,
// from which pass 3 recomputes each probability as the CPU does, exp(s - m) / sum. Grid (heads, blocks).
template <class TL>
__global__ void __launch_bounds__(kThreads, 2) float_forward_kernel(AttentionProblem p, AttentionScratch scratch,
                                                                    float* ctx, int ld_ctx, bool by_16_bytes) {
  static_assert(!TL::kTensor, "the 16-bit kernels' forward is row_max_kernel + softmax_kernel");
  extern __shared__ __align__(128) unsigned char smem[];
  const HeadBlock b = head_block<TL>(p);
  const QueryBlock& q = b.q;
  const HeadLayout& L = p.layout;
  const int h = b.h, g = b.g, count = b.count, tx = lane_x(), ty = lane_y(), dh = L.head_dim;
  const std::size_t head_rows = b.head_rows;
  float* Qs = reinterpret_cast<float*>(smem + TL::kQ);  // (BM, DH) swizzled
  float* Ks = reinterpret_cast<float*>(smem + TL::kK);  // (BN, DH) swizzled
  float* Ss = reinterpret_cast<float*>(smem + TL::kS);  // (BM, SLD): the tile's e
  float* Vs = reinterpret_cast<float*>(smem + TL::kV);  // (BN, DH)
  const auto* qkv = static_cast<const float*>(p.qkv);
  // K and V by cp.async, one tile ahead: a tile's V arrives during its scores, the next tile's
  // K during its softmax and P V.
  auto issue_tile = [&](int tile, bool values) {
    const float* rows = qkv + static_cast<std::size_t>(q.offset + tile * TL::BN) * L.ld;
    const int n = min(TL::BN, q.length - tile * TL::BN);
    if (values) {
      load_float_rows<TL::BN, TL::DH, 0>(Vs, rows + L.v_base + g * L.v_stride, L.ld, n, 0, dh, by_16_bytes);
    } else {
      load_float_rows<TL::BN, TL::DH, kKeyMask>(Ks, rows + L.k_base + g * L.k_stride, L.ld, n, 0, dh, by_16_bytes);
    }
    device::commit_async();
  };
  const KeyTiles kt = key_tiles(q, p.window, TL::BM);
  load_float_rows<TL::BM, TL::DH, kQueryMask<TL>>(Qs, qkv + static_cast<std::size_t>(q.offset + q.r0) * L.ld + L.q_base +
                                                h * L.q_stride,
                                        L.ld, count, 0, dh, by_16_bytes);
  issue_tile(kt.first, false);
  float m[TL::RM];  // the running maximum of each row's scores, -inf before its first key
  double sum[TL::RM] = {}, rest[TL::RM] = {};
  float o[TL::RM][kOutputColumns<TL>] = {};
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) m[r] = -INFINITY;
  for (int tile = kt.first; tile <= kt.last; ++tile) {
    device::wait_async_all();
    __syncthreads();  // this tile's K is in; every warp is done with the last tile's V and e
    issue_tile(tile, true);
    float s[TL::RM][TL::CN] = {};
    add_tile_dots<TL, TL::DH>(Qs, Ks, s);
    __syncthreads();  // every warp is done with K
    const bool next = tile < kt.last;
    if (next) issue_tile(tile + 1, false);
#pragma unroll
    for (int r = 0; r < TL::RM; ++r) {
      const int local = ty * TL::RM + r, i = q.r0 + local;
      bool live[TL::CN];
      float tile_max = -INFINITY;
#pragma unroll
      for (int c = 0; c < TL::CN; ++c) {
        s[r][c] = finish_score(s[r][c], p.scale, p.softcap);
        live[c] = local < count && attends(i, tile * TL::BN + tx + 16 * c, p.window);
        if (live[c]) tile_max = fmaxf(tile_max, s[r][c]);
      }
      tile_max = max16(tile_max);
      if (tile_max > m[r]) {  // the same in the row's 16 lanes
        // In double for the sums, whose every term it scales; 0 while the row had no key.
        const double alpha = exp(static_cast<double>(m[r]) - static_cast<double>(tile_max));
        sum[r] *= alpha;
        rest[r] *= alpha;
        const float alpha_f = static_cast<float>(alpha);
#pragma unroll
        for (int c = 0; c < kOutputColumns<TL>; ++c) o[r][c] = __fmul_rn(o[r][c], alpha_f);
        m[r] = tile_max;
      }
#pragma unroll
      for (int c = 0; c < TL::CN; ++c) {
        const float e = live[c] ? expf(__fsub_rn(s[r][c], m[r])) : 0.0f;
        sum[r] += e;
        if (tile * TL::BN + tx + 16 * c >= 1) rest[r] += e;
        Ss[local * TL::SLD + tx + 16 * c] = e;
      }
    }
    if (next) {
      device::wait_async_group<1>();  // V; the next K may still be on its way
    } else {
      device::wait_async_all();
    }
    __syncthreads();  // V and every row's e are in
    add_pv_tile<TL>(smem, o);
  }
  float* out = ctx + static_cast<std::size_t>(q.offset + q.r0) * ld_ctx + static_cast<std::size_t>(h) * dh;
#pragma unroll
  for (int r = 0; r < TL::RM; ++r) {
    const int local = ty * TL::RM + r;
    const double total = sum16(sum[r]), beyond_sink = sum16(rest[r]);
    if (local >= count) continue;
    const float inv = static_cast<float>(1.0 / total);
    if (tx == 0) {
      scratch.row_max[head_rows + local] = m[r];
      scratch.row_inv[head_rows + local] = inv;
      scratch.rest_mass[head_rows + local] = static_cast<double>(inv) * beyond_sink;
    }
#pragma unroll
    for (int c = 0; c < kOutputColumns<TL>; ++c) {
      const int col = output_column<TL>(c / kOutputVector<TL>, c % kOutputVector<TL>);
      if (col < dh) out[static_cast<std::size_t>(local) * ld_ctx + col] = __fmul_rn(o[r][c], inv);
    }
  }
}

// Pass 3's ownership: a query row to kLanes consecutive threads, each with every kLanes-th key
// of a tile (conflict-free reads of Ss), so a row's sums reduce over kLanes lanes only.
template <class TL>
struct RowLanes {
  static constexpr int kLanes = kThreads / TL::BM;  // 4 (BM 64) or 8 (BM 32)
  static constexpr int kCols = TL::BN / kLanes;     // keys per thread and tile
};
template <int kLanes>
__device__ inline double sum_lanes(double v) {  // the same order in every lane of the group
  for (int off = 1; off < kLanes; off <<= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Pass 3's shared memory. Float: each (key tile, head) step's Q and K rows in chunks of KC head
// columns, row-major and double-buffered so that cp.async brings the next chunk while the dot
// products of this one run (the pipeline of FlashAttention-2's flash_fwd_kernel.h, here over
// steps); then the tile's dot products Ss (BM, SLD) and each thread's sums of the head average,
// (kLayerFields, kThreads) doubles: 105 KiB at DH 128, two CTAs to a multiprocessor.
template <class TL>
struct StatisticsLayout {
  static constexpr int KC = TL::DH < 64 ? TL::DH : 64;  // head columns per chunk
  static constexpr int kChunks = TL::DH / KC;           // chunks per step
  static constexpr int kQElems = TL::BM * KC, kKElems = TL::BN * KC;
  static constexpr int kStageElems = kQElems + kKElems;  // Qc (BM, KC), then Kc (BN, KC), swizzled
  static constexpr std::size_t kFloatS = TL::up(sizeof(float) * 2 * kStageElems);
  static constexpr std::size_t kFloatSums = TL::up(kFloatS + sizeof(float) * TL::BM * TL::SLD);
  // The 16-bit kernels' pass 3 (head dimensions the FlashAttention-2 kernels do not take) loads
  // Q and K as their other passes do, WMMA tiles in Tile's places.
  static constexpr std::size_t kS = TL::kTensor ? TL::kS : kFloatS;
  static constexpr std::size_t kSums = TL::kTensor ? TL::kRow : kFloatSums;
  static constexpr std::size_t kBytes =
      TL::kTensor ? TL::kBytesStatistics : TL::up(kFloatSums + sizeof(double) * kThreads * kLayerFields);
};

// Pass 3: partial sums of key tiles [split * per, (split + 1) * per) of a query block, the
// (tile, head) steps' float Q and K chunks one cp.async pipeline. A CTA per item of scratch.items.
template <class TL>
__global__ void __launch_bounds__(kThreads, 2) statistics_kernel(AttentionProblem p, AttentionScratch scratch,
                                                                 bool by_16_bytes) {
  extern __shared__ __align__(128) unsigned char smem[];
  using RL = RowLanes<TL>;
  using SL = StatisticsLayout<TL>;
  const StatisticsItem item = scratch.items[blockIdx.x];
  const QueryBlock q = p.blocks[item.block];
  const HeadLayout& L = p.layout;
  const int split = item.split, tiles_per_split = scratch.tiles_per_split;
  const int H = L.heads, group = H / L.kv_heads, dh = L.head_dim;
  const int count = min(TL::BM, q.length - q.r0);
  const int local = static_cast<int>(threadIdx.x) / RL::kLanes, lane = static_cast<int>(threadIdx.x) % RL::kLanes;
  const int i = q.r0 + local;
  const bool row_ok = local < count;
  const std::size_t rows = static_cast<std::size_t>(p.rows), row = static_cast<std::size_t>(q.offset + i);
  double* head_part = scratch.partials + static_cast<std::size_t>(split) * H * rows * kHeadFields;
  double* layer_part =
      scratch.partials + static_cast<std::size_t>(scratch.splits) * H * rows * kHeadFields +
      static_cast<std::size_t>(split) * rows * kLayerFields;
  float* stages = reinterpret_cast<float*>(smem);  // [2] (Qc, Kc)
  float* Ss = reinterpret_cast<float*>(smem + SL::kS);
  // Each p log(p / n + eps) term in float, as the CPU's vectorized sum_plogp (ops/vmath.cpp)
  // takes it, summed in double.
  const float eps_f = static_cast<float>(kEps), inv_n_f = static_cast<float>(1.0 / q.length);
  const double n_minus_1 = q.length > 1 ? q.length - 1 : 1;

  // The sink-free mass as pass 2 estimated it, for the sink-free threshold and shift.
  double z = 0.0;
  if (row_ok) {
    for (int h = 0; h < H; ++h) z += scratch.rest_mass[static_cast<std::size_t>(h) * rows + row];
  }
  z /= H;
  const float threshold_ns = static_cast<float>(kEps * z);
  const double shift_ns = kEps * z * n_minus_1;
  if (lane == 0 && row_ok) {
    for (int h = 0; h < H; ++h) {
      for (int f = 0; f < kHeadFields; ++f) head_part[(h * rows + row) * kHeadFields + f] = 0.0;
    }
  }

  // This thread's share of the head average's sums over every tile, (kLayerFields, kThreads):
  // in shared memory, which leaves the registers to a[] (two CTAs per multiprocessor).
  double* t = reinterpret_cast<double*>(smem + SL::kSums) + threadIdx.x;
  for (int f = 0; f < kLayerFields; ++f) t[f * kThreads] = 0.0;
  const KeyTiles kt = key_tiles(q, p.window, TL::BM);
  const int first = max(kt.first, split * tiles_per_split), last = min(kt.last, (split + 1) * tiles_per_split - 1);
  const int chunks = max(0, last - first + 1) * H * SL::kChunks;
  // Float: chunk kc of step (tile, h) into stage chunk % 2.
  auto issue = [&](int chunk) {
    const int step = chunk / SL::kChunks, kc = chunk % SL::kChunks, h = step % H, j0 = (first + step / H) * TL::BN;
    const auto* qkv = static_cast<const float*>(p.qkv);
    const float* q_rows = qkv + static_cast<std::size_t>(q.offset + q.r0) * L.ld + L.q_base + h * L.q_stride;
    const float* k_rows = qkv + static_cast<std::size_t>(q.offset + j0) * L.ld + L.k_base + (h / group) * L.k_stride;
    float* Qc = stages + (chunk & 1) * SL::kStageElems;
    load_float_rows<TL::BM, SL::KC, kQueryMask<TL>>(Qc, q_rows, L.ld, count, kc * SL::KC, dh, by_16_bytes);
    load_float_rows<TL::BN, SL::KC, kKeyMask>(Qc + SL::kQElems, k_rows, L.ld, min(TL::BN, q.length - j0), kc * SL::KC,
                                          dh, by_16_bytes);
    device::commit_async();
  };
  // Ss = the dot products of step (tile, h), complete for every thread on return.
  auto step_dots = [&](int tile, int h) {
    if constexpr (TL::kTensor) {
      __syncthreads();
      load_query<TL>(smem, p, q, h);
      load_keys<TL>(smem, p, q, h / group, tile, false);
      __syncthreads();
      dot_tile_to_smem<TL>(smem);
    } else {
      float acc[TL::RM][TL::CN] = {};
#pragma unroll
      for (int kc = 0; kc < SL::kChunks; ++kc) {
        const int chunk = ((tile - first) * H + h) * SL::kChunks + kc;
        device::wait_async_all();
        __syncthreads();  // this chunk is in; every warp is done with the other stage and with Ss
        if (chunk + 1 < chunks) issue(chunk + 1);
        const float* Qc = stages + (chunk & 1) * SL::kStageElems;
        add_tile_dots<TL, SL::KC>(Qc, Qc + SL::kQElems, acc);
      }
      const int tx = lane_x(), ty = lane_y();
#pragma unroll
      for (int r = 0; r < TL::RM; ++r) {
#pragma unroll
        for (int c = 0; c < TL::CN; ++c) Ss[(ty * TL::RM + r) * TL::SLD + tx + 16 * c] = acc[r][c];
      }
      __syncthreads();
    }
  };
  if constexpr (!TL::kTensor) {
    if (chunks > 0) issue(0);
  }
  for (int tile = first; tile <= last; ++tile) {
    double a[RL::kCols] = {};  // sum over heads of p, in head order
    for (int h = 0; h < H; ++h) {
      const std::size_t at = static_cast<std::size_t>(h) * rows + row;
      const float m = row_ok ? scratch.row_max[at] : 0.0f;
      const float inv = row_ok ? scratch.row_inv[at] : 0.0f;
      step_dots(tile, h);
      double mass = 0.0, weighted = 0.0, kept = 0.0, plogp = 0.0;
      const double distance0 = static_cast<double>(i - tile * TL::BN - lane);  // i - j at c = 0
#pragma unroll
      for (int c = 0; c < RL::kCols; ++c) {
        const int col = lane + RL::kLanes * c, j = tile * TL::BN + col;
        if (!row_ok || !attends(i, j, p.window)) continue;
        const float sc = finish_score(Ss[local * TL::SLD + col], p.scale, p.softcap);
        const float v = __fmul_rn(expf(__fsub_rn(sc, m)), inv);  // the CPU's probability
        const double vd = v;
        a[c] += vd;
        mass += vd;
        weighted += vd * (distance0 - RL::kLanes * c);
        if (v > eps_f) {
          kept += vd;
          plogp += static_cast<double>(v * logf(fmaf(v, inv_n_f, eps_f)));
        }
      }
      mass = sum_lanes<RL::kLanes>(mass), weighted = sum_lanes<RL::kLanes>(weighted);
      kept = sum_lanes<RL::kLanes>(kept), plogp = sum_lanes<RL::kLanes>(plogp);
      if (lane == 0 && row_ok) {
        double* out = head_part + at * kHeadFields;
        out[kHeadMass] += mass;
        out[kHeadWeighted] += weighted;
        out[kHeadKept] += kept;
        out[kHeadPlogp] += plogp;
      }
    }
#pragma unroll
    for (int c = 0; c < RL::kCols; ++c) {
      const int j = tile * TL::BN + lane + RL::kLanes * c;
      if (!row_ok || !attends(i, j, p.window)) continue;
      const double av = a[c] / H;
      const float af = static_cast<float>(av);
      t[kMass * kThreads] += av;
      t[kWeighted * kThreads] += av * (i - j);
      if (j != i) t[kOffDiagonal * kThreads] += av;
      if (j == 0) t[kSink * kThreads] += av;
      if (j >= 1) {
        t[kRest * kThreads] += av;
        t[kRestWeighted * kThreads] += av * (i - j);
        t[kRestFloat * kThreads] += static_cast<double>(af);
        if (i >= 1 && af > threshold_ns) {
          t[kKeptNoSink * kThreads] += af;
          t[kPlogpNoSink * kThreads] += af * log(af + shift_ns);
        }
      }
      if (af > eps_f) {
        t[kKept * kThreads] += af;
        t[kPlogp * kThreads] += static_cast<double>(af * logf(fmaf(af, inv_n_f, eps_f)));
        t[kPlogpUnit * kThreads] += static_cast<double>(af * logf(af + eps_f));
      }
    }
  }
#pragma unroll
  for (int f = 0; f < kLayerFields; ++f) {
    const double v = sum_lanes<RL::kLanes>(t[f * kThreads]);
    if (lane == 0 && row_ok) layer_part[row * kLayerFields + f] = v;
  }
}

// The partial sums of every split that holds a tile of the row's block, in split order, closed
// into the row statistics. A thread per row.
__global__ void finish_statistics_kernel(AttentionProblem p, AttentionScratch scratch, int bm,
                                         HeadRowStats* head_stats, LayerRowStats* layer_stats) {
  const QueryBlock q = p.blocks[blockIdx.x];
  const int local = static_cast<int>(threadIdx.x);
  if (local >= bm || q.r0 + local >= q.length) return;
  const int i = q.r0 + local, H = p.layout.heads;
  const std::size_t rows = static_cast<std::size_t>(p.rows), row = static_cast<std::size_t>(q.offset + i);
  const KeyTiles kt = key_tiles(q, p.window, bm);
  const int first_split = kt.first / scratch.tiles_per_split, last_split = kt.last / scratch.tiles_per_split;
  for (int h = 0; h < H; ++h) {
    double s[kHeadFields] = {};
    for (int k = first_split; k <= last_split; ++k) {
      const double* part = scratch.partials + ((static_cast<std::size_t>(k) * H + h) * rows + row) * kHeadFields;
      for (int f = 0; f < kHeadFields; ++f) s[f] += part[f];
    }
    head_stats[static_cast<std::size_t>(h) * rows + row] = {s[kHeadMass], s[kHeadWeighted], s[kHeadKept],
                                                            s[kHeadPlogp]};
  }
  double t[kLayerFields] = {};
  const double* layer_parts = scratch.partials + static_cast<std::size_t>(scratch.splits) * H * rows * kHeadFields;
  for (int k = first_split; k <= last_split; ++k) {
    const double* part = layer_parts + (static_cast<std::size_t>(k) * rows + row) * kLayerFields;
    for (int f = 0; f < kLayerFields; ++f) t[f] += part[f];
  }
  LayerRowStats r;
  r.mass = t[kMass];
  r.weighted = t[kWeighted];
  r.off_diagonal = t[kOffDiagonal];
  r.sink = t[kSink];
  const bool rest = i >= 1 && t[kRest] > 0.0;
  r.no_sink_rows = rest ? 1.0 : 0.0;
  r.no_sink_weighted = rest ? t[kRestWeighted] / t[kRest] : 0.0;
  r.kept = t[kKept];
  r.plogp = t[kPlogp];
  const bool no_sink = i >= 1 && t[kRestFloat] > 0.0;
  const double w = no_sink ? 1.0 / t[kRestFloat] : 0.0;
  const double scale_ns = w / (q.length > 1 ? q.length - 1 : 1);
  r.kept_no_sink = no_sink ? w * t[kKeptNoSink] : 0.0;
  r.plogp_no_sink = no_sink ? w * (log(scale_ns) * t[kKeptNoSink] + t[kPlogpNoSink]) : 0.0;
  r.row_entropy = r.kept > 0.0 ? -(t[kPlogpUnit] - r.kept * log(r.kept)) / r.kept : 0.0;
  layer_stats[row] = r;
}

template <typename Kernel, typename... Args>
void launch(Kernel kernel, std::size_t smem_bytes, dim3 grid, cudaStream_t stream, Args... args) {
  set_shared_memory(kernel, smem_bytes);
  kernel<<<grid, kThreads, smem_bytes, stream>>>(args...);
  check(cudaGetLastError(), "attention kernel launch");
}

// Calls f(Tile<...>{}) for the problem's precision and head-dim bucket.
template <typename F>
void dispatch(const AttentionProblem& p, F&& f) {
  const int dh = p.layout.head_dim;
  if (dh < 1 || dh > 256) {
    throw UnsupportedError("head dimension " + std::to_string(dh) + " on the GPU",
                           "the CUDA attention takes head dimensions up to 256; use --device cpu");
  }
  auto by_dim = [&](auto element) {
    using T = decltype(element);
    if (dh <= 32) {
      f(Tile<T, 32, 64>{});
    } else if (dh <= 64) {
      f(Tile<T, 64, 64>{});
    } else if (dh <= 128) {
      f(Tile<T, 128, 64>{});
    } else {
      f(Tile<T, 256, 32>{});
    }
  };
  switch (p.precision) {
    case Precision::kFloat32: by_dim(float{}); break;
    case Precision::kBFloat16: by_dim(__nv_bfloat16{}); break;
    case Precision::kFloat16: by_dim(__half{}); break;
  }
}

__global__ void narrow_kernel(const float* src, void* dst, std::size_t count, Precision to) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if (to == Precision::kBFloat16) {
      static_cast<__nv_bfloat16*>(dst)[i] = __float2bfloat16_rn(src[i]);
    } else {
      static_cast<__half*>(dst)[i] = __float2half_rn(src[i]);
    }
  }
}

}  // namespace

namespace {

// Pass 3's CTAs at ranges of `per` key tiles: every (block, range) that holds a tile of the causal
// attention, with its tile count, heaviest first (among equals, the later blocks first).
struct WeightedItem {
  StatisticsItem item;
  int tiles;
};
std::vector<WeightedItem> statistics_work(const std::vector<QueryBlock>& blocks, int bm, int per) {
  std::vector<WeightedItem> work;
  for (int b = static_cast<int>(blocks.size()) - 1; b >= 0; --b) {
    const QueryBlock& q = blocks[static_cast<std::size_t>(b)];
    const int tiles = (std::min(q.r0 + bm, q.length) - 1) / bm + 1;  // key tiles [0, tiles)
    for (int split = 0; split * per < tiles; ++split) work.push_back({{b, split}, std::min(per, tiles - split * per)});
  }
  std::stable_sort(work.begin(), work.end(), [](const WeightedItem& a, const WeightedItem& b) { return a.tiles > b.tiles; });
  return work;
}

// When the last CTA of `work` ends, each CTA taken in order by the first of `slots` to be free
// (as the GPU hands them out), in key-tile times and a fixed cost per CTA.
double schedule_end(const std::vector<WeightedItem>& work, int slots) {
  constexpr double kCtaCost = 0.1;  // a CTA's start and end, against a key tile of every head
  std::priority_queue<double, std::vector<double>, std::greater<>> free_at;
  for (int k = 0; k < slots; ++k) free_at.push(0.0);
  double end = 0.0;
  for (const WeightedItem& w : work) {
    const double done = free_at.top() + w.tiles + kCtaCost;
    free_at.pop();
    free_at.push(done);
    end = std::max(end, done);
  }
  return end;
}

int statistics_ctas_per_sm(const AttentionProblem& p) {
  if (flash_forward_supports(p)) return flash_statistics_ctas_per_sm(p);
  int ctas = 1;
  dispatch(p, [&](auto tile) {
    using TL = decltype(tile);
    ctas = ctas_per_sm(statistics_kernel<TL>, kThreads, StatisticsLayout<TL>::kBytes);
  });
  return ctas;
}

}  // namespace

StatisticsPlan plan_statistics(const AttentionProblem& p, const std::vector<QueryBlock>& blocks, int sms) {
  const int bm = attention_block_rows(p.layout.head_dim);
  const int max_tiles = std::max(1, (p.max_length + bm - 1) / bm);
  const int slots = std::max(1, sms) * statistics_ctas_per_sm(p);
  const int shortest = (max_tiles + kStatisticsMaxSplits - 1) / kStatisticsMaxSplits;  // within the splits' cap
  StatisticsPlan plan;
  double plan_end = std::numeric_limits<double>::infinity();
  // Longer ranges first: a shorter one must end the schedule 2% sooner to be taken.
  for (int per : {std::max(16, shortest), 12, 8, 6, 4}) {
    if (per < shortest) continue;
    const std::vector<WeightedItem> work = statistics_work(blocks, bm, per);
    const double end = schedule_end(work, slots);
    if (end >= 0.98 * plan_end) continue;
    plan_end = end;
    plan.tiles_per_split = per;
    plan.splits = (max_tiles + per - 1) / per;
    plan.items.clear();
    for (const WeightedItem& w : work) plan.items.push_back(w.item);
  }
  return plan;
}

std::size_t statistics_partial_doubles(int rows, int heads, int splits) {
  return static_cast<std::size_t>(splits) * static_cast<std::size_t>(rows) *
         (static_cast<std::size_t>(heads) * kHeadFields + kLayerFields);
}

void attention_softmax(const AttentionProblem& p, const AttentionScratch& s, float* ctx, int ld_ctx,
                       cudaStream_t stream) {
  if (p.n_blocks == 0) return;
  if (p.n_blocks > 65535) {  // the grid's y dimension
    throw UnsupportedError(std::to_string(p.rows) + " rows in one pass on the GPU",
                           "pass fewer tokens at once (--max-tokens), or use --device cpu");
  }
  if (flash_forward_supports(p)) {
    flash_forward(p, s, ctx, ld_ctx, stream);
    return;
  }
  const dim3 grid(static_cast<unsigned>(p.layout.heads), static_cast<unsigned>(p.n_blocks));
  dispatch(p, [&](auto tile) {
    using TL = decltype(tile);
    if constexpr (TL::kTensor) {
      launch(row_max_kernel<TL>, TL::kRow, grid, stream, p, s.row_max);
      launch(softmax_kernel<TL>, TL::kBytes, grid, stream, p, s, ctx, ld_ctx);
    } else {
      launch(float_forward_kernel<TL>, TL::kBytes, grid, stream, p, s, ctx, ld_ctx,
             device::rows_copy_by_16_bytes(p, TL::DH));
    }
  });
}

void attention_statistics(const AttentionProblem& p, const AttentionScratch& s, HeadRowStats* head_stats,
                          LayerRowStats* layer_stats, cudaStream_t stream) {
  if (p.n_blocks == 0) return;
  dispatch(p, [&](auto tile) {
    using TL = decltype(tile);
    if (flash_forward_supports(p)) {
      flash_statistics(p, s, stream);
    } else if (s.n_items > 0) {
      launch(statistics_kernel<TL>, StatisticsLayout<TL>::kBytes, dim3(static_cast<unsigned>(s.n_items)), stream, p, s,
             device::rows_copy_by_16_bytes(p, TL::DH));
    }
    finish_statistics_kernel<<<static_cast<unsigned>(p.n_blocks), TL::BM, 0, stream>>>(p, s, TL::BM, head_stats,
                                                                                        layer_stats);
    check(cudaGetLastError(), "attention statistics launch");
  });
}

void narrow(const float* src, void* dst, std::size_t count, Precision to, cudaStream_t stream) {
  if (!count || to == Precision::kFloat32) return;
  const std::size_t blocks = std::min<std::size_t>((count + 255) / 256, 65535 * 32);
  narrow_kernel<<<static_cast<unsigned>(blocks), 256, 0, stream>>>(src, dst, count, to);
}

}  // namespace bentov::cuda
