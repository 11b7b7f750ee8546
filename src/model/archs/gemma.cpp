// Gemma (transformers models/gemma/modeling_gemma.py) and Gemma 2 (gemma2/modeling_gemma2.py):
// the Llama layout with GemmaRMSNorm's gain 1 + w, token embeddings times sqrt(hidden_size)
// (GemmaModel.forward's normalizer), a GeGLU MLP (ACT2FN[hidden_activation], the tanh GELU),
// head_dim from the config and a tied output head. Gemma 2 adds sandwich norms
// (Gemma2DecoderLayer: post_attention_layernorm on the attention output,
// pre/post_feedforward_layernorm around the MLP), scores scaled by query_pre_attn_scalar^-0.5
// and soft-capped by attn_logit_softcapping (eager_attention_forward), sliding-window attention
// on alternate layers, and final_logit_softcapping on the output head's logits.
#include <cmath>

#include "../config_json.h"
#include "bentov/error.h"
#include "llama_family.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

void refine_gemma(const nlohmann::json&, ModelConfig& c) {
  c.norm_weight_offset = 1.0;
  c.embedding_scale = std::sqrt(static_cast<double>(c.hidden_size));
}

// A soft cap: Gemma2Config's default when the key is absent, none when it is null.
double softcap(const nlohmann::json& j, const char* key, double fallback) {
  if (!j.contains(key)) return fallback;
  const double cap = cj::get_number(j, key).value_or(0.0);
  if (cap < 0.0 || !std::isfinite(cap)) {
    throw ConfigError(std::string("config.json: ") + key + " must be positive or null", "the config.json is corrupt");
  }
  return cap;
}

void refine_gemma2(const nlohmann::json& j, ModelConfig& c) {
  refine_gemma(j, c);
  c.block = BlockKind::kSandwich;
  const double scalar = cj::get_number(j, "query_pre_attn_scalar").value_or(256.0);  // Gemma2Config default
  if (!(scalar > 0.0) || !std::isfinite(scalar)) {
    throw ConfigError("config.json: query_pre_attn_scalar must be positive", "the config.json is corrupt");
  }
  c.query_scale = 1.0 / std::sqrt(scalar);
  c.attn_logit_softcap = softcap(j, "attn_logit_softcapping", 50.0);
  c.final_logit_softcap = softcap(j, "final_logit_softcapping", 30.0);
}

LlamaTraits gemma_traits(std::string model_type, std::vector<std::string> classes) {
  LlamaTraits t{std::move(model_type), std::move(classes)};
  t.tie_word_embeddings = true;
  // Hub-era Gemma configs say hidden_act "gelu" with hidden_activation null, and transformers
  // runs the tanh approximation for them.
  t.activation_key = "hidden_activation";
  t.activation_default = "gelu_pytorch_tanh";
  t.refine = refine_gemma;
  return t;
}

}  // namespace

std::vector<ArchitectureEntry> gemma_entries() {
  LlamaTraits gemma2 = gemma_traits("gemma2", {"Gemma2ForCausalLM", "Gemma2Model"});
  gemma2.window = WindowRule::kEvenLayers;  // Gemma2Attention: sliding_window if not layer_idx % 2
  gemma2.refine = refine_gemma2;
  return {llama_family_entry(gemma_traits("gemma", {"GemmaForCausalLM", "GemmaModel"})), llama_family_entry(gemma2)};
}

}  // namespace bentov::archs
