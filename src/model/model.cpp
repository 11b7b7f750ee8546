#include "bentov/model/model.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

#include "bentov/error.h"
#include "bentov/io/memory.h"
#include "bentov/model/registry.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"
#include "bf16_weights.h"
#include "decoder_workspace.h"
#include "output_head.h"
#include "device_model.h"
#include "packed_observer.h"

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
    WeightBinder binder(*m.store_, widening);
    m.weights_ = std::make_shared<ModelWeights>(entry->bind_weights(binder, m.config_));
    const OutputHead head = find_output_head(*m.store_, m.config_, *m.weights_, entry->output_head);
    m.weights_->output_head = head.weight;
    m.weights_->output_head_bias = head.bias;
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

void Model::extend_positions(int n) {
  if (n <= config_.max_positions) return;
  if (config_.positions == PositionKind::kLearned) {
    throw UsageError("'" + folder_.string() + "' learns its position embeddings, a table of " +
                         std::to_string(config_.max_positions) + " rows: --max-positions " + std::to_string(n) +
                         " cannot go past it",
                     "drop --max-positions, or keep texts within " + std::to_string(config_.max_positions) +
                         " tokens (--max-tokens for corpora)");
  }
  config_.max_positions = n;
}

void Model::check_input(std::span<const std::int32_t> ids) const {
  if (ids.empty()) throw InputError("no tokens to run", "give a non-empty text or --ids");
  if (static_cast<long long>(ids.size()) > config_.max_positions) {
    throw InputError(std::to_string(ids.size()) + " tokens exceed this model's " +
                         std::to_string(config_.max_positions) + " positions (max_position_embeddings)",
                     config_.positions == PositionKind::kRotary
                         ? "shorten the text, or let a rotary model run past its limit with --max-positions N"
                         : "shorten the text");
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= config_.vocab_size) {
      throw InputError("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                           " is outside the vocabulary (0.." + std::to_string(config_.vocab_size - 1) + ")",
                       "check --ids against this model's tokenizer");
    }
  }
}

// The memory plan of a CPU pass over n tokens, before anything is allocated or widened. The
// pass needs the weights it reads from the map, the decoder's buffers (sized by the function the
// workspace allocates by) and the metrics' row block, a (kCausalBlock, n) double sum and its
// float copy (metrics/signature_observer.cpp); widening once adds the float32 copies of the
// matrices still fp16/bf16 in the map. Throws InputError when even widening on use cannot fit.
Model::MemoryPlan Model::memory_plan(int n, int threads) const {
  MemoryPlan plan;
  std::uint64_t mapped = 0, widened = 0;  // bytes read from the map; float32 copies widening once makes
  for_each_linear(*weights_, [&](const Linear& l) {
    if (l.weight.raw) {
      mapped += l.weight.raw->nbytes;
      widened += static_cast<std::uint64_t>(l.weight.raw->numel()) * sizeof(float);
    } else if (l.weight.data && !l.weight.owned) {
      mapped += static_cast<std::uint64_t>(l.in) * static_cast<std::uint64_t>(l.out) * sizeof(float);
    }
  });
  const std::uint64_t nn = static_cast<std::uint64_t>(n);
  const std::uint64_t block = std::min<std::uint64_t>(nn, DecoderWorkspace::kCausalBlock);
  const std::uint64_t workspace = DecoderWorkspace::bytes_for(config_, *weights_, n, threads) + (8 + 4) * block * nn;
  const std::uint64_t margin = (256ull << 20) + (mapped + workspace) / 20;  // 256 MiB + 5%
  plan.on_use_bytes = mapped + workspace + margin;
  plan.once_bytes = plan.on_use_bytes + widened;
  plan.any_raw = widened > 0;
  const auto available = io::available_memory_bytes();
  plan.once_fits = !available || plan.once_bytes <= *available;
  io::check_memory(plan.on_use_bytes,
                   std::to_string(n) + " tokens through " + folder_.filename().string() + " (" +
                       io::format_bytes(mapped) + " of weights, " + io::format_bytes(workspace) + " of buffers)",
                   "use a smaller model or a shorter text (--max-tokens for corpora), free memory, or set "
                   "BENTOV_MEMORY_LIMIT if the limit is wrong");
  return plan;
}

std::string Model::weight_widening(int n, int threads) const {
  std::shared_lock lock(widening_->mutex);
  const MemoryPlan plan = memory_plan(n, threads > 0 ? threads : ops::default_threads());
  if (!plan.any_raw) return widening_->widened ? "once" : "not needed";
  return plan.once_fits ? "once" : "on use";
}

// The model's weights on GPU `index` for `dtype`, uploaded by the first pass that asks for them.
const DeviceModel& Model::on_cuda(int index, ComputeDtype dtype) const {
  std::lock_guard<std::mutex> lock(devices_->mutex);
  auto& slot = devices_->cuda[{index, dtype}];
  if (!slot) {
    std::shared_lock weights_stable(widening_->mutex);  // no widening on the host meanwhile
    slot = upload_to_cuda(config_, weights_, index, folder_.filename().string(), dtype);
  }
  return *slot;
}

std::vector<float> Model::forward(std::span<const std::int32_t> ids, AttentionObserver* observer,
                                  const ForwardOptions& options) const {
  check_input(ids);
  check_compute_dtype(options.device, options.dtype);
  if (options.device.is_cuda()) {
    const int lengths[] = {static_cast<int>(ids.size())};
    return on_cuda(options.device.index, options.dtype).forward(ids, lengths, observer, options.last_hidden);
  }
  const int threads = options.threads > 0 ? options.threads : ops::default_threads();
  if (options.dtype == ComputeDtype::kBFloat16) return forward_bf16(ids, observer, options, threads);
  {
    // A first pass widens on use: widening once costs the kernel's zeroing of fresh pages for
    // every float32 copy, more than the products' widening of their panels in one pass, even at
    // 2048 tokens (`analyze` pythia-410m at 2048 on 2 cores, 2026-12-04, median of 3: 11.8 s on
    // use, 13.4 s widened once on the accelerator machine's Xeon; 11.1 to 11.9 s against 12.9 to
    // 14.1 s on an AMD EPYC VM). A second pass widens once for all, for every later one.
    std::unique_lock lock(widening_->mutex);
    const MemoryPlan plan = memory_plan(static_cast<int>(ids.size()), threads);  // refuses what cannot fit
    ++widening_->forwards;
    // Only when the float32 copies fit beside everything else: otherwise every pass widens on use.
    if (!widening_->widened && plan.once_fits && widening_->forwards >= 2) {
      widen_raw_matrices(*weights_);
      widening_->widened = true;
    }
  }
  std::shared_lock running(widening_->mutex);
  const ops::ScopedSingleThreadedBlas single_threaded;  // the decoder splits every product over its own workers
  DecoderWorkspace cpu(config_, *weights_, static_cast<int>(ids.size()), threads);
  return run_decoder(config_, *weights_, cpu, ids, observer, options.last_hidden);
}

const Bf16Weights& Model::on_cpu_bf16(int n, int threads) const {
  std::lock_guard<std::mutex> lock(devices_->mutex);
  std::shared_lock weights_stable(widening_->mutex);  // no widening meanwhile
  const MemoryPlan plan = memory_plan(n, threads);    // refuses what cannot fit in float32 either
  if (!devices_->cpu_bf16) {
    const std::uint64_t rounded = Bf16Weights::bytes_for(*weights_);
    io::check_memory(plan.on_use_bytes + rounded,
                     std::to_string(n) + " tokens through " + folder_.filename().string() + " in bf16 (" +
                         io::format_bytes(rounded) + " of bf16 matrices beside the weights' map)",
                     "use --dtype fp32, a smaller model or a shorter text, free memory, or set "
                     "BENTOV_MEMORY_LIMIT if the limit is wrong");
    devices_->cpu_bf16 = std::make_shared<const Bf16Weights>(*weights_, threads);
  }
  return *devices_->cpu_bf16;
}

// A CPU pass in bf16: the projections from the bf16 copies (no matrix is widened to float32).
std::vector<float> Model::forward_bf16(std::span<const std::int32_t> ids, AttentionObserver* observer,
                                       const ForwardOptions& options, int threads) const {
  const int n = static_cast<int>(ids.size());
  const Bf16Weights& matrices = on_cpu_bf16(n, threads);
  std::shared_lock running(widening_->mutex);
  const ops::ScopedSingleThreadedBlas single_threaded;  // the decoder splits every product over its own workers
  DecoderWorkspace cpu(config_, *weights_, n, threads, &matrices);
  return run_decoder(config_, *weights_, cpu, ids, observer, options.last_hidden);
}

std::vector<std::vector<float>> Model::forward_packed(std::span<const std::span<const std::int32_t>> texts,
                                                     std::span<AttentionObserver* const> observers,
                                                     const ForwardOptions& options) const {
  if (observers.size() != texts.size()) throw std::logic_error("forward_packed: one observer (or null) per text");
  const bool probabilities = std::any_of(observers.begin(), observers.end(), [](const AttentionObserver* o) {
    return o && o->wants_probabilities();
  });
  std::vector<std::vector<float>> hidden(texts.size());
  if (!options.device.is_cuda() || probabilities) {
    for (std::size_t k = 0; k < texts.size(); ++k) hidden[k] = forward(texts[k], observers[k], options);
    return hidden;
  }
  for (const auto& ids : texts) check_input(ids);
  check_compute_dtype(options.device, options.dtype);
  const DeviceModel& gpu = on_cuda(options.device.index, options.dtype);
  const bool statistics = std::any_of(observers.begin(), observers.end(), [](const AttentionObserver* o) { return o; });
  const auto dim = static_cast<std::size_t>(output_dim());
  for (std::size_t first = 0; first < texts.size();) {
    // The texts [first, last) that fit in one pass; a text alone always runs (and reports what it lacks).
    std::size_t last = first + 1;
    auto rows = static_cast<int>(texts[first].size());
    while (last < texts.size() && gpu.fits(rows + static_cast<int>(texts[last].size()), statistics)) {
      rows += static_cast<int>(texts[last++].size());
    }
    std::vector<std::int32_t> ids;  // (rows) the texts' ids side by side
    std::vector<int> lengths;       // (last - first)
    ids.reserve(static_cast<std::size_t>(rows));
    for (std::size_t k = first; k < last; ++k) {
      ids.insert(ids.end(), texts[k].begin(), texts[k].end());
      lengths.push_back(static_cast<int>(texts[k].size()));
    }
    PackedObserver packed(lengths, observers.subspan(first, last - first));
    const std::vector<float> all =  // (rows, dim), or empty
        gpu.forward(ids, lengths, packed.any() ? &packed : nullptr, options.last_hidden);
    std::size_t row = 0;
    for (std::size_t k = first; k < last && !all.empty(); ++k) {
      const auto begin = all.begin() + static_cast<std::ptrdiff_t>(row * dim);
      hidden[k].assign(begin, begin + static_cast<std::ptrdiff_t>(texts[k].size() * dim));
      row += texts[k].size();
    }
    first = last;
  }
  return hidden;
}

}  // namespace bentov

namespace bentov {

double Model::next_token_loss(std::span<const std::int32_t> ids, const std::vector<float>& hidden, int threads) const {
  if (!weights_->output_head) {
    throw UnsupportedError("'" + folder_.string() + "' has no output head (lm_head / embed_out, and untied embeddings), so its loss cannot be computed",
                           "use the *ForCausalLM checkpoint, or run without --loss");
  }
  if (ids.size() < 2) throw InputError("the loss needs at least 2 tokens", "give a longer text");
  const int dim = output_dim();
  if (hidden.size() != ids.size() * static_cast<std::size_t>(dim)) {
    throw InputError("the hidden state has " + std::to_string(hidden.size()) + " values, expected " +
                         std::to_string(ids.size()) + " x " + std::to_string(dim),
                     "pass what forward returned for these ids");
  }
  const auto nll = next_token_nll({weights_->output_head, weights_->output_head_bias}, ids, hidden, dim,
                                  static_cast<float>(config_.final_logit_softcap), threads);
  double sum = 0.0;
  for (const double v : nll) sum += v;
  return sum / static_cast<double>(nll.size());
}

}  // namespace bentov
