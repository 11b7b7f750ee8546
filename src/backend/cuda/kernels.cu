// CUDA twins of the CPU kernels in src/ops/ (see kernels.h). Arithmetic follows the CPU code
// operation by operation where it decides exactness: statistics and the GELU/SiLU in double,
// softmax exponentials in float with double sums, rotary without fused multiply-adds (the CPU's
// scalar code has none), so the two backends differ only by the rounding of libm functions.
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

namespace bentov::cuda {

namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::size_t count, int threads = kThreads) {
  const std::size_t b = (count + threads - 1) / threads;
  return static_cast<unsigned>(b < 65535 * 32 ? b : 65535 * 32);
}

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); every thread gets it.
__device__ double block_sum(double v) {
  __shared__ double partial[32];
  __shared__ double total;
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // partial/total may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = (blockDim.x + 31) >> 5;
    double s = lane < warps ? partial[lane] : 0.0;
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) total = s;
  }
  __syncthreads();
  return total;
}

__device__ float block_max(float v) {
  __shared__ float partial[32];
  __shared__ float total;
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, off));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = (blockDim.x + 31) >> 5;
    float s = lane < warps ? partial[lane] : -INFINITY;
    for (int off = 16; off > 0; off >>= 1) s = fmaxf(s, __shfl_down_sync(0xffffffffu, s, off));
    if (lane == 0) total = s;
  }
  __syncthreads();
  return total;
}

__device__ inline void store_narrowed(const Narrowed& n, std::size_t i, float v) {
  if (n.bf16) {
    static_cast<__nv_bfloat16*>(n.dst)[i] = __float2bfloat16_rn(v);
  } else {
    static_cast<__half*>(n.dst)[i] = __float2half_rn(v);
  }
}

// Elements 4 q .. 4 q + 3 of the copy, one 8-byte store.
__device__ inline void store_narrowed4(const Narrowed& n, std::size_t q, const float (&v)[4]) {
  if (n.bf16) {
    const __nv_bfloat162 lo = __floats2bfloat162_rn(v[0], v[1]), hi = __floats2bfloat162_rn(v[2], v[3]);
    reinterpret_cast<uint2*>(n.dst)[q] = make_uint2(*reinterpret_cast<const unsigned*>(&lo),
                                                    *reinterpret_cast<const unsigned*>(&hi));
  } else {
    const __half2 lo = __floats2half2_rn(v[0], v[1]), hi = __floats2half2_rn(v[2], v[3]);
    reinterpret_cast<uint2*>(n.dst)[q] = make_uint2(*reinterpret_cast<const unsigned*>(&lo),
                                                    *reinterpret_cast<const unsigned*>(&hi));
  }
}

// One block per token row.
__global__ void gather_rows_kernel(const void* table, Element element, int e, const std::int32_t* ids, float scale,
                                   float* words) {
  const std::size_t row = static_cast<std::size_t>(ids[blockIdx.x]) * e;
  float* out = words + static_cast<std::size_t>(blockIdx.x) * e;
  for (int j = threadIdx.x; j < e; j += blockDim.x) {
    float v;
    if (element == Element::kF32) {
      v = static_cast<const float*>(table)[row + j];
    } else {
      const std::uint16_t bits = static_cast<const std::uint16_t*>(table)[row + j];
      v = element == Element::kF16 ? __half2float(__ushort_as_half(bits))
                                   : __bfloat162float(__ushort_as_bfloat16(bits));
    }
    out[j] = scale != 1.0f ? v * scale : v;
  }
}

__global__ void widen_f16_kernel(const std::uint16_t* src, float* dst, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    __half h;
    *reinterpret_cast<std::uint16_t*>(&h) = src[i];
    dst[i] = __half2float(h);
  }
}

__global__ void widen_bf16_kernel(const std::uint16_t* src, float* dst, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    dst[i] = __uint_as_float(static_cast<unsigned>(src[i]) << 16);
  }
}

// One block per row: mean, then the biased variance around it, both in double (two passes, as
// ops::layer_norm_to).
__global__ void layer_norm_kernel(const float* x, float* y, int d, const float* w, const float* b, double eps,
                                  Narrowed copy) {
  const float* xr = x + static_cast<std::size_t>(blockIdx.x) * d;
  float* yr = y + static_cast<std::size_t>(blockIdx.x) * d;
  double s = 0.0;
  for (int i = threadIdx.x; i < d; i += blockDim.x) s += xr[i];
  const double mean = block_sum(s) / d;
  double v = 0.0;
  for (int i = threadIdx.x; i < d; i += blockDim.x) {
    const double c = xr[i] - mean;
    v += c * c;
  }
  const double inv = 1.0 / sqrt(block_sum(v) / d + eps);
  for (int i = threadIdx.x; i < d; i += blockDim.x) {
    double out = (xr[i] - mean) * inv * w[i];
    if (b) out += b[i];
    const float v = static_cast<float>(out);
    yr[i] = v;
    if (copy.dst) store_narrowed(copy, static_cast<std::size_t>(blockIdx.x) * d + i, v);
  }
}

__device__ inline double warp_sum(double v) {  // every lane gets it
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// layer_norm / rms_norm with the row read once into registers, kRowFloats elements per thread:
// a warp per row (kWarpPerRow, kRowsPerBlock rows to a block) or a block per row. Each thread
// sums its elements in ascending order, then the lanes' sums are reduced: the block form gives
// layer_norm_kernel's and rms_norm_kernel's sums in their order, so the same bits.
constexpr int kRowFloats = 32;                 // per thread
constexpr int kMaxWarpRow = 32 * kRowFloats;    // floats of a row a warp holds
constexpr int kMaxBlockRow = kThreads * kRowFloats;
constexpr int kRowsPerBlock = kThreads / 32;

template <bool kWarpPerRow>
__global__ void norm_in_registers_kernel(const float* x, float* y, int rows, int d, const float* w, const float* b,
                                         double eps, bool rms, Narrowed copy) {
  constexpr int kLanes = kWarpPerRow ? 32 : kThreads;  // threads of a row
  const int lane = kWarpPerRow ? static_cast<int>(threadIdx.x) & 31 : static_cast<int>(threadIdx.x);
  const std::size_t row =
      kWarpPerRow ? static_cast<std::size_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5) : blockIdx.x;
  if (kWarpPerRow && row >= static_cast<std::size_t>(rows)) return;  // a whole warp: no block-wide sync follows
  auto total = [](double v) {  // over the row's threads; every one gets it
    if constexpr (kWarpPerRow) {
      return warp_sum(v);
    } else {
      return block_sum(v);
    }
  };
  const float* xr = x + row * d;
  float v[kRowFloats];  // element k * kLanes + lane of the row
  double s = 0.0;
#pragma unroll
  for (int k = 0; k < kRowFloats; ++k) {
    const int i = k * kLanes + lane;
    v[k] = i < d ? xr[i] : 0.0f;
    if (i < d) s += rms ? static_cast<double>(v[k]) * v[k] : v[k];
  }
  s = total(s);
  double mean = 0.0, inv = 0.0;
  if (rms) {
    inv = 1.0 / sqrt(s / d + eps);
  } else {
    mean = s / d;
    double var = 0.0;
#pragma unroll
    for (int k = 0; k < kRowFloats; ++k) {
      const double c = v[k] - mean;
      if (k * kLanes + lane < d) var += c * c;
    }
    inv = 1.0 / sqrt(total(var) / d + eps);
  }
  float* yr = y + row * d;
#pragma unroll
  for (int k = 0; k < kRowFloats; ++k) {
    const int i = k * kLanes + lane;
    if (i >= d) continue;
    float out;
    if (rms) {
      out = static_cast<float>(v[k] * inv * w[i]);
    } else {
      double o = (v[k] - mean) * inv * w[i];
      if (b) o += b[i];
      out = static_cast<float>(o);
    }
    yr[i] = out;
    if (copy.dst) store_narrowed(copy, row * d + i, out);
  }
}

__global__ void rms_norm_kernel(const float* x, float* y, int d, const float* w, double eps, Narrowed copy) {
  const float* xr = x + static_cast<std::size_t>(blockIdx.x) * d;
  float* yr = y + static_cast<std::size_t>(blockIdx.x) * d;
  double s = 0.0;
  for (int i = threadIdx.x; i < d; i += blockDim.x) s += static_cast<double>(xr[i]) * xr[i];
  const double inv = 1.0 / sqrt(block_sum(s) / d + eps);
  for (int i = threadIdx.x; i < d; i += blockDim.x) {
    const float v = static_cast<float>(xr[i] * inv * w[i]);
    yr[i] = v;
    if (copy.dst) store_narrowed(copy, static_cast<std::size_t>(blockIdx.x) * d + i, v);
  }
}

__global__ void fill_rows_kernel(float* y, int ldy, int rows, int cols, const float* bias) {
  const std::size_t total = static_cast<std::size_t>(rows) * cols;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t r = i / cols, c = i % cols;
    y[r * ldy + c] = bias[c];
  }
}

__global__ void add_kernel(float* x, const float* y, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    x[i] = __fadd_rn(x[i], y[i]);
  }
}

__global__ void add_parallel_kernel(float* x, const float* attn, const float* mlp, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    x[i] = __fadd_rn(__fadd_rn(mlp[i], attn[i]), x[i]);
  }
}

__device__ double activate(double v, Act act) {
  switch (act) {
    case Act::kGeluErf: return 0.5 * v * (1.0 + erf(v * 0.70710678118654752440));
    case Act::kGeluTanh: {
      const double c = 0.79788456080286535588;  // sqrt(2 / pi)
      return 0.5 * v * (1.0 + tanh(c * (v + 0.044715 * v * v * v)));
    }
    case Act::kRelu: return v > 0.0 ? v : 0.0;
    case Act::kSilu: return v / (1.0 + exp(-v));
  }
  return v;
}

__global__ void activation_kernel(float* x, const float* up, std::size_t count, Act act) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    if (act == Act::kRelu) {
      const float v = x[i] > 0.0f ? x[i] : 0.0f;
      x[i] = up ? __fmul_rn(v, up[i]) : v;
    } else if (up && act == Act::kSilu) {  // ops::silu_mul: one rounding of silu(g) * up
      x[i] = static_cast<float>(activate(x[i], act) * up[i]);
    } else {
      const float v = static_cast<float>(activate(x[i], act));
      x[i] = up ? __fmul_rn(v, up[i]) : v;
    }
  }
}

__device__ float activate_float(float v, Act act) {
  switch (act) {
    case Act::kGeluErf: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
    case Act::kGeluTanh: return 0.5f * v * (1.0f + tanhf(0.79788456080286535588f * (v + 0.044715f * v * v * v)));
    case Act::kRelu: return v > 0.0f ? v : 0.0f;
    case Act::kSilu: return v / (1.0f + expf(-v));
  }
  return v;
}

// Four elements per thread and step (16-byte loads), then the count % 4 left one by one.
__global__ void activation_narrowed_kernel(const float* x, const float* up, std::size_t count, Act act, Narrowed out) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  const std::size_t first = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const std::size_t quads = count / 4;
  for (std::size_t q = first; q < quads; q += stride) {
    const float4 v = reinterpret_cast<const float4*>(x)[q];
    float a[4] = {activate_float(v.x, act), activate_float(v.y, act), activate_float(v.z, act),
                  activate_float(v.w, act)};
    if (up) {
      const float4 u = reinterpret_cast<const float4*>(up)[q];
      a[0] *= u.x, a[1] *= u.y, a[2] *= u.z, a[3] *= u.w;
    }
    store_narrowed4(out, q, a);
  }
  for (std::size_t i = 4 * quads + first; i < count; i += stride) {
    const float v = activate_float(x[i], act);
    store_narrowed(out, i, up ? v * up[i] : v);
  }
}

__device__ void rotate_half(float* x, int half, const float* c, const float* s) {
  for (int i = 0; i < half; ++i) {
    const float x1 = x[i], x2 = x[i + half];
    x[i] = __fsub_rn(__fmul_rn(x1, c[i]), __fmul_rn(x2, s[i]));
    x[i + half] = __fadd_rn(__fmul_rn(x2, c[i]), __fmul_rn(x1, s[i]));
  }
}

// One thread per (row, query or key head).
__global__ void rotary_kernel(float* qkv, int n, int ld, int heads, int q_base, int q_stride, int kv_heads,
                              int k_base, int k_stride, int rot_dims, const float* cos, const float* sin) {
  const int per_row = heads + kv_heads;
  const std::size_t total = static_cast<std::size_t>(n) * per_row;
  const int half = rot_dims / 2;
  for (std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const int row = static_cast<int>(t / per_row), which = static_cast<int>(t % per_row);
    float* base = qkv + static_cast<std::size_t>(row) * ld;
    float* head = which < heads ? base + q_base + which * q_stride : base + k_base + (which - heads) * k_stride;
    rotate_half(head, half, cos + static_cast<std::size_t>(row) * half, sin + static_cast<std::size_t>(row) * half);
  }
}

// One block per row; rotate_half's arithmetic on the rotated dims.
__global__ void rotary_narrowed_kernel(const float* qkv, int ld, const std::int32_t* rotated_dim, int rot_dims,
                                       const float* cos, const float* sin, Narrowed out) {
  const std::size_t row = blockIdx.x;
  const float* x = qkv + row * ld;
  const int half = rot_dims / 2;
  const float* c = cos + row * half;
  const float* s = sin + row * half;
  for (int col = static_cast<int>(threadIdx.x); col < ld; col += static_cast<int>(blockDim.x)) {
    const int d = rotated_dim[col];
    float v = x[col];
    if (d >= 0 && d < half) {
      v = __fsub_rn(__fmul_rn(x[col], c[d]), __fmul_rn(x[col + half], s[d]));
    } else if (d >= half) {
      v = __fadd_rn(__fmul_rn(x[col], c[d - half]), __fmul_rn(x[col - half], s[d - half]));
    }
    store_narrowed(out, row * ld + col, v);
  }
}

// One block per (query row, head): the first `cols` keys of the row soft-capped.
__global__ void softcap_kernel(float* scores, std::size_t head_stride, int cols, int n, float cap) {
  float* row = scores + blockIdx.y * head_stride + static_cast<std::size_t>(blockIdx.x) * n;
  for (int k = threadIdx.x; k < cols; k += blockDim.x) row[k] = tanhf(row[k] / cap) * cap;
}

// One block per (query row, head).
__global__ void softmax_kernel(float* scores, std::size_t head_stride, int r0, int n, int window) {
  const int q = r0 + blockIdx.x;
  float* row = scores + blockIdx.y * head_stride + static_cast<std::size_t>(blockIdx.x) * n;
  const int first = window > 0 ? max(0, q - window + 1) : 0;  // keys [first, q]
  float m = -INFINITY;
  for (int k = first + threadIdx.x; k <= q; k += blockDim.x) m = fmaxf(m, row[k]);
  m = block_max(m);
  double s = 0.0;
  for (int k = first + threadIdx.x; k <= q; k += blockDim.x) {
    const float e = expf(__fsub_rn(row[k], m));
    row[k] = e;
    s += e;
  }
  const float inv = static_cast<float>(1.0 / block_sum(s));
  for (int k = threadIdx.x; k < n; k += blockDim.x) {
    row[k] = (k >= first && k <= q) ? __fmul_rn(row[k], inv) : 0.0f;
  }
}

}  // namespace

void gather_rows(const void* table, Element element, int e, const std::int32_t* ids, int n, float scale, float* words,
                 cudaStream_t s) {
  if (n > 0) gather_rows_kernel<<<static_cast<unsigned>(n), 256, 0, s>>>(table, element, e, ids, scale, words);
}

void widen_f16(const std::uint16_t* src, float* dst, std::size_t count, cudaStream_t s) {
  if (count) widen_f16_kernel<<<blocks_for(count), kThreads, 0, s>>>(src, dst, count);
}
void widen_bf16(const std::uint16_t* src, float* dst, std::size_t count, cudaStream_t s) {
  if (count) widen_bf16_kernel<<<blocks_for(count), kThreads, 0, s>>>(src, dst, count);
}
namespace {

// Rows of up to kMaxBlockRow floats: a warp per row when it holds one.
void norm_in_registers(const float* x, float* y, int rows, int d, const float* weight, const float* bias, double eps,
                       bool rms, Narrowed copy, cudaStream_t s) {
  if (d <= kMaxWarpRow) {
    const unsigned blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
    norm_in_registers_kernel<true><<<blocks, kThreads, 0, s>>>(x, y, rows, d, weight, bias, eps, rms, copy);
  } else {
    norm_in_registers_kernel<false><<<rows, kThreads, 0, s>>>(x, y, rows, d, weight, bias, eps, rms, copy);
  }
}

}  // namespace

void layer_norm(const float* x, float* y, int rows, int d, const float* weight, const float* bias, double eps,
                cudaStream_t s, Narrowed copy) {
  if (!rows) return;
  if (d <= kMaxBlockRow) {
    norm_in_registers(x, y, rows, d, weight, bias, eps, false, copy, s);
  } else {
    layer_norm_kernel<<<rows, kThreads, 0, s>>>(x, y, d, weight, bias, eps, copy);
  }
}
void rms_norm(const float* x, float* y, int rows, int d, const float* weight, double eps, cudaStream_t s,
              Narrowed copy) {
  if (!rows) return;
  if (d <= kMaxBlockRow) {
    norm_in_registers(x, y, rows, d, weight, nullptr, eps, true, copy, s);
  } else {
    rms_norm_kernel<<<rows, kThreads, 0, s>>>(x, y, d, weight, eps, copy);
  }
}
void fill_rows(float* y, int ldy, int rows, int cols, const float* bias, cudaStream_t s) {
  const std::size_t total = static_cast<std::size_t>(rows) * cols;
  if (total) fill_rows_kernel<<<blocks_for(total), kThreads, 0, s>>>(y, ldy, rows, cols, bias);
}
void add(float* x, const float* y, std::size_t count, cudaStream_t s) {
  if (count) add_kernel<<<blocks_for(count), kThreads, 0, s>>>(x, y, count);
}
void add_parallel_residual(float* x, const float* attn, const float* mlp, std::size_t count, cudaStream_t s) {
  if (count) add_parallel_kernel<<<blocks_for(count), kThreads, 0, s>>>(x, attn, mlp, count);
}
void activation(float* x, const float* up, std::size_t count, Act act, cudaStream_t s) {
  if (count) activation_kernel<<<blocks_for(count), kThreads, 0, s>>>(x, up, count, act);
}
void activation_narrowed(const float* x, const float* up, std::size_t count, Act act, Narrowed out, cudaStream_t s) {
  if (count) activation_narrowed_kernel<<<blocks_for((count + 3) / 4), kThreads, 0, s>>>(x, up, count, act, out);
}
void rotary(float* qkv, int n, int ld, int heads, int q_base, int q_stride, int kv_heads, int k_base, int k_stride,
            int rot_dims, const float* cos, const float* sin, cudaStream_t s) {
  const std::size_t total = static_cast<std::size_t>(n) * (heads + kv_heads);
  if (total && rot_dims > 0) {
    rotary_kernel<<<blocks_for(total), kThreads, 0, s>>>(qkv, n, ld, heads, q_base, q_stride, kv_heads, k_base,
                                                         k_stride, rot_dims, cos, sin);
  }
}
void rotary_narrowed(const float* qkv, int n, int ld, const std::int32_t* rotated_dim, int rot_dims, const float* cos,
                     const float* sin, Narrowed out, cudaStream_t s) {
  if (n > 0) {
    rotary_narrowed_kernel<<<static_cast<unsigned>(n), kThreads, 0, s>>>(qkv, ld, rotated_dim, rot_dims, cos, sin,
                                                                        out);
  }
}
void causal_softmax(float* scores, int heads, std::size_t head_stride, int r0, int r1, int n, int window,
                    cudaStream_t s) {
  if (r1 > r0 && heads > 0) {
    softmax_kernel<<<dim3(static_cast<unsigned>(r1 - r0), static_cast<unsigned>(heads)), 128, 0, s>>>(
        scores, head_stride, r0, n, window);
  }
}
void tanh_softcap(float* scores, int heads, std::size_t head_stride, int rows, int cols, int n, float cap,
                  cudaStream_t s) {
  if (rows > 0 && cols > 0 && heads > 0) {
    softcap_kernel<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>(heads)), 128, 0, s>>>(
        scores, head_stride, cols, n, cap);
  }
}
}  // namespace bentov::cuda
