// The JSON of DESIGN.md section 3, field for field, and the per-layer CSV.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bentov/report/csv_writer.h"
#include "bentov/report/json_writer.h"
#include "bentov/version.h"
#include "unit/report_fixtures.h"

namespace fs = std::filesystem;

namespace {

using namespace bentov::report;
using bentov::report::testing::fake_model;
using bentov::report::testing::fake_report;

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_report_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(ReportJson, FieldNamesAreTheContract) {
  const auto r = fake_report();
  const auto j = to_json(r);
  EXPECT_EQ(keys(j), (std::set<std::string>{"bentov_version", "text", "models", "failures",
                                             "mean_deviation"}));
  EXPECT_EQ(j["bentov_version"], "0.1.0");
  EXPECT_EQ(j["text"], "The fundamental nature of reality");
  ASSERT_EQ(j["models"].size(), 4u);
  const auto& m = j["models"][0];
  EXPECT_EQ(keys(m), (std::set<std::string>{"name", "source", "architecture", "n_layers",
                                             "n_heads", "token_ids", "L_star_theoretical",
                                             "L_star_empirical", "deviation", "layers"}));
  EXPECT_EQ(m["name"], "pythia-160m");
  EXPECT_EQ(m["source"], "EleutherAI/pythia-160m");
  EXPECT_EQ(m["architecture"], "gpt_neox");
  EXPECT_EQ(m["n_layers"], 12);
  EXPECT_EQ(m["n_heads"], 2);
  EXPECT_EQ(m["token_ids"], nlohmann::json::array({464, 7531, 3450}));
  EXPECT_EQ(m["L_star_theoretical"], r.models[0].l_star_theoretical);
  EXPECT_EQ(m["L_star_empirical"], r.models[0].l_star_empirical);
  EXPECT_EQ(m["deviation"], r.models[0].deviation);
  ASSERT_EQ(m["layers"].size(), 12u);
  const auto& l = m["layers"][5];
  // DESIGN.md's fields, then the sink-aware ones (null here: not computed).
  EXPECT_EQ(keys(l), (std::set<std::string>{"index", "locality", "entropy", "sheaf_trace",
                                             "value_frob_sq", "heads", "sink_mass",
                                             "locality_no_sink", "entropy_no_sink",
                                             "row_entropy_mean", "sheaf_trace_per_token"}));
  EXPECT_TRUE(l["sink_mass"].is_null());
  EXPECT_EQ(l["index"], 5);
  ASSERT_EQ(l["heads"].size(), 2u);
  EXPECT_EQ(keys(l["heads"][1]), (std::set<std::string>{"locality", "entropy"}));
  ASSERT_EQ(j["failures"].size(), 1u);
  EXPECT_EQ(keys(j["failures"][0]), (std::set<std::string>{"source", "error"}));
  EXPECT_EQ(j["failures"][0]["source"], "/models/broken");
  EXPECT_DOUBLE_EQ(j["mean_deviation"].get<double>(), *r.mean_deviation);
}

// Estimators are added to a model's object when computed (every analyze run computes them).
TEST(ReportJson, EstimatorsObject) {
  auto r = fake_report();
  compute_estimators(r.models[0]);
  const auto j = to_json(r);
  const auto& e = j["models"][0]["estimators"];
  EXPECT_EQ(keys(e), (std::set<std::string>{"argmax_gradient", "two_segment", "trace_sign_change",
                                             "consensus"}));
  EXPECT_EQ(e["argmax_gradient"], r.models[0].l_star_empirical);
  EXPECT_EQ(keys(e["two_segment"]),
            (std::set<std::string>{"break", "supported", "delta_bic", "bic_two_segment", "bic_line",
                                   "rss_two_segment", "rss_line", "slope_before", "slope_after"}));
  // The fake trace, (1 - locality) x 10 x frob x (l + 1), only rises: no sign change.
  EXPECT_TRUE(e["trace_sign_change"].is_null());
  EXPECT_EQ(keys(e["consensus"]), (std::set<std::string>{"layer", "agree", "spread", "n_estimates",
                                                         "locality", "entropy", "trace"}));
  EXPECT_FALSE(j["models"][1].contains("estimators"));
}

// Doubles survive the file bit for bit; NaN, a missing text and a missing mean are null.
TEST(ReportJson, FullPrecisionAndNulls) {
  AnalysisReport r;
  r.models.push_back(fake_model("m", 3, 1.0));
  r.models[0].layers[0].locality = 0.12345678901234567;
  r.models[0].layers[1].sheaf_trace = std::numeric_limits<double>::quiet_NaN();
  r.models[0].layers[2].value_frob_sq = std::numeric_limits<double>::infinity();
  const auto dir = scratch("json");
  write_json(dir / "results.json", r);
  const std::string text = slurp(dir / "results.json");
  const auto j = nlohmann::json::parse(text);
  EXPECT_TRUE(j["text"].is_null());
  EXPECT_TRUE(j["mean_deviation"].is_null());
  EXPECT_EQ(j["bentov_version"], BENTOV_VERSION);
  const auto& layers = j["models"][0]["layers"];
  EXPECT_EQ(layers[0]["locality"].get<double>(), 0.12345678901234567);
  EXPECT_EQ(layers[0]["entropy"].get<double>(), r.models[0].layers[0].entropy);
  EXPECT_TRUE(layers[1]["sheaf_trace"].is_null());
  EXPECT_TRUE(layers[2]["value_frob_sq"].is_null());
  // The file keeps DESIGN.md's order and equals to_json.
  EXPECT_LT(text.find("\"bentov_version\""), text.find("\"models\""));
  EXPECT_LT(text.find("\"name\""), text.find("\"layers\""));
  EXPECT_EQ(j, to_json(r));
  EXPECT_EQ(text.back(), '\n');
}

// Text from --text-file is arbitrary bytes: invalid UTF-8 must not abort the write.
TEST(ReportJson, InvalidUtf8IsReplaced) {
  AnalysisReport r;
  r.text = std::string("caf\xe9 \xff");
  const auto j = nlohmann::json::parse(to_json_string(r));
  EXPECT_EQ(j["text"], "caf\xef\xbf\xbd \xef\xbf\xbd");
}

TEST(ReportCsv, HeaderAndRows) {
  AnalysisReport r;
  r.models.push_back(fake_model("pythia-160m", 2, 0.5));
  r.models.push_back(fake_model("odd,name", 1, 0.0));
  r.models[0].layers[0] = {0, 0.75, 1.5, 200.25, 100.0, {}};
  r.models[0].layers[1].sheaf_trace = std::numeric_limits<double>::quiet_NaN();
  const auto dir = scratch("csv");
  write_csv(dir / "layers.csv", r);
  const std::string csv = slurp(dir / "layers.csv");
  std::istringstream in(csv);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << csv;
  EXPECT_EQ(lines[0], "model,layer,locality,entropy,sheaf_trace,value_frob_sq");
  EXPECT_EQ(lines[1], "pythia-160m,0,0.75,1.5,200.25,100");
  // Shortest round-trip form, NaN as an empty field.
  const auto& l1 = r.models[0].layers[1];
  std::ostringstream want;
  want << "pythia-160m,1,";
  EXPECT_EQ(lines[2].rfind(want.str(), 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find(",,"), std::string::npos) << lines[2];
  EXPECT_EQ(std::stod(lines[2].substr(want.str().size())), l1.locality);
  EXPECT_EQ(lines[3].rfind("\"odd,name\",0,", 0), 0u) << lines[3];
}

}  // namespace
