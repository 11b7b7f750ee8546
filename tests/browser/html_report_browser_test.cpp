// The HTML report opened in headless Chromium (Debian's `chromium`, --headless --no-sandbox
// --disable-gpu, every host name unresolvable): the page's own self-check (#selftest=M,L,H)
// clicks a grid cell, hovers entries of the opened pattern and writes what it read into the
// DOM, which --dump-dom prints. The test compares that with the JSON and with the
// `bentov attention` safetensors dump of the same text, and saves screenshots under
// BENTOV_ARTIFACT_DIR. Skips when no Chromium is installed ($BENTOV_CHROMIUM, else chromium,
// chromium-browser or google-chrome on PATH).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bentov/io/safetensors.h"
#include "bentov/report/pattern_encoding.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using bentov::testing::run_cli;
using bentov::testing::slurp_file;
using nlohmann::json;

namespace {

const std::string kModels = BENTOV_SOURCE_MODELS_DIR;
const fs::path kArtifacts = BENTOV_ARTIFACT_DIR;

std::optional<std::string> chromium() {
  if (const char* env = std::getenv("BENTOV_CHROMIUM"); env && *env) return std::string(env);
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0) return std::string(name);
  }
  return std::nullopt;
}

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_html_browser_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Chromium with no network: every host name fails to resolve, no background requests.
std::string chromium_command(const std::string& exe, const fs::path& profile, const std::string& what) {
  return "'" + exe + "' --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run " +
         "--disable-background-networking --disable-component-update --disable-sync --disable-extensions " +
         "--host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir='" + profile.string() + "' " +
         "--virtual-time-budget=20000 " + what + " 2>/dev/null";
}

std::string capture_stdout(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, got);
  ::pclose(p);
  return out;
}

// The page's self-check result for cell (model, layer, head).
json selftest(const std::string& exe, const fs::path& page, int model, int layer, int head) {
  const std::string url = "file://" + fs::absolute(page).string() + "#selftest=" + std::to_string(model) + "," +
                          std::to_string(layer) + "," + std::to_string(head);
  const std::string dom = capture_stdout(chromium_command(exe, page.parent_path() / "profile", "--dump-dom '" + url + "'"));
  const std::string open = "<pre id=\"bentov-selftest\"";
  const auto at = dom.find(open);
  if (at == std::string::npos) return {{"ok", false}, {"errors", {"no self-check in the DOM: " + dom.substr(0, 400)}}};
  const auto start = dom.find('>', at) + 1;
  std::string text = dom.substr(start, dom.find("</pre>", start) - start);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (auto p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size())) text.replace(p, from.size(), to);
  }
  return json::parse(text);
}

void screenshot(const std::string& exe, const fs::path& page, const std::string& hash, const fs::path& png) {
  fs::create_directories(png.parent_path());
  const std::string url = "file://" + fs::absolute(page).string() + hash;
  std::system(chromium_command(exe, page.parent_path() / "profile",
                               "--window-size=1400,1000 --screenshot='" + png.string() + "' '" + url + "'").c_str());
  EXPECT_TRUE(fs::exists(png)) << png;
  if (fs::exists(png)) EXPECT_GT(fs::file_size(png), 10000u) << png;
}

// dump[layer] as (heads, n, n) floats.
std::vector<std::vector<float>> dump_of(const fs::path& file, int layers) {
  const auto store = bentov::io::TensorStore::open_file(file);
  std::vector<std::vector<float>> out;
  for (int l = 0; l < layers; ++l) out.push_back(bentov::io::to_float(*store.find("blocks." + std::to_string(l) + ".attn.pattern")));
  return out;
}

// Every check the self-check makes possible, for one opened cell.
void check_cell(const json& st, const json& model, const std::vector<std::vector<float>>& dump, const json& labels,
                int layer, int head, bool exact) {
  ASSERT_TRUE(st.value("ok", false)) << st.dump();
  const int n = static_cast<int>(model["token_ids"].size());
  const auto& o = st["opened"];
  EXPECT_TRUE(o["visible"].get<bool>());
  EXPECT_EQ(o["full"].get<bool>(), exact);
  EXPECT_GT(o["painted"].get<int>(), 0) << "the opened pattern is blank";
  const auto& hj = model["layers"][layer]["heads"][head];
  EXPECT_DOUBLE_EQ(o["locality"].get<double>(), hj["locality"].get<double>());
  EXPECT_DOUBLE_EQ(o["entropy"].get<double>(), hj["entropy"].get<double>());
  const float* p = dump[static_cast<std::size_t>(layer)].data() + static_cast<std::size_t>(head) * n * n;
  auto entry = [&](int q, int k) { return static_cast<double>(p[static_cast<std::size_t>(q) * n + k]); };
  auto check_probe = [&](const json& pr) {
    const int q = pr["q"], k = pr["k"];
    ASSERT_FALSE(pr["p"].is_null()) << pr.dump();
    const double got = pr["p"];
    EXPECT_EQ(pr["exact"].get<bool>(), exact);
    if (exact) {
      EXPECT_NEAR(got, entry(q, k), bentov::report::kFullRelativeError * entry(q, k) + 1e-10)
          << "layer " << layer << " head " << head << " q " << q << " k " << k;
    } else {
      // A thumbnail cell: the mean of its block (masked entries 0), on the 8-bit scale.
      const int side = st["thumb_side"], a = q * side / n, b = k * side / n;
      double sum = 0, count = 0;
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          if (i * side / n != a || j * side / n != b) continue;
          sum += j <= i ? entry(i, j) : 0.0;
          count += 1;
        }
      }
      const double want = sum / count;  // below the 8-bit scale's floor it reads 0
      EXPECT_NEAR(got, want, 0.03 * want + (want < bentov::report::kThumbFloor ? want : 0.0))
          << "block of q " << q << " k " << k;
    }
    const std::string text = pr["text"];
    EXPECT_NE(text.find("query " + std::to_string(q) + " " + labels[q].dump()), std::string::npos) << text;
    EXPECT_NE(text.find("key " + std::to_string(k) + " " + labels[k].dump()), std::string::npos) << text;
  };
  ASSERT_EQ(st["probes"].size(), 6u);
  for (const auto& pr : st["probes"]) check_probe(pr);
  EXPECT_EQ(st["probes"][0]["q"].get<int>(), n - 1);
  EXPECT_EQ(st["probes"][0]["k"].get<int>(), 0);
  EXPECT_GE(st["sink_hidden"]["first_key"].get<int>(), 1) << "hiding the sink shifts the columns";
  EXPECT_EQ(st["sink_hidden"]["probe"]["k"], st["sink_hidden"]["first_key"]);
  EXPECT_EQ(st["sink_hidden"]["canvas"][0].get<int>(), st["opened"]["canvas"][0].get<int>() - 1);
  check_probe(st["sink_hidden"]["probe"]);
}

json labels_of(const std::string& model, const std::string& input) {
  const auto r = run_cli("tokenize " + model + " " + input + " --tokens");
  EXPECT_EQ(r.rc, 0) << r.err;
  return json::parse(r.out);
}

TEST(HtmlBrowser, DemoModelsEveryCellAndReadoutsMatchTheDump) {
  const auto exe = chromium();
  if (!exe) GTEST_SKIP() << "no Chromium (install Debian's chromium: scripts/install-deps.sh)";
  const auto dir = scratch("demo");
  const auto page = dir / "report.html";
  const auto r = run_cli("analyze --quiet --html " + page.string() + " --json " + (dir / "r.json").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const json results = json::parse(slurp_file(dir / "r.json"));
  const auto& models = results["models"];
  ASSERT_EQ(models.size(), 3u);
  for (int m = 0; m < 3; ++m) {
    const auto& model = models[m];
    const int layer = (3 + 2 * m) % 8, head = (1 + m) % 4;
    const json st = selftest(*exe, page, m, layer, head);
    ASSERT_TRUE(st.value("ok", false)) << st.dump();
    EXPECT_EQ(st["resources"].get<int>(), 0) << "the page loaded something";
    ASSERT_EQ(st["models"].size(), 3u);
    for (const auto& sm : st["models"]) {
      EXPECT_EQ(sm["cells"].get<int>(), sm["n_layers"].get<int>() * sm["n_heads"].get<int>()) << sm.dump();
      EXPECT_EQ(sm["thumbs_drawn"], sm["cells"]);
    }
    const std::string folder = model["source"];
    const auto dump_file = dir / ("dump" + std::to_string(m) + ".safetensors");
    const auto d = run_cli("attention " + folder + " --quiet --out " + dump_file.string());
    ASSERT_EQ(d.rc, 0) << d.err;
    const auto dump = dump_of(dump_file, model["n_layers"]);
    const json labels = labels_of(folder, "--text " + std::string("'") + results["text"].get<std::string>() + "'");
    SCOPED_TRACE(model["name"].get<std::string>());
    check_cell(st, model, dump, labels, layer, head, /*exact=*/true);
  }
  screenshot(*exe, page, "", kArtifacts / "html_report_demo.png");
  screenshot(*exe, page, "#selftest=1,3,2", kArtifacts / "html_report_demo_open.png");
}

// Four checkpoints at 512 tokens: the budget keeps only some full patterns, the others open
// their (256 x 256) thumbnail, whose readouts are block means.
TEST(HtmlBrowser, PooledThumbnailsBeyondTheBudget) {
  const auto exe = chromium();
  if (!exe) GTEST_SKIP() << "no Chromium (install Debian's chromium: scripts/install-deps.sh)";
  const auto dir = scratch("pooled");
  std::string ids;
  for (int i = 0; i < 512; ++i) ids += (i ? "," : "") + std::to_string((i * 733 + 17) % 4000);
  const std::string folder = kModels + "/pythia-demo";
  const auto page = dir / "sweep.html";
  const auto r = run_cli("sweep " + folder + " " + folder + "/ " + folder + "// " + folder + "/./ --quiet --ids " + ids +
                         " --html " + page.string() + " --json " + (dir / "s.json").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_LT(fs::file_size(page), 50'000'000u);
  const json results = json::parse(slurp_file(dir / "s.json"));
  const auto d = run_cli("attention " + folder + " --quiet --ids " + ids + " --out " + (dir / "d.safetensors").string());
  ASSERT_EQ(d.rc, 0) << d.err;
  const auto dump = dump_of(dir / "d.safetensors", 8);
  json labels = json::array();
  {
    const std::string pg = slurp_file(page);
    const auto at = pg.find("\"labels\":");
    ASSERT_NE(at, std::string::npos);
    std::size_t depth = 0, end = pg.find('[', at);
    for (std::size_t i = end; i < pg.size(); ++i) {
      if (pg[i] == '"') {
        for (++i; pg[i] != '"'; ++i) i += pg[i] == '\\';
      } else if (pg[i] == '[') {
        ++depth;
      } else if (pg[i] == ']' && --depth == 0) {
        labels = json::parse(pg.substr(end, i + 1 - end));
        break;
      }
    }
  }
  ASSERT_EQ(labels.size(), 512u);
  // Full patterns go to head 0 of every layer first: layer 0 head 0 has one, the last head of
  // the last model's last layer has not.
  json st = selftest(*exe, page, 0, 0, 0);
  st["thumb_side"] = 256;
  check_cell(st, results["models"][0], dump, labels, 0, 0, /*exact=*/true);
  st = selftest(*exe, page, 3, 7, 3);
  st["thumb_side"] = 256;
  check_cell(st, results["models"][3], dump, labels, 7, 3, /*exact=*/false);
  screenshot(*exe, page, "#selftest=3,7,3", kArtifacts / "html_report_pooled_open.png");
}

}  // namespace
