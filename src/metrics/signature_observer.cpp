#include "bentov/metrics/signature_observer.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "bentov/error.h"
#include "bentov/metrics/attention_metrics.h"

namespace bentov::metrics {

// A layer in flight. The head sum is split into row stripes, each behind its own mutex, so
// heads delivered concurrently add into different stripes at the same time instead of
// queueing on one lock (each head starts at a different stripe). The order in which heads
// are added may differ between runs when the decoder runs heads in parallel; that moves the
// average by a rounding error (~1e-16 relative) only.
struct SignatureObserver::LayerAccumulator {
  LayerAccumulator(int n_tokens, int n_stripes_)
      : n(n_tokens),
        sum(static_cast<std::size_t>(n_tokens) * static_cast<std::size_t>(n_tokens), 0.0),
        n_stripes(n_stripes_),
        stripe_mutex(new std::mutex[static_cast<std::size_t>(n_stripes_)]) {}

  int n;                                     // sequence length
  std::vector<double> sum;                   // (n, n): sum over heads of the probabilities
  int n_stripes;                             // row stripes of `sum`, each with its own lock
  std::unique_ptr<std::mutex[]> stripe_mutex;  // (n_stripes)
  std::mutex heads_mutex;                    // guards `heads`
  std::map<int, HeadSignature> heads;        // head -> its metrics, as heads arrive

  // Rows [begin, end) of stripe s.
  std::pair<std::size_t, std::size_t> stripe_rows(int s) const {
    const auto rows = static_cast<std::size_t>(n);
    const auto k = static_cast<std::size_t>(n_stripes);
    const auto si = static_cast<std::size_t>(s);
    return {rows * si / k, rows * (si + 1) / k};
  }
};

SignatureObserver::SignatureObserver(std::vector<double> value_frob_sq)
    : value_frob_sq_(std::move(value_frob_sq)) {}

SignatureObserver::~SignatureObserver() = default;

void SignatureObserver::on_sequence(int n_layers, int n_heads, int n) {
  (void)n_layers;
  if (n < 2) {
    throw InputError("the text has " + std::to_string(n) +
                         " token(s); attention locality needs at least 2",
                     "give a longer text or two or more --ids");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  n_heads_hint_ = n_heads;
  in_flight_.clear();
  done_.clear();
}

SignatureObserver::LayerAccumulator& SignatureObserver::accumulator(int layer, int n) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = in_flight_.find(layer);
  if (it == in_flight_.end()) {
    std::unique_ptr<LayerAccumulator> acc;
    if (spare_ && spare_->n == n) {  // reuse the last layer's buffer: no fresh pages to fault in
      acc = std::move(spare_);
      std::fill(acc->sum.begin(), acc->sum.end(), 0.0);
      acc->heads.clear();
    } else {
      acc = std::make_unique<LayerAccumulator>(n, std::clamp(n, 1, 32));
    }
    it = in_flight_.emplace(layer, std::move(acc)).first;
  } else if (it->second->n != n) {
    throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) +
                           " delivered with n=" + std::to_string(n) + " after n=" +
                           std::to_string(it->second->n));
  }
  return *it->second;  // stable: the map owns it until on_layer_end
}

void SignatureObserver::on_attention(int layer, int head, const float* probs, int n) {
  // The head's own metrics first, outside every lock: this is the expensive part (a log per
  // entry), and it only reads `probs`.
  const HeadSignature hs{attention_locality(probs, n), attention_entropy(probs, n)};

  LayerAccumulator& acc = accumulator(layer, n);
  {
    std::lock_guard<std::mutex> lock(acc.heads_mutex);
    if (!acc.heads.emplace(head, hs).second) {
      throw std::logic_error("SignatureObserver: head " + std::to_string(head) + " of layer " +
                             std::to_string(layer) + " delivered twice");
    }
  }
  const auto nn = static_cast<std::size_t>(n);
  const int first = (head % acc.n_stripes + acc.n_stripes) % acc.n_stripes;
  for (int k = 0; k < acc.n_stripes; ++k) {
    const int s = (first + k) % acc.n_stripes;
    const auto [begin, end] = acc.stripe_rows(s);
    std::lock_guard<std::mutex> lock(acc.stripe_mutex[static_cast<std::size_t>(s)]);
    // Causal probabilities (observer.h): row r is zero past column r, so only k <= r is added.
    for (std::size_t r = begin; r < end; ++r) {
      double* dst = acc.sum.data() + r * nn;
      const float* src = probs + r * nn;
      for (std::size_t col = 0; col <= r; ++col) dst[col] += static_cast<double>(src[col]);
    }
  }
}

void SignatureObserver::on_layer_end(int layer) {
  std::unique_ptr<LayerAccumulator> acc;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = in_flight_.find(layer);
    if (it == in_flight_.end()) {
      throw InputError("layer " + std::to_string(layer) + " ended without any attention head");
    }
    acc = std::move(it->second);
    in_flight_.erase(it);
  }
  const int n_heads = static_cast<int>(acc->heads.size());
  if (n_heads_hint_ > 0 && n_heads != n_heads_hint_) {
    throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) + " received " +
                           std::to_string(n_heads) + " heads, expected " +
                           std::to_string(n_heads_hint_));
  }

  // A = mean over heads (the notebook's attentions[layer][0].mean(dim=0)).
  const double heads = static_cast<double>(n_heads);
  for (double& v : acc->sum) v /= heads;
  const double* A = acc->sum.data();

  LayerSignature sig;
  sig.index = layer;
  // The log-based metrics run on a float copy through the vectorized kernels (each log within
  // 2 ulp; sums stay in double), the others on the double average.
  layer_f32_.assign(acc->sum.begin(), acc->sum.end());  // (n, n)
  const std::vector<float>& Af = layer_f32_;
  sig.locality = attention_locality(A, acc->n);
  sig.entropy = attention_entropy(Af.data(), acc->n);
  sig.value_frob_sq = layer >= 0 && static_cast<std::size_t>(layer) < value_frob_sq_.size()
                          ? value_frob_sq_[static_cast<std::size_t>(layer)]
                          : std::numeric_limits<double>::quiet_NaN();
  sig.sheaf_trace = sheaf_trace(A, acc->n, sig.value_frob_sq);
  sig.sink_mass = sink_mass(A, acc->n);
  sig.locality_no_sink = locality_no_sink(A, acc->n);
  sig.entropy_no_sink = entropy_no_sink(Af.data(), acc->n);
  sig.row_entropy_mean = row_entropy_mean(Af.data(), acc->n);
  sig.sheaf_trace_per_token = sig.sheaf_trace / static_cast<double>(acc->n);
  sig.heads.reserve(acc->heads.size());
  for (const auto& [h, hs] : acc->heads) sig.heads.push_back(hs);
  std::lock_guard<std::mutex> lock(mutex_);
  spare_ = std::move(acc);  // the next layer reuses the (n, n) buffer
  done_.push_back(std::move(sig));
}

std::vector<LayerSignature> SignatureObserver::take_layers() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<LayerSignature> out = std::move(done_);
  done_.clear();
  std::sort(out.begin(), out.end(),
            [](const LayerSignature& a, const LayerSignature& b) { return a.index < b.index; });
  return out;
}

}  // namespace bentov::metrics
