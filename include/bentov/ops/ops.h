// Numeric kernels of the forward pass. Each optimized kernel has a plain scalar reference
// (namespace ref) that tests compare it against.
#pragma once

#include <cstddef>

namespace bentov::ops {

// C[m, n] = alpha * op(A) op(B) + beta * C, row-major, through OpenBLAS sgemm.
// op(A) is [m, k] (A stored [m, k] with leading dim lda, or [k, m] when trans_a);
// op(B) is [k, n] (B stored [k, n] with ldb, or [n, k] when trans_b).
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

// x: (rows, d) in place: (x - mean) / sqrt(var + eps) * weight + bias, statistics in double
// (torch.nn.functional.layer_norm, biased variance). bias may be null.
void layer_norm(float* x, int rows, int d, const float* weight, const float* bias, double eps);
// out = layer_norm(x) without touching x; out (rows, d).
void layer_norm_to(const float* x, float* out, int rows, int d, const float* weight,
                   const float* bias, double eps);

// In place, count elements.
// out = x / sqrt(mean(x^2) + eps) * weight per row, statistics in double (LlamaRMSNorm).
void rms_norm_to(const float* x, float* out, int rows, int d, const float* weight, double eps);

void gelu_erf(float* x, std::size_t count);   // 0.5 x (1 + erf(x / sqrt 2))          (ACT2FN["gelu"]; AVX2)
void gelu_tanh(float* x, std::size_t count);  // 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) ("gelu_new")
void relu(float* x, std::size_t count);
// gate[i] = silu(gate[i]) * up[i] (SwiGLU: ACT2FN["silu"](gate_proj(x)) * up_proj(x)).
void silu_mul(float* gate, const float* up, std::size_t count);

// scores: (n, n) row-major; row q keeps k <= q, softmaxes them (max-subtracted, float
// accumulation in double) and writes exact zeros for k > q (causal mask).
void causal_softmax(float* scores, int n);
// Same with a sliding window: row q keeps k in (q - window, q] (window 0: no window), as
// transformers' sliding_window_overlay masks kv_idx <= q_idx - sliding_window.
void causal_softmax_window(float* scores, int n, int window);
// Query rows [r0, r1) only: rows is (r1 - r0, ld), row q at rows + (q - r0) * ld, its scores
// in columns 0 .. r1 - 1. Those columns get the probabilities and the masked zeros; columns
// from r1 on are left as they are (the caller's, when ld > r1).
void causal_softmax_rows(float* rows, int r0, int r1, int ld, int window);

// rows: (n, row_stride) with heads of head_dim dims starting at offsets given by `head_offset`.
// Rotate-half rotary on the first rot_dims dims of one head vector (modeling_gpt_neox.py
// apply_rotary_pos_emb): x' = x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1].
// cos/sin: (n, rot_dims / 2) tables (emb = cat(freqs, freqs), so the halves share them).
void apply_rotary(float* head_vec, int rot_dims, const float* cos_row, const float* sin_row);

// The tables (cos_row, sin_row) come from ops/rope.h.

// rows (rows, ld), the first `cols` of each: x = cap * tanh(x / cap) (Gemma 2's
// attn_logit_softcapping in eager_attention_forward, before the mask and the softmax).
void tanh_softcap(float* rows, int n_rows, int cols, int ld, float cap);

void add_inplace(float* x, const float* y, std::size_t count);        // x += y

namespace ref {
void gelu_erf(float* x, std::size_t count);  // scalar, glibc erf in double
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
void layer_norm(float* x, int rows, int d, const float* weight, const float* bias, double eps);
void causal_softmax(float* scores, int n);
// Same with a sliding window: row q keeps k in (q - window, q] (window 0: no window), as
// transformers' sliding_window_overlay masks kv_idx <= q_idx - sliding_window.
void causal_softmax_window(float* scores, int n, int window);
}  // namespace ref

}  // namespace bentov::ops
