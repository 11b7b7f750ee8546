// The memory plan of a CPU pass (Model::memory_plan), driven by a fake limit
// (BENTOV_MEMORY_LIMIT): widened once when the float32 copies fit, widened on use in every pass
// when they do not (the same numbers either way), refused up front when even that cannot fit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bentov/error.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "support/cli.h"

namespace {

const std::filesystem::path kPythia = std::filesystem::path(BENTOV_SOURCE_MODELS_DIR) / "pythia-demo";

// Sets BENTOV_MEMORY_LIMIT while alive, restoring the previous value.
class ScopedLimit {
 public:
  explicit ScopedLimit(std::uint64_t bytes) {
    if (const char* v = std::getenv("BENTOV_MEMORY_LIMIT")) previous_ = v;
    setenv("BENTOV_MEMORY_LIMIT", std::to_string(bytes).c_str(), 1);
  }
  ~ScopedLimit() {
    if (previous_) {
      setenv("BENTOV_MEMORY_LIMIT", previous_->c_str(), 1);
    } else {
      unsetenv("BENTOV_MEMORY_LIMIT");
    }
  }

 private:
  std::optional<std::string> previous_;
};

std::vector<std::int32_t> ids(int n) {
  std::mt19937 rng(3);
  std::vector<std::int32_t> out(static_cast<std::size_t>(n));
  for (auto& id : out) id = static_cast<std::int32_t>(rng() % 4096);
  return out;
}

struct Pass {
  std::vector<float> hidden;
  std::vector<std::vector<float>> attention;
};

// Two passes of 300 tokens (the first long enough to widen once when allowed).
std::vector<Pass> two_passes(const bentov::Model& m) {
  std::vector<Pass> out;
  for (int i = 0; i < 2; ++i) {
    bentov::MemoryCapture capture;
    Pass p;
    p.hidden = m.forward(ids(300), &capture, bentov::ForwardOptions{2});
    for (int l = 0; l < m.config().n_layers; ++l) p.attention.push_back(capture.layer(l));
    out.push_back(std::move(p));
  }
  return out;
}

TEST(MemoryPlan, WidenOnceOnUseOrRefuse) {
  const auto probe = bentov::Model::load(kPythia);
  const auto plan = probe.memory_plan(300, 2);
  ASSERT_TRUE(plan.any_raw);  // fp16 matrices left in the map
  ASSERT_LT(plan.on_use_bytes, plan.once_bytes);

  std::vector<Pass> once, on_use;
  {
    const ScopedLimit roomy(plan.once_bytes + (1ull << 20));
    const auto m = bentov::Model::load(kPythia);
    EXPECT_EQ(m.weight_widening(300, 2), "once");
    once = two_passes(m);
    EXPECT_EQ(m.weight_widening(300, 2), "once");  // and now widened
  }
  {
    const ScopedLimit tight((plan.on_use_bytes + plan.once_bytes) / 2);
    const auto m = bentov::Model::load(kPythia);
    EXPECT_EQ(m.weight_widening(300, 2), "on use");
    on_use = two_passes(m);
    EXPECT_TRUE(m.memory_plan(300, 2).any_raw) << "the matrices were widened although they do not fit";
  }
  for (std::size_t i = 0; i < once.size(); ++i) {
    EXPECT_EQ(on_use[i].hidden, once[i].hidden) << "pass " << i;
    EXPECT_EQ(on_use[i].attention, once[i].attention) << "pass " << i;
  }
  {
    const ScopedLimit too_small(plan.on_use_bytes - 1);
    const auto m = bentov::Model::load(kPythia);
    try {
      m.forward(ids(300), nullptr, bentov::ForwardOptions{2});
      ADD_FAILURE() << "a pass that cannot fit ran";
    } catch (const bentov::Error& e) {
      EXPECT_EQ(e.kind(), bentov::ErrorKind::kInput);
      EXPECT_NE(std::string(e.what()).find("needs"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("of weights"), std::string::npos) << e.what();
    }
  }
}

// The CLI: refused with exit 3 and one line, and the JSON records the plan's choice.
TEST(MemoryPlan, CliRefusesAndRecordsTheChoice) {
  const auto json_path = std::filesystem::temp_directory_path() / ("bentov-plan-" + std::to_string(::getpid()) + ".json");
  const auto r = bentov::testing::run_cli("analyze " + kPythia.string() + " --quiet --json " + json_path.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(bentov::testing::slurp_file(json_path));
  EXPECT_EQ(j["models"][0]["weight_widening"], "once");  // fp16 weights whose float32 copies fit
  std::filesystem::remove(json_path);
  setenv("BENTOV_MEMORY_LIMIT", "1M", 1);
  const auto refused = bentov::testing::run_cli("analyze " + kPythia.string() + " --quiet");
  unsetenv("BENTOV_MEMORY_LIMIT");
  EXPECT_EQ(refused.rc, 3) << refused.err;
  EXPECT_EQ(refused.err.rfind("bentov: error: ", 0), 0u) << refused.err;
  EXPECT_NE(refused.err.find("needs"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("\nhint: "), std::string::npos) << refused.err;
}

}  // namespace
