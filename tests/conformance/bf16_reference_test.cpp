// `--dtype bf16` on the CPU and a GPU against transformers' float64 references, held to 1.5 times the error
// transformers itself makes in bfloat16 on the same fixture (scripts/bf16_floor.py, recorded in
// reference.json as transformers_bfloat16): the per-layer and per-head metrics of the fused
// attention, and the probabilities of the attention dump.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bentov/analysis/pipeline.h"
#include "bentov/io/json_file.h"
#include "bentov/io/safetensors.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "bentov/ops/bf16_gemm.h"
#include "support/devices.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kFloorFactor = 1.5;
// Where transformers' bf16 error is itself at float32's level (a metric that cannot move).
constexpr double kAbsFloor = 1e-6;

// The CPU's bf16 sheaf traces that exceed 1.5 times transformers' error on their fixture, each
// held to its measured excess with a margin (oneDNN's AMX and AVX512-BF16 kernels sum in
// different orders), so that none can grow unseen. Both are one layer of a tiny random-weight
// model: the 2-token sequence's one diagonal probability (1.57 times the bound), and a 16-token
// sequence (1.02). README, "bf16 on the CPU".
double cpu_sheaf_allowance(const std::string& fixture) {
  if (fixture == "phi-parallel-partial-rope") return 1.8;
  if (fixture == "llama3-text") return 1.2;
  return 1.0;
}

struct Case {
  std::string name;
  fs::path model, reference;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  std::vector<Case> out;
  const fs::path data(BENTOV_TEST_DATA_DIR);
  for (const auto& e : fs::directory_iterator(data / "fixtures")) out.push_back({e.path().filename().string(), e.path(), e.path()});
  for (const auto& e : fs::directory_iterator(data / "demo")) {
    out.push_back({e.path().filename().string(), fs::path(BENTOV_SOURCE_MODELS_DIR) / e.path().filename(), e.path()});
  }
  std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return out;
}

class Bf16Reference : public ::testing::TestWithParam<std::tuple<Case, bentov::Device>> {
 protected:
  void SetUp() override {
    const auto& [c, device] = GetParam();
    BENTOV_SKIP_WITHOUT(device);
    if (!device.is_cuda() && !bentov::ops::bf16_products_compiled()) GTEST_SKIP() << "built without oneDNN";
    ref_ = bentov::io::read_json_file(c.reference / "reference.json");
    if (!ref_.contains("transformers_bfloat16")) GTEST_SKIP() << "no bf16 floor recorded (scripts/bf16_floor.py)";
    floor_ = ref_["transformers_bfloat16"];
  }
  // One floor per kind of metric: a layer's and a head's locality (entropy) are the same
  // function of different matrices, and transformers' error on the few layer-level values of a
  // tiny fixture can be small by cancellation alone.
  double bound(const std::string& kind) const {
    const json& m = floor_["metrics_max_abs"];
    const double f = std::max(m.value(kind, 0.0), m.value("head_" + kind, 0.0));
    return std::max(kAbsFloor, kFloorFactor * f);
  }
  // The sheaf trace (n - trace A) ||W_V||^2 to 1.5 times transformers' error per row and unit norm.
  double sheaf_bound(double frob_sq, std::size_t n) const {
    const json& m = floor_["metrics_max_abs"];
    const double per_row = m.value("sheaf_trace_per_row", 0.0);
    return std::max(kAbsFloor, kFloorFactor * per_row) * frob_sq * static_cast<double>(n);
  }
  json ref_, floor_;
};

TEST_P(Bf16Reference, MetricsWithinTransformersBf16Error) {
  // Plain references, not structured bindings: clang 14 cannot capture a binding in a lambda.
  const Case& c = std::get<0>(GetParam());
  const bentov::Device device = std::get<1>(GetParam());
  bentov::analysis::RunOptions options;
  options.device = device;
  options.dtype = bentov::ComputeDtype::kBFloat16;
  double worst_ratio = 0.0;
  int checked = 0;
  for (const auto& seq : ref_["sequences"]) {
    const auto ids = seq["input_ids"].get<std::vector<std::int32_t>>();
    if (!seq.contains("notebook") || ids.size() < 2) continue;
    bentov::analysis::TextSource source;
    source.ids = ids;
    const auto got = bentov::analysis::analyze_model(c.model.string(), source, options);
    const json& nb = seq["notebook"];
    auto check = [&](double g, double w, const std::string& metric, const std::string& at) {
      const double b = bound(metric), err = std::fabs(g - w);
      worst_ratio = std::max(worst_ratio, err / b);
      EXPECT_LE(err, b) << c.name << " n=" << ids.size() << " " << at << " " << metric << ": bf16 " << g
                        << ", float64 " << w;
    };
    for (std::size_t l = 0; l < got.layers.size(); ++l) {
      const auto& L = got.layers[l];
      const std::string at = "layer " + std::to_string(l);
      check(L.locality, nb["locality"][l], "locality", at);
      check(L.entropy, nb["entropy"][l], "entropy", at);
      const double st = nb["sheaf_trace"][l].get<double>();
      const double allowance = device.is_cuda() ? 1.0 : cpu_sheaf_allowance(c.name);
      EXPECT_LE(std::fabs(L.sheaf_trace - st),
                allowance * sheaf_bound(ref_["value_frob_sq"][l].get<double>(), ids.size()))
          << c.name << " n=" << ids.size() << " " << at << " sheaf_trace: bf16 " << L.sheaf_trace << ", float64 " << st;
      for (std::size_t h = 0; h < L.heads.size(); ++h) {
        check(L.heads[h].locality, nb["head_locality"][l][h], "locality", at + " head " + std::to_string(h));
        check(L.heads[h].entropy, nb["head_entropy"][l][h], "entropy", at + " head " + std::to_string(h));
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 1) << c.name;
  std::printf("%s: bf16 metrics, worst error / bound %.3g\n", c.name.c_str(), worst_ratio);
}

TEST_P(Bf16Reference, AttentionWithinTransformersBf16Error) {
  const auto& [c, device] = GetParam();
  const auto model = bentov::Model::load(c.model);
  const auto ref = bentov::io::TensorStore::open_file(c.reference / "reference.safetensors");
  const double bound = std::max(kAbsFloor, kFloorFactor * floor_["attention_max_abs"].get<double>());
  double worst = 0.0;
  for (int k = 0;; ++k) {
    const std::string prefix = "seq" + std::to_string(k) + ".";
    const auto* ids_t = ref.find(prefix + "input_ids");
    if (!ids_t) break;
    const auto ids64 = bentov::io::to_int64(*ids_t);
    const std::vector<std::int32_t> ids(ids64.begin(), ids64.end());
    bentov::MemoryCapture capture;
    model.forward(ids, &capture, bentov::ForwardOptions{0, device, bentov::ComputeDtype::kBFloat16});
    for (int l = 0; l < model.config().n_layers; ++l) {
      const auto* want_t = ref.find(prefix + "blocks." + std::to_string(l) + ".attn.pattern");
      ASSERT_NE(want_t, nullptr);
      const auto want = bentov::io::to_double(*want_t);
      const auto& got = capture.layer(l);
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
    }
  }
  EXPECT_LE(worst, bound) << c.name;
  std::printf("%s: bf16 attention max |diff| %.3g, bound %.3g\n", c.name.c_str(), worst, bound);
}

INSTANTIATE_TEST_SUITE_P(All, Bf16Reference,
                         ::testing::Combine(::testing::ValuesIn(cases()),
                                            ::testing::ValuesIn(bentov::testing::test_devices())),
                         [](const auto& info) { return bentov::testing::case_on_device_name(info); });

}  // namespace
