#include "bentov/ops/convert.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace bentov::ops {

namespace ref {

// IEEE 754 binary16 -> binary32 (subnormals normalized; inf and nan kept).
float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace ref

namespace {

__attribute__((target("avx,f16c"))) void f16_to_f32_f16c(const std::uint16_t* src, float* dst,
                                                         std::size_t count) {
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < count; ++i) dst[i] = ref::f16_to_f32(src[i]);
}

bool cpu_has_f16c() {
  // F16C from CPUID leaf 1 (ECX bit 29): clang before 16 does not know
  // __builtin_cpu_supports("f16c"); "avx" also covers the OS saving the YMM state.
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __builtin_cpu_supports("avx") && __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_F16C) != 0;
  }();
  return has;
}

}  // namespace

void f16_to_f32(const std::uint16_t* src, float* dst, std::size_t count) {
  if (cpu_has_f16c()) {
    f16_to_f32_f16c(src, dst, count);
    return;
  }
  for (std::size_t i = 0; i < count; ++i) dst[i] = ref::f16_to_f32(src[i]);
}

void bf16_to_f32(const std::uint16_t* src, float* dst, std::size_t count) {
  // bf16 is the top half of a float: a shift, which compilers vectorize.
  auto* out = reinterpret_cast<std::uint32_t*>(dst);
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<std::uint32_t>(src[i]) << 16;
}

std::shared_ptr<float[]> allocate_floats(std::size_t count) {
  constexpr std::size_t kHuge = 2u << 20;
  const std::size_t bytes = count * sizeof(float);
  if (bytes < kHuge) return std::shared_ptr<float[]>(new float[count]);
  const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, rounded);
  if (!p) throw std::bad_alloc();
  ::madvise(p, rounded, MADV_HUGEPAGE);
  return std::shared_ptr<float[]>(static_cast<float*>(p), [](float* f) { std::free(f); });
}

void release_mapped_pages(const void* data, std::size_t bytes) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + page - 1) / page * page;
  const std::uintptr_t last = (begin + bytes) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace bentov::ops
