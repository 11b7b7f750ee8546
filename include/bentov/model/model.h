// A loaded model: resolved config, bound weights (memory-mapped), and the one generic
// decoder forward pass that hands every head's attention probabilities to an observer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "bentov/backend/device.h"
#include "bentov/io/safetensors.h"
#include "bentov/model/config.h"
#include "bentov/model/observer.h"
#include "bentov/model/weights.h"

namespace bentov {

struct ForwardOptions {
  int threads = 0;  // workers for projections, heads, norms and activations; 0: the cores available
  Device device = {};  // cpu, or cuda:N (resolved: resolve_device() turns auto into one of them)
  ComputeDtype dtype = ComputeDtype::kFloat32;  // bf16 on the CPU or a GPU, fp16 on a GPU only
  bool last_hidden = true;  // return the last hidden state; false: an empty one (a GPU copies nothing back)
};

class DeviceModel;
class Bf16Weights;

class Model {
 public:
  // Loads folder/config.json and the weights beside it. Errors name the folder. With kOnUse
  // (weights.h) fp16/bf16 matrices are widened inside the first forward pass, and once for all
  // before a second one, so one-text runs touch no fresh memory for weights.
  static Model load(const std::filesystem::path& folder, WeightWidening widening = WeightWidening::kOnUse);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return *weights_; }
  const std::filesystem::path& folder() const { return folder_; }

  // ||W_V||_F^2 per layer (DESIGN.md section 4).
  std::vector<double> value_frob_sq() const;

  // Lets texts run to n tokens past max_position_embeddings on a model whose positions are
  // rotary (a rotation has no table to run out of, only positions it never saw in training).
  // Throws UsageError for learned positions, whose table stops there. n at or below the limit
  // changes nothing.
  void extend_positions(int n);

  // Checks ids against the vocabulary and the positional range; throws InputError.
  void check_input(std::span<const std::int32_t> ids) const;

  // Runs the decoder over `ids` (one sequence, no padding) on options.device. Every layer's
  // every head's attention probabilities go to `observer` (may be null); on a GPU, an observer
  // that wants no probabilities gets row statistics instead (observer.h). Returns the base model's last
  // hidden state, (n, out_dim) row-major, out_dim = word_embed_dim (after OPT's
  // project_out) else hidden_size: transformers' `last_hidden_state`.
  std::vector<float> forward(std::span<const std::int32_t> ids, AttentionObserver* observer,
                             const ForwardOptions& options = {}) const;

  // Several texts as forward runs each: observers[k] (may be null) receives text k, and the
  // result's k-th entry is its last hidden state. On a GPU, with observers that take no
  // probabilities, the texts run packed side by side in as few passes as its free memory allows
  // (no attention across texts, none to padding), so short texts fill the device; the numbers
  // are those of one pass per text up to the products' summation order. Elsewhere: one forward
  // per text.
  std::vector<std::vector<float>> forward_packed(std::span<const std::span<const std::int32_t>> texts,
                                                 std::span<AttentionObserver* const> observers,
                                                 const ForwardOptions& options = {}) const;

  int output_dim() const;

  // Whether the checkpoint has an output head: lm_head / embed_out, or the token embedding
  // when the config ties them.
  bool has_output_head() const { return weights_->output_head != nullptr; }

  // The mean next-token cross-entropy of `ids` in nats per token: the `loss` of transformers'
  // *ForCausalLM with labels = ids, -1/(n-1) sum_i log softmax(h_i W^T)[ids[i+1]], from the last
  // hidden state `hidden` (n, output_dim) that forward returned, in double after float32
  // logits. Same bits for any `threads`. Throws UnsupportedError when the checkpoint has no
  // output head, InputError when n < 2.
  double next_token_loss(std::span<const std::int32_t> ids, const std::vector<float>& hidden, int threads = 0) const;

  // How this model's matrices become float32 for a CPU pass over n tokens with `threads` workers: "once" (the float32
  // copies fit in the memory this process may use, so a long or a second pass widens them once
  // for all), "on use" (they do not: every pass widens tile by tile inside the products), or
  // "not needed" (stored as float32). Throws InputError like forward when n tokens cannot fit.
  std::string weight_widening(int n, int threads = 0) const;  // threads as ForwardOptions

  // What a CPU pass over n tokens with `threads` workers needs (weight_widening's figures).
  // Throws InputError, naming the figures, when even widening on use cannot fit.
  struct MemoryPlan {
    std::uint64_t on_use_bytes = 0;  // mapped weights + buffers + margin
    std::uint64_t once_bytes = 0;    // the same plus the float32 copies of fp16/bf16 matrices
    bool any_raw = false;            // some matrix is still fp16/bf16 in the map
    bool once_fits = true;           // once_bytes within the memory available (or unknown)
  };
  MemoryPlan memory_plan(int n, int threads) const;

 private:
  const DeviceModel& on_cuda(int index, ComputeDtype dtype) const;
  // The matrices rounded to bf16 for a CPU pass over n tokens, made by the first pass that asks
  // (refused, naming the sizes, when they cannot fit beside it).
  const Bf16Weights& on_cpu_bf16(int n, int threads) const;
  std::vector<float> forward_bf16(std::span<const std::int32_t> ids, AttentionObserver* observer,
                                  const ForwardOptions& options, int threads) const;

  std::filesystem::path folder_;
  ModelConfig config_;
  std::shared_ptr<io::TensorStore> store_;
  std::shared_ptr<ModelWeights> weights_;
  // Forward passes run under a shared lock; the second one, or a first one over a long text,
  // first widens the raw matrices under the exclusive lock (WeightWidening::kOnUse).
  struct Widening {
    std::shared_mutex mutex;
    int forwards = 0;
    bool widened = false;
  };
  std::shared_ptr<Widening> widening_ = std::make_shared<Widening>();
  // Weights uploaded to GPUs, per device index and compute dtype, and rounded to bf16 for the
  // CPU, shared by the copies of this Model.
  struct Devices {
    std::mutex mutex;
    std::map<std::pair<int, ComputeDtype>, std::shared_ptr<const DeviceModel>> cuda;
    std::shared_ptr<const Bf16Weights> cpu_bf16;  // --dtype bf16 on the CPU
  };
  std::shared_ptr<Devices> devices_ = std::make_shared<Devices>();
};

}  // namespace bentov
