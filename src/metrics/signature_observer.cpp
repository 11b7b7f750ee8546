#include "bentov/metrics/signature_observer.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "bentov/error.h"
#include "bentov/metrics/attention_metrics.h"
#include "bentov/metrics/row_metrics.h"
#include "bentov/ops/vmath.h"

namespace bentov::metrics {

// A layer in flight. The current row block's heads are summed in ascending head order,
// whatever order they arrive in: a head that arrives before its turn is parked (a copy of its
// rows) and added by the delivery that completes the order before it. So the head average has
// the same bits for any number of workers and any scheduling (double sums are not associative).
struct SignatureObserver::LayerState {
  explicit LayerState(int n_tokens) : n(n_tokens), layer(n_tokens) {}

  int n;                                      // sequence length
  std::mutex mutex;                           // guards heads (the map), the block bounds and block_heads
  std::map<int, HeadRowMetrics> heads;        // head -> its metrics so far
  LayerRowMetrics layer;                      // the head average's metrics so far
  int block_r0 = -1, block_r1 = -1;           // the row block being summed; -1: none
  int block_heads = 0;                        // heads delivered for it
  int heads_per_block = 0;                    // the first block's count, which every block must match
  std::mutex sum_mutex;                       // guards sum, next_head and parked
  std::vector<double> sum;                    // (block rows, n) sum over heads of the block's rows
  int next_head = 0;                          // heads 0 .. next_head-1 of the block are in sum
  std::map<int, std::vector<float>> parked;   // head -> its (block rows, n) rows, waiting for its turn
  // The last complete block, reduced into `layer` outside `mutex` (reduce_finished_block) by
  // the delivery that closed it: that call returns before any head of the block after the
  // next can arrive (every head of a block comes before the next block's), so blocks reach
  // `layer` in order.
  std::vector<double> finished;               // (its rows, n) the head sum of block finished_r0..finished_r1
  std::atomic<int> finished_r0{-1};           // -1: none waiting (read under `mutex` to catch misuse)
  int finished_r1 = -1;
  double finished_heads = 0.0;
  std::vector<float> mean_f;                  // (its rows, n) the finished block's average rounded to float
};

SignatureObserver::SignatureObserver(std::vector<double> value_frob_sq)
    : value_frob_sq_(std::move(value_frob_sq)) {}

SignatureObserver::~SignatureObserver() = default;

void SignatureObserver::on_sequence(int n_layers, int n_heads, int n) {
  (void)n_layers;
  require_min_tokens(static_cast<std::size_t>(n));
  std::lock_guard<std::mutex> lock(mutex_);
  n_heads_hint_ = n_heads;
  in_flight_.clear();
  done_.clear();
}

SignatureObserver::LayerState& SignatureObserver::layer_state(int layer, int n) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = in_flight_.find(layer);
  if (it == in_flight_.end()) {
    it = in_flight_.emplace(layer, std::make_unique<LayerState>(n)).first;
  } else if (it->second->n != n) {
    throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) +
                           " delivered with n=" + std::to_string(n) + " after n=" +
                           std::to_string(it->second->n));
  }
  return *it->second;  // stable: the map owns it until on_layer_end
}

// Closes the current block: its head sum becomes s.finished, for reduce_finished_block. Called
// with s.mutex held, when no head adds to the block.
void SignatureObserver::finish_block(LayerState& s) {
  if (s.block_r0 < 0) return;
  if (s.heads_per_block == 0) s.heads_per_block = s.block_heads;
  if (!s.parked.empty()) {
    throw std::logic_error("SignatureObserver: rows " + std::to_string(s.block_r0) + ".." +
                           std::to_string(s.block_r1) + " of head " + std::to_string(s.parked.begin()->first) +
                           " arrived, but not those of head " + std::to_string(s.next_head));
  }
  if (s.block_heads != s.heads_per_block) {
    throw std::logic_error("SignatureObserver: rows " + std::to_string(s.block_r0) + ".." +
                           std::to_string(s.block_r1) + " came from " + std::to_string(s.block_heads) +
                           " heads, earlier rows from " + std::to_string(s.heads_per_block));
  }
  std::swap(s.finished, s.sum);  // s.sum keeps the older buffer, for the next block to reuse
  s.finished_r0 = s.block_r0;
  s.finished_r1 = s.block_r1;
  s.finished_heads = static_cast<double>(s.block_heads);
  s.block_r0 = s.block_r1 = -1;
  s.block_heads = 0;
}

// A = the finished block's head average (the notebook's attentions[layer][0].mean(dim=0), these
// rows), reduced into the layer's metrics.
// Row q is zero past column q, so only columns 0..q are divided, and only those up to q + 15
// (the most LayerRowMetrics reads, whole 16-float vectors) are rounded to float.
void SignatureObserver::reduce_finished_block(LayerState& s) {
  if (s.finished_r0 < 0) return;
  const auto nn = static_cast<std::size_t>(s.n);
  s.mean_f.resize(s.finished.size());
  for (int q = s.finished_r0; q < s.finished_r1; ++q) {
    const std::size_t offset = static_cast<std::size_t>(q - s.finished_r0) * nn, causal = static_cast<std::size_t>(q) + 1;
    double* row = s.finished.data() + offset;
    for (std::size_t j = 0; j < causal; ++j) row[j] /= s.finished_heads;
    std::copy(row, row + std::min(nn, causal + 15), s.mean_f.data() + offset);
  }
  s.layer.add_rows(s.finished.data(), s.mean_f.data(), s.finished_r0, s.finished_r1);
  s.finished_r0 = -1;
}

void SignatureObserver::on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) {
  if (r0 < 0 || r1 <= r0 || r1 > n) {
    throw std::logic_error("SignatureObserver: rows " + std::to_string(r0) + ".." + std::to_string(r1) +
                           " of a sequence of " + std::to_string(n));
  }
  LayerState& s = layer_state(layer, n);
  HeadRowMetrics* head_metrics = nullptr;
  bool closes_block = false;  // this delivery closed the last block, and reduces it
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    head_metrics = &s.heads.try_emplace(head, n).first->second;
    if (head_metrics->rows_done() != r0) {
      throw std::logic_error("SignatureObserver: head " + std::to_string(head) + " of layer " +
                             std::to_string(layer) + " delivered rows " + std::to_string(r0) + ".." +
                             std::to_string(r1) + " after rows 0.." + std::to_string(head_metrics->rows_done()));
    }
    if (s.block_r0 != r0) {  // the first head of a new block: every head of the last one is done
      if (s.finished_r0 >= 0) {
        throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) + " rows " +
                               std::to_string(r0) + ".." + std::to_string(r1) +
                               " arrived before every head of the block before them had returned");
      }
      const int done = s.block_r0 >= 0 ? s.block_r1 : s.layer.rows_done();
      finish_block(s);
      closes_block = true;
      if (done != r0) {
        throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) + " rows " +
                               std::to_string(r0) + ".." + std::to_string(r1) + " do not follow rows 0.." +
                               std::to_string(done));
      }
      s.block_r0 = r0;
      s.block_r1 = r1;
      std::lock_guard<std::mutex> sum_lock(s.sum_mutex);
      s.sum.assign(static_cast<std::size_t>(r1 - r0) * static_cast<std::size_t>(n), 0.0);
      s.next_head = 0;
    } else if (s.block_r1 != r1) {
      throw std::logic_error("SignatureObserver: heads disagree on the end of the block starting at row " +
                             std::to_string(r0));
    }
    ++s.block_heads;
  }
  // This head's own metrics, outside the layer's lock: only this call touches this head now.
  head_metrics->add_rows(rows, r0, r1);

  add_in_head_order(s, head, rows, r0, r1);
  if (closes_block) reduce_finished_block(s);
}

// Row q of the block (q = r0 + b) is zero past column q (causal), so only columns 0..q are added.
void SignatureObserver::add_to_sum(LayerState& s, const float* rows, int r0, int r1) {
  const auto nn = static_cast<std::size_t>(s.n);
  for (int b = 0; b < r1 - r0; ++b) {
    const auto q = static_cast<std::size_t>(r0 + b);
    double* dst = s.sum.data() + static_cast<std::size_t>(b) * nn;
    const float* src = rows + static_cast<std::size_t>(b) * nn;
    ops::add_widened(dst, src, q + 1);
  }
}

// Without an announced head count (on_sequence's n_heads 0) there is no order to wait for:
// heads are added as they come.
void SignatureObserver::add_in_head_order(LayerState& s, int head, const float* rows, int r0, int r1) {
  std::lock_guard<std::mutex> lock(s.sum_mutex);
  if (n_heads_hint_ > 0 && head != s.next_head) {
    const std::size_t count = static_cast<std::size_t>(r1 - r0) * static_cast<std::size_t>(s.n);
    s.parked.emplace(head, std::vector<float>(rows, rows + count));
    return;
  }
  add_to_sum(s, rows, r0, r1);
  ++s.next_head;
  for (auto it = s.parked.find(s.next_head); it != s.parked.end(); it = s.parked.find(s.next_head)) {
    add_to_sum(s, it->second.data(), r0, r1);
    s.parked.erase(it);
    ++s.next_head;
  }
}

// The same accumulators as on_attention_rows, fed from the statistics: the layer's signature is
// then finished by the same code whichever backend ran.
void SignatureObserver::on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads,
                                          const LayerRowStats* rows) {
  LayerState& s = layer_state(layer, n);
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.layer.rows_done() != 0 || !s.heads.empty()) {
    throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) + " delivered twice");
  }
  for (int h = 0; h < n_heads; ++h) {
    s.heads.try_emplace(h, n).first->second.add_statistics(heads + static_cast<std::size_t>(h) * n, 0, n);
  }
  s.layer.add_statistics(rows, 0, n);
}

void SignatureObserver::on_layer_end(int layer) {
  std::unique_ptr<LayerState> s;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = in_flight_.find(layer);
    if (it == in_flight_.end()) {
      throw InputError("layer " + std::to_string(layer) + " ended without any attention head");
    }
    s = std::move(it->second);
    in_flight_.erase(it);
  }
  reduce_finished_block(*s);
  finish_block(*s);
  reduce_finished_block(*s);
  const int n_heads = static_cast<int>(s->heads.size());
  if (n_heads_hint_ > 0 && n_heads != n_heads_hint_) {
    throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) + " received " +
                           std::to_string(n_heads) + " heads, expected " +
                           std::to_string(n_heads_hint_));
  }
  if (s->layer.rows_done() != s->n) {
    throw std::logic_error("SignatureObserver: layer " + std::to_string(layer) + " ended after rows 0.." +
                           std::to_string(s->layer.rows_done()) + " of " + std::to_string(s->n));
  }

  const LayerRowMetrics& m = s->layer;
  LayerSignature sig;
  sig.index = layer;
  sig.locality = m.locality();
  sig.entropy = m.entropy();
  sig.value_frob_sq = layer >= 0 && static_cast<std::size_t>(layer) < value_frob_sq_.size()
                          ? value_frob_sq_[static_cast<std::size_t>(layer)]
                          : std::numeric_limits<double>::quiet_NaN();
  sig.sheaf_trace = m.off_diagonal_mass() * sig.value_frob_sq;
  sig.sink_mass = m.sink_mass();
  sig.locality_no_sink = m.locality_no_sink();
  sig.entropy_no_sink = m.entropy_no_sink();
  sig.row_entropy_mean = m.row_entropy_mean();
  sig.sheaf_trace_per_token = sig.sheaf_trace / static_cast<double>(s->n);
  sig.heads.reserve(s->heads.size());
  for (const auto& [h, hm] : s->heads) {
    if (hm.rows_done() != s->n) {
      throw std::logic_error("SignatureObserver: head " + std::to_string(h) + " of layer " +
                             std::to_string(layer) + " delivered rows 0.." + std::to_string(hm.rows_done()) +
                             " of " + std::to_string(s->n));
    }
    sig.heads.push_back({hm.locality(), hm.entropy()});
  }
  std::lock_guard<std::mutex> lock(mutex_);
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
