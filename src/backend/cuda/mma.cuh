// Warp-level tensor-core primitives in PTX (the PTX ISA, "Warp-level matrix instructions"):
// mma.sync m16n8k16 with float accumulators, ldmatrix from shared memory, and cp.async copies
// from global to shared memory. Fragment layouts, for lane = 4 group + quad:
//   A (16 x 16, row-major): a0 (group, 2 quad + {0,1}), a1 (group + 8, ...), a2 (group, 8 + 2 quad
//     + {0,1}), a3 (group + 8, 8 + ...);
//   B (16 x 8, k x n): b0 (k = 2 quad + {0,1}, n = group), b1 (k = 8 + 2 quad + {0,1}, n = group);
//   C (16 x 8 floats): c0, c1 (group, 2 quad + {0,1}), c2, c3 (group + 8, ...).
// A C fragment pair of two adjacent n-tiles is, rounded to 16 bits, the A fragment of the next
// product (FlashAttention-2's P in registers: csrc/flash_attn/src/utils.h, convert_layout_acc_Aregs).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace bentov::cuda::device {

__device__ inline unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 bytes from global `src` to shared `dst`, or 16 zero bytes when !valid (src is not read).
__device__ inline void copy16_async(void* dst, const void* src, bool valid) {
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src), "r"(bytes));
}
__device__ inline void commit_async() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ inline void wait_async_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }
template <int kPending>  // until at most kPending of this thread's committed groups are in flight
__device__ inline void wait_async_group() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

// Four 8x8 16-bit matrices; lane l gives the address of row l % 8 of matrix l / 8.
__device__ inline void load_matrix_x4(unsigned (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}
__device__ inline void load_matrix_x4_transposed(unsigned (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}

// d (16 x 8) += a (16 x 16) b (16 x 8), T = __nv_bfloat16 or __half.
template <typename T>
__device__ inline void mma_16x8x16(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// 2^x and log2(x) on the special function unit, subnormal results and inputs flushed to zero
// (FlashAttention's exp2f under --use_fast_math): about 2 ulp, no branch for the subnormal range.
__device__ inline float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}
__device__ inline float fast_log2(float x) {
  float y;
  asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// Two floats rounded to 16 bits each, `lo` in the low half (the smaller column).
template <typename T>
__device__ inline unsigned pack2(float lo, float hi) {
  if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const unsigned*>(&v);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const unsigned*>(&v);
  }
}

}  // namespace bentov::cuda::device
