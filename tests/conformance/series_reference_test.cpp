// The project's checkpoint series (tests/data/series, scripts/train_demo_series.py): a tiny
// Pythia-style model at several training steps and a fine-tuned copy. Per text of the corpus,
// bentov's loss, token ids, per-layer locality and L* against transformers' (recorded in each
// folder's series_reference.json); then `sweep --corpus --loss` and `compare --corpus` over
// it, whose per-checkpoint and paired losses must be transformers' means.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "bentov/analysis/pipeline.h"
#include "bentov/io/json_file.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kRelTol = 1e-5;
const fs::path kSeries = fs::path(BENTOV_TEST_DATA_DIR) / "series";
const std::string kCorpus = std::string(BENTOV_TEST_DATA_DIR) + "/corpus/sentences.txt";

// The series folders in training order, the fine-tuned copy last.
std::vector<fs::path> series_folders() {
  std::vector<std::pair<long, fs::path>> steps;
  if (!fs::exists(kSeries)) return {};
  for (const auto& e : fs::directory_iterator(kSeries)) {
    const std::string name = e.path().filename().string();
    const long step = std::stol(name.substr(4));  // "step300", "step1500-alice"
    steps.emplace_back(step * 2 + (name.find('-') != std::string::npos ? 1 : 0), e.path());
  }
  std::sort(steps.begin(), steps.end());
  std::vector<fs::path> out;
  for (auto& [k, p] : steps) out.push_back(p);
  return out;
}

// The checkpoint with the demo Pythia tokenizer beside it, as a downloaded folder has them.
fs::path with_tokenizer(const fs::path& folder) {
  const fs::path dir = fs::temp_directory_path() / ("bentov_series_" + std::to_string(::getpid())) / folder.filename();
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(folder)) fs::create_symlink(fs::absolute(e.path()), dir / e.path().filename());
  const fs::path tok = fs::path(BENTOV_SOURCE_MODELS_DIR) / "pythia-demo";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    if (fs::exists(tok / f)) fs::create_symlink(tok / f, dir / f);
  }
  return dir;
}

class Series : public ::testing::Test {
 protected:
  void SetUp() override {
    folders_ = series_folders();
    if (folders_.size() < 4) GTEST_SKIP() << "no checkpoint series in " << kSeries;
    for (const auto& f : folders_) assembled_.push_back(with_tokenizer(f));
  }
  void TearDown() override {
    if (!assembled_.empty()) fs::remove_all(assembled_.front().parent_path());
  }
  std::vector<fs::path> folders_, assembled_;
};

json reference(const fs::path& folder) { return bentov::io::read_json_file(folder / "series_reference.json"); }

TEST_F(Series, EveryTextMatchesTransformers) {
  const auto corpus = bentov::analysis::read_corpus(kCorpus);
  for (std::size_t k = 0; k < folders_.size(); ++k) {
    const json ref = reference(folders_[k]);
    std::map<int, json> want;
    for (const auto& t : ref["texts"]) want[t["line"]] = t;
    bentov::analysis::RunOptions options;
    options.loss = true;
    bentov::analysis::CorpusOptions co;
    co.bootstrap = 10;
    int checked = 0;
    co.on_text = [&](const bentov::analysis::ModelReport&, const bentov::analysis::TextSignature& t) {
      const auto it = want.find(t.line);
      ASSERT_NE(it, want.end()) << "line " << t.line;
      const json& w = it->second;
      const std::string at = folders_[k].filename().string() + " line " + std::to_string(t.line);
      EXPECT_EQ(t.n_tokens, static_cast<int>(w["input_ids"].size())) << at;
      const double loss = w["loss"];
      EXPECT_LE(std::fabs(*t.loss - loss), kRelTol * loss) << at << ": " << *t.loss << " vs " << loss;
      EXPECT_EQ(t.l_star, w["notebook"]["L_star_empirical"].get<int>()) << at;
      for (std::size_t l = 0; l < t.layers.size(); ++l) {
        const double loc = w["notebook"]["locality"][l];
        EXPECT_LE(std::fabs(t.layers[l].locality - loc), kRelTol) << at << " layer " << l;
      }
      ++checked;
    };
    bentov::analysis::analyze_model_corpus(assembled_[k].string(), corpus, options, co);
    EXPECT_EQ(checked, static_cast<int>(want.size()));
  }
}

double mean_loss(const json& ref) {
  double s = 0.0;
  for (const auto& t : ref["texts"]) s += t["loss"].get<double>();
  return s / static_cast<double>(ref["texts"].size());
}

TEST_F(Series, SweepAndCompareOverTheCorpus) {
  const fs::path out = assembled_.front().parent_path();
  std::string steps;
  for (std::size_t k = 0; k + 1 < assembled_.size(); ++k) steps += " " + assembled_[k].string();
  const auto r = bentov::testing::run_cli("sweep" + steps + " --corpus " + kCorpus + " --loss --bootstrap 500 --quiet --json " +
                                          (out / "sweep.json").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const json sw = json::parse(bentov::testing::slurp_file(out / "sweep.json"))["sweep"];
  ASSERT_EQ(sw["loss"].size(), assembled_.size() - 1);
  for (std::size_t k = 0; k + 1 < assembled_.size(); ++k) {
    const double want = mean_loss(reference(folders_[k]));
    EXPECT_LE(std::fabs(sw["loss"][k].get<double>() - want), kRelTol * want) << folders_[k];
  }
  // Training lowers the loss: the first shift's loss delta is negative and significant.
  EXPECT_LT(sw["shifts"][0]["loss"]["delta"].get<double>(), 0.0);
  EXPECT_LT(sw["shifts"][0]["loss"]["ci95"][1].get<double>(), 0.0);
  EXPECT_TRUE(sw["rank_correlation"].is_object());

  const auto& base = assembled_[assembled_.size() - 2];
  const auto& tuned = assembled_.back();
  const auto c = bentov::testing::run_cli("compare " + base.string() + " " + tuned.string() + " --corpus " + kCorpus +
                                          " --loss --bootstrap 500 --quiet --json " + (out / "compare.json").string());
  ASSERT_EQ(c.rc, 0) << c.err;
  const json p = json::parse(bentov::testing::slurp_file(out / "compare.json"))["paired"];
  const double want = mean_loss(reference(folders_.back())) - mean_loss(reference(folders_[folders_.size() - 2]));
  EXPECT_NEAR(p["loss"]["delta"].get<double>(), want, kRelTol * 10.0);
}

}  // namespace
