// `--loss` against transformers: each fixture sequence's mean next-token cross-entropy as
// scripts/loss_references.py recorded it (AutoModelForCausalLM in float64, reference.json
// "loss"), for every checkpoint with an output head (tied or untied, NeoX's embed_out, OPT's
// project_out), on every backend; and a clear refusal for a checkpoint without one.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bentov/analysis/pipeline.h"
#include "bentov/error.h"
#include "bentov/io/json_file.h"
#include "support/devices.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kRelTol = 1e-5;

struct LossCase {
  std::string name;
  fs::path model, reference;
  bool from_text;
};

void PrintTo(const LossCase& c, std::ostream* os) { *os << c.name; }

std::vector<LossCase> loss_cases() {
  std::vector<LossCase> out;
  const fs::path data(BENTOV_TEST_DATA_DIR);
  auto add = [&](const std::string& name, const fs::path& model, const fs::path& ref, bool from_text) {
    const json r = bentov::io::read_json_file(ref / "reference.json");
    for (const auto& s : r["sequences"]) {
      if (s.contains("loss")) {
        out.push_back({name, model, ref, from_text});
        return;
      }
    }
  };
  for (const auto& e : fs::directory_iterator(data / "fixtures")) add(e.path().filename().string(), e.path(), e.path(), false);
  for (const auto& e : fs::directory_iterator(data / "demo")) {
    add(e.path().filename().string(), fs::path(BENTOV_SOURCE_MODELS_DIR) / e.path().filename(), e.path(), true);
  }
  std::sort(out.begin(), out.end(), [](const LossCase& a, const LossCase& b) { return a.name < b.name; });
  return out;
}

class LossReference : public ::testing::TestWithParam<std::tuple<LossCase, bentov::Device>> {};

TEST_P(LossReference, MatchesTransformers) {
  const auto& c = std::get<0>(GetParam());
  const bentov::Device device = std::get<1>(GetParam());
  BENTOV_SKIP_WITHOUT(device);
  bentov::analysis::RunOptions options;
  options.device = device;
  options.loss = true;
  const json ref = bentov::io::read_json_file(c.reference / "reference.json");
  int checked = 0;
  for (const auto& seq : ref["sequences"]) {
    if (!seq.contains("loss")) continue;
    bentov::analysis::TextSource source;
    if (c.from_text) {
      source.text = seq["text"].get<std::string>();
    } else {
      source.ids = seq["input_ids"].get<std::vector<std::int32_t>>();
    }
    const auto got = bentov::analysis::analyze_model(c.model.string(), source, options);
    ASSERT_TRUE(got.loss.has_value());
    const double want = seq["loss"].get<double>();
    EXPECT_LE(std::fabs(*got.loss - want), kRelTol * std::fabs(want))
        << c.name << " n=" << got.token_ids.size() << ": got " << *got.loss << " want " << want;
    EXPECT_EQ(got.n_predictions, static_cast<long long>(got.token_ids.size()) - 1);
    ++checked;
  }
  EXPECT_GE(checked, 2) << c.name;
}

INSTANTIATE_TEST_SUITE_P(All, LossReference,
                         ::testing::Combine(::testing::ValuesIn(loss_cases()),
                                            ::testing::ValuesIn(bentov::testing::test_devices())),
                         [](const auto& info) { return bentov::testing::case_on_device_name(info); });

TEST(Loss, SameBitsForAnyThreadCount) {
  bentov::analysis::TextSource source;
  source.text = "ROMEO: But, soft! what light through yonder window breaks? It is the east.";
  bentov::analysis::RunOptions options;
  options.loss = true;
  const std::string model = std::string(BENTOV_SOURCE_MODELS_DIR) + "/pythia-demo";
  options.threads = 1;
  const double one = *bentov::analysis::analyze_model(model, source, options).loss;
  for (const int t : {2, 3, 5}) {
    options.threads = t;
    EXPECT_EQ(*bentov::analysis::analyze_model(model, source, options).loss, one) << t << " threads";
  }
}

TEST(Loss, ABaseModelWithoutAHeadIsRefused) {
  bentov::analysis::TextSource source;
  source.ids = std::vector<std::int32_t>{1, 2, 3};
  bentov::analysis::RunOptions options;
  options.loss = true;
  const std::string model = std::string(BENTOV_TEST_DATA_DIR) + "/fixtures/pythia-sharded-serial";
  try {
    bentov::analysis::analyze_model(model, source, options);
    FAIL() << "a base model with untied embeddings has no output head";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("no output head"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
  options.loss = false;
  EXPECT_NO_THROW(bentov::analysis::analyze_model(model, source, options));
}

}  // namespace
