#include "embedding.h"

#include <cmath>
#include <cstring>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "bentov/ops/ops.h"

namespace bentov {

std::vector<float> token_rows(const ModelConfig& c, const ModelWeights& w, std::span<const std::int32_t> ids) {
  const int e = c.word_embed_dim;
  const io::TensorInfo& table = *w.token_embedding;  // (vocab, e), stored dtype
  const std::size_t n = ids.size();
  std::vector<float> words(n * static_cast<std::size_t>(e));  // (n, e)
  const std::size_t row_bytes = static_cast<std::size_t>(e) * io::dtype_size(table.dtype);
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* row = table.data + static_cast<std::size_t>(ids[i]) * row_bytes;
    float* out = words.data() + i * static_cast<std::size_t>(e);
    for (int j = 0; j < e; ++j) {
      std::uint16_t u16;
      switch (table.dtype) {
        case io::DType::kF32:
          std::memcpy(&out[j], row + 4 * j, 4);
          break;
        case io::DType::kF16:
          std::memcpy(&u16, row + 2 * j, 2);
          out[j] = io::half_to_float(u16);
          break;
        case io::DType::kBF16:
          std::memcpy(&u16, row + 2 * j, 2);
          out[j] = io::bf16_to_float(u16);
          break;
        default:
          throw UnsupportedError("tensor '" + table.name + "' has dtype " + io::dtype_name(table.dtype),
                                 "bentov reads F32, F16 and BF16 weights");
      }
    }
  }
  return words;
}

// Inverse rotary frequencies of the config's schedule, in float32 as transformers computes
// them (modeling_rope_utils: _compute_default_rope_parameters, _compute_linear_scaling_rope_parameters,
// _compute_llama3_parameters).
std::vector<float> rope_inv_freq(const ModelConfig& c) {
  const int half = c.rotary_dims / 2;
  std::vector<float> inv(static_cast<std::size_t>(half));
  ops::rotary_inv_freq(c.rotary_dims, c.rope_theta, inv.data());
  const auto factor = static_cast<float>(c.rope_factor);
  if (c.rope_type == RopeType::kLinear) {
    for (auto& f : inv) f /= factor;
  } else if (c.rope_type == RopeType::kLlama3) {
    const auto low = static_cast<float>(c.rope_low_freq_factor);
    const auto high = static_cast<float>(c.rope_high_freq_factor);
    const auto old_len = static_cast<float>(c.rope_original_max_positions);
    const float low_freq_wavelen = old_len / low, high_freq_wavelen = old_len / high;
    for (auto& f : inv) {
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
  return inv;
}

void rotary_tables(const ModelConfig& c, int n, float* cos_out, float* sin_out) {
  const auto inv_freq = rope_inv_freq(c);
  ops::rotary_tables_from(n, c.rotary_dims / 2, inv_freq.data(), cos_out, sin_out);
}

}  // namespace bentov
