// config.json resolution: both key styles found in the wild, every registered architecture,
// and absurd or malformed configs rejected with a message naming the key.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/model/config.h"
#include "bentov/model/registry.h"
#include "support/minimal_configs.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path write_config(const std::string& name, const json& j) {
  auto d = fs::temp_directory_path() / ("bentov_cfg_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  std::ofstream(d / "config.json") << j.dump();
  return d;
}

json pythia_hub() {
  return {{"model_type", "gpt_neox"}, {"architectures", {"GPTNeoXForCausalLM"}},
          {"hidden_size", 768},       {"num_hidden_layers", 12},
          {"num_attention_heads", 12}, {"intermediate_size", 3072},
          {"vocab_size", 50304},      {"max_position_embeddings", 2048},
          {"rotary_pct", 0.25},       {"rotary_emb_base", 10000},
          {"torch_dtype", "float16"}, {"use_parallel_residual", true},
          {"hidden_act", "gelu"},     {"layer_norm_eps", 1e-5}};
}

TEST(Config, PythiaHubEraKeys) {
  const auto c = bentov::load_model_config(write_config("hub", pythia_hub()));
  EXPECT_EQ(c.architecture, "gpt_neox");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rotary_dims, 16);  // int(64 * 0.25)
  EXPECT_EQ(c.rope.theta, 10000.0);
  EXPECT_EQ(c.dtype, "float16");
  EXPECT_EQ(c.block, bentov::BlockKind::kParallel);
  EXPECT_EQ(c.qkv_layout, bentov::QkvLayout::kPerHeadFused);
}

TEST(Config, PythiaCurrentKeys) {
  json j = pythia_hub();
  j.erase("rotary_pct");
  j.erase("rotary_emb_base");
  j.erase("torch_dtype");
  j["rope_parameters"] = {{"rope_type", "default"}, {"partial_rotary_factor", 0.5}, {"rope_theta", 1000}};
  j["dtype"] = "bfloat16";
  const auto c = bentov::load_model_config(write_config("new", j));
  EXPECT_EQ(c.rotary_dims, 32);
  EXPECT_EQ(c.rope.theta, 1000.0);
  EXPECT_EQ(c.dtype, "bfloat16");
}

TEST(Config, OptPostLnWithProjections) {
  const json j = {{"model_type", "opt"},        {"hidden_size", 1024},    {"num_hidden_layers", 24},
                  {"num_attention_heads", 16},  {"ffn_dim", 4096},        {"vocab_size", 50272},
                  {"max_position_embeddings", 2048}, {"word_embed_proj_dim", 512},
                  {"do_layer_norm_before", false},   {"torch_dtype", "float16"}};
  const auto c = bentov::load_model_config(write_config("opt350", j));
  EXPECT_EQ(c.block, bentov::BlockKind::kPostNorm);
  EXPECT_FALSE(c.final_norm);
  EXPECT_EQ(c.word_embed_dim, 512);
  EXPECT_EQ(c.position_offset, 2);
  EXPECT_EQ(c.activation, bentov::Activation::kRelu);
}

TEST(Config, ArchitectureFromClassNameWhenModelTypeMissing) {
  json j = {{"architectures", {"GPT2LMHeadModel"}}, {"n_embd", 64}, {"n_layer", 2}, {"n_head", 4},
            {"vocab_size", 100}, {"n_positions", 64}};
  EXPECT_EQ(bentov::load_model_config(write_config("cls", j)).architecture, "gpt2");
}

// Every registered architecture resolves a minimal config of its own and rejects absurd sizes.
TEST(Config, EveryRegisteredArchitectureResolvesAndRejectsAbsurdSizes) {
  const auto minimal = bentov::testing::minimal_configs();
  for (const auto& entry : bentov::architecture_registry()) {
    SCOPED_TRACE(entry.model_type);
    ASSERT_TRUE(minimal.count(entry.model_type)) << "add a minimal config for " << entry.model_type;
    json j = minimal.at(entry.model_type);
    j["model_type"] = entry.model_type;
    const auto c = entry.resolve_config(j);
    EXPECT_EQ(c.architecture, entry.model_type);
    EXPECT_EQ(c.head_dim * c.n_heads, c.hidden_size);
    for (const char* key : {"n_layer", "num_hidden_layers"}) {
      if (!j.contains(key)) continue;
      for (const json bad : {json(0), json(-3), json(1000000000000LL), json("twelve"), json(2.5)}) {
        json k = j;
        k[key] = bad;
        try {
          entry.resolve_config(k);
          ADD_FAILURE() << key << "=" << bad.dump() << " accepted";
        } catch (const bentov::Error& e) {
          EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
      }
    }
    // 5 heads of a 64-wide model; as many key/value heads, so that the grouped-query check
    // passes and the divisibility check is the one that refuses it.
    json indivisible = j;
    indivisible[j.contains("n_head") ? "n_head" : "num_attention_heads"] = 5;
    if (indivisible.contains("num_key_value_heads")) indivisible["num_key_value_heads"] = 5;
    try {
      entry.resolve_config(indivisible);
      ADD_FAILURE() << "5 heads of 64 dims accepted";
    } catch (const bentov::Error& e) {
      EXPECT_EQ(e.kind(), bentov::ErrorKind::kConfig);
      EXPECT_NE(std::string(e.what()).find("not divisible by 5 heads"), std::string::npos) << e.what();
    }
  }
}

// Phi: one shared norm before parallel attention and MLP, rotary on half of each head.
TEST(Config, PhiParallelBlockWithSharedNorm) {
  const json j = {{"model_type", "phi"},          {"architectures", {"PhiForCausalLM"}},
                  {"hidden_size", 2560},          {"num_hidden_layers", 32},
                  {"num_attention_heads", 32},    {"intermediate_size", 10240},
                  {"vocab_size", 51200},          {"partial_rotary_factor", 0.4},
                  {"rope_theta", 10000.0},        {"rope_scaling", nullptr},
                  {"hidden_act", "gelu_new"},     {"torch_dtype", "float16"}};
  const auto c = bentov::load_model_config(write_config("phi2", j));
  EXPECT_EQ(c.block, bentov::BlockKind::kParallelSharedNorm);
  EXPECT_EQ(c.norm_kind, bentov::NormKind::kLayerNorm);
  EXPECT_EQ(c.mlp, bentov::MlpKind::kPlain);
  EXPECT_EQ(c.activation, bentov::Activation::kGeluTanh);
  EXPECT_EQ(c.rotary_dims, 32);  // int(80 * 0.4)
  EXPECT_FLOAT_EQ(c.score_scale(3), 1.0f / std::sqrt(80.0f));
  json qk = j;
  qk["qk_layernorm"] = true;
  try {
    bentov::load_model_config(write_config("phiqk", qk));
    ADD_FAILURE() << "qk_layernorm accepted";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kUnsupported);
  }
}

// Gemma: 1 + w norms, scaled embeddings, GeGLU; Gemma 2: sandwich norms, query_pre_attn_scalar,
// soft caps (null turns one off), windows on even layers when layer_types is absent.
TEST(Config, GemmaAndGemma2) {
  json j = {{"model_type", "gemma"},       {"hidden_size", 2048},       {"num_hidden_layers", 4},
            {"num_attention_heads", 8},    {"num_key_value_heads", 1},  {"head_dim", 256},
            {"intermediate_size", 16384},  {"vocab_size", 256000},      {"hidden_act", "gelu"},
            {"hidden_activation", nullptr}, {"torch_dtype", "bfloat16"}};
  const auto c = bentov::load_model_config(write_config("gemma", j));
  EXPECT_EQ(c.block, bentov::BlockKind::kPreNorm);
  EXPECT_EQ(c.mlp, bentov::MlpKind::kGated);
  EXPECT_EQ(c.activation, bentov::Activation::kGeluTanh);  // the tanh GELU, whatever hidden_act says
  EXPECT_EQ(c.norm_weight_offset, 1.0);
  EXPECT_DOUBLE_EQ(c.embedding_scale, std::sqrt(2048.0));
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.attn_logit_softcap, 0.0);

  j["model_type"] = "gemma2";
  j["query_pre_attn_scalar"] = 224;
  j["final_logit_softcapping"] = nullptr;
  j["sliding_window"] = 4096;
  const auto c2 = bentov::load_model_config(write_config("gemma2", j));
  EXPECT_EQ(c2.block, bentov::BlockKind::kSandwich);
  EXPECT_FLOAT_EQ(c2.score_scale(0), static_cast<float>(1.0 / std::sqrt(224.0)));
  EXPECT_EQ(c2.attn_logit_softcap, 50.0);  // Gemma2Config's default when the key is absent
  EXPECT_EQ(c2.final_logit_softcap, 0.0);  // null: none
  EXPECT_EQ(c2.window(0), 4096);
  EXPECT_EQ(c2.window(1), 0);
  EXPECT_EQ(c2.window(2), 4096);
}

TEST(Config, MalformedAndMissing) {
  auto d = fs::temp_directory_path() / "bentov_cfg_malformed";
  fs::remove_all(d);
  fs::create_directories(d);
  EXPECT_THROW(bentov::load_model_config(d), bentov::Error);  // missing
  std::ofstream(d / "config.json") << "{\"model_type\": \"gpt2\", ";
  try {
    bentov::load_model_config(d);
    ADD_FAILURE();
  } catch (const bentov::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
  std::ofstream(d / "config.json") << "[1, 2]";
  EXPECT_THROW(bentov::load_model_config(d), bentov::Error);
}

}  // namespace

TEST(Config, LlamaFamilyRopeScalingWindowsAndGroupedHeads) {
  json j = {{"model_type", "llama"},        {"hidden_size", 4096},        {"num_hidden_layers", 32},
            {"num_attention_heads", 32},    {"num_key_value_heads", 8},   {"intermediate_size", 14336},
            {"vocab_size", 128256},         {"max_position_embeddings", 131072},
            {"rope_theta", 500000.0},       {"torch_dtype", "bfloat16"},
            {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                              {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}}}};
  const auto c = bentov::load_model_config(write_config("llama31", j));
  EXPECT_EQ(c.kv_heads(), 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.rotary_dims, 128);
  EXPECT_EQ(c.rope.kind, bentov::RopeType::kLlama3);
  EXPECT_EQ(c.rope.factor, 8.0);
  EXPECT_EQ(c.norm_kind, bentov::NormKind::kRmsNorm);
  EXPECT_EQ(c.mlp, bentov::MlpKind::kGated);
  EXPECT_EQ(c.activation, bentov::Activation::kSilu);
  EXPECT_EQ(c.window(5), 0);

  json m = j;
  m["model_type"] = "mistral";
  m.erase("rope_scaling");
  m["sliding_window"] = 4096;
  EXPECT_EQ(bentov::load_model_config(write_config("mistral", m)).window(31), 4096);

  json q = m;
  q["model_type"] = "qwen2";
  q["use_sliding_window"] = false;
  const auto qc = bentov::load_model_config(write_config("qwen2", q));
  EXPECT_EQ(qc.window(0), 0);
  EXPECT_TRUE(qc.attention_bias);

  json bad = j;
  bad["num_key_value_heads"] = 5;  // 32 heads are not a multiple of 5 groups
  EXPECT_THROW(bentov::load_model_config(write_config("badgqa", bad)), bentov::Error);
  bad = j;
  bad["rope_scaling"]["rope_type"] = "yarn";
  EXPECT_THROW(bentov::load_model_config(write_config("yarn", bad)), bentov::Error);
}
