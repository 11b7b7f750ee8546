// Streams the decoder's attention into LayerSignatures without ever holding
// layers x heads x n x n probabilities (issue 4): each head's metrics are computed the moment
// the head arrives, and the head-average A of a layer is accumulated into ONE (n, n) double
// buffer, reduced to the layer's metrics and freed in on_layer_end.
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
  // Thread-safe: may run concurrently for different heads of the same layer (and for
  // different layers). Each (layer, head) must be delivered once per sequence.
  void on_attention(int layer, int head, const float* probs, int n) override;
  // Divides the layer's head sum by the number of heads received and computes the layer
  // metrics. Throws InputError when the layer received no head.
  void on_layer_end(int layer) override;

  // The finished layers in layer order; the observer is empty afterwards (ready for the
  // next sequence).
  std::vector<LayerSignature> take_layers();

 private:
  struct LayerAccumulator;  // the one (n, n) buffer of a layer in flight + its heads

  LayerAccumulator& accumulator(int layer, int n);

  std::vector<double> value_frob_sq_;  // (n_layers)
  int n_heads_hint_ = 0;               // from on_sequence; 0 when not announced

  std::mutex mutex_;  // guards in_flight_ (the map, not the buffers) and done_
  std::map<int, std::unique_ptr<LayerAccumulator>> in_flight_;  // layer -> accumulator
  std::vector<LayerSignature> done_;                            // finished layers
  std::unique_ptr<LayerAccumulator> spare_;  // a finished layer's buffer, reused by the next (guarded by mutex_)
  std::vector<float> layer_f32_;             // (n, n) float copy of the finished layer (on_layer_end only)
};

}  // namespace bentov::metrics
