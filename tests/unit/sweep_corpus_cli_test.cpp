// `bentov sweep --corpus --loss` and `bentov compare --corpus` as users run them: every paired
// statistic checked against an independent computation from the per-text JSON lines of
// `analyze --corpus --per-text` (exact sign-flip p-values by enumeration), and the figures.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/cli.h"

namespace fs = std::filesystem;
using bentov::testing::run_cli;
using nlohmann::json;

namespace {

const std::string kCorpus = std::string(BENTOV_TEST_DATA_DIR) + "/corpus/sentences.txt";
const std::string kModels = std::string(BENTOV_SOURCE_MODELS_DIR);

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_sweep_corpus_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

bool have_gnuplot() { return std::system("gnuplot -e 'exit' >/dev/null 2>&1") == 0; }

// model -> line -> the per-text JSON line.
std::map<std::string, std::map<int, json>> per_text(const fs::path& path) {
  std::map<std::string, std::map<int, json>> out;
  std::istringstream in(bentov::testing::slurp_file(path));
  for (std::string line; std::getline(in, line);) {
    const auto j = json::parse(line);
    out[j["model"]][j["line"]] = j;
  }
  return out;
}

// The exact two-sided sign-flip p-value of mean(d) = 0 over all 2^n sign vectors.
double exact_sign_flip_p(const std::vector<double>& d) {
  double mean = 0.0;
  for (double v : d) mean += v;
  const double t = std::fabs(mean / d.size()) * (1.0 - 1e-12);
  long long hits = 0;
  const long long total = 1LL << d.size();
  for (long long mask = 0; mask < total; ++mask) {
    double s = 0.0;
    for (std::size_t i = 0; i < d.size(); ++i) s += (mask >> i & 1) ? -d[i] : d[i];
    if (std::fabs(s / d.size()) >= t) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

TEST(SweepCorpusCli, PairedShiftsAgreeWithThePerTextLines) {
  const auto dir = scratch("sweep");
  const std::string a = kModels + "/gpt2-demo", b = kModels + "/opt-demo", c = kModels + "/pythia-demo";
  const int B = 4000;
  const auto r = run_cli("sweep " + a + " " + b + " " + c + " --corpus " + kCorpus + " --loss --bootstrap " +
                         std::to_string(B) + " --seed 5 --quiet --json " + (dir / "sweep.json").string() +
                         (have_gnuplot() ? " --plot " + (dir / "sweep.png").string() : std::string()));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Shifts between consecutive checkpoints"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Spearman's rho"), std::string::npos) << r.out;
  const auto t = run_cli("analyze " + a + " " + b + " --corpus " + kCorpus + " --loss --bootstrap 10 --quiet --per-text " +
                         (dir / "texts.jsonl").string() + " --json " + (dir / "a.json").string());
  ASSERT_EQ(t.rc, 0) << t.err;
  const auto texts = per_text(dir / "texts.jsonl");
  const json j = json::parse(bentov::testing::slurp_file(dir / "sweep.json"));
  const auto& sw = j["sweep"];
  ASSERT_EQ(sw["shifts"].size(), 2u);
  ASSERT_EQ(sw["loss"].size(), 3u);
  EXPECT_NE(std::string(sw["method"]).find("sign-flip"), std::string::npos);
  const json& s = sw["shifts"][0];
  EXPECT_EQ(s["from"], "gpt2-demo");
  EXPECT_EQ(s["to"], "opt-demo");
  // Independent: the per-text differences of the lines both models analyzed.
  std::vector<double> d_loss, d_l_star, d_loc3;
  for (const auto& [line, ta] : texts.at("gpt2-demo")) {
    const auto it = texts.at("opt-demo").find(line);
    if (it == texts.at("opt-demo").end()) continue;
    const json& tb = it->second;
    d_loss.push_back(tb["loss"].get<double>() - ta["loss"].get<double>());
    d_l_star.push_back(tb["L_star_empirical"].get<double>() - ta["L_star_empirical"].get<double>());
    d_loc3.push_back(tb["layers"][3]["locality"].get<double>() - ta["layers"][3]["locality"].get<double>());
  }
  ASSERT_EQ(s["n_texts"].get<std::size_t>(), d_loss.size());
  ASSERT_LE(d_loss.size(), 20u);  // enumerable
  auto mean = [](const std::vector<double>& v) {
    double m = 0.0;
    for (double x : v) m += x;
    return m / v.size();
  };
  EXPECT_NEAR(s["loss"]["delta"].get<double>(), mean(d_loss), 1e-12);
  EXPECT_NEAR(s["L_star_per_text"]["delta"].get<double>(), mean(d_l_star), 1e-12);
  EXPECT_NEAR(s["layers"][3]["locality"]["delta"].get<double>(), mean(d_loc3), 1e-12);
  // Monte Carlo p-values within 4 standard errors of the exact ones.
  for (const auto& [got, d] : {std::pair{s["loss"]["p_value"].get<double>(), d_loss},
                               std::pair{s["layers"][3]["locality"]["p_value"].get<double>(), d_loc3}}) {
    const double p = exact_sign_flip_p(d);
    EXPECT_NEAR(got, p, 4.0 * std::sqrt(p * (1 - p) / B) + 2.0 / B) << "exact " << p;
  }
  for (const auto* stat : {"loss", "L_star", "L_star_per_text"}) {
    const auto& ci = s[stat]["ci95"];
    EXPECT_LE(ci[0].get<double>(), s[stat]["delta"].get<double>()) << stat;
    EXPECT_GE(ci[1].get<double>(), s[stat]["delta"].get<double>()) << stat;
  }
  // Each checkpoint's mean loss is the mean of its texts' losses.
  double la = 0.0;
  for (const auto& [line, ta] : texts.at("gpt2-demo")) la += ta["loss"].get<double>();
  EXPECT_NEAR(sw["loss"][0].get<double>(), la / texts.at("gpt2-demo").size(), 1e-12);
  ASSERT_TRUE(sw["rank_correlation"].is_object());
  EXPECT_EQ(sw["rank_correlation"]["n_checkpoints"], 3);
  if (have_gnuplot()) EXPECT_GT(fs::file_size(dir / "sweep.png"), 10000u);
}

TEST(SweepCorpusCli, SameSeedSameJson) {
  const auto dir = scratch("seed");
  const std::string models = kModels + "/gpt2-demo " + kModels + "/pythia-demo";
  for (const char* name : {"x.json", "y.json"}) {
    const auto r = run_cli("sweep " + models + " --corpus " + kCorpus + " --bootstrap 300 --seed 9 --quiet --json " +
                           (dir / name).string());
    ASSERT_EQ(r.rc, 0) << r.err;
  }
  EXPECT_EQ(bentov::testing::slurp_file(dir / "x.json"), bentov::testing::slurp_file(dir / "y.json"));
}

TEST(CompareCorpusCli, AModelAgainstItselfShiftsNothing) {
  const auto dir = scratch("compare");
  const std::string m = kModels + "/pythia-demo";
  const auto r = run_cli("compare " + m + " " + m + " --corpus " + kCorpus + " --loss --bootstrap 200 --quiet --json " +
                         (dir / "compare.json").string() +
                         (have_gnuplot() ? " --plot " + (dir / "compare.png").string() : std::string()));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("paired"), std::string::npos) << r.out;
  const json j = json::parse(bentov::testing::slurp_file(dir / "compare.json"));
  const auto& p = j["paired"];
  EXPECT_EQ(p["L_star"]["delta"], 0.0);
  EXPECT_EQ(p["L_star"]["p_value"], 1.0);
  EXPECT_EQ(p["loss"]["delta"], 0.0);
  for (const auto& l : p["layers"]) {
    EXPECT_EQ(l["locality"]["delta"], 0.0);
    EXPECT_EQ(l["locality"]["p_value"], 1.0);
  }
  EXPECT_TRUE(p["method"].is_string());
}

TEST(SweepCorpusCli, CorpusExcludesText) {
  const auto r = run_cli("sweep " + kModels + "/gpt2-demo " + kModels + "/opt-demo --corpus " + kCorpus + " --text hi");
  EXPECT_EQ(r.rc, 2) << r.err;
}

}  // namespace
