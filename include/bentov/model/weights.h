// The generic decoder's weights, bound from a checkpoint by an architecture entry.
// fp32 tensors are used in place from the memory map (zero copy); fp16/bf16 are widened
// once into owned fp32 buffers, or (WeightWidening::kOnUse) projection matrices stay mapped
// and are widened block by block inside each product.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "bentov/io/safetensors.h"
#include "bentov/model/config.h"

namespace bentov {

// How projection matrices stored as fp16/bf16 become float.
enum class WeightWidening {
  kOnce,   // at load, into owned buffers
  kOnUse,  // left mapped and widened block by block inside every product of a short first
           // forward pass, which so touches no fresh memory for its weights (the notebook's
           // job: 4 models x 1 sentence); widened once for all before a long or a second pass
};

// A float matrix or vector: pointing into the mapped file, owning its widened copy, or (raw)
// still fp16/bf16 in the map, to be widened on use.
struct FloatTensor {
  const float* data = nullptr;
  std::vector<std::int64_t> shape;
  std::shared_ptr<float[]> owned;          // (numel) set when widened from fp16/bf16
  const io::TensorInfo* raw = nullptr;     // set (and data null) when widened on use
  std::string name;

  bool empty() const { return data == nullptr && raw == nullptr; }
  std::int64_t dim(int i) const { return shape.at(static_cast<std::size_t>(i)); }
  // Elements [offset, offset + count) as float into out, whichever the storage.
  void read(std::size_t offset, std::size_t count, float* out) const;
};

// y = x W^T + b (nn.Linear, W stored [out, in]) or y = x W + b (GPT-2 Conv1D, W stored [in, out]).
struct Linear {
  FloatTensor weight;      // [out, in] when !in_by_out, [in, out] when in_by_out
  FloatTensor bias;        // [out] or empty
  bool in_by_out = false;  // Conv1D layout
  int in = 0, out = 0;
};

struct LayerNormWeights {
  FloatTensor weight;  // [d]
  FloatTensor bias;    // [d]; empty for RMSNorm
};

// The norms' roles follow ModelConfig::block (config.h).
struct LayerWeights {
  LayerNormWeights attn_norm;  // GPT-2 ln_1, NeoX input_layernorm, OPT self_attn_layer_norm
  LayerNormWeights mlp_norm;   // GPT-2 ln_2, NeoX post_attention_layernorm, OPT final_layer_norm;
                               // empty for a parallel block with one shared norm (Phi)
  LayerNormWeights attn_post_norm;  // sandwich: on the attention output (Gemma 2 post_attention_layernorm)
  LayerNormWeights mlp_post_norm;   // sandwich: on the MLP output (Gemma 2 post_feedforward_layernorm)
  // QKV: either one fused projection (GPT-2, NeoX) or three (OPT), producing [n, 3d].
  Linear qkv;                  // fused; empty when q/k/v are separate
  Linear q, k, v;              // separate
  Linear attn_out;             // [d] -> [d]
  Linear fc1, fc2;             // MLP: fc1 (or the gate of a gated MLP) and the down projection
  Linear up;                   // gated MLP's up projection (Llama up_proj), else empty
  double value_frob_sq = 0.0;  // ||W_V||_F^2 of this layer (DESIGN.md section 4)
};

struct ModelWeights {
  // [vocab, word_embed_dim] in its stored dtype: only the rows of the input ids are widened.
  const io::TensorInfo* token_embedding = nullptr;
  FloatTensor position_embedding;  // [max_positions + offset, d] or empty
  Linear project_in, project_out;  // OPT-350m, else empty
  std::vector<LayerWeights> layers;
  LayerNormWeights final_norm;     // empty when the config has none
  // [vocab, output dim] in its stored dtype: lm_head / embed_out, or the token embedding when
  // tied; null when the checkpoint has no output head (a base model with untied embeddings).
  const io::TensorInfo* output_head = nullptr;
  const io::TensorInfo* output_head_bias = nullptr;  // [vocab] (Phi's lm_head.bias), or null
  std::int64_t parameter_count = 0;
};

// One row of an architecture's tensor table: a tensor its binding asks for, under the prefix
// it chose, with the shape the config implies, and whether the checkpoint must have it.
struct TensorEntry {
  std::string name;
  std::vector<std::int64_t> shape;
  bool required = true;
};

// Helpers for architecture files: look a tensor up with a required shape. A recorder binds no
// checkpoint: it notes every tensor asked for (its tensor table) and hands out zeros of that
// shape, so that running an architecture's binding yields the table (ArchitectureEntry::tensor_table).
class WeightBinder {
 public:
  explicit WeightBinder(const io::TensorStore& store, WeightWidening widening = WeightWidening::kOnce);
  static WeightBinder recorder();

  // The prefix of every name below: the first of `candidates` for which `prefix + probe` is a
  // tensor of the store (a recorder takes the first); throws a FormatError listing a few tensor
  // names when none matches.
  void choose_prefix(const std::vector<std::string>& candidates, const std::string& probe);

  // The tensor `prefix + name` widened to float, its shape checked:
  // "tensor 'h.0.attn.c_attn.weight' has shape [64, 96], expected [64, 192]".
  FloatTensor require(const std::string& name, std::vector<std::int64_t> shape);
  FloatTensor optional(const std::string& name, std::vector<std::int64_t> shape);
  // Like require, for a projection matrix: left raw under WeightWidening::kOnUse when it is
  // fp16/bf16 at an aligned offset.
  FloatTensor require_matrix(const std::string& name, std::vector<std::int64_t> shape);
  const io::TensorInfo& require_raw(const std::string& name, std::vector<std::int64_t> shape);
  bool has(const std::string& name) const;
  const std::string& prefix() const { return prefix_; }
  std::int64_t bound_parameters() const { return bound_; }
  const std::vector<TensorEntry>& table() const { return table_; }  // what a recorder noted

 private:
  WeightBinder() = default;
  const io::TensorInfo& record(const std::string& full, const std::vector<std::int64_t>& shape);

  const io::TensorStore* store_ = nullptr;  // null for a recorder
  std::string prefix_;
  WeightWidening widening_ = WeightWidening::kOnce;
  std::int64_t bound_ = 0;
  std::vector<TensorEntry> table_;
  std::deque<io::TensorInfo> zeros_;                 // a recorder's tensors, F32 zeros of their shape
  std::deque<std::vector<float>> zero_payloads_;     // (numel) each
};

// Calls f on every projection of the model: project_in / project_out and each layer's (the
// unused slots of an architecture included, empty). Weights may be const.
template <typename Weights, typename F>
void for_each_linear(Weights& weights, F&& f) {
  f(weights.project_in);
  f(weights.project_out);
  for (auto& l : weights.layers) {
    for (auto* p : {&l.qkv, &l.q, &l.k, &l.v, &l.attn_out, &l.fc1, &l.fc2, &l.up}) f(*p);
  }
}

// Widens every projection matrix left raw (WeightWidening::kOnUse) into owned buffers.
void widen_raw_matrices(ModelWeights& weights);

double frob_sq(const float* data, std::size_t count);
// Sum of squares of elements [offset, offset + count) of t, whichever its storage.
double frob_sq(const FloatTensor& t, std::size_t offset, std::size_t count);

}  // namespace bentov
