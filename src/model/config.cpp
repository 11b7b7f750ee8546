#include <cmath>

#include "bentov/model/config.h"

namespace bentov {

// Every family scales scores by head_dim^-0.5 unless its config says otherwise (GPT-2 divides
// by sqrt(dh), NeoX multiplies by norm_factor, OPT scales the query, Gemma 2 uses
// query_pre_attn_scalar^-0.5); GPT-2 optionally also divides by layer + 1.
float ModelConfig::score_scale(int layer) const {
  float scale = query_scale > 0.0 ? static_cast<float>(query_scale) : 1.0f / std::sqrt(static_cast<float>(head_dim));
  if (scale_attn_by_inverse_layer_idx) scale /= static_cast<float>(layer + 1);
  return scale;
}

}  // namespace bentov
