// bentov_make_model: writes a random-weight checkpoint with the real shapes of a known model
// (config.json + model.safetensors, through bentov's own safetensors writer), for benchmarks.
//   bentov_make_model pythia-160m OUT_DIR [SEED] [--zeros]
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bentov/io/atomic_file.h"
#include "bentov/io/safetensors.h"

namespace fs = std::filesystem;
using bentov::io::DType;
using nlohmann::json;

namespace {

struct Preset {
  std::string family;  // gpt2 | gpt_neox | opt
  int layers, hidden, heads, vocab, positions, ffn;
  DType dtype;
};

const std::map<std::string, Preset> kPresets = {
    {"gpt2", {"gpt2", 12, 768, 12, 50257, 1024, 3072, DType::kF32}},
    {"pythia-160m", {"gpt_neox", 12, 768, 12, 50304, 2048, 3072, DType::kF16}},
    {"pythia-410m", {"gpt_neox", 24, 1024, 16, 50304, 2048, 4096, DType::kF16}},
    {"pythia-1.4b", {"gpt_neox", 24, 2048, 16, 50304, 2048, 8192, DType::kF16}},
    // Many narrow heads and long positions: the HTML report's large case (24 x 32 heads, 4,096 tokens).
    {"pythia-24x32", {"gpt_neox", 24, 512, 32, 50304, 4096, 2048, DType::kF16}},
    {"opt-125m", {"opt", 12, 768, 12, 50272, 2048, 3072, DType::kF16}},
    // Large shapes for the memory benchmarks, written with --zeros as sparse files.
    {"pythia-6.9b", {"gpt_neox", 32, 4096, 32, 50432, 2048, 16384, DType::kF16}},
    {"pythia-12b", {"gpt_neox", 36, 5120, 40, 50688, 2048, 20480, DType::kF16}},
};

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, 4);
  const std::uint32_t sign = (x >> 16) & 0x8000u;
  int exp = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  std::uint32_t mant = x & 0x7fffffu;
  if (exp <= 0) return static_cast<std::uint16_t>(sign);  // flush tiny values (std 0.02 weights)
  if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);
  std::uint32_t h = sign | (static_cast<std::uint32_t>(exp) << 10) | (mant >> 13);
  if ((mant >> 12) & 1u) ++h;  // round half up
  return static_cast<std::uint16_t>(h);
}

struct Writer {
  std::vector<bentov::io::TensorSpec> specs;
  std::vector<std::vector<std::byte>> data;  // (tensors) payloads; empty with zeros
  std::mt19937 rng;
  DType dtype;
  bool zeros = false;  // every weight zero, written as a hole (sparse file)

  void add(const std::string& name, std::vector<std::int64_t> shape, float mean, float std) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    if (zeros) {
      specs.push_back({name, dtype, std::move(shape)});
      return;
    }
    std::normal_distribution<float> dist(mean, std);
    std::vector<std::byte> bytes(static_cast<std::size_t>(n) * bentov::io::dtype_size(dtype));
    for (std::int64_t i = 0; i < n; ++i) {
      const float v = dist(rng);
      if (dtype == DType::kF16) {
        const auto h = float_to_half(v);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      } else {
        std::memcpy(bytes.data() + 4 * i, &v, 4);
      }
    }
    specs.push_back({name, dtype, std::move(shape)});
    data.push_back(std::move(bytes));
  }
  void linear(const std::string& n, int in, int out, bool bias = true) {
    add(n + ".weight", {out, in}, 0.0f, 0.02f);
    if (bias) add(n + ".bias", {out}, 0.0f, 0.02f);
  }
  void norm(const std::string& n, int d) {
    add(n + ".weight", {d}, 1.0f, 0.05f);
    add(n + ".bias", {d}, 0.0f, 0.02f);
  }
};

json build(const Preset& p, Writer& w) {
  const int d = p.hidden;
  json cfg = {{"model_type", p.family}, {"vocab_size", p.vocab},
              {"torch_dtype", p.dtype == DType::kF16 ? "float16" : "float32"}};
  if (p.family == "gpt2") {
    cfg.update({{"architectures", {"GPT2LMHeadModel"}}, {"n_layer", p.layers}, {"n_embd", d}, {"n_head", p.heads},
                {"n_positions", p.positions}, {"activation_function", "gelu_new"}});
    w.add("wte.weight", {p.vocab, d}, 0, 0.02f);
    w.add("wpe.weight", {p.positions, d}, 0, 0.01f);
    for (int l = 0; l < p.layers; ++l) {
      const auto pre = "h." + std::to_string(l) + ".";
      w.norm(pre + "ln_1", d);
      w.norm(pre + "ln_2", d);
      w.add(pre + "attn.c_attn.weight", {d, 3 * d}, 0, 0.02f);
      w.add(pre + "attn.c_attn.bias", {3 * d}, 0, 0.02f);
      w.add(pre + "attn.c_proj.weight", {d, d}, 0, 0.02f);
      w.add(pre + "attn.c_proj.bias", {d}, 0, 0.02f);
      w.add(pre + "mlp.c_fc.weight", {d, p.ffn}, 0, 0.02f);
      w.add(pre + "mlp.c_fc.bias", {p.ffn}, 0, 0.02f);
      w.add(pre + "mlp.c_proj.weight", {p.ffn, d}, 0, 0.02f);
      w.add(pre + "mlp.c_proj.bias", {d}, 0, 0.02f);
    }
    w.norm("ln_f", d);
  } else if (p.family == "gpt_neox") {
    cfg.update({{"architectures", {"GPTNeoXForCausalLM"}}, {"num_hidden_layers", p.layers}, {"hidden_size", d},
                {"num_attention_heads", p.heads}, {"intermediate_size", p.ffn},
                {"max_position_embeddings", p.positions}, {"rotary_pct", 0.25}, {"rotary_emb_base", 10000},
                {"use_parallel_residual", true}, {"hidden_act", "gelu"}, {"tie_word_embeddings", false}});
    w.add("gpt_neox.embed_in.weight", {p.vocab, d}, 0, 0.02f);
    for (int l = 0; l < p.layers; ++l) {
      const auto pre = "gpt_neox.layers." + std::to_string(l) + ".";
      w.norm(pre + "input_layernorm", d);
      w.norm(pre + "post_attention_layernorm", d);
      w.linear(pre + "attention.query_key_value", d, 3 * d);
      w.linear(pre + "attention.dense", d, d);
      w.linear(pre + "mlp.dense_h_to_4h", d, p.ffn);
      w.linear(pre + "mlp.dense_4h_to_h", p.ffn, d);
    }
    w.norm("gpt_neox.final_layer_norm", d);
    w.add("embed_out.weight", {p.vocab, d}, 0, 0.02f);
  } else {
    cfg.update({{"architectures", {"OPTForCausalLM"}}, {"num_hidden_layers", p.layers}, {"hidden_size", d},
                {"num_attention_heads", p.heads}, {"ffn_dim", p.ffn}, {"max_position_embeddings", p.positions},
                {"word_embed_proj_dim", d}, {"do_layer_norm_before", true}, {"activation_function", "relu"}});
    w.add("model.decoder.embed_tokens.weight", {p.vocab, d}, 0, 0.02f);
    w.add("model.decoder.embed_positions.weight", {p.positions + 2, d}, 0, 0.01f);
    for (int l = 0; l < p.layers; ++l) {
      const auto pre = "model.decoder.layers." + std::to_string(l) + ".";
      w.norm(pre + "self_attn_layer_norm", d);
      w.norm(pre + "final_layer_norm", d);
      for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) w.linear(pre + "self_attn." + proj, d, d);
      w.linear(pre + "fc1", d, p.ffn);
      w.linear(pre + "fc2", p.ffn, d);
    }
    w.norm("model.decoder.final_layer_norm", d);
  }
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  const bool zeros = argc > 3 && std::string(argv[argc - 1]) == "--zeros";
  if (zeros) --argc;
  if (argc < 3 || !kPresets.count(argv[1])) {
    std::fprintf(stderr,
                 "usage: bentov_make_model {gpt2|pythia-160m|pythia-410m|pythia-1.4b|pythia-24x32|opt-125m|pythia-6.9b|pythia-12b} OUT_DIR "
                 "[SEED] [--zeros]\n  --zeros: every weight zero, as a sparse file (the real shapes and sizes, no disk)\n");
    return 2;
  }
  const Preset& p = kPresets.at(argv[1]);
  const fs::path out = argv[2];
  Writer w;
  w.zeros = zeros;
  w.rng.seed(argc > 3 ? static_cast<unsigned>(std::stoul(argv[3])) : 1u);
  w.dtype = p.dtype;
  const json cfg = build(p, w);
  fs::create_directories(out);
  bentov::io::SafetensorsWriter writer(out / "model.safetensors", w.specs, {{"format", "pt"}});
  if (w.zeros) {
    for (const auto& spec : w.specs) {
      std::uint64_t n = bentov::io::dtype_size(spec.dtype);
      for (auto d : spec.shape) n *= static_cast<std::uint64_t>(d);
      writer.write_zeros(n);
    }
  }
  for (const auto& bytes : w.data) writer.write(bytes);
  writer.commit();
  bentov::io::write_file_atomic(out / "config.json", std::string_view(cfg.dump(2)));
  std::printf("%s: %zu tensors -> %s\n", argv[1], w.specs.size(), out.c_str());
  return 0;
}
