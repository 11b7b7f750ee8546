// Filling L*, deviation and the mean deviation of a report; the table printed by analyze.
#include <gtest/gtest.h>

#include "bentov/analysis/results.h"
#include "bentov/report/summary_table.h"
#include "unit/report_fixtures.h"

namespace {

using namespace bentov::report;
using bentov::report::testing::fake_model;
using bentov::report::testing::fake_report;

// Locality [0.9, 0.9, 0.5, 0.1] -> |np.gradient| = [0, 0.2, 0.4, 0.4]: L* = 2 (first of the
// tie); L/2 = 2; deviation 0.
TEST(ReportResults, ComputeLStar) {
  ModelReport m;
  m.n_layers = 4;
  for (int l = 0; l < 4; ++l) m.layers.push_back({l, 0.0, 0.0, 0.0, 0.0, {}});
  m.layers[0].locality = 0.9;
  m.layers[1].locality = 0.9;
  m.layers[2].locality = 0.5;
  m.layers[3].locality = 0.1;
  compute_l_star(m);
  EXPECT_EQ(m.l_star_theoretical, 2);
  EXPECT_EQ(m.l_star_empirical, 2);
  EXPECT_EQ(m.deviation, 0);
}

TEST(ReportResults, MeanDeviation) {
  AnalysisReport r;
  compute_mean_deviation(r);
  EXPECT_FALSE(r.mean_deviation.has_value());
  r.models.resize(2);
  r.models[0].deviation = 3;
  r.models[1].deviation = 0;
  compute_mean_deviation(r);
  EXPECT_DOUBLE_EQ(*r.mean_deviation, 1.5);
}

TEST(ReportResults, DisplayName) {
  EXPECT_EQ(display_name("EleutherAI/pythia-160m"), "pythia-160m");
  EXPECT_EQ(display_name("/models/gpt2/"), "gpt2");
  EXPECT_EQ(display_name("gpt2"), "gpt2");
}

TEST(ReportTable, ColumnsRowsFailureAndMean) {
  AnalysisReport r;
  ModelReport a;
  a.name = "pythia-160m";
  a.n_layers = 12;
  a.l_star_theoretical = 6;
  a.l_star_empirical = 3;
  a.deviation = 3;
  ModelReport b = a;
  b.name = "gpt2";
  b.l_star_empirical = 6;
  b.deviation = 0;
  r.models = {a, b};
  r.failures.push_back({"/data/models/opt-350m", {"unsupported architecture 'foo'", ""}});
  compute_mean_deviation(r);
  const std::string t = format_summary_table(r);
  const std::string expected =
      "Model               Layers    L* (L/2)    L* (empirical)  Deviation\n"
      "-------------------------------------------------------------------\n"
      "pythia-160m         12        6           3               3\n"
      "gpt2                12        6           6               0\n"
      "opt-350m            FAILED: unsupported architecture 'foo'\n"
      "-------------------------------------------------------------------\n"
      "Mean deviation: 1.5 layers\n";
  EXPECT_EQ(t, expected) << t;
}

TEST(ReportTable, LongNamesWidenTheModelColumn) {
  AnalysisReport r = fake_report();
  r.models[0].name = "a-really-long-model-name-for-the-table";
  const std::string t = format_summary_table(r);
  EXPECT_NE(t.find("a-really-long-model-name-for-the-table  12"), std::string::npos) << t;
  EXPECT_NE(t.find("broken"), std::string::npos);
  EXPECT_NE(t.find("FAILED: tensor"), std::string::npos);
}

TEST(ReportTable, NothingAnalyzed) {
  AnalysisReport r;
  r.failures.push_back({"x", {"cannot open 'x/config.json'\nsecond line", ""}});
  const std::string t = format_summary_table(r);
  EXPECT_NE(t.find("x                   FAILED: cannot open 'x/config.json' second line\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("Mean deviation: n/a"), std::string::npos) << t;
}

}  // namespace
