#include "bentov/model/capture.h"

#include <cstring>

namespace bentov {

void MemoryCapture::on_sequence(int n_layers, int n_heads, int n) {
  n_ = n;
  heads_ = n_heads;
  probs_.assign(static_cast<std::size_t>(n_layers),
                std::vector<float>(static_cast<std::size_t>(n_heads) * n * n));
}

namespace {
// Rows [r0, r1) of head `head` into a (heads, n, n) buffer.
void copy_rows(std::vector<float>& dst, int head, int r0, int r1, const float* rows, int n) {
  const std::size_t nn = static_cast<std::size_t>(n);
  std::memcpy(dst.data() + static_cast<std::size_t>(head) * nn * nn + static_cast<std::size_t>(r0) * nn, rows,
              static_cast<std::size_t>(r1 - r0) * nn * sizeof(float));
}
}  // namespace

void MemoryCapture::on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) {
  copy_rows(probs_.at(static_cast<std::size_t>(layer)), head, r0, r1, rows, n);
}

SafetensorsCapture::SafetensorsCapture(std::filesystem::path path, std::span<const std::int32_t> ids,
                                       int n_layers, int n_heads,
                                       std::map<std::string, std::string> metadata)
    : n_(static_cast<int>(ids.size())) {
  std::vector<io::TensorSpec> specs;
  const std::int64_t n = n_;
  for (int l = 0; l < n_layers; ++l) {
    specs.push_back({"blocks." + std::to_string(l) + ".attn.pattern", io::DType::kF32, {n_heads, n, n}});
  }
  specs.push_back({"input_ids", io::DType::kI64, {n}});
  writer_ = std::make_unique<io::SafetensorsWriter>(std::move(path), std::move(specs), metadata);
  layer_.resize(static_cast<std::size_t>(n_heads) * n_ * n_);
  // The ids are written last; keep them.
  ids_.assign(ids.begin(), ids.end());
}

void SafetensorsCapture::on_attention_rows(int, int head, int r0, int r1, const float* rows, int n) {
  copy_rows(layer_, head, r0, r1, rows, n);
}

void SafetensorsCapture::on_layer_end(int) {
  writer_->write(std::as_bytes(std::span<const float>(layer_)));
}

void SafetensorsCapture::commit() {
  writer_->write(std::as_bytes(std::span<const std::int64_t>(ids_)));
  writer_->commit();
}

}  // namespace bentov
