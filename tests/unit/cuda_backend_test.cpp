// The CUDA backend against the CPU backend: the same results JSON within 1e-6 relative (L* and
// every other non-numeric field equal) on the demo models, single text and corpus, from the
// row statistics computed on the GPU; and a clean one-line error where no GPU can be used.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bentov/backend/device.h"
#include "bentov/error.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kRelTol = 1e-6;

// Every number within kRelTol of `scale` (its own magnitude unless given, at least 1e-6);
// everything else equal.
void expect_close(const json& got, const json& want, const std::string& at, double scale = 0.0) {
  if (want.is_number_float() || (want.is_number() && got.is_number_float())) {
    ASSERT_TRUE(got.is_number()) << at;
    const double g = got.get<double>(), w = want.get<double>();
    EXPECT_LE(std::fabs(g - w), kRelTol * std::max({std::fabs(w), scale, 1e-6}))
        << at << ": cuda " << g << ", cpu " << w;
  } else if (want.is_object()) {
    ASSERT_TRUE(got.is_object()) << at;
    ASSERT_EQ(got.size() + (want.contains("weight_widening") ? 1 : 0), want.size()) << at;
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (it.key() == "weight_widening") continue;  // the CPU's memory plan; a GPU run has none
      ASSERT_TRUE(got.contains(it.key())) << at << "." << it.key();
      // delta_bic = bic_line - bic_two_segment: a difference of two numbers each held to 1e-6,
      // so it is held to 1e-6 of their size.
      const double of = it.key() == "delta_bic" && want.contains("bic_line")
                            ? std::max(std::fabs(want["bic_line"].get<double>()),
                                       std::fabs(want["bic_two_segment"].get<double>()))
                            : 0.0;
      expect_close(got[it.key()], it.value(), at + "." + it.key(), of);
    }
  } else if (want.is_array()) {
    ASSERT_TRUE(got.is_array()) << at;
    ASSERT_EQ(got.size(), want.size()) << at;
    for (std::size_t i = 0; i < want.size(); ++i) expect_close(got[i], want[i], at + "[" + std::to_string(i) + "]");
  } else {
    EXPECT_EQ(got, want) << at;
  }
}

json analyze_json(const std::string& args, const std::string& device, const fs::path& out) {
  const auto r = bentov::testing::run_cli("analyze " + args + " --quiet --device " + device + " --json " + out.string());
  EXPECT_EQ(r.rc, 0) << r.err;
  return json::parse(bentov::testing::slurp_file(out));
}

void expect_same_results(const std::string& args, const std::string& name) {
  if (bentov::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU found";
  const fs::path dir = fs::temp_directory_path() / ("bentov-cuda-" + name + "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const json cpu = analyze_json(args, "cpu", dir / "cpu.json");
  const json gpu = analyze_json(args, "cuda", dir / "cuda.json");
  expect_close(gpu, cpu, name);
  fs::remove_all(dir);
}

TEST(CudaBackend, DemoModelsSingleTextMatchTheCpu) {
  expect_same_results("", "single");  // the three demo models on the notebook's sentence
}

TEST(CudaBackend, DemoModelsCorpusMatchesTheCpu) {
  const std::string corpus = std::string(BENTOV_TEST_DATA_DIR) + "/corpus/sentences.txt";
  expect_same_results("--corpus " + corpus + " --bootstrap 200 --seed 4", "corpus");
}

// No GPU (or a build without CUDA): the error line names it, before any model is loaded or any
// output file is started.
TEST(CudaBackend, NoGpuIsOneCleanError) {
  if (bentov::cuda_device_count() > 0) GTEST_SKIP() << "this machine has a GPU";
  const std::string models = BENTOV_SOURCE_MODELS_DIR;
  const fs::path out = fs::temp_directory_path() / ("bentov-nogpu-" + std::to_string(::getpid()) + ".safetensors");
  for (const std::string& cmd :
       {std::string("analyze --device cuda"), std::string("analyze --device cuda:1 --json ") + out.string(),
        "attention " + models + "/pythia-demo --device cuda --out " + out.string(),
        "sweep " + models + "/pythia-demo " + models + "/opt-demo --device cuda",
        "compare " + models + "/pythia-demo " + models + "/opt-demo --device cuda"}) {
    const auto r = bentov::testing::run_cli(cmd);
    EXPECT_EQ(r.rc, 3) << cmd << ": " << r.err;
    EXPECT_EQ(r.err.rfind("bentov: error: ", 0), 0u) << cmd << ": " << r.err;
    EXPECT_TRUE(r.err.find("CUDA") != std::string::npos) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("\nhint: "), std::string::npos) << cmd << ": " << r.err;
    EXPECT_EQ(r.out, "") << cmd;
    EXPECT_FALSE(fs::exists(out)) << cmd;
  }
}

// Under mpirun / srun each rank of a node takes the GPU of its local rank, modulo the GPUs.
TEST(CudaBackend, EachLocalRankTakesItsGpu) {
  const char* vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"};
  std::vector<std::optional<std::string>> saved;
  for (const char* v : vars) {
    const char* was = std::getenv(v);
    saved.push_back(was ? std::optional<std::string>(was) : std::nullopt);
    unsetenv(v);
  }
  EXPECT_EQ(bentov::gpu_of_local_rank(8), 0);
  setenv("SLURM_LOCALID", "5", 1);
  EXPECT_EQ(bentov::gpu_of_local_rank(8), 5);
  EXPECT_EQ(bentov::gpu_of_local_rank(1), 0);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "3", 1);  // Open MPI's comes first
  EXPECT_EQ(bentov::gpu_of_local_rank(8), 3);
  EXPECT_EQ(bentov::gpu_of_local_rank(2), 1);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "x", 1);  // not a number: the next one
  EXPECT_EQ(bentov::gpu_of_local_rank(8), 5);
  for (std::size_t i = 0; i < saved.size(); ++i) {
    if (saved[i]) {
      setenv(vars[i], saved[i]->c_str(), 1);
    } else {
      unsetenv(vars[i]);
    }
  }
}

TEST(CudaBackend, DeviceNamesAreParsed) {
  EXPECT_EQ(bentov::parse_device("cpu").name(), "cpu");
  EXPECT_EQ(bentov::parse_device("cuda").name(), "cuda");
  EXPECT_EQ(bentov::parse_device("cuda:3").name(), "cuda:3");
  EXPECT_EQ(bentov::parse_device("auto").name(), "auto");
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CPU", ""}) {
    EXPECT_THROW(bentov::parse_device(bad), bentov::Error) << bad;
  }
  const auto resolved = bentov::resolve_device(bentov::parse_device("auto"));
  EXPECT_EQ(resolved.is_cuda(), bentov::cuda_device_count() > 0);
}

}  // namespace
