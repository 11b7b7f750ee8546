#include "embedding.h"

#include <cmath>
#include <cstring>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "bentov/ops/rope.h"

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
  if (c.embedding_scale != 1.0) {  // GemmaModel: inputs_embeds * normalizer, in the activations' dtype
    const auto scale = static_cast<float>(c.embedding_scale);
    for (float& v : words) v *= scale;
  }
  return words;
}

void rotary_tables(const ModelConfig& c, int n, float* cos_out, float* sin_out) {
  ops::rotary_tables(n, c.rotary_dims, c.rope, cos_out, sin_out);
}

}  // namespace bentov
