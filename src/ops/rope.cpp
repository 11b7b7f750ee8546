#include "bentov/ops/rope.h"

#include <cmath>
#include <cstddef>
#include <vector>

namespace bentov::ops {

namespace {

// transformers: inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)) in float32.
// Float32 pow matters: computing it in double drifts the attention by 1e-5 at 100 tokens.
void default_inv_freq(int rot_dims, double theta, float* inv_freq) {
  for (int i = 0; i < rot_dims / 2; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(rot_dims);
    inv_freq[i] = 1.0f / std::pow(static_cast<float>(theta), exponent);
  }
}

// _compute_llama3_parameters: wavelengths longer than original / low_freq_factor are divided
// by the factor, shorter than original / high_freq_factor kept, and those between smoothed.
void llama3_scale(int half, const RopeSchedule& s, float* inv_freq) {
  const auto factor = static_cast<float>(s.factor);
  const auto low = static_cast<float>(s.low_freq_factor);
  const auto high = static_cast<float>(s.high_freq_factor);
  const auto old_len = static_cast<float>(s.original_max_positions);
  const float low_freq_wavelen = old_len / low, high_freq_wavelen = old_len / high;
  for (int i = 0; i < half; ++i) {
    float& f = inv_freq[i];
    const float wavelen = static_cast<float>(2 * M_PI) / f;
    const float scaled = wavelen > low_freq_wavelen ? f / factor : f;
    if (!(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen)) {  // medium frequency
      const float smooth = (old_len / wavelen - low) / (high - low);
      f = (1.0f - smooth) * scaled / factor + smooth * scaled;
    } else {
      f = scaled;
    }
  }
}

}  // namespace

void rope_inv_freq(int rot_dims, const RopeSchedule& schedule, float* inv_freq) {
  const int half = rot_dims / 2;
  default_inv_freq(rot_dims, schedule.theta, inv_freq);
  if (schedule.kind == RopeSchedule::Kind::kLinear) {
    const auto factor = static_cast<float>(schedule.factor);
    for (int i = 0; i < half; ++i) inv_freq[i] /= factor;
  } else if (schedule.kind == RopeSchedule::Kind::kLlama3) {
    llama3_scale(half, schedule, inv_freq);
  }
}

void rotary_tables_from(int n, int half, const float* inv_freq, float* cos_out, float* sin_out) {
  for (int p = 0; p < n; ++p) {
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq[i];
      cos_out[static_cast<std::ptrdiff_t>(p) * half + i] = std::cos(angle);
      sin_out[static_cast<std::ptrdiff_t>(p) * half + i] = std::sin(angle);
    }
  }
}

void rotary_tables(int n, int rot_dims, const RopeSchedule& schedule, float* cos_out, float* sin_out) {
  std::vector<float> inv_freq(static_cast<std::size_t>(rot_dims / 2));  // (rot_dims / 2)
  rope_inv_freq(rot_dims, schedule, inv_freq.data());
  rotary_tables_from(n, rot_dims / 2, inv_freq.data(), cos_out, sin_out);
}

}  // namespace bentov::ops
