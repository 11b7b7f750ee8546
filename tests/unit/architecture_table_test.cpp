// Every registered architecture through its own tensor table: a synthetic checkpoint holding
// exactly the required tensors of a minimal config loads, runs a forward pass whose attention
// rows are distributions, and a checkpoint missing one of them is refused naming it. So a
// family without a transformers fixture still cannot bind or run unseen.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "bentov/model/registry.h"
#include "support/minimal_configs.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// folder/config.json and folder/model.safetensors with random F32 values for each required row
// of `table` except `skip`.
void write_checkpoint(const fs::path& folder, const json& config, const std::vector<bentov::TensorEntry>& table,
                      const std::string& skip = "") {
  fs::remove_all(folder);
  fs::create_directories(folder);
  std::ofstream(folder / "config.json") << config.dump();
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  std::vector<std::vector<float>> payloads;  // [tensor] (numel)
  std::vector<bentov::io::TensorToWrite> tensors;
  for (const auto& t : table) {
    if (!t.required || t.name == skip) continue;
    std::size_t count = 1;
    for (const auto d : t.shape) count *= static_cast<std::size_t>(d);
    auto& p = payloads.emplace_back(count);
    for (auto& v : p) v = normal(rng);
    tensors.push_back({{t.name, bentov::io::DType::kF32, t.shape}, std::as_bytes(std::span<const float>(p))});
  }
  bentov::io::write_safetensors(folder / "model.safetensors", tensors);
}

json config_of(const bentov::ArchitectureEntry& entry) {
  json j = bentov::testing::minimal_configs().at(entry.model_type);
  j["model_type"] = entry.model_type;
  return j;
}

TEST(ArchitectureTable, EveryEntryBindsAndRunsItsOwnTable) {
  const auto minimal = bentov::testing::minimal_configs();
  for (const auto& entry : bentov::architecture_registry()) {
    SCOPED_TRACE(entry.model_type);
    ASSERT_TRUE(minimal.count(entry.model_type)) << "add a minimal config for " << entry.model_type;
    const json j = config_of(entry);
    const auto c = entry.resolve_config(j);
    const auto table = entry.tensor_table(c);
    std::set<std::string> names;
    int required = 0;
    for (const auto& t : table) {
      EXPECT_TRUE(names.insert(t.name).second) << "tensor '" << t.name << "' asked for twice";
      required += t.required;
    }
    // At least the embedding, a final norm and per layer two norms and four projections.
    EXPECT_GE(required, 2 + 6 * c.n_layers);

    const fs::path folder = fs::temp_directory_path() / ("bentov_table_" + entry.model_type);
    write_checkpoint(folder, j, table);
    const auto model = bentov::Model::load(folder);
    const std::vector<std::int32_t> ids = {1, 5, 2, 9, 3, 7};
    bentov::MemoryCapture capture;
    const auto hidden = model.forward(ids, &capture);
    ASSERT_EQ(hidden.size(), ids.size() * static_cast<std::size_t>(c.word_embed_dim));
    for (const float v : hidden) ASSERT_TRUE(std::isfinite(v));
    const int n = static_cast<int>(ids.size());
    for (int l = 0; l < c.n_layers; ++l) {
      const auto& p = capture.layer(l);  // (heads, n, n)
      for (int row = 0; row < c.n_heads * n; ++row) {
        double sum = 0.0;
        for (int k = 0; k < n; ++k) sum += p[static_cast<std::size_t>(row) * n + k];
        EXPECT_NEAR(sum, 1.0, 1e-5) << "layer " << l << " row " << row;
      }
    }
  }
}

TEST(ArchitectureTable, AMissingRequiredTensorIsNamed) {
  for (const auto& entry : bentov::architecture_registry()) {
    SCOPED_TRACE(entry.model_type);
    const json j = config_of(entry);
    const auto table = entry.tensor_table(entry.resolve_config(j));
    std::string last_required;
    for (const auto& t : table) {
      if (t.required) last_required = t.name;
    }
    const fs::path folder = fs::temp_directory_path() / ("bentov_table_missing_" + entry.model_type);
    write_checkpoint(folder, j, table, last_required);
    try {
      bentov::Model::load(folder);
      ADD_FAILURE() << "loaded without '" << last_required << "'";
    } catch (const bentov::Error& e) {
      EXPECT_EQ(e.kind(), bentov::ErrorKind::kFormat);
      EXPECT_NE(std::string(e.what()).find("'" + last_required + "'"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
