// Paired shifts between two models over the same texts: pairing by line, the point estimates,
// the bootstrap intervals and the permutation test on cases whose answer is known.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "bentov/analysis/paired.h"
#include "bentov/error.h"

namespace bentov::analysis {
namespace {

// A text of `layers` layers whose locality rises with the layer (plus `noise`), L* where the
// rise is steepest (`jump`).
TextSignature text(int line, int layers, int jump, double offset, double noise, std::mt19937_64& rng,
                   std::optional<double> loss = std::nullopt) {
  std::normal_distribution<double> eps(0.0, noise);
  TextSignature t;
  t.line = line;
  t.n_tokens = 10;
  t.loss = loss;
  for (int l = 0; l < layers; ++l) {
    LayerSignature s;
    s.index = l;
    s.locality = 0.5 + 0.01 * l + (l >= jump ? 0.2 : 0.0) + offset + eps(rng);
    s.entropy = 2.0 + eps(rng);
    s.sheaf_trace = 10.0;
    s.sheaf_trace_per_token = 1.0;
    s.sink_mass = 0.3 + eps(rng);
    s.locality_no_sink = s.locality;
    s.entropy_no_sink = s.entropy;
    s.row_entropy_mean = 1.0;
    t.layers.push_back(s);
  }
  return t;
}

TEST(PairedShift, IdenticalModelsShiftNothing) {
  std::mt19937_64 rng(1);
  std::vector<TextSignature> a;
  for (int i = 0; i < 30; ++i) a.push_back(text(i + 1, 6, 3, 0.0, 0.02, rng, 3.0 + 0.1 * i));
  const PairedShift s = paired_shift(a, a, 200, 7);
  EXPECT_EQ(s.n_texts, 30);
  EXPECT_EQ(s.l_star.value, 0.0);
  EXPECT_EQ(s.l_star.p_value, 1.0);
  for (const auto& l : s.layers) {
    EXPECT_EQ(l.locality.value, 0.0);
    EXPECT_EQ(l.locality.lo, 0.0);
    EXPECT_EQ(l.locality.hi, 0.0);
    EXPECT_EQ(l.locality.p_value, 1.0);
  }
  ASSERT_TRUE(s.loss.has_value());
  EXPECT_EQ(s.loss->value, 0.0);
}

TEST(PairedShift, AConstantShiftIsFoundAndSignificant) {
  std::mt19937_64 rng(2);
  std::vector<TextSignature> a, b;
  for (int i = 0; i < 40; ++i) {
    a.push_back(text(i + 1, 6, 2, 0.0, 0.05, rng, 4.0));
    TextSignature t = a.back();
    for (auto& l : t.layers) l.locality += 0.03;  // the same texts, every layer 0.03 more local
    t.loss = 3.5;
    b.push_back(t);
  }
  const PairedShift s = paired_shift(a, b, 500, 11);
  for (const auto& l : s.layers) {
    EXPECT_NEAR(l.locality.value, 0.03, 1e-12);
    EXPECT_NEAR(l.locality.lo, 0.03, 1e-12);  // paired: the text-to-text noise cancels exactly
    EXPECT_NEAR(l.locality.hi, 0.03, 1e-12);
    EXPECT_TRUE(l.locality.excludes_zero());
    EXPECT_LE(l.locality.p_value, 2.0 / 501.0);  // only the all-same-sign swaps reach |T|
    EXPECT_EQ(l.entropy.value, 0.0);
  }
  EXPECT_EQ(s.l_star.value, 0.0);  // a uniform shift does not move the steepest step
  ASSERT_TRUE(s.loss.has_value());
  EXPECT_NEAR(s.loss->value, -0.5, 1e-12);
  EXPECT_TRUE(s.loss->excludes_zero());
}

TEST(PairedShift, AMovedJumpShiftsLStar) {
  std::mt19937_64 rng(3);
  std::vector<TextSignature> a, b;
  for (int i = 0; i < 25; ++i) {
    a.push_back(text(i + 1, 8, 2, 0.0, 0.01, rng));
    b.push_back(text(i + 1, 8, 5, 0.0, 0.01, rng));
  }
  for (auto& t : a) t.l_star = 1;
  for (auto& t : b) t.l_star = 4;
  const PairedShift s = paired_shift(a, b, 300, 5);
  // Steps at 2 and 5: np.gradient ties the two layers around a step, noise picks one.
  EXPECT_GE(s.l_star.value, 2.0);
  EXPECT_LE(s.l_star.value, 4.0);
  EXPECT_GE(s.l_star.lo, 2.0);
  EXPECT_LT(s.l_star.p_value, 0.05);
  EXPECT_EQ(s.l_star_per_text.value, 3.0);
  EXPECT_LE(s.l_star_per_text.p_value, 2.0 / 301.0);
  EXPECT_FALSE(s.loss.has_value());
}

TEST(PairedShift, PairsByLineAndDropsUnmatchedTexts) {
  std::mt19937_64 rng(4);
  std::vector<TextSignature> a, b;
  for (int i = 1; i <= 10; ++i) a.push_back(text(i, 4, 2, 0.0, 0.02, rng));
  for (int i = 10; i >= 3; --i) {  // other order, lines 1 and 2 missing
    TextSignature t = a[static_cast<std::size_t>(i - 1)];
    for (auto& l : t.layers) l.entropy += 0.5;
    b.push_back(t);
  }
  const PairedShift s = paired_shift(a, b, 100, 1);
  EXPECT_EQ(s.n_texts, 8);
  for (const auto& l : s.layers) EXPECT_NEAR(l.entropy.value, 0.5, 1e-12);
}

TEST(PairedShift, SameSeedSameAnswer) {
  std::mt19937_64 rng(5);
  std::vector<TextSignature> a, b;
  for (int i = 0; i < 20; ++i) a.push_back(text(i + 1, 5, 2, 0.0, 0.05, rng)), b.push_back(text(i + 1, 5, 3, 0.0, 0.05, rng));
  const PairedShift x = paired_shift(a, b, 200, 9), y = paired_shift(a, b, 200, 9);
  for (std::size_t l = 0; l < x.layers.size(); ++l) {
    EXPECT_EQ(x.layers[l].locality.lo, y.layers[l].locality.lo);
    EXPECT_EQ(x.layers[l].locality.p_value, y.layers[l].locality.p_value);
  }
}

TEST(PairedShift, RefusesDisjointOrMismatchedModels) {
  std::mt19937_64 rng(6);
  std::vector<TextSignature> a{text(1, 4, 2, 0, 0.01, rng)}, b{text(2, 4, 2, 0, 0.01, rng)},
      c{text(1, 5, 2, 0, 0.01, rng)};
  EXPECT_THROW(paired_shift(a, b, 10, 0), Error);
  EXPECT_THROW(paired_shift(a, c, 10, 0), Error);
}

TEST(RankCorrelation, MonotoneCheckpointsGiveRhoOne) {
  std::mt19937_64 rng(7);
  std::vector<std::vector<TextSignature>> cps;
  for (int k = 0; k < 4; ++k) {  // L* moves up as the loss goes up
    std::vector<TextSignature> texts;
    for (int i = 0; i < 15; ++i) texts.push_back(text(i + 1, 8, 1 + 2 * k, 0.0, 0.005, rng, 2.0 + k));
    cps.push_back(texts);
  }
  const auto rc = l_star_loss_correlation(cps, 200, 3);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(rc->n_checkpoints, 4);
  EXPECT_EQ(rc->n_texts, 15);
  EXPECT_DOUBLE_EQ(rc->rho, 1.0);
  EXPECT_LE(rc->lo, 1.0);
  EXPECT_EQ(rc->hi, 1.0);
  cps.pop_back();
  cps.pop_back();
  EXPECT_FALSE(l_star_loss_correlation(cps, 10, 0).has_value());  // two checkpoints: no correlation
}

}  // namespace
}  // namespace bentov::analysis
