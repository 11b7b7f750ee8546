// The forward pass gives the same bits with any number of workers: JSON from runs with
// different --threads, and from mpirun ranks, must be identical (decoder_workspace.cpp,
// DecoderWorkspace::linear and ops/tiles.h say how), on every OpenBLAS core type, and whether
// weights were widened at load or are widened on use. Demo models: GPT-2 in fp32 (Conv1D, used
// in place) and Pythia / OPT in fp16; Pythia also at a length that spans three row blocks of the
// products.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "bentov/ops/bf16_gemm.h"
#include "bentov/ops/blas_kernels.h"

namespace {

struct ForwardResult {
  std::vector<float> hidden;
  std::vector<std::vector<float>> attention;  // [layer] (heads, n, n)
};

ForwardResult run(const bentov::Model& model, const std::vector<std::int32_t>& ids, int threads,
                  bentov::ComputeDtype dtype = bentov::ComputeDtype::kFloat32) {
  bentov::MemoryCapture capture;
  ForwardResult r;
  r.hidden = model.forward(ids, &capture, bentov::ForwardOptions{threads, {}, dtype});
  for (int l = 0; l < model.config().n_layers; ++l) r.attention.push_back(capture.layer(l));
  return r;
}

std::vector<std::int32_t> random_ids(int n, int vocab) {
  std::mt19937 rng(static_cast<unsigned>(n));
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids) id = static_cast<std::int32_t>(rng() % static_cast<unsigned>(vocab));
  return ids;
}

// Against one worker with weights widened at load: every worker count in `threads`, with weights
// widened at load and widened on use (fp16 and bf16 matrices widened tile by tile inside the
// products).
void expect_same_bits(const std::filesystem::path& folder, int n, std::initializer_list<int> threads) {
  const auto load = [&](bentov::WeightWidening w) { return bentov::Model::load(folder, w); };
  const auto ids = random_ids(n, load(bentov::WeightWidening::kOnce).config().vocab_size);
  const ForwardResult one = run(load(bentov::WeightWidening::kOnce), ids, 1);
  for (const auto widening : {bentov::WeightWidening::kOnce, bentov::WeightWidening::kOnUse}) {
    for (int t : threads) {
      if (t == 1 && widening == bentov::WeightWidening::kOnce) continue;
      // A fresh model per run, so that widening on use applies to every one of them.
      const ForwardResult many = run(load(widening), ids, t);
      const std::string what = folder.filename().string() + ", n=" + std::to_string(n) + ", " + std::to_string(t) +
                               " workers, widened " + (widening == bentov::WeightWidening::kOnce ? "once" : "on use") +
                               " (OpenBLAS kernels: " + bentov::ops::blas_core_name() + ")";
      EXPECT_EQ(many.hidden, one.hidden) << what;
      EXPECT_EQ(many.attention, one.attention) << what;
    }
  }
}

class ForwardThreads : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardThreads, SameBitsForAnyWorkerCountAndWidening) {
  const auto folder = std::filesystem::path(BENTOV_SOURCE_MODELS_DIR) / GetParam();
  for (int n : {2, 7, 20, 33, 300, 512}) expect_same_bits(folder, n, {1, 2, 3, 4});
}

// --dtype bf16 on the CPU: its products run in the float32 path's tiles, one oneDNN call each
// (ops/bf16_gemm.h), so the bits are the same for any number of workers too.
TEST_P(ForwardThreads, Bf16SameBitsForAnyWorkerCount) {
  if (!bentov::ops::bf16_products_compiled()) GTEST_SKIP() << "built without oneDNN";
  const auto folder = std::filesystem::path(BENTOV_SOURCE_MODELS_DIR) / GetParam();
  const auto model = bentov::Model::load(folder);
  for (int n : {2, 33, 512}) {
    const auto ids = random_ids(n, model.config().vocab_size);
    const ForwardResult one = run(model, ids, 1, bentov::ComputeDtype::kBFloat16);
    const ForwardResult fp32 = run(model, ids, 1);
    EXPECT_NE(one.hidden, fp32.hidden) << GetParam() << ": bf16 products round what float32 keeps";
    for (int t : {2, 3}) {
      const ForwardResult many = run(model, ids, t, bentov::ComputeDtype::kBFloat16);
      EXPECT_EQ(many.hidden, one.hidden) << GetParam() << ", n=" << n << ", " << t << " workers (" << bentov::ops::bf16_products_isa() << ")";
      EXPECT_EQ(many.attention, one.attention) << GetParam() << ", n=" << n << ", " << t << " workers";
    }
  }
}

// Every captured row is exactly zero past its diagonal in every layer, also where the scores
// buffer last held a longer block of the layer before (the blocks of a layer only widen, so
// columns past a block are cleared once per layer, not per block).
TEST_P(ForwardThreads, RowsAreZeroPastTheDiagonalInEveryLayer) {
  const auto folder = std::filesystem::path(BENTOV_SOURCE_MODELS_DIR) / GetParam();
  const auto model = bentov::Model::load(folder, bentov::WeightWidening::kOnce);
  const int n = 300;  // three row blocks of the attention
  for (int threads : {1, 2}) {
    const ForwardResult r = run(model, random_ids(n, model.config().vocab_size), threads);
    for (std::size_t l = 0; l < r.attention.size(); ++l) {
      const auto& a = r.attention[l];  // (heads, n, n)
      const std::size_t heads = a.size() / (static_cast<std::size_t>(n) * n);
      std::size_t nonzero = 0;
      for (std::size_t h = 0; h < heads; ++h) {
        for (int q = 0; q < n; ++q) {
          const float* row = a.data() + (h * n + static_cast<std::size_t>(q)) * n;
          for (int k = q + 1; k < n; ++k) nonzero += row[k] != 0.0f;
        }
      }
      EXPECT_EQ(nonzero, 0u) << GetParam() << " layer " << l << ", " << threads << " workers";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Demo, ForwardThreads, ::testing::Values("gpt2-demo", "pythia-demo", "opt-demo"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (auto& ch : name) if (ch == '-') ch = '_';
                           return name;
                         });

// 1,100 tokens: products in three row blocks (ops/tiles.h). The demo models stop at 512
// positions, so this runs the rotary pythia-demo from a copy whose config allows more (the
// weights are the same file, linked).
TEST(ForwardThreadsLong, SameBitsAcrossRowBlocks) {
  namespace fs = std::filesystem;
  const fs::path demo = fs::path(BENTOV_SOURCE_MODELS_DIR) / "pythia-demo";
  const fs::path copy = fs::temp_directory_path() / ("bentov-long-pythia-" + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::create_directories(copy);
  fs::create_symlink(demo / "model.safetensors", copy / "model.safetensors");
  auto config = nlohmann::json::parse(std::ifstream(demo / "config.json"));
  config["max_position_embeddings"] = 2048;
  std::ofstream(copy / "config.json") << config.dump();
  expect_same_bits(copy, 1100, {1, 2, 3});
  fs::remove_all(copy);
}

}  // namespace
