// The commands about one model: `attention` (dump), `tokenize`, `info`, `download`.
#include "cli.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/io/hf_cache.h"
#include "bentov/io/hf_hub.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "bentov/tokenizer/tokenizer.h"
#include "bentov/version.h"

namespace bentov::cli {

int run_attention(const AttentionFlags& f, const io::ResolveOptions& resolve) {
  const auto source = text_source(f.input, /*default_sentence=*/true);
  // No GPU, or bf16 on the CPU: one error line before anything is loaded.
  const bentov::analysis::RunOptions engine = f.engine.run_options(/*loss=*/false, resolve);
  const auto& note = engine.progress;
  auto opened = bentov::analysis::open_model(f.model, resolve, note);
  bentov::analysis::apply_max_positions(opened.model, opened.resolved.name, engine);
  const auto& resolved = opened.resolved;
  const auto& model = opened.model;
  const auto ids = bentov::analysis::input_ids_for(resolved.folder, source);
  model.check_input(ids);
  const auto& c = model.config();
  if (note) note(resolved.name + ": " + std::to_string(ids.size()) + " tokens -> " + f.out);
  bentov::SafetensorsCapture capture(f.out, ids, c.n_layers, c.n_heads,
                                     {{"model", resolved.source}, {"bentov_version", BENTOV_VERSION}});
  model.forward(ids, &capture, bentov::ForwardOptions{engine.threads, engine.device, engine.dtype});
  capture.commit();
  return kExitOk;
}

int run_tokenize(const std::string& dir_or_id, const TextFlags& input, const io::ResolveOptions& resolve, bool tokens) {
  if (input.ids) {
    throw bentov::UsageError("tokenize takes --text or --text-file, not --ids",
                             "bentov tokenize MODEL --text \"Hello world\"");
  }
  const auto source = text_source(input, /*default_sentence=*/false);
  fs::path folder = dir_or_id;
  if (!fs::is_directory(folder)) folder = bentov::io::resolve_model(dir_or_id, resolve).folder;
  const auto tok = bentov::Tokenizer::load(folder);
  const auto ids = tok.encode(*source.text);
  if (!tokens) {
    std::cout << nlohmann::json(ids).dump() << '\n';
    return kExitOk;
  }
  // Labels: each token alone through the decoder (tokenizers' decoder.decode([token])).
  nlohmann::json labels = nlohmann::json::array();
  for (const auto id : ids) labels.push_back(tok.token_text(id));
  std::cout << labels.dump() << '\n';
  return kExitOk;
}

namespace {

// "pre-LN", "post-LN", "pre-RMSNorm", "sandwich RMSNorm": where the norms sit and which they are.
std::string norm_description(const ModelConfig& c) {
  const std::string kind = c.norm_kind == NormKind::kRmsNorm ? "RMSNorm" : "LN";
  switch (c.block) {
    case BlockKind::kPostNorm: return "post-" + kind;
    case BlockKind::kSandwich: return "sandwich " + kind;
    default: return "pre-" + kind;
  }
}

bool parallel_block(const ModelConfig& c) {
  return c.block == BlockKind::kParallel || c.block == BlockKind::kParallelSharedNorm;
}

// The largest sliding window of any layer (0: every layer attends to the whole prefix).
int widest_window(const ModelConfig& c) {
  int widest = 0;
  for (const int w : c.sliding_window) widest = std::max(widest, w);
  return widest;
}

}  // namespace

int run_info(const std::string& spec, bool as_json, const io::ResolveOptions& resolve) {
  const auto opened = bentov::analysis::open_model(spec, resolve, {}, bentov::analysis::TokenizerUse::kIfPresent);
  const auto& resolved = opened.resolved;
  const auto& model = opened.model;
  const auto& c = model.config();
  nlohmann::json j = {{"name", resolved.name},
                      {"source", resolved.source},
                      {"folder", resolved.folder.string()},
                      {"architecture", c.architecture},
                      {"class", c.model_class},
                      {"n_layers", c.n_layers},
                      {"n_heads", c.n_heads},
                      {"n_kv_heads", c.kv_heads()},
                      {"hidden_size", c.hidden_size},
                      {"head_dim", c.head_dim},
                      {"intermediate_size", c.intermediate_size},
                      {"vocab_size", c.vocab_size},
                      {"max_positions", c.max_positions},
                      {"dtype", c.dtype},
                      {"parameters", model.weights().parameter_count},
                      {"positions", c.positions == bentov::PositionKind::kRotary ? "rotary" : "learned"},
                      {"norm", norm_description(c)},
                      {"parallel_residual", parallel_block(c)},
                      {"sliding_window", widest_window(c)}};
  if (c.positions == bentov::PositionKind::kRotary) {
    j["rotary_dims"] = c.rotary_dims;
    j["rope_theta"] = c.rope.theta;
  }
  if (opened.tokenizer) {
    j["tokenizer"] = {{"kind", opened.tokenizer->kind()}, {"vocab_size", opened.tokenizer->vocab_size()}};
  } else {
    j["tokenizer"] = nullptr;
  }
  if (as_json) {
    std::cout << j.dump(2) << '\n';
    return kExitOk;
  }
  auto row = [](const std::string& k, const std::string& v) {
    std::printf("%-18s %s\n", (k + ":").c_str(), v.c_str());
  };
  row("model", resolved.name + " (" + resolved.source + ")");
  row("architecture", c.architecture + (c.model_class.empty() ? "" : " (" + c.model_class + ")"));
  row("layers", std::to_string(c.n_layers));
  row("heads", std::to_string(c.n_heads) + " x " + std::to_string(c.head_dim) + " dims" +
                   (c.kv_heads() != c.n_heads ? ", " + std::to_string(c.kv_heads()) + " key/value heads" : ""));
  row("hidden size", std::to_string(c.hidden_size));
  row("mlp size", std::to_string(c.intermediate_size));
  row("vocabulary", std::to_string(c.vocab_size));
  row("positions", std::string(j["positions"]) + ", up to " + std::to_string(c.max_positions));
  row("norm", std::string(j["norm"]) + (parallel_block(c) ? ", parallel residual" : "") +
                  (c.block == BlockKind::kParallelSharedNorm ? " from one shared norm" : ""));
  if (widest_window(c) > 0) row("sliding window", std::to_string(widest_window(c)) + " tokens");
  row("dtype", c.dtype);
  row("parameters", std::to_string(model.weights().parameter_count));
  if (j["tokenizer"].is_null()) {
    row("tokenizer", "none");
  } else {
    row("tokenizer", std::string(j["tokenizer"]["kind"]) + ", " +
                         std::to_string(j["tokenizer"]["vocab_size"].get<std::size_t>()) + " ids");
  }
  return kExitOk;
}

// `bentov download ID[@REV]`: fetches the model into the Hugging Face cache (io/hf_hub.h)
// and prints its snapshot folder; with --offline (or HF_HUB_OFFLINE=1) only checks the cache.
int run_download(const std::string& spec, bool offline, bool quiet) {
  const auto id = bentov::io::parse_hub_id(spec);
  if (!id) {
    throw bentov::UsageError("'" + spec + "' is not a Hugging Face id",
                             "write ORG/NAME[@REVISION], e.g. EleutherAI/pythia-160m@step1000");
  }
  auto options = bentov::io::hub_options_from_env();
  options.progress = !quiet;
  if (offline || options.offline) {
    const auto cached = bentov::io::resolve_model(spec, {/*allow_download=*/false, !quiet});
    std::cout << cached.folder.string() << '\n';
    return kExitOk;
  }
  const auto result = bentov::io::download_model(*id, options);
  if (!quiet) {
    std::size_t fetched = 0;
    std::uint64_t bytes = 0;
    for (const auto& f : result.files) {
      fetched += f.downloaded ? 1 : 0;
      bytes += f.downloaded ? f.size : 0;
    }
    std::cerr << id->repo_id() << "@" << id->rev() << ": " << result.files.size() << " files, " << fetched
              << " downloaded (" << bytes << " bytes), commit " << result.commit << '\n';
  }
  std::cout << result.snapshot.string() << '\n';
  return kExitOk;
}

}  // namespace bentov::cli
