// CUDA kernels of the forward pass, each the device twin of a CPU kernel in ops/ (named in its
// comment), launched on the given stream. Pointers are device pointers; shapes are row-major.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace bentov::cuda {

enum class Act { kGeluErf, kGeluTanh, kRelu, kSilu };

// dst[i] = float(src[i]) for IEEE half / bfloat16 bits (ops::f16_to_f32, bf16_to_f32).
void widen_f16(const std::uint16_t* src, float* dst, std::size_t count, cudaStream_t s);
void widen_bf16(const std::uint16_t* src, float* dst, std::size_t count, cudaStream_t s);

// The embedding rows of `ids`: words (n, e) = widen(table[ids[i]]) * scale, table (vocab, e) in
// its stored element type (token_rows in model/embedding.cpp). ids: n device int32.
enum class Element { kF32, kF16, kBF16 };
void gather_rows(const void* table, Element element, int e, const std::int32_t* ids, int n, float scale, float* words,
                 cudaStream_t s);

// A 16-bit copy of a kernel's float output, for the next product: dst (the output's shape) gets
// each value rounded to bfloat16 (bf16) or half, as cuda::narrow rounds it. dst null: no copy.
struct Narrowed {
  void* dst = nullptr;
  bool bf16 = true;
};

// y (rows, d) = layer_norm(x) / rms_norm(x), statistics in double (ops::layer_norm_to,
// ops::rms_norm_to), and its 16-bit copy. bias may be null. x may equal y.
void layer_norm(const float* x, float* y, int rows, int d, const float* weight, const float* bias, double eps,
                cudaStream_t s, Narrowed copy = {});
void rms_norm(const float* x, float* y, int rows, int d, const float* weight, double eps, cudaStream_t s,
              Narrowed copy = {});

// y[r, c] = bias[c] for r < rows, c < cols, row stride ldy.
void fill_rows(float* y, int ldy, int rows, int cols, const float* bias, cudaStream_t s);
// x += y (ops::add_inplace); x = (a + b) + x (the parallel residual, in the CPU's order).
void add(float* x, const float* y, std::size_t count, cudaStream_t s);
void add_parallel_residual(float* x, const float* attn, const float* mlp, std::size_t count, cudaStream_t s);
// x = act(x), or x = act(x) * up for a gated MLP (up non-null): ops::gelu_erf / gelu_tanh /
// relu / silu_mul, GELU and SiLU evaluated in double.
void activation(float* x, const float* up, std::size_t count, Act act, cudaStream_t s);
// out = act(x) (times up when non-null) rounded to 16 bits, GELU and SiLU evaluated in float
// (as PyTorch evaluates them for 16-bit tensors): for 16-bit products, whose input rounding is
// far larger than float's. x is left as it was.
void activation_narrowed(const float* x, const float* up, std::size_t count, Act act, Narrowed out, cudaStream_t s);

// Rotate-half rotary on the first rot_dims dims of every query and key head of qkv (n, ld)
// (ops::apply_rotary): query head h at column q_offset(h), key head g at k_offset(g), given as
// base + h * stride. cos/sin: (n, rot_dims / 2).
void rotary(float* qkv, int n, int ld, int heads, int q_base, int q_stride, int kv_heads, int k_base, int k_stride,
            int rot_dims, const float* cos, const float* sin, cudaStream_t s);

// The attention's 16-bit input: out (n, ld) = qkv rounded, after the rotation rotary() applies to
// the first rot_dims dims of every query and key head (the same floats); qkv is left as it was.
// rotated_dim (ld, device): the dim d < rot_dims of a query or key head that column is, or -1.
void rotary_narrowed(const float* qkv, int n, int ld, const std::int32_t* rotated_dim, int rot_dims, const float* cos,
                     const float* sin, Narrowed out, cudaStream_t s);

// Causal softmax of query rows [r0, r1) of `heads` score blocks: scores (heads, block, n) with
// head stride `head_stride`, row q of a head at (q - r0) * n. Keys k in (q - window, q] (window 0:
// all k <= q) are softmaxed (max-subtracted, float exp, sum in double), the rest set to exact
// zeros (ops::causal_softmax_rows).
void causal_softmax(float* scores, int heads, std::size_t head_stride, int r0, int r1, int n, int window,
                    cudaStream_t s);
// scores as above, the first `cols` keys of `rows` rows of every head: x = cap * tanh(x / cap)
// (ops::tanh_softcap), before the softmax.
void tanh_softcap(float* scores, int heads, std::size_t head_stride, int rows, int cols, int n, float cap,
                  cudaStream_t s);

}  // namespace bentov::cuda
