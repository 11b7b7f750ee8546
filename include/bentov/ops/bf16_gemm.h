// bfloat16 products on the CPU (`--dtype bf16`): operands rounded to bf16, products summed in
// float32, through oneDNN's matmul (AMX or AVX512-BF16 where the CPU has them). The build
// finds oneDNN (Debian's libdnnl-dev) and builds without it; then bf16_products_compiled() is
// false and gemm_bf16 throws UnsupportedError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bentov::ops {

// x rounded to the nearest bfloat16 (ties to even), as its 16 bits: the top half of the float
// it stands for. NaN stays NaN (quiet), infinities stay infinite, a float that rounds past
// bf16's largest value becomes infinite, as torch's .to(torch.bfloat16).
inline std::uint16_t to_bf16(float x) {
  std::uint32_t u;
  __builtin_memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

// out[i] = to_bf16(x[i]).
void round_to_bf16(const float* x, std::uint16_t* out, std::size_t count);
// x[i] = the float of to_bf16(x[i]): the values a bf16 tensor would hold, kept as floats.
void round_to_bf16_values(float* x, std::size_t count);

// Whether this build has the bf16 products (oneDNN).
bool bf16_products_compiled();
// How this CPU runs them: "AMX", "AVX512-BF16", or "emulated" (correct, and slower than
// float32: the CPU has neither); "not built" without oneDNN.
std::string bf16_products_isa();
// Empty where bf16 products outrun float32 ones (AMX; AVX512-BF16 on AMD Zen 4); else a
// sentence saying that on this CPU they do not: an Intel core without AMX issues one 512-bit
// bf16 dot product per cycle against two float32 FMAs, the same FLOPs at best (0.6x of sgemm on
// an Emerald Rapids VM, bentov_bench's BM_GemmBf16 against BM_Sgemm), and emulated ones are
// slower still.
std::string bf16_products_speed_note();

// C (m, n), row stride ldc, = A B + beta C on the calling thread alone. A (m, k) bf16, row
// stride lda. B (k, n) bf16: element (i, j) at B[i * ldb + j], or at B[j * ldb + i] when
// b_transposed (B stored (n, k), an nn.Linear weight). beta is 0 or 1. The same call gives the
// same bits whatever thread runs it.
void gemm_bf16(int m, int n, int k, const std::uint16_t* A, int lda, const std::uint16_t* B, bool b_transposed,
               int ldb, float beta, float* C, int ldc);

}  // namespace bentov::ops
