// bentov compare and sweep, library side: deltas are B - A layer by layer and head by head,
// incomparable models are refused, and the sweep outputs (table, JSON, figure) are complete.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/pipeline.h"
#include "bentov/error.h"
#include "bentov/report/sweep_compare.h"

namespace fs = std::filesystem;

namespace {

bentov::analysis::ModelReport toy(const std::string& name, std::vector<double> locality, int l_star) {
  bentov::analysis::ModelReport m;
  m.name = name;
  m.n_layers = static_cast<int>(locality.size());
  m.n_heads = 2;
  m.l_star_empirical = l_star;
  for (std::size_t l = 0; l < locality.size(); ++l) {
    bentov::metrics::LayerSignature s{};
    s.index = static_cast<int>(l);
    s.locality = locality[l];
    s.entropy = 1.0 + static_cast<double>(l);
    s.sheaf_trace = 10.0;
    s.sink_mass = 0.25;
    s.heads = {{locality[l], 1.0}, {locality[l] / 2, 2.0}};
    m.layers.push_back(s);
  }
  return m;
}

TEST(Compare, DeltasAreBMinusA) {
  const auto a = toy("base", {0.9, 0.8, 0.5}, 1);
  auto b = toy("tuned", {0.9, 0.6, 0.5}, 2);
  b.layers[2].entropy += 0.5;
  const auto c = bentov::analysis::compare_models(a, b);
  EXPECT_EQ(c.l_star_shift, 1);
  ASSERT_EQ(c.layers.size(), 3u);
  EXPECT_NEAR(c.layers[1].locality, -0.2, 1e-12);
  EXPECT_NEAR(c.layers[2].entropy, 0.5, 1e-12);
  EXPECT_NEAR(c.layers[1].heads[1].locality, -0.1, 1e-12);  // (0.6 - 0.8) / 2
  EXPECT_EQ(c.max_abs_locality_layer, 1);
  const auto j = bentov::report::compare_to_json(c);
  EXPECT_EQ(j["L_star_shift"], 1);
  EXPECT_EQ(j["delta"]["layers"].size(), 3u);
  EXPECT_NE(bentov::report::format_compare_table(c).find("shift +1"), std::string::npos);
}

TEST(Compare, DifferentShapesOrArchitecturesRefused) {
  EXPECT_THROW(bentov::analysis::compare_models(toy("a", {0.1, 0.2}, 0), toy("b", {0.1, 0.2, 0.3}, 0)),
               bentov::Error);
  auto other = toy("b", {0.1, 0.2}, 0);
  other.architecture = "opt";
  EXPECT_THROW(bentov::analysis::compare_models(toy("a", {0.1, 0.2}, 0), other), bentov::Error);
}

TEST(SweepCli, FoldersInOrderAndCompare) {
  const auto dir = fs::temp_directory_path() / "bentov_sweep_cli";
  fs::remove_all(dir);
  const std::string cli = BENTOV_CLI_PATH;
  const std::string demo = BENTOV_SOURCE_MODELS_DIR;
  const std::string sweep = "'" + cli + "' sweep " + demo + "/gpt2-demo " + demo + "/gpt2-demo --quiet --out " +
                            dir.string() + " > " + (dir.string() + ".txt");
  ASSERT_EQ(std::system(sweep.c_str()), 0);
  EXPECT_TRUE(fs::exists(dir / "sweep.json"));
  EXPECT_TRUE(fs::exists(dir / "sweep.png"));
  const std::string cmp = "'" + cli + "' compare " + demo + "/gpt2-demo " + demo + "/gpt2-demo --quiet --json " +
                          (dir / "c.json").string() + " > /dev/null";
  ASSERT_EQ(std::system(cmp.c_str()), 0);
  std::ifstream in(dir / "c.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["L_star_shift"], 0);  // a model against itself: all deltas 0
  for (const auto& l : j["delta"]["layers"]) EXPECT_EQ(l["locality"], 0.0);
  const std::string bad = "'" + cli + "' compare " + demo + "/gpt2-demo " + demo + "/opt-demo --quiet 2>/dev/null >/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 2);
}

TEST(Sweep, TableJsonAndFigureOverCheckpoints) {
  // Two "checkpoints" of one shape: the same fixture model twice, and a failing one.
  const std::string m = std::string(BENTOV_TEST_DATA_DIR) + "/fixtures/pythia-hub";
  bentov::analysis::TextSource src;
  src.ids = std::vector<std::int32_t>{5, 7, 11, 13, 17, 19};
  const auto r = bentov::analysis::analyze_models({m, m, "/nonexistent/step3"}, src, {});
  const auto table = bentov::report::format_sweep_table(r);
  EXPECT_NE(table.find("Checkpoint"), std::string::npos);
  EXPECT_NE(table.find("FAILED"), std::string::npos);
  const auto j = bentov::report::sweep_to_json(r);
  EXPECT_EQ(j["sweep"]["checkpoints"].size(), 2u);
  const auto out = fs::temp_directory_path() / "bentov_sweep_test.png";
  fs::remove(out);
  bentov::report::write_sweep_plot(out, r);
  EXPECT_GT(fs::file_size(out), 10000u);
}

}  // namespace
