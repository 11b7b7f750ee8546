// The exact (erf) GELU of GPT-NeoX / Pythia, vectorized in double precision (vmath_kernels.h, at
// the widest width the CPU runs).
// transformers: ACT2FN["gelu"] = nn.functional.gelu, 0.5 x (1 + erf(x / sqrt 2)), computed by
// the reference fixtures in float64; glibc's scalar erf cost a fifth of a pythia-160m forward at
// 512 tokens (16 ns per element). Here, with z = |x| / sqrt 2:
//   z <  1: erf(z)  = z S(2 z^2 - 1)
//   z >= 1: erfc(z) = exp(-z^2) t L(u),  t = 1 / (1 + z / 2),  u = affine map of t onto [-1, 1]
//   z > 10.5: erfc(z) = 0 (x erfc(z) is below the smallest float)
// S and L are fits (scripts/fit_gelu_erf.py) within 1e-12 of math.erf / math.erfc, exp is a
// degree-11 Taylor polynomial after Cody-Waite reduction (relative error below 1e-14), and
// 1 + erf(-z) is erfc(z) directly, so no branch loses digits to cancellation. The result is
// rounded to float once, like the scalar double version it replaces (ref::gelu_erf).
// The fits' coefficients are in vmath_kernels.h.

#include <cmath>
#include <cstring>

#include "bentov/ops/ops.h"
#include "vmath_isa.h"

namespace bentov::ops {

void gelu_erf(float* x, std::size_t count) {
  switch (cpu_isa()) {
    case Isa::kAvx512: avx512::gelu_erf(x, count); return;
    case Isa::kAvx2: avx2::gelu_erf(x, count); return;
    case Isa::kScalar: ref::gelu_erf(x, count); return;
  }
}

namespace ref {

void gelu_erf(float* x, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v * M_SQRT1_2)));
  }
}

}  // namespace ref

}  // namespace bentov::ops
