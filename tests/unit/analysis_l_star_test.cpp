// L* estimators with numpy semantics (DESIGN.md section 4): np.gradient against values
// worked by hand (and printed by numpy), argmax ties and extremes at the ends.
#include "bentov/analysis/l_star.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "bentov/error.h"

namespace {

using namespace bentov::analysis;

// np.gradient([1, 4, 9, 16]) = [4-1, (9-1)/2, (16-4)/2, 16-9] = [3, 4, 6, 7].
TEST(AnalysisLStar, NumpyGradientHandValues) {
  const std::vector<double> y = {1, 4, 9, 16};
  EXPECT_EQ(numpy_gradient(y), (std::vector<double>{3, 4, 6, 7}));
  // Two points: both ends one-sided, the same slope: np.gradient([2, 5]) = [3, 3].
  EXPECT_EQ(numpy_gradient(std::vector<double>{2, 5}), (std::vector<double>{3, 3}));
  // np.gradient([0.9, 0.8, 0.5, 0.45, 0.44]) = [-0.1, -0.2, -0.175, -0.03, -0.01]
  const auto g = numpy_gradient(std::vector<double>{0.9, 0.8, 0.5, 0.45, 0.44});
  const std::vector<double> want = {-0.1, -0.2, -0.175, -0.03, -0.01};
  ASSERT_EQ(g.size(), want.size());
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], 1e-15) << i;
  // Bit-identical to numpy's operation order: (f[2:] - f[:-2]) / 2.0.
  EXPECT_EQ(g[2], (0.45 - 0.8) / 2.0);
}

// numpy raises for a single sample; here a constant has slope 0.
TEST(AnalysisLStar, NumpyGradientDegenerate) {
  EXPECT_EQ(numpy_gradient(std::vector<double>{7.0}), (std::vector<double>{0.0}));
  EXPECT_TRUE(numpy_gradient(std::vector<double>{}).empty());
}

TEST(AnalysisLStar, Theoretical) {
  EXPECT_EQ(l_star_theoretical(12), 6);
  EXPECT_EQ(l_star_theoretical(13), 6);  // floor division, like n_layers // 2
  EXPECT_EQ(l_star_theoretical(24), 12);
  EXPECT_EQ(l_star_theoretical(1), 0);
  EXPECT_EQ(l_star_theoretical(0), 0);
}

// |gradient| of [0.9, 0.9, 0.5, 0.1, 0.1] = [0, 0.2, 0.4, 0.2, 0]: the steepest drop at 2.
TEST(AnalysisLStar, EmpiricalPicksTheSteepestChange) {
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0.9, 0.9, 0.5, 0.1, 0.1}), 2);
  // A rise counts like a fall (absolute value): [0.1, 0.1, 0.2, 0.8, 0.8] -> |g| =
  // [0, 0.05, 0.35, 0.3, 0] -> 2.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0.1, 0.1, 0.2, 0.8, 0.8}), 2);
}

// Ties: the first index wins, as np.argmax does.
TEST(AnalysisLStar, EmpiricalTiesGoToTheFirstIndex) {
  // A straight line: every |g| = 1 -> 0.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0, 1, 2, 3}), 0);
  // [1, 0, 1, 0]: g = [-1, 0, 0, -1] -> |g| ties at 0 and 3 -> 0.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{1, 0, 1, 0}), 0);
  // [0, 0, 2, 2, 4, 4]: g = [0, 1, 1, 1, 1, 0] -> ties at 1..4 -> 1.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0, 0, 2, 2, 4, 4}), 1);
  // Constant: all zeros -> 0.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0.5, 0.5, 0.5}), 0);
}

// The one-sided differences at the ends weigh a jump fully (the centre halves it), so an
// extreme at either end wins.
TEST(AnalysisLStar, EmpiricalExtremesAtTheEnds) {
  // [1, 1, 1, 0]: g = [0, 0, -0.5, -1] -> 3 (the last layer).
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{1, 1, 1, 0}), 3);
  // [0, 1, 1, 1]: g = [1, 0.5, 0, 0] -> 0 (the first layer).
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0, 1, 1, 1}), 0);
  // Two layers: g = [d, d] -> 0.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0.8, 0.3}), 0);
}

TEST(AnalysisLStar, EmpiricalDegenerate) {
  // One layer: numpy would raise; the only layer is L* = 0.
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{0.7}), 0);
  // A NaN is np.argmax's maximum: the first NaN gradient wins. [1, NaN, 0.5, 0.4]:
  // g = [NaN, -0.25, NaN, -0.1] -> 0; [1, 0.9, 0.8, 0.7, NaN]: g[3] = NaN -> 3.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{1, nan, 0.5, 0.4}), 0);
  EXPECT_EQ(l_star_argmax_gradient(std::vector<double>{1, 0.9, 0.8, 0.7, nan}), 3);
  try {
    l_star_argmax_gradient(std::vector<double>{});
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kInput);
  }
}

TEST(AnalysisLStar, DeviationAndMean) {
  EXPECT_EQ(l_star_deviation(3, 6), 3);
  EXPECT_EQ(l_star_deviation(9, 6), 3);
  EXPECT_EQ(l_star_deviation(6, 6), 0);
  EXPECT_FALSE(mean_deviation(std::vector<int>{}).has_value());
  EXPECT_DOUBLE_EQ(*mean_deviation(std::vector<int>{3, 0, 1, 2}), 1.5);
  EXPECT_DOUBLE_EQ(*mean_deviation(std::vector<int>{4}), 4.0);
}

}  // namespace
