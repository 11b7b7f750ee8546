// `bentov analyze --corpus` as users run it, over the three demo models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/cli.h"

namespace fs = std::filesystem;
using bentov::testing::run_cli;

namespace {

std::string corpus_file(const std::string& name) {
  return std::string(BENTOV_TEST_DATA_DIR) + "/corpus/" + name;
}

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_corpus_cli_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

bool have_gnuplot() { return std::system("gnuplot -e 'exit' >/dev/null 2>&1") == 0; }

TEST(CorpusCli, DemoModelsReportDistributionsEstimatorsAndFigures) {
  const auto dir = scratch("run");
  const auto r = run_cli("analyze --corpus " + corpus_file("sentences.txt") +
                         " --bootstrap 200 --seed 3 --estimators" +
                         (have_gnuplot() ? " --out " : " --json ") +
                         (have_gnuplot() ? dir.string() : (dir / "results.json").string()));
  ASSERT_EQ(r.rc, 0) << r.err;
  // Progress with an ETA per text, on stderr.
  EXPECT_NE(r.err.find("gpt2-demo: text 1/12"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos);
  for (const char* col : {"Texts", "L* 95% CI", "Two-segment", "Trace +/-", "Consensus", "L*/L"}) {
    EXPECT_NE(r.out.find(col), std::string::npos) << col << "\n" << r.out;
  }
  const auto j = nlohmann::json::parse(bentov::testing::slurp_file(dir / "results.json"));
  EXPECT_TRUE(j["text"].is_null());
  EXPECT_EQ(j["corpus_file"], corpus_file("sentences.txt"));
  ASSERT_EQ(j["models"].size(), 3u);
  for (const auto& m : j["models"]) {
    const int L = m["n_layers"];
    EXPECT_EQ(L, 8);
    const auto& c = m["corpus"];
    EXPECT_EQ(c["n_texts"].get<int>() + c["n_skipped_short"].get<int>(), 12) << m["name"];
    EXPECT_EQ(c["bootstrap"], 200);
    const auto& ls = c["L_star_empirical"];
    ASSERT_EQ(ls["counts"].size(), 8u);
    int total = 0;
    for (int k : ls["counts"]) total += k;
    EXPECT_EQ(total, c["n_texts"].get<int>());
    ASSERT_EQ(ls["ci95"].size(), 2u);
    EXPECT_LE(ls["ci95"][0].get<int>(), ls["mean_profile"].get<int>());
    EXPECT_GE(ls["ci95"][1].get<int>(), ls["mean_profile"].get<int>());
    EXPECT_TRUE(ls["mode"].is_number_integer());
    EXPECT_EQ(m["L_star_empirical"], ls["mean_profile"]);
    ASSERT_EQ(c["profile"].size(), 8u);
    for (const auto& p : c["profile"]) {
      for (const char* f : {"locality", "entropy", "sink_mass", "locality_no_sink", "entropy_no_sink",
                            "row_entropy_mean", "sheaf_trace_per_token"}) {
        const std::string k = f;
        ASSERT_TRUE(p[k + "_mean"].is_number()) << k;
        ASSERT_EQ(p[k + "_ci95"].size(), 2u) << k;
        EXPECT_LE(p[k + "_ci95"][0].get<double>(), p[k + "_mean"].get<double>()) << k;
        EXPECT_GE(p[k + "_ci95"][1].get<double>(), p[k + "_mean"].get<double>()) << k;
      }
      EXPECT_EQ(p["heads"].size(), 4u);
    }
    const auto& e = m["estimators"];
    EXPECT_EQ(e["argmax_gradient"], m["L_star_empirical"]);
    ASSERT_TRUE(e["two_segment"].is_object());
    EXPECT_TRUE(e["two_segment"]["supported"].is_boolean());
    EXPECT_TRUE(e["trace_sign_change"].is_null() || e["trace_sign_change"].is_number_integer());
    EXPECT_TRUE(e["consensus"]["agree"].is_boolean());
    const auto& layer = m["layers"][3];
    for (const char* f : {"locality", "sink_mass", "locality_no_sink", "entropy_no_sink", "row_entropy_mean",
                          "sheaf_trace_per_token"}) {
      EXPECT_TRUE(layer[f].is_number()) << f;
    }
  }
  ASSERT_TRUE(j["cross_model"].is_object());
  EXPECT_EQ(j["cross_model"]["L_star_ratio"].size(), 3u);
  EXPECT_TRUE(j["cross_model"]["mean_L_star_ratio"]["p_value_vs_half"].is_number());
  if (have_gnuplot()) {
    for (const char* f : {"bentov_point_analysis.png", "corpus_profiles.png", "l_star_distribution.png",
                          "l_star_ratio.png", "head_maps.png", "per_text.jsonl", "layers.csv"}) {
      EXPECT_TRUE(fs::exists(dir / f)) << f;
    }
    std::ifstream in(dir / "per_text.jsonl");
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
      const auto t = nlohmann::json::parse(line);
      EXPECT_EQ(t["layers"].size(), 8u);
      ++lines;
    }
    EXPECT_GE(lines, 30);  // 3 models x (12 texts - the skipped)
  }
}

TEST(CorpusCli, SameSeedSameJson) {
  const auto dir = scratch("seed");
  const std::string args = "analyze --corpus " + corpus_file("sentences.jsonl") + " --quiet --bootstrap 100 --seed 11 --json ";
  ASSERT_EQ(run_cli(args + (dir / "a.json").string()).rc, 0);
  ASSERT_EQ(run_cli(args + (dir / "b.json").string()).rc, 0);
  auto a = nlohmann::json::parse(bentov::testing::slurp_file(dir / "a.json"));
  auto b = nlohmann::json::parse(bentov::testing::slurp_file(dir / "b.json"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["models"][0]["corpus"]["n_texts"], 5);
}

TEST(CorpusCli, MaxTextsAndMaxTokens) {
  const auto dir = scratch("limits");
  const auto r = run_cli("analyze --corpus " + corpus_file("sentences.txt") +
                         " --quiet --max-texts 4 --max-tokens 6 --bootstrap 50 --json " + (dir / "r.json").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(bentov::testing::slurp_file(dir / "r.json"));
  for (const auto& m : j["models"]) {
    EXPECT_EQ(m["corpus"]["n_texts"], 4);
    EXPECT_EQ(m["corpus"]["n_truncated"], 4);
    EXPECT_EQ(m["corpus"]["n_tokens"], 24);
    EXPECT_EQ(m["corpus"]["max_tokens"], 6);
  }
}

TEST(CorpusCli, Errors) {
  // An invalid JSON line: one error line naming the line, exit 3.
  auto r = run_cli("analyze --corpus " + corpus_file("invalid.jsonl") + " --quiet");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("invalid.jsonl:3: invalid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint: "), std::string::npos) << r.err;
  // --corpus with --text is a usage error; so are corpus flags without --corpus.
  EXPECT_EQ(run_cli("analyze --corpus " + corpus_file("sentences.txt") + " --text hi --quiet").rc, 2);
  EXPECT_EQ(run_cli("analyze --bootstrap 10 --quiet").rc, 2);
  EXPECT_EQ(run_cli("analyze --corpus " + corpus_file("sentences.txt") + " --bootstrap 0 --quiet").rc, 2);
  r = run_cli("analyze --corpus /nonexistent/corpus.txt --quiet");
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("corpus '/nonexistent/corpus.txt' does not exist"), std::string::npos) << r.err;
}

TEST(CorpusCli, SingleTextRunHasEstimatorsAndSinkFields) {
  const auto dir = scratch("single");
  const auto r = run_cli("analyze --quiet --estimators --json " + (dir / "r.json").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Consensus"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("L* 95% CI"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(bentov::testing::slurp_file(dir / "r.json"));
  for (const auto& m : j["models"]) {
    EXPECT_FALSE(m.contains("corpus"));
    EXPECT_EQ(m["estimators"]["argmax_gradient"], m["L_star_empirical"]);
    EXPECT_TRUE(m["layers"][0]["sink_mass"].is_number());
  }
  EXPECT_FALSE(j.contains("cross_model"));
}

}  // namespace
