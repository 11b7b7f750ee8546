// Per-layer and per-head attention signatures: what `bentov analyze` reduces one forward
// pass to (DESIGN.md section 3, the "layers" of the JSON).
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <vector>

namespace bentov::metrics {

// One head's matrix through the same formulas as the layer's.
struct HeadSignature {
  double locality;  // attention_locality of this head's (n, n) probabilities
  double entropy;   // attention_entropy of this head's (n, n) probabilities
};

// One layer: the metrics of A = the layer's attention averaged over heads.
struct LayerSignature {
  int index;                         // layer number, 0-based
  double locality;                   // attention_locality(A)
  double entropy;                    // attention_entropy(A)
  double sheaf_trace;                // (sum A - trace A) * value_frob_sq
  double value_frob_sq;              // ||W_V||_F^2 of this layer (NaN when not supplied)
  std::vector<HeadSignature> heads;  // (n_heads), in head order

  // Sink-aware extras (attention_metrics.h); NaN when not computed.
  static constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();
  double sink_mass = kUnset;              // (1/n) sum_i A[i][0]
  double locality_no_sink = kUnset;       // locality of A[1:, 1:] row-renormalized
  double entropy_no_sink = kUnset;        // entropy of A[1:, 1:] row-renormalized
  double row_entropy_mean = kUnset;       // mean over rows of each row's entropy
  double sheaf_trace_per_token = kUnset;  // sheaf_trace / n
};

// The numbers of a LayerSignature, each described once: the name the JSON writes it under and
// the member. The JSON writer, the MPI item codec, corpus statistics and paired comparisons
// walk this table (in this order, which is the JSON's).
struct LayerField {
  const char* name;
  double LayerSignature::*member;
  bool per_text;  // false: the model's own (value_frob_sq), not a text's
};
inline constexpr std::array<LayerField, 9> kLayerFields{{
    {"locality", &LayerSignature::locality, true},
    {"entropy", &LayerSignature::entropy, true},
    {"sheaf_trace", &LayerSignature::sheaf_trace, true},
    {"value_frob_sq", &LayerSignature::value_frob_sq, false},
    {"sink_mass", &LayerSignature::sink_mass, true},
    {"locality_no_sink", &LayerSignature::locality_no_sink, true},
    {"entropy_no_sink", &LayerSignature::entropy_no_sink, true},
    {"row_entropy_mean", &LayerSignature::row_entropy_mean, true},
    {"sheaf_trace_per_token", &LayerSignature::sheaf_trace_per_token, true},
}};

// The per-text fields in table order, locality first (the profile L* is read from): what a
// corpus averages over texts and what a paired comparison shifts.
inline constexpr std::size_t kTextLayerFieldCount = 8;
inline constexpr std::array<double LayerSignature::*, kTextLayerFieldCount> kTextLayerFields = [] {
  std::array<double LayerSignature::*, kTextLayerFieldCount> out{};
  std::size_t k = 0;
  for (const auto& f : kLayerFields) {
    if (f.per_text) out[k++] = f.member;
  }
  return out;
}();

// A LayerSignature laid out with exactly the table's doubles: a member added to the struct but
// not to kLayerFields changes sizeof and fails this check (the compiler pads both alike).
struct LayerSignatureLayout {
  int index;
  std::array<double, kLayerFields.size()> fields;
  std::vector<HeadSignature> heads;
};
static_assert(sizeof(LayerSignature) == sizeof(LayerSignatureLayout),
              "a LayerSignature member is missing from kLayerFields");

}  // namespace bentov::metrics
