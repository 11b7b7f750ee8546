// Streams the decoder's attention into LayerSignatures without ever holding
// layers x heads x n x n probabilities, nor any (n, n) matrix (memory
// linear in n): each head's metrics accumulate as its row blocks arrive (HeadRowMetrics), and
// the head average of a layer is formed one row block at a time, reduced into the layer's
// metrics (LayerRowMetrics) and reused for the next block.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "bentov/metrics/signature.h"
#include "bentov/model/observer.h"

namespace bentov::metrics {

class SignatureObserver : public AttentionObserver {
 public:
  // value_frob_sq: ||W_V||_F^2 per layer (n_layers). A layer beyond its end gets NaN for
  // value_frob_sq and sheaf_trace.
  explicit SignatureObserver(std::vector<double> value_frob_sq);
  ~SignatureObserver() override;

  // Throws InputError when n < 2 (locality needs two tokens).
  void on_sequence(int n_layers, int n_heads, int n) override;
  // Thread-safe: may run concurrently for different heads of the same row block (and for
  // different layers). Blocks of a layer come in order, every head's rows of a block before
  // the next block (observer.h); each head's rows are delivered once per sequence. With the
  // head count announced by on_sequence, heads are 0 .. n_heads-1 and the results have the
  // same bits whatever order they arrive in.
  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override;
  // Takes row statistics from a backend that computes them on its device (observer.h).
  bool wants_probabilities() const override { return false; }
  void on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads, const LayerRowStats* rows) override;
  // Reduces the last row block and computes the layer's signature. Throws InputError when
  // the layer received no head.
  void on_layer_end(int layer) override;

  // The finished layers in layer order; the observer is empty afterwards (ready for the
  // next sequence).
  std::vector<LayerSignature> take_layers();

 private:
  struct LayerState;  // one layer in flight: its heads' metrics and the current row block

  LayerState& layer_state(int layer, int n);
  void finish_block(LayerState& s);
  static void reduce_finished_block(LayerState& s);
  // rows: (r1 - r0, n) one head's rows of the current block.
  void add_in_head_order(LayerState& s, int head, const float* rows, int r0, int r1);
  static void add_to_sum(LayerState& s, const float* rows, int r0, int r1);

  std::vector<double> value_frob_sq_;  // (n_layers)
  int n_heads_hint_ = 0;               // from on_sequence; 0 when not announced

  std::mutex mutex_;  // guards in_flight_ (the map, not the states) and done_
  std::map<int, std::unique_ptr<LayerState>> in_flight_;  // layer -> state
  std::vector<LayerSignature> done_;                      // finished layers
};

}  // namespace bentov::metrics
