#include "bentov/ops/ops.h"

#include "bentov/ops/vmath.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "vmath_isa.h"

namespace bentov::ops {

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

namespace {

void layer_norm_row_scalar(const float* xr, float* yr, int d, const float* weight, const float* bias, double eps) {
  double sum = 0.0;
  for (int i = 0; i < d; ++i) sum += xr[i];
  const double mean = sum / d;
  double var = 0.0;
  for (int i = 0; i < d; ++i) {
    const double c = xr[i] - mean;
    var += c * c;
  }
  var /= d;
  const double inv = 1.0 / std::sqrt(var + eps);
  for (int i = 0; i < d; ++i) {
    double v = (xr[i] - mean) * inv * weight[i];
    if (bias) v += bias[i];
    yr[i] = static_cast<float>(v);
  }
}

void rms_norm_row_scalar(const float* xr, float* yr, int d, const float* weight, double eps) {
  double ss = 0.0;
  for (int i = 0; i < d; ++i) ss += static_cast<double>(xr[i]) * xr[i];
  const double inv = 1.0 / std::sqrt(ss / d + eps);
  for (int i = 0; i < d; ++i) yr[i] = static_cast<float>(xr[i] * inv * weight[i]);
}

}  // namespace

void layer_norm_to(const float* x, float* out, int rows, int d, const float* weight,
                   const float* bias, double eps) {
  const Isa isa = cpu_isa();
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::ptrdiff_t>(r) * d;
    float* yr = out + static_cast<std::ptrdiff_t>(r) * d;
    switch (isa) {
      case Isa::kAvx512: avx512::norm_row(xr, yr, static_cast<std::size_t>(d), weight, bias, eps, false); break;
      case Isa::kAvx2: avx2::norm_row(xr, yr, static_cast<std::size_t>(d), weight, bias, eps, false); break;
      case Isa::kScalar: layer_norm_row_scalar(xr, yr, d, weight, bias, eps); break;
    }
  }
}

void layer_norm(float* x, int rows, int d, const float* weight, const float* bias, double eps) {
  layer_norm_to(x, x, rows, d, weight, bias, eps);
}

void gelu_tanh(float* x, std::size_t count) {
  const double c = std::sqrt(2.0 / M_PI);
  for (std::size_t i = 0; i < count; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v))));
  }
}

void silu_mul(float* gate, const float* up, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const double g = gate[i];
    gate[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void rms_norm_to(const float* x, float* out, int rows, int d, const float* weight, double eps) {
  const Isa isa = cpu_isa();
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::ptrdiff_t>(r) * d;
    float* yr = out + static_cast<std::ptrdiff_t>(r) * d;
    switch (isa) {
      case Isa::kAvx512: avx512::norm_row(xr, yr, static_cast<std::size_t>(d), weight, nullptr, eps, true); break;
      case Isa::kAvx2: avx2::norm_row(xr, yr, static_cast<std::size_t>(d), weight, nullptr, eps, true); break;
      case Isa::kScalar: rms_norm_row_scalar(xr, yr, d, weight, eps); break;
    }
  }
}

void relu(float* x, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void causal_softmax_window(float* scores, int n, int window) { causal_softmax_rows(scores, 0, n, n, window); }

void causal_softmax_rows(float* rows, int r0, int r1, int ld, int window) {
  for (int q = r0; q < r1; ++q) {
    float* row = rows + static_cast<std::ptrdiff_t>(q - r0) * ld;
    const int first = window > 0 ? std::max(0, q - window + 1) : 0;  // keys [first, q]
    const auto len = static_cast<std::size_t>(q - first) + 1;
    float* keys = row + first;
    const float mx = max_value(keys, len);
    const double sum = exp_shifted_sum(keys, mx, keys, len);  // keys[k] = exp(keys[k] - max)
    scale(keys, len, static_cast<float>(1.0 / sum));
    std::fill(row, keys, 0.0f);
    std::fill(row + q + 1, row + r1, 0.0f);
  }
}

void causal_softmax(float* scores, int n) { causal_softmax_window(scores, n, 0); }

void apply_rotary(float* x, int rot_dims, const float* cos_row, const float* sin_row) {
  const int half = rot_dims / 2;
  for (int i = 0; i < half; ++i) {
    const float x1 = x[i];
    const float x2 = x[i + half];
    x[i] = x1 * cos_row[i] - x2 * sin_row[i];
    x[i + half] = x2 * cos_row[i] + x1 * sin_row[i];
  }
}

void tanh_softcap(float* rows, int n_rows, int cols, int ld, float cap) {
  for (int r = 0; r < n_rows; ++r) {
    float* x = rows + static_cast<std::ptrdiff_t>(r) * ld;
    for (int c = 0; c < cols; ++c) x[c] = std::tanh(x[c] / cap) * cap;
  }
}

void add_inplace(float* x, const float* y, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) x[i] += y[i];
}

namespace ref {

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int p = 0; p < k; ++p) {
        const float a = trans_a ? A[static_cast<std::ptrdiff_t>(p) * lda + i]
                                : A[static_cast<std::ptrdiff_t>(i) * lda + p];
        const float b = trans_b ? B[static_cast<std::ptrdiff_t>(j) * ldb + p]
                                : B[static_cast<std::ptrdiff_t>(p) * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      float& c = C[static_cast<std::ptrdiff_t>(i) * ldc + j];
      c = static_cast<float>(alpha * acc + (beta == 0.0f ? 0.0 : beta * c));
    }
  }
}

void layer_norm(float* x, int rows, int d, const float* weight, const float* bias, double eps) {
  for (int r = 0; r < rows; ++r) {
    float* xr = x + static_cast<std::ptrdiff_t>(r) * d;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < d; ++i) mean += xr[i];
    mean /= d;
    for (int i = 0; i < d; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= d;
    for (int i = 0; i < d; ++i) {
      xr[i] = static_cast<float>((xr[i] - mean) / std::sqrt(var + eps) * weight[i] +
                                 (bias ? bias[i] : 0.0));
    }
  }
}

void causal_softmax_window(float* scores, int n, int window) {
  for (int q = 0; q < n; ++q) {
    float* row = scores + static_cast<std::ptrdiff_t>(q) * n;
    const int first = window > 0 ? std::max(0, q - window + 1) : 0;
    double mx = -INFINITY, sum = 0.0;
    for (int k = first; k <= q; ++k) mx = std::fmax(mx, row[k]);
    for (int k = first; k <= q; ++k) sum += std::exp(row[k] - mx);
    for (int k = 0; k < n; ++k) {
      row[k] = k >= first && k <= q ? static_cast<float>(std::exp(row[k] - mx) / sum) : 0.0f;
    }
  }
}

void causal_softmax(float* scores, int n) { causal_softmax_window(scores, n, 0); }

}  // namespace ref
}  // namespace bentov::ops
