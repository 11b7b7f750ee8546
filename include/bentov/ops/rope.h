// Rotary position tables: the inverse frequencies of transformers' schedules
// (modeling_rope_utils ROPE_INIT_FUNCTIONS) and the cos / sin tables built from them, both in
// float32 as transformers computes them.
#pragma once

namespace bentov::ops {

// A rotary schedule as config.json's rope_parameters / rope_scaling describes it.
struct RopeSchedule {
  enum class Kind { kDefault, kLinear, kLlama3 };
  Kind kind = Kind::kDefault;
  double theta = 10000.0;             // rope_theta (NeoX's rotary_emb_base)
  double factor = 1.0;                // linear and llama3
  double low_freq_factor = 1.0;       // llama3
  double high_freq_factor = 4.0;      // llama3
  int original_max_positions = 8192;  // llama3 original_max_position_embeddings
};

// inv_freq (rot_dims / 2): 1 / theta^(2i / rot_dims) in float32
// (_compute_default_rope_parameters), divided by the factor for "linear"
// (_compute_linear_scaling_rope_parameters), or smoothed between the low- and high-frequency
// wavelengths for "llama3" (_compute_llama3_parameters).
void rope_inv_freq(int rot_dims, const RopeSchedule& schedule, float* inv_freq);

// cos / sin (n, half) of positions 0 .. n-1: freqs = position * inv_freq in float32, then
// cos() / sin() (RotaryEmbedding.forward; emb = cat(freqs, freqs), so both halves share them).
void rotary_tables_from(int n, int half, const float* inv_freq, float* cos_out, float* sin_out);
// Both steps: (n, rot_dims / 2) tables of the schedule.
void rotary_tables(int n, int rot_dims, const RopeSchedule& schedule, float* cos_out, float* sin_out);

}  // namespace bentov::ops
