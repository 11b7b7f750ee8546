// The OpenBLAS kernel check of blas_kernels.h: the rule, and the CLI's re-execution end to end.
#include <gtest/gtest.h>

#include <strings.h>

#include <cstdlib>
#include <string>

#include "bentov/ops/bf16_gemm.h"
#include "bentov/ops/blas_kernels.h"
#include "support/cli.h"

using bentov::ops::blas_core_is_weaker;

TEST(BlasKernels, PreAvx2CoresAreWeakOnAvx2Machines) {
  EXPECT_TRUE(blas_core_is_weaker("Prescott", "SkylakeX"));
  EXPECT_TRUE(blas_core_is_weaker("Nehalem", "Haswell"));
  EXPECT_TRUE(blas_core_is_weaker("Sandybridge", "Haswell"));
  EXPECT_TRUE(blas_core_is_weaker("", "Haswell"));
}

TEST(BlasKernels, AvxTwoOrWiderCoresAreKept) {
  EXPECT_FALSE(blas_core_is_weaker("Haswell", "SkylakeX"));  // a fair choice is never overridden
  EXPECT_FALSE(blas_core_is_weaker("Zen", "SkylakeX"));
  EXPECT_FALSE(blas_core_is_weaker("SkylakeX", "SkylakeX"));
  EXPECT_FALSE(blas_core_is_weaker("Prescott", ""));  // the CPU has nothing better
}

namespace {

std::string reported_core(const bentov::testing::CliResult& r) {
  const auto at = r.out.find("OpenBLAS kernels: ");
  if (at == std::string::npos) return "";
  const auto start = at + std::string("OpenBLAS kernels: ").size();
  return r.out.substr(start, r.out.find_first_of(",)", start) - start);
}

}  // namespace

// Whatever this machine's CPU and OpenBLAS build, the CLI ends up on kernels no weaker than the
// CPU runs: OpenBLAS's own choice when it knows the CPU, the re-executed OPENBLAS_CORETYPE when not.
// When the environment already names a core type (CI runs the suite once per core type), that
// choice is the user's and is kept instead.
TEST(BlasKernels, CliRunsOnKernelsTheCpuDeserves) {
  const auto r = bentov::testing::run_cli("--version");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string core = reported_core(r);
  ASSERT_FALSE(core.empty()) << r.out;
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE"); forced && *forced) {
    EXPECT_EQ(strcasecmp(core.c_str(), forced), 0) << "OPENBLAS_CORETYPE=" << forced << ": " << r.out;
  } else {
    EXPECT_FALSE(blas_core_is_weaker(core, bentov::ops::preferred_blas_core())) << core;
  }
}

// --version says how this build and CPU run --dtype bf16's products, as the library finds it.
TEST(BlasKernels, VersionNamesTheBf16Products) {
  const auto r = bentov::testing::run_cli("--version");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("bf16 products: " + bentov::ops::bf16_products_isa() + ")"), std::string::npos) << r.out;
}

// --dtype bf16 on the CPU says when this CPU's bf16 products are no faster than float32, once,
// and --quiet silences it.
TEST(BlasKernels, Bf16OnASlowCpuSaysSo) {
  if (!bentov::ops::bf16_products_compiled()) GTEST_SKIP() << "built without oneDNN";
  const std::string model = bentov::testing::fixture("pythia-hub");
  const auto loud = bentov::testing::run_cli("analyze " + model + " --ids 1,2,3 --dtype bf16");
  const auto quiet = bentov::testing::run_cli("analyze " + model + " --ids 1,2,3 --dtype bf16 --quiet");
  ASSERT_EQ(loud.rc, 0) << loud.err;
  ASSERT_EQ(quiet.rc, 0) << quiet.err;
  const std::string note = bentov::ops::bf16_products_speed_note();
  EXPECT_EQ(loud.err.find("bentov: note: " + note + "\n") != std::string::npos, !note.empty()) << loud.err;
  EXPECT_EQ(quiet.err.find("note:"), std::string::npos) << quiet.err;
}

// The variable the re-execution relies on is honoured by this OpenBLAS, and a user's own
// OPENBLAS_CORETYPE is never overridden.
TEST(BlasKernels, UsersCoretypeIsHonoured) {
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::string previous = before ? before : "";
  ASSERT_EQ(setenv("OPENBLAS_CORETYPE", "Prescott", 1), 0);
  const auto r = bentov::testing::run_cli("--version");
  if (before) {
    setenv("OPENBLAS_CORETYPE", previous.c_str(), 1);
  } else {
    unsetenv("OPENBLAS_CORETYPE");
  }
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(reported_core(r), "Prescott") << r.out;
}
