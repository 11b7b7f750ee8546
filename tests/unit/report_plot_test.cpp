// The 2x2 figure: a PNG of the promised 2100 x 1500 pixels (14 x 10 in at 150 dpi), an SVG,
// and the errors. Draws with the real gnuplot; skipped where gnuplot is not installed.
#include "bentov/report/plot.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "bentov/error.h"
#include "unit/report_fixtures.h"

namespace fs = std::filesystem;

namespace {

using namespace bentov::report;
using bentov::report::testing::fake_report;

bool have_gnuplot() { return std::system("gnuplot -e 'exit' >/dev/null 2>&1") == 0; }

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_plot_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Width and height from a PNG's IHDR chunk: 8-byte signature, 4-byte length, "IHDR", then
// big-endian width and height.
std::optional<std::pair<uint32_t, uint32_t>> png_size(const std::string& bytes) {
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0) {
    return std::nullopt;
  }
  auto be32 = [&](std::size_t at) {
    uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return std::make_pair(be32(16), be32(20));
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ReportPlot, PngHasThePromisedSize) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  const auto dir = scratch("png");
  const auto path = dir / "bentov_point_analysis.png";
  write_plot(path, fake_report());
  const auto size = png_size(slurp(path));
  ASSERT_TRUE(size.has_value()) << "not a PNG";
  EXPECT_EQ(size->first, 2100u);
  EXPECT_EQ(size->second, 1500u);
  // Only the target is left: no temporary file or script beside it.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1);
}

TEST(ReportPlot, SvgByExtension) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  const auto dir = scratch("svg");
  write_plot(dir / "figure.SVG", fake_report());
  const std::string svg = slurp(dir / "figure.SVG");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"1400\""), std::string::npos);
  EXPECT_NE(svg.find("height=\"1000\""), std::string::npos);
  EXPECT_NE(svg.find("Attention Locality"), std::string::npos);
  EXPECT_NE(svg.find("pythia-410m"), std::string::npos);
}

// One model of one layer, with no usable sheaf trace: still a figure, not a gnuplot error.
TEST(ReportPlot, DegenerateDataStillDraws) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed";
  AnalysisReport r;
  r.models.push_back(bentov::report::testing::fake_model("it's_one", 1, 0.0, 0.0));
  const auto dir = scratch("degenerate");
  write_plot(dir / "one.png", r);
  const auto size = png_size(slurp(dir / "one.png"));
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->first, 2100u);
}

TEST(ReportPlot, ScriptHasTheFourPanels) {
  const std::string s = gnuplot_script(fake_report(), PlotFormat::kPng, "out.png");
  EXPECT_NE(s.find("set terminal pngcairo size 2100,1500"), std::string::npos);
  EXPECT_NE(s.find("set multiplot layout 2,2"), std::string::npos);
  EXPECT_NE(s.find("Attention Locality"), std::string::npos);
  EXPECT_NE(s.find("Locality (1=local, 0=global)"), std::string::npos);
  EXPECT_NE(s.find("Attention Entropy"), std::string::npos);
  EXPECT_NE(s.find("Sheaf Laplacian Trace"), std::string::npos);
  EXPECT_NE(s.find("set logscale y"), std::string::npos);
  EXPECT_NE(s.find("L* theoretical vs empirical"), std::string::npos);
  EXPECT_NE(s.find("set xlabel 'Layer'"), std::string::npos);
  EXPECT_NE(s.find("$model3 << EOD"), std::string::npos);
  // A dashed L/2 marker per model on each line panel: pythia-410m's at layer 12.
  EXPECT_NE(s.find("from first 12, graph 0 to first 12, graph 1 nohead dt"), std::string::npos);
}

TEST(ReportPlot, UnknownExtensionIsAUsageError) {
  try {
    write_plot(scratch("ext") / "figure.pdf", fake_report());
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kUsage);
  }
  EXPECT_THROW(plot_format_for("figure"), bentov::Error);
  EXPECT_EQ(plot_format_for("a/b.Png"), PlotFormat::kPng);
}

TEST(ReportPlot, NoModelIsAnInputError) {
  try {
    write_plot(scratch("empty") / "figure.png", AnalysisReport{});
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kInput);
  }
}

// No gnuplot: an IoError that says how to install it, and no file left behind.
TEST(ReportPlot, MissingGnuplotIsAnIoErrorWithAHint) {
  ScopedEnv env("BENTOV_GNUPLOT", "/nonexistent/bin/gnuplot");
  const auto dir = scratch("missing");
  try {
    write_plot(dir / "figure.png", fake_report());
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kIo);
    EXPECT_NE(e.hint().find("gnuplot"), std::string::npos) << e.hint();
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

// gnuplot that fails (here: `false`, exit 1) is an IoError too, with nothing left behind.
TEST(ReportPlot, FailingGnuplotIsAnIoError) {
  ScopedEnv env("BENTOV_GNUPLOT", "false");
  const auto dir = scratch("failing");
  try {
    write_plot(dir / "figure.svg", fake_report());
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kIo);
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

}  // namespace
