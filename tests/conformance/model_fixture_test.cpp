// The decoder against transformers' own eager attention and last hidden state, recorded in
// float64 by scripts/make_fixtures.py (tests/data/fixtures/*/reference.safetensors).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bentov/io/json_file.h"
#include "bentov/io/safetensors.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "support/compare.h"
#include "support/devices.h"
#include "support/fixture_tolerance.h"

namespace fs = std::filesystem;
using bentov::testing::AllClose;
using bentov::testing::blas_kernels_note;

namespace {

constexpr double kHiddenRelTol = 1e-4;     // relative, with an absolute floor of the same size

// A checkpoint folder and the folder of its transformers reference: the random fixtures keep
// both together; the demo models' references live in tests/data/demo/<name>.
struct Case {
  std::string name;
  fs::path model;
  fs::path reference;
};

// gtest and CTest name a case by this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  std::vector<Case> out;
  const fs::path data(BENTOV_TEST_DATA_DIR);
  for (const auto& e : fs::directory_iterator(data / "fixtures")) {
    if (fs::exists(e.path() / "reference.safetensors")) {
      out.push_back({e.path().filename().string(), e.path(), e.path()});
    }
  }
  for (const auto& e : fs::directory_iterator(data / "demo")) {
    const fs::path model = fs::path(BENTOV_SOURCE_MODELS_DIR) / e.path().filename();
    out.push_back({e.path().filename().string(), model, e.path()});
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return out;
}

// Every sequence of the fixture through `model_for(s)`; returns the number checked.
template <typename ModelFor>
int check_sequences(const Case& c, ModelFor&& model_for, const bentov::Device& device = {}) {
  const auto ref = bentov::io::TensorStore::open_file(c.reference / "reference.safetensors");
  const double tolerance = bentov::testing::attention_tolerance(c.reference);
  double worst = 0.0;
  int checked = 0;
  for (int s = 0;; ++s) {
    const std::string seq = "seq" + std::to_string(s) + ".";
    const auto* ids_t = ref.find(seq + "input_ids");
    if (!ids_t) break;
    const auto ids64 = bentov::io::to_int64(*ids_t);
    const std::vector<std::int32_t> ids(ids64.begin(), ids64.end());
    const bentov::Model& model = model_for(s);
    bentov::MemoryCapture capture;
    const auto hidden = model.forward(ids, &capture, bentov::ForwardOptions{0, device});
    for (int l = 0; l < model.config().n_layers; ++l) {
      const auto* want = ref.find(seq + "blocks." + std::to_string(l) + ".attn.pattern");
      EXPECT_NE(want, nullptr);
      if (!want) return checked;
      const auto want_attention = bentov::io::to_double(*want);
      worst = std::max(worst, bentov::testing::max_abs_diff(capture.layer(l), want_attention));
      EXPECT_TRUE(AllClose(capture.layer(l), want_attention, tolerance))
          << c.name << " sequence " << s << " (n=" << ids.size() << ") layer " << l << blas_kernels_note();
    }
    const auto* want_hidden = ref.find(seq + "last_hidden");
    EXPECT_NE(want_hidden, nullptr);
    if (!want_hidden) return checked;
    EXPECT_TRUE(AllClose(hidden, bentov::io::to_double(*want_hidden), kHiddenRelTol, kHiddenRelTol))
        << c.name << " sequence " << s << " last hidden state" << blas_kernels_note();
    ++checked;
  }
  std::printf("%s: attention max |diff| %.3g, bound %.3g%s\n", c.name.c_str(), worst, tolerance,
              device.is_cuda() ? " (cuda)" : blas_kernels_note().c_str());
  return checked;
}

class ModelFixture : public ::testing::TestWithParam<Case> {};

// One model widened at load runs every sequence.
TEST_P(ModelFixture, AttentionAndHiddenMatchTransformers) {
  const auto model = bentov::Model::load(GetParam().model, bentov::WeightWidening::kOnce);
  EXPECT_GE(check_sequences(GetParam(), [&](int) -> const bentov::Model& { return model; }), 3);
}

// A fresh model per sequence, so that every forward pass is a first one: fp16/bf16 matrices
// widened block by block inside the products (WeightWidening::kOnUse).
TEST_P(ModelFixture, WideningOnUseMatchesTransformers) {
  std::optional<bentov::Model> model;
  EXPECT_GE(check_sequences(GetParam(),
                            [&](int) -> const bentov::Model& {
                              model.emplace(bentov::Model::load(GetParam().model, bentov::WeightWidening::kOnUse));
                              return *model;
                            }),
            3);
}

// The default: the first pass widens on use, the second widens once for all, later ones reuse.
TEST_P(ModelFixture, DefaultLoadSwitchesWideningAfterFirstPass) {
  const auto model = bentov::Model::load(GetParam().model);
  EXPECT_GE(check_sequences(GetParam(), [&](int) -> const bentov::Model& { return model; }), 3);
}

// The CUDA backend (weights uploaded as stored, widened on the GPU; probabilities downloaded for
// the capture), within the same bounds as the CPU.
class CudaFixture : public ::testing::TestWithParam<Case> {};

TEST_P(CudaFixture, AttentionAndHiddenMatchTransformers) {
  const bentov::Device gpu{bentov::Device::Kind::kCuda, 0};
  BENTOV_SKIP_WITHOUT(gpu);
  const auto model = bentov::Model::load(GetParam().model);
  EXPECT_GE(check_sequences(GetParam(), [&](int) -> const bentov::Model& { return model; }, gpu), 3);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CudaFixture, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (auto& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelFixture, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (auto& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
