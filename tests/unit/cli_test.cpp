// The command line as users run it: outputs, exit codes (DESIGN.md section 2), one-line
// errors with hints, failure isolation across models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bentov/io/safetensors.h"
#include "support/cli.h"
#include "support/compare.h"
#include "support/fixture_tolerance.h"

namespace fs = std::filesystem;
using bentov::testing::fixture;
using bentov::testing::run_cli;

namespace {

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_cli_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string ids_of(const bentov::io::TensorStore& ref, int seq) {
  const auto ids = bentov::io::to_int64(*ref.find("seq" + std::to_string(seq) + ".input_ids"));
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

// An error is one "bentov: error:" line plus at most one "hint:" line, at the end of stderr
// (progress lines may come before it).
void expect_one_line_error(const std::string& err) {
  const auto at = err.find("bentov: error: ");
  ASSERT_NE(at, std::string::npos) << err;
  const std::string tail = err.substr(at);
  EXPECT_LE(std::count(tail.begin(), tail.end(), '\n'), 2) << err;
  EXPECT_EQ(tail.find("hint: "), tail.find('\n') + 1) << "a hint follows the error line: " << err;
}

TEST(Cli, AttentionDumpMatchesTransformers) {
  const auto dir = scratch("attention");
  const auto ref = bentov::io::TensorStore::open_file(fixture("opt-postln-proj-sharded") + "/reference.safetensors");
  const auto out = dir / "att.safetensors";
  const auto r = run_cli("attention " + fixture("opt-postln-proj-sharded") + " --quiet --ids " + ids_of(ref, 1) +
                         " --out " + out.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto dump = bentov::io::TensorStore::open_file(out);
  EXPECT_EQ(dump.size(), 3u);  // 2 layers + input_ids
  const auto* ids = dump.find("input_ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->dtype, bentov::io::DType::kI64);
  for (int l = 0; l < 2; ++l) {
    const auto* got = dump.find("blocks." + std::to_string(l) + ".attn.pattern");
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->dtype, bentov::io::DType::kF32);
    EXPECT_EQ(got->shape, (std::vector<std::int64_t>{4, 20, 20}));
    const auto* want = ref.find("seq1.blocks." + std::to_string(l) + ".attn.pattern");
    EXPECT_TRUE(bentov::testing::AllClose(bentov::io::to_double(*got), bentov::io::to_double(*want),
                                          bentov::testing::attention_tolerance(fixture("opt-postln-proj-sharded"))))
        << "layer " << l << bentov::testing::blas_kernels_note();
  }
}

TEST(Cli, AnalyzeWritesJsonCsvAndTable) {
  const auto dir = scratch("analyze");
  const auto r = run_cli("analyze " + fixture("gpt2-lmhead") + " " + fixture("pythia-hub") +
                         " --ids 3,1,4,1,5,9,2,6,5,3 --quiet --out " + dir.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << "--quiet: " << r.err;
  EXPECT_NE(r.out.find("L* (empirical)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Mean deviation:"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(bentov::testing::slurp_file(dir / "results.json"));
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_TRUE(j["text"].is_null());  // --ids
  const auto& m = j["models"][0];
  EXPECT_EQ(m["name"], "gpt2-lmhead");
  EXPECT_EQ(m["architecture"], "gpt2");
  EXPECT_EQ(m["n_layers"], 3);
  EXPECT_EQ(m["token_ids"].size(), 10u);
  EXPECT_EQ(m["L_star_theoretical"], 1);
  EXPECT_EQ(m["layers"].size(), 3u);
  EXPECT_EQ(m["layers"][0]["heads"].size(), 4u);
  for (const char* k : {"locality", "entropy", "sheaf_trace", "value_frob_sq"}) {
    EXPECT_TRUE(m["layers"][2][k].is_number()) << k;
  }
  EXPECT_TRUE(j["failures"].empty());
  EXPECT_TRUE(fs::exists(dir / "layers.csv"));
  EXPECT_TRUE(fs::exists(dir / "bentov_point_analysis.png"));
}

TEST(Cli, FailingModelIsIsolated) {
  const auto dir = scratch("isolation");
  const auto r = run_cli("analyze " + fixture("pythia-hub") + " /nonexistent/model --ids 1,2,3 --json " +
                         (dir / "r.json").string());
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.out.find("FAILED"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(bentov::testing::slurp_file(dir / "r.json"));
  EXPECT_EQ(j["models"].size(), 1u);
  ASSERT_EQ(j["failures"].size(), 1u);
  EXPECT_EQ(j["failures"][0]["source"], "/nonexistent/model");
}

TEST(Cli, NothingAnalyzedIsExitThree) {
  const auto r = run_cli("analyze /nonexistent/a /nonexistent/b --ids 1,2 --quiet");
  EXPECT_EQ(r.rc, 3) << r.err;
}

TEST(Cli, UnsupportedArchitectureNamed) {
  const auto dir = scratch("llama");
  std::ofstream(dir / "config.json") << R"({"model_type": "mamba", "architectures": ["MambaForCausalLM"]})";
  const auto r = run_cli("info " + dir.string());
  EXPECT_EQ(r.rc, 3);
  expect_one_line_error(r.err);
  EXPECT_NE(r.err.find("unsupported architecture: model_type 'mamba'"), std::string::npos) << r.err;
}

TEST(Cli, InputErrors) {
  const std::string m = fixture("gpt2-lmhead");
  auto one = run_cli("analyze " + m + " --ids 5 --quiet");
  EXPECT_EQ(one.rc, 3);
  std::string many;
  for (int i = 0; i < 129; ++i) many += (i ? "," : "") + std::to_string(i % 300);
  auto too_many = run_cli("attention " + m + " --ids " + many + " --out /tmp/bentov_never.safetensors");
  EXPECT_EQ(too_many.rc, 3);
  expect_one_line_error(too_many.err);
  EXPECT_NE(too_many.err.find("129 tokens exceed this model's 128 positions"), std::string::npos) << too_many.err;
  EXPECT_FALSE(fs::exists("/tmp/bentov_never.safetensors"));
  auto out_of_vocab = run_cli("attention " + m + " --ids 1,300 --out /tmp/bentov_never.safetensors");
  EXPECT_EQ(out_of_vocab.rc, 3);
  EXPECT_NE(out_of_vocab.err.find("outside the vocabulary"), std::string::npos) << out_of_vocab.err;
  EXPECT_FALSE(fs::exists("/tmp/bentov_never.safetensors"));
}

// --max-positions: a rotary model runs past max_position_embeddings with a warning (even under
// --quiet); a learned-position model refuses, with the one-line error and its hint.
TEST(Cli, MaxPositionsExtendsRotaryPositionsOnly) {
  std::string ids;
  for (int i = 0; i < 129; ++i) ids += (i ? "," : "") + std::to_string(i % 300 + 1);
  const auto refused = run_cli("analyze " + fixture("pythia-hub") + " --quiet --ids " + ids);
  EXPECT_EQ(refused.rc, 3) << refused.err;
  EXPECT_NE(refused.err.find("--max-positions"), std::string::npos) << refused.err;
  const auto extended = run_cli("analyze " + fixture("pythia-hub") + " --quiet --max-positions 129 --ids " + ids);
  EXPECT_EQ(extended.rc, 0) << extended.err;
  EXPECT_NE(extended.err.find("warning: pythia-hub: --max-positions 129 goes past max_position_embeddings (128)"),
            std::string::npos)
      << extended.err;
  const auto learned = run_cli("attention " + fixture("gpt2-lmhead") +
                               " --quiet --max-positions 129 --ids 1,2,3 --out /tmp/bentov_never.safetensors");
  EXPECT_EQ(learned.rc, 2) << learned.err;
  expect_one_line_error(learned.err);
  EXPECT_NE(learned.err.find("learns its position embeddings"), std::string::npos) << learned.err;
  EXPECT_FALSE(fs::exists("/tmp/bentov_never.safetensors"));
}

TEST(Cli, UsageErrorsAreExitTwo) {
  const std::string m = fixture("gpt2-lmhead");
  const std::vector<std::string> cases = {
      "analyze " + m + " --ids 1,x",  "analyze " + m + " --ids ''",
      "analyze " + m + " --ids -3,4", "analyze --no-such-flag",
      "",                             "attention " + m + " --ids 1,2",  // no --out
      "analyze " + m + " --text a --ids 1,2"};
  for (const auto& args : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.rc, 2) << args << "\n" << r.err;
  }
}

TEST(Cli, InfoJson) {
  const auto r = run_cli("info " + fixture("opt-postln-proj-sharded") + " --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "opt");
  EXPECT_EQ(j["n_layers"], 2);
  EXPECT_EQ(j["n_heads"], 4);
  EXPECT_EQ(j["hidden_size"], 64);
  EXPECT_EQ(j["vocab_size"], 300);
  EXPECT_EQ(j["dtype"], "float16");
  EXPECT_EQ(j["norm"], "post-LN");
  // 2 layers x (4 x 64x64 + 4 x 64 + 2 x 64x128 + 128 + 64 + 4 x 64) + embeddings 300x32
  // + positions 130x64 + project_in 64x32 + project_out 32x64 (every tensor of the checkpoint).
  EXPECT_EQ(j["parameters"], 88960);
}

}  // namespace
