// Observers that materialize attention: in memory (tests, small inputs) or streamed layer by
// layer into a safetensors file (`bentov attention`), never all layers at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <memory>
#include <span>
#include <vector>

#include "bentov/io/safetensors.h"
#include "bentov/model/observer.h"

namespace bentov {

// Holds every layer: probs[layer] is (heads, n, n). Only for small inputs and tests.
class MemoryCapture : public AttentionObserver {
 public:
  void on_sequence(int n_layers, int n_heads, int n) override;
  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override;

  int n() const { return n_; }
  int heads() const { return heads_; }
  const std::vector<float>& layer(int l) const { return probs_.at(static_cast<std::size_t>(l)); }

 private:
  int n_ = 0, heads_ = 0;
  std::vector<std::vector<float>> probs_;  // [layer] -> (heads, n, n)
};

// Writes `blocks.{l}.attn.pattern` F32 [head, q_pos, k_pos] per layer plus `input_ids` I64 [n]
// (TransformerLens names, DESIGN.md section 3). Buffers one layer (heads, n, n) at a time;
// the file appears (atomically) only when commit() is called after the forward pass.
class SafetensorsCapture : public AttentionObserver {
 public:
  SafetensorsCapture(std::filesystem::path path, std::span<const std::int32_t> ids, int n_layers,
                     int n_heads, std::map<std::string, std::string> metadata = {});
  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override;
  void on_layer_end(int layer) override;
  void commit();

 private:
  int n_;  // sequence length
  std::vector<float> layer_;         // (heads, n, n) the layer being filled
  std::vector<std::int64_t> ids_;    // (n) written after the last layer
  std::unique_ptr<io::SafetensorsWriter> writer_;
};

}  // namespace bentov
