// The forward pass gives the same bits with any number of workers: JSON from runs with
// different --threads, and from mpirun ranks, must be identical (decoder_workspace.cpp,
// DecoderWorkspace::linear, says how). Demo models: GPT-2 in fp32 (Conv1D, used in place) and
// Pythia / OPT in fp16, both widened on use (short first pass) and widened at load.
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "bentov/model/capture.h"
#include "bentov/model/model.h"

namespace bentov {
// gtest names the parameter by this instead of its bytes (found by argument-dependent lookup).
void PrintTo(WeightWidening w, std::ostream* os) { *os << (w == WeightWidening::kOnce ? "once" : "on use"); }
}  // namespace bentov

namespace {

struct ForwardResult {
  std::vector<float> hidden;
  std::vector<std::vector<float>> attention;  // [layer] (heads, n, n)
};

ForwardResult run(const bentov::Model& model, const std::vector<std::int32_t>& ids, int threads) {
  bentov::MemoryCapture capture;
  ForwardResult r;
  r.hidden = model.forward(ids, &capture, bentov::ForwardOptions{threads});
  for (int l = 0; l < model.config().n_layers; ++l) r.attention.push_back(capture.layer(l));
  return r;
}

std::vector<std::int32_t> random_ids(int n, int vocab) {
  std::mt19937 rng(static_cast<unsigned>(n));
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids) id = static_cast<std::int32_t>(rng() % static_cast<unsigned>(vocab));
  return ids;
}

class ForwardThreads : public ::testing::TestWithParam<std::tuple<std::string, bentov::WeightWidening>> {};

TEST_P(ForwardThreads, SameBitsForAnyWorkerCount) {
  const auto folder = std::filesystem::path(BENTOV_SOURCE_MODELS_DIR) / std::get<0>(GetParam());
  for (int n : {2, 7, 20, 33, 300}) {
    // A fresh model per run, so that widening on use applies to every one of them.
    const auto load = [&] { return bentov::Model::load(folder, std::get<1>(GetParam())); };
    const auto ids = random_ids(n, load().config().vocab_size);
    const ForwardResult one = run(load(), ids, 1);
    for (int threads : {2, 3, 4}) {
      const ForwardResult many = run(load(), ids, threads);
      EXPECT_EQ(many.hidden, one.hidden) << "n=" << n << ", " << threads << " workers";
      EXPECT_EQ(many.attention, one.attention) << "n=" << n << ", " << threads << " workers";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Demo, ForwardThreads,
                         ::testing::Combine(::testing::Values("gpt2-demo", "pythia-demo", "opt-demo"),
                                            ::testing::Values(bentov::WeightWidening::kOnce,
                                                              bentov::WeightWidening::kOnUse)),
                         [](const auto& info) {
                           std::string name = std::get<0>(info.param);
                           for (auto& ch : name) if (ch == '-') ch = '_';
                           return name + (std::get<1>(info.param) == bentov::WeightWidening::kOnce ? "_once" : "_on_use");
                         });

}  // namespace
