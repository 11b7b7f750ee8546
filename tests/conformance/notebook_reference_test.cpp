// bentov analyze's numbers against the notebook's formulas applied to transformers' own
// attention (scripts/notebook_metrics.py, recorded by scripts/make_fixtures.py in
// reference.json): per-layer locality, entropy, sheaf trace, ||W_V||^2, per-head locality and
// entropy, L* theoretical and empirical. The demo models also start from text, through each
// family's own tokenizer, whose ids must equal AutoTokenizer's; so do the Llama-family text
// fixtures, whose folder names the real tokenizer of ../shared/data it was made for
// (tokenizer.source, scripts/fixture_texts.py): the test puts config, weights and those
// tokenizer files side by side in a temporary folder, as a downloaded checkpoint has them.
#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <span>
#include <tuple>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "bentov/analysis/pipeline.h"
#include "bentov/io/json_file.h"
#include "bentov/metrics/signature_observer.h"
#include "bentov/model/model.h"
#include "support/devices.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kRelTol = 1e-5;  // relative, against the notebook metrics of the reference

struct Case {
  std::string name;
  fs::path model, reference;
  bool from_text;
  std::string shared_tokenizer;  // a folder of ../shared/data/tokenizers, or empty
};

std::string shared_tokenizer_of(const fs::path& fixture) {
  std::ifstream in(fixture / "tokenizer.source");
  std::string name;
  in >> name;
  return name;
}

// A checkpoint folder as the Hub has it: the fixture's files beside the real tokenizer's.
fs::path assemble_with_tokenizer(const Case& c, const fs::path& tokenizer_dir) {
  const fs::path dir = fs::temp_directory_path() / ("bentov_text_" + c.name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const fs::path& from : {c.model, tokenizer_dir}) {
    for (const auto& e : fs::directory_iterator(from)) {
      if (e.path().filename().string().rfind("reference.", 0) == 0) continue;
      fs::create_symlink(fs::absolute(e.path()), dir / e.path().filename());
    }
  }
  return dir;
}

// gtest and CTest name a case by this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  std::vector<Case> out;
  const fs::path data(BENTOV_TEST_DATA_DIR);
  for (const auto& e : fs::directory_iterator(data / "fixtures")) {
    out.push_back({e.path().filename().string(), e.path(), e.path(), false, ""});
    const std::string tokenizer = shared_tokenizer_of(e.path());
    if (!tokenizer.empty()) {
      out.push_back({e.path().filename().string() + "-from-text", e.path(), e.path(), true, tokenizer});
    }
  }
  for (const auto& e : fs::directory_iterator(data / "demo")) {
    out.push_back({e.path().filename().string(), fs::path(BENTOV_SOURCE_MODELS_DIR) / e.path().filename(),
                   e.path(), true, ""});
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return out;
}

void expect_rel(double got, double want, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), kRelTol * std::max(1.0, std::fabs(want)))
      << what << ": got " << got << " want " << want;
}

class NotebookReference : public ::testing::TestWithParam<std::tuple<Case, bentov::Device>> {};

// On every backend: on a GPU the metrics come from the row statistics computed there.
TEST_P(NotebookReference, MetricsAndLStarMatch) {
  const auto& c = std::get<0>(GetParam());
  const bentov::Device device = std::get<1>(GetParam());
  BENTOV_SKIP_WITHOUT(device);
  fs::path model = c.model;
  if (!c.shared_tokenizer.empty()) {
    const fs::path tokenizer_dir = fs::path(BENTOV_SHARED_DATA_DIR) / "tokenizers" / c.shared_tokenizer;
    if (!fs::exists(tokenizer_dir)) GTEST_SKIP() << "no tokenizer files at " << tokenizer_dir;
    model = assemble_with_tokenizer(c, tokenizer_dir);
  }
  const struct RemoveAssembled {
    fs::path dir;
    ~RemoveAssembled() { if (!dir.empty()) fs::remove_all(dir); }
  } cleanup{model == c.model ? fs::path() : model};
  bentov::analysis::RunOptions options;
  options.device = device;
  const json ref = bentov::io::read_json_file(c.reference / "reference.json");
  ASSERT_TRUE(ref.contains("sequences"));
  int checked = 0;
  for (const auto& seq : ref["sequences"]) {
    if (!seq.contains("notebook")) continue;
    const auto want_ids = seq["input_ids"].get<std::vector<std::int32_t>>();
    if (want_ids.size() < 2) continue;  // locality needs two tokens
    bentov::analysis::TextSource source;
    if (c.from_text) {
      source.text = seq["text"].get<std::string>();
    } else {
      source.ids = want_ids;
    }
    const auto got = bentov::analysis::analyze_model(model.string(), source, options);
    ASSERT_EQ(got.token_ids, want_ids) << c.name << ": token ids differ from AutoTokenizer's";
    const json& nb = seq["notebook"];
    ASSERT_EQ(got.layers.size(), nb["locality"].size());
    for (std::size_t l = 0; l < got.layers.size(); ++l) {
      const auto& L = got.layers[l];
      const std::string at = c.name + " n=" + std::to_string(want_ids.size()) + " layer " + std::to_string(l);
      expect_rel(L.locality, nb["locality"][l], at + " locality");
      expect_rel(L.entropy, nb["entropy"][l], at + " entropy");
      expect_rel(L.sheaf_trace, nb["sheaf_trace"][l], at + " sheaf_trace");
      expect_rel(L.value_frob_sq, ref["value_frob_sq"][l], at + " value_frob_sq");
      ASSERT_EQ(L.heads.size(), nb["head_locality"][l].size());
      for (std::size_t h = 0; h < L.heads.size(); ++h) {
        expect_rel(L.heads[h].locality, nb["head_locality"][l][h], at + " head " + std::to_string(h) + " locality");
        expect_rel(L.heads[h].entropy, nb["head_entropy"][l][h], at + " head " + std::to_string(h) + " entropy");
      }
    }
    EXPECT_EQ(got.l_star_theoretical, nb["L_star_theoretical"]) << c.name;
    EXPECT_EQ(got.l_star_empirical, nb["L_star_empirical"]) << c.name;
    EXPECT_EQ(got.deviation, nb["deviation"]) << c.name;
    ++checked;
  }
  EXPECT_GE(checked, 2) << c.name;
}

// Every sequence of a fixture in one Model::forward_packed call: on a GPU the texts share passes
// (rows side by side, no attention across them), and each must still get its own numbers.
TEST_P(NotebookReference, PackedSequencesMatch) {
  const auto& c = std::get<0>(GetParam());
  const bentov::Device device = std::get<1>(GetParam());
  BENTOV_SKIP_WITHOUT(device);
  if (c.from_text) GTEST_SKIP() << "the ids cases cover packing";
  const json ref = bentov::io::read_json_file(c.reference / "reference.json");
  const auto model = bentov::Model::load(c.model);
  std::vector<std::vector<std::int32_t>> ids;  // (texts, n_k)
  std::vector<const json*> notebooks;          // (texts)
  for (const auto& seq : ref["sequences"]) {
    if (!seq.contains("notebook") || seq["input_ids"].size() < 2) continue;
    ids.push_back(seq["input_ids"].get<std::vector<std::int32_t>>());
    notebooks.push_back(&seq["notebook"]);
  }
  ASSERT_GE(ids.size(), 2u) << c.name;
  std::deque<bentov::metrics::SignatureObserver> observers;  // not movable: a deque keeps them in place
  for (std::size_t k = 0; k < ids.size(); ++k) observers.emplace_back(model.value_frob_sq());
  std::vector<bentov::AttentionObserver*> observed;
  for (auto& o : observers) observed.push_back(&o);
  const std::vector<std::span<const std::int32_t>> texts(ids.begin(), ids.end());
  const auto hidden = model.forward_packed(texts, observed, bentov::ForwardOptions{0, device});
  ASSERT_EQ(hidden.size(), ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) {
    EXPECT_EQ(hidden[k].size(), ids[k].size() * static_cast<std::size_t>(model.output_dim()));
    const json& nb = *notebooks[k];
    const auto layers = observers[k].take_layers();
    ASSERT_EQ(layers.size(), nb["locality"].size());
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const std::string at = c.name + " packed text " + std::to_string(k) + " (n=" + std::to_string(ids[k].size()) +
                             ") layer " + std::to_string(l);
      expect_rel(layers[l].locality, nb["locality"][l], at + " locality");
      expect_rel(layers[l].entropy, nb["entropy"][l], at + " entropy");
      expect_rel(layers[l].sheaf_trace, nb["sheaf_trace"][l], at + " sheaf_trace");
      for (std::size_t h = 0; h < layers[l].heads.size(); ++h) {
        expect_rel(layers[l].heads[h].locality, nb["head_locality"][l][h], at + " head " + std::to_string(h));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, NotebookReference,
                         ::testing::Combine(::testing::ValuesIn(cases()),
                                            ::testing::ValuesIn(bentov::testing::test_devices())),
                         [](const auto& info) { return bentov::testing::case_on_device_name(info); });

}  // namespace
