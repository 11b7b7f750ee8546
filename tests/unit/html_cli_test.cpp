// `--html` and `--out DIR` (report.html) on analyze, sweep and compare through the CLI, on the
// demo models: one self-contained file under the size bound, with every head's blob.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "bentov/io/atomic_file.h"
#include "bentov/report/pattern_capture.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using bentov::testing::run_cli;
using bentov::testing::slurp_file;

namespace {

const std::string kModels = std::string(BENTOV_SOURCE_MODELS_DIR);

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_html_cli_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t k = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++k;
  return k;
}

// No URL at all, no attribute that could load anything, a policy that forbids requests, and
// nothing after the closing tag.
void expect_self_contained(const std::string& page) {
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(<[^>]+\s(src|href)\s*=)", std::regex::icase)));
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_LT(page.size(), bentov::report::kHtmlMaxBytes);
  EXPECT_EQ(page.size() - page.rfind("</html>\n"), 8u);
}

TEST(HtmlCli, OutDirWritesReportHtmlForTheDemoModels) {
  const auto dir = scratch("out");
  const auto r = run_cli("analyze --quiet --out " + dir.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string page = slurp_file(dir / "report.html");
  expect_self_contained(page);
  EXPECT_EQ(count(page, "id=\"t-"), 3u * 8 * 4);  // three demo models of 8 layers x 4 heads
  EXPECT_EQ(count(page, "id=\"f-"), 3u * 8 * 4);
  for (const char* name : {"gpt2-demo", "opt-demo", "pythia-demo"}) EXPECT_NE(page.find(name), std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "results.json"));
}

TEST(HtmlCli, HtmlFlagAloneAndWithIds) {
  const auto dir = scratch("ids");
  const auto r = run_cli("analyze " + kModels + "/opt-demo --quiet --ids 2,100,200,300 --html " + (dir / "r.html").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string page = slurp_file(dir / "r.html");
  expect_self_contained(page);
  EXPECT_NE(page.find("\"labels_from_tokenizer\":true"), std::string::npos);  // ids, labelled by the decoder
  EXPECT_EQ(count(page, "id=\"f-0-"), 32u);
}

TEST(HtmlCli, SweepAndCompare) {
  const auto dir = scratch("sweep");
  auto r = run_cli("sweep " + kModels + "/pythia-demo " + kModels + "/gpt2-demo --quiet --html " +
                   (dir / "sweep.html").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  std::string page = slurp_file(dir / "sweep.html");
  expect_self_contained(page);
  EXPECT_NE(page.find("\"kind\":\"sweep\""), std::string::npos);
  EXPECT_EQ(count(page, "id=\"t-1-"), 32u);
  r = run_cli("compare " + kModels + "/gpt2-demo " + kModels + "/gpt2-demo/ --quiet --out " + dir.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  page = slurp_file(dir / "report.html");
  expect_self_contained(page);
  EXPECT_NE(page.find("\"kind\":\"compare\""), std::string::npos);
  EXPECT_NE(page.find("\"delta\""), std::string::npos);
  EXPECT_EQ(count(page, "id=\"t-1-"), 32u);
}

TEST(HtmlCli, CorpusRunHasCurvesOnly) {
  const auto dir = scratch("corpus");
  const auto corpus = dir / "c.txt";
  bentov::io::write_file_atomic(corpus, std::string_view("One text of a few words.\nAnother text, a little longer.\n"));
  const auto r = run_cli("analyze " + kModels + "/pythia-demo --quiet --bootstrap 50 --corpus " + corpus.string() +
                         " --html " + (dir / "c.html").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string page = slurp_file(dir / "c.html");
  expect_self_contained(page);
  EXPECT_EQ(count(page, "application/octet-stream"), 0u);
  EXPECT_NE(page.find("locality_ci95"), std::string::npos);
}

}  // namespace
