#include "bentov/model/model.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "bentov/error.h"
#include "bentov/io/memory.h"
#include "bentov/model/registry.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"
#include "decoder_workspace.h"
#include "device_model.h"

namespace bentov {
namespace fs = std::filesystem;

Model Model::load(const fs::path& folder, WeightWidening widening) {
  Model m;
  m.folder_ = folder;
  try {
    if (!fs::is_directory(folder)) {
      throw IoError("'" + folder.string() + "' is not a folder",
                    "pass a checkpoint folder holding config.json and *.safetensors, or a Hugging "
                    "Face id present in the local cache");
    }
    const auto [config, entry] = load_model_config_and_entry(folder);
    m.config_ = config;
    m.store_ = std::make_shared<io::TensorStore>(io::TensorStore::open_folder(folder));
    m.weights_ = std::make_shared<ModelWeights>(entry->bind_weights(*m.store_, m.config_, widening));
  } catch (const Error& e) {
    rethrow_with_context(e, "loading " + folder.string());
  }
  return m;
}

std::vector<double> Model::value_frob_sq() const {
  std::vector<double> out;
  for (const auto& l : weights_->layers) out.push_back(l.value_frob_sq);
  return out;
}

int Model::output_dim() const {
  return weights_->project_out.weight.empty() ? config_.hidden_size : config_.word_embed_dim;
}

void Model::check_input(std::span<const std::int32_t> ids) const {
  if (ids.empty()) throw InputError("no tokens to run", "give a non-empty text or --ids");
  if (static_cast<long long>(ids.size()) > config_.max_positions) {
    throw InputError(std::to_string(ids.size()) + " tokens exceed this model's " +
                         std::to_string(config_.max_positions) + " positions (max_position_embeddings)",
                     "shorten the text");
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= config_.vocab_size) {
      throw InputError("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                           " is outside the vocabulary (0.." + std::to_string(config_.vocab_size - 1) + ")",
                       "check --ids against this model's tokenizer");
    }
  }
}

// Refuses a sequence whose forward pass would not fit, before allocating: the decoder's
// buffers (decoder_workspace.h: per token, plus one (kCausalBlock, n) score block and one
// widening tile per worker)
// and the metrics' row block, a (kCausalBlock, n) double sum and its float copy
// (metrics/signature_observer.cpp). Everything is linear in n.
void Model::check_forward_memory(int n, int threads) const {
  const auto& c = config_;
  const std::uint64_t nn = static_cast<std::uint64_t>(n);
  const std::uint64_t qkv = static_cast<std::uint64_t>(c.n_heads + 2 * c.kv_heads()) * c.head_dim;
  const std::uint64_t per_token = 5ull * c.hidden_size + qkv + static_cast<std::uint64_t>(c.n_heads) * c.head_dim +
                                  (c.gated_mlp ? 2ull : 1ull) * c.intermediate_size;
  const std::uint64_t workers = static_cast<std::uint64_t>(std::max(1, std::min(threads, c.n_heads)));
  const std::uint64_t block = std::min<std::uint64_t>(nn, DecoderWorkspace::kCausalBlock);
  // A weight widened on use: one column tile (at most 256 columns, ops/tiles.h) per worker.
  const std::uint64_t widen_tile = 256ull * static_cast<std::uint64_t>(std::max(c.hidden_size, c.intermediate_size));
  const std::uint64_t need = 4 * nn * per_token + 4 * workers * (block * nn + widen_tile) + (8 + 4) * block * nn;
  io::check_memory(need, std::to_string(n) + " tokens through " + folder_.filename().string(),
                   "use a shorter text (--max-tokens for corpora), or set BENTOV_MEMORY_LIMIT if the estimate is wrong");
}

// The model's weights on GPU `index`, uploaded by the first pass that asks for them.
const DeviceModel& Model::on_cuda(int index) const {
  std::lock_guard<std::mutex> lock(devices_->mutex);
  auto& slot = devices_->cuda[index];
  if (!slot) {
    std::shared_lock weights_stable(widening_->mutex);  // no widening on the host meanwhile
    slot = upload_to_cuda(config_, weights_, index, folder_.filename().string());
  }
  return *slot;
}

std::vector<float> Model::forward(std::span<const std::int32_t> ids, AttentionObserver* observer,
                                  const ForwardOptions& options) const {
  check_input(ids);
  if (options.device.is_cuda()) return on_cuda(options.device.index).forward(ids, observer);
  const int threads = options.threads > 0 ? options.threads : ops::default_threads();
  check_forward_memory(static_cast<int>(ids.size()), threads);
  {
    // Widening on use pays when the products are memory-bound (short texts, one pass); long
    // texts and second passes multiply full widened panels (scripts/bench.py on the device
    // machine, `analyze` pythia-410m at 2048 tokens: 15.2 s on use, 14.7 s widened once).
    constexpr std::size_t kWidenOnceFromTokens = 256;
    std::unique_lock lock(widening_->mutex);
    ++widening_->forwards;
    if (!widening_->widened && (widening_->forwards >= 2 || ids.size() >= kWidenOnceFromTokens)) {
      widen_raw_matrices(*weights_);
      widening_->widened = true;
    }
  }
  std::shared_lock running(widening_->mutex);
  const ops::ScopedSingleThreadedBlas single_threaded;  // the decoder splits every product over its own workers
  DecoderWorkspace cpu(config_, *weights_, static_cast<int>(ids.size()), threads);
  return run_decoder(config_, *weights_, cpu, ids, observer);
}

}  // namespace bentov
