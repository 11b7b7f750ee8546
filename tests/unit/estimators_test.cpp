// L* estimators on crafted series (exact answers by construction) and on synthetic attention
// stacks streamed through the SignatureObserver, with a transition planted at a known layer.
#include "bentov/analysis/estimators.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bentov/analysis/l_star.h"
#include "bentov/metrics/signature_observer.h"

namespace {

using namespace bentov::analysis;

// ---- crafted series ----------------------------------------------------------------------

TEST(Estimators, TwoSegmentFindsAnExactBreak) {
  // Flat at 0.9 up to layer 3, then down 0.1 per layer: y = 0.9 - 0.1 (x - 3)_+.
  std::vector<double> y;
  for (int l = 0; l < 8; ++l) y.push_back(0.9 - 0.1 * std::max(0, l - 3));
  const auto fit = two_segment_fit(y);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->break_layer, 3);
  EXPECT_TRUE(fit->supported);
  EXPECT_GT(fit->delta_bic, 10.0);
  EXPECT_NEAR(fit->rss_two_segment, 0.0, 1e-25);
  EXPECT_NEAR(fit->slope_before, 0.0, 1e-12);
  EXPECT_NEAR(fit->slope_after, -0.1, 1e-12);
}

TEST(Estimators, TwoSegmentFindsABreakUnderNoise) {
  // The same knee at layer 5 of 12, plus a fixed +-0.004 wiggle. The knee layer belongs to
  // both regimes, so the noise may put the break at 5 or 6.
  std::vector<double> y;
  for (int l = 0; l < 12; ++l) y.push_back(0.8 - 0.06 * std::max(0, l - 5) + 0.004 * std::sin(2.1 * l));
  const auto fit = two_segment_fit(y);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->break_layer, 5, 1);
  EXPECT_TRUE(fit->supported);
}

TEST(Estimators, BicRejectsTheBreakOfAStraightLine) {
  std::vector<double> line, wiggly, constant;
  for (int l = 0; l < 12; ++l) {
    line.push_back(0.9 - 0.05 * l);
    wiggly.push_back(0.9 - 0.05 * l + 0.002 * std::sin(2.1 * l));  // noise, no knee
    constant.push_back(0.7);
  }
  for (const auto* y : {&line, &wiggly, &constant}) {
    const auto fit = two_segment_fit(*y);
    ASSERT_TRUE(fit.has_value());
    EXPECT_FALSE(fit->supported) << "delta_bic " << fit->delta_bic;
    EXPECT_LT(fit->delta_bic, 0.0);
  }
}

TEST(Estimators, TwoSegmentFindsAStep) {
  // 0.8 on layers 0..5, 0.4 from layer 6: the second regime starts at 6.
  std::vector<double> y;
  for (int l = 0; l < 10; ++l) y.push_back(l < 6 ? 0.8 : 0.4);
  const auto fit = two_segment_fit(y);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->break_layer, 6);
  EXPECT_TRUE(fit->supported);
  EXPECT_NEAR(fit->slope_before, 0.0, 1e-12);
  EXPECT_NEAR(fit->slope_after, 0.0, 1e-12);
}

TEST(Estimators, TwoSegmentNeedsFiveFiniteLayers) {
  EXPECT_FALSE(two_segment_fit(std::vector<double>{1, 2, 3, 4}).has_value());
  EXPECT_FALSE(two_segment_fit(std::vector<double>{1, 2, NAN, 4, 5}).has_value());
}

TEST(Estimators, TraceSignChange) {
  EXPECT_EQ(trace_sign_change(std::vector<double>{1, 2, 3, 2, 1}), 2);
  EXPECT_EQ(trace_sign_change(std::vector<double>{5, 1, 2, 4, 3}), 3);     // first rise, then the peak
  EXPECT_EQ(trace_sign_change(std::vector<double>{1, 2, 2, 2, 1}), 1);     // flat top: its first layer
  EXPECT_EQ(trace_sign_change(std::vector<double>{1, 3, 2, 4, 1}), 1);     // the first of two peaks
  EXPECT_EQ(trace_sign_change(std::vector<double>{1, 2, 2, 3, 4}), std::nullopt);  // never falls
  EXPECT_EQ(trace_sign_change(std::vector<double>{4, 3, 2, 3, 4}), std::nullopt);  // a valley: - to +
  EXPECT_EQ(trace_sign_change(std::vector<double>{1, 2}), std::nullopt);
  EXPECT_EQ(trace_sign_change(std::vector<double>{1, NAN, 1}), std::nullopt);
}

TEST(Estimators, ConsensusAgreesWithinOneLayer) {
  // locality changes fastest at 4; entropy at 4; the trace peaks at 6.
  const std::vector<double> loc = {0.9, 0.9, 0.9, 0.88, 0.6, 0.3, 0.3, 0.3};
  const std::vector<double> ent = {1, 1, 1, 1.1, 2, 3, 3, 3};
  const std::vector<double> tr = {1, 2, 3, 4, 5, 6, 7, 4};
  const Consensus c = consensus(loc, ent, tr);
  EXPECT_EQ(c.locality, 4);
  EXPECT_EQ(c.entropy, 4);
  EXPECT_EQ(c.trace, 6);
  EXPECT_EQ(c.n_estimates, 3);
  EXPECT_EQ(c.layer, 4);
  EXPECT_EQ(c.spread, 2);
  EXPECT_FALSE(c.agree);
  const std::vector<double> tr5 = {1, 2, 3, 4, 5, 4, 3, 2};
  const Consensus d = consensus(loc, ent, tr5);
  EXPECT_EQ(d.trace, 4);
  EXPECT_TRUE(d.agree);
  EXPECT_EQ(d.spread, 0);
}

TEST(Estimators, ConsensusWithoutTraceUsesTwo) {
  const std::vector<double> loc = {0.9, 0.9, 0.5, 0.5, 0.5};  // gradient max at 1 (first of ties)
  const std::vector<double> ent = {1, 1, 1, 1, 3};            // at 4
  const std::vector<double> tr = {1, 2, 3, 4, 5};             // never falls
  const Consensus c = consensus(loc, ent, tr);
  EXPECT_EQ(c.n_estimates, 2);
  EXPECT_FALSE(c.trace.has_value());
  EXPECT_EQ(c.layer, 1);  // the lower middle of {1, 4}
  EXPECT_EQ(c.spread, 3);
  EXPECT_FALSE(c.agree);
}

// ---- synthetic attention stacks -----------------------------------------------------------

// Layer attention (every head alike): (1 - w) * local + w * uniform causal, where local puts
// 0.9 on the token itself and 0.1 on the previous one. Locality is linear in A (sum A = n
// for any row-stochastic A), so it is linear in w; entropy grows with w.
std::vector<float> mixture(int n, double w) {
  std::vector<float> a(static_cast<std::size_t>(n * n), 0.0f);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      double local = i == 0 ? 1.0 : j == i ? 0.9 : j == i - 1 ? 0.1 : 0.0;
      a[static_cast<std::size_t>(i * n + j)] = static_cast<float>((1 - w) * local + w / (i + 1));
    }
  }
  return a;
}

struct Profiles {
  std::vector<double> locality, entropy, trace;
};

Profiles run_stack(const std::vector<double>& w, const std::vector<double>& frob, int n = 24) {
  const int L = static_cast<int>(w.size()), H = 3;
  bentov::metrics::SignatureObserver obs(frob);
  obs.on_sequence(L, H, n);
  for (int l = 0; l < L; ++l) {
    const auto a = mixture(n, w[static_cast<std::size_t>(l)]);
    for (int h = 0; h < H; ++h) obs.on_attention(l, h, a.data(), n);
    obs.on_layer_end(l);
  }
  Profiles p;
  for (const auto& s : obs.take_layers()) {
    p.locality.push_back(s.locality);
    p.entropy.push_back(s.entropy);
    p.trace.push_back(s.sheaf_trace_per_token);
  }
  return p;
}

TEST(EstimatorsStack, PlantedStepIsRecoveredByEveryEstimator) {
  // Local up to layer 4, half-way at layer 5, global from layer 6 on: the transition is
  // layer k = 5. W_V shrinks after k, so the trace (off-diagonal mass x ||W_V||^2) rises to
  // k and falls after it.
  const int k = 5;
  std::vector<double> w, frob;
  for (int l = 0; l < 10; ++l) {
    w.push_back(l < k ? 0.0 : l == k ? 0.5 : 1.0);
    frob.push_back(l <= k ? 1.0 : 0.3);
  }
  const Profiles p = run_stack(w, frob);
  const Estimators e = estimate_all(p.locality, p.entropy, p.trace);
  EXPECT_EQ(e.argmax_gradient, k);
  EXPECT_EQ(e.trace_sign_change, k);
  EXPECT_EQ(e.consensus.locality, k);
  EXPECT_EQ(e.consensus.entropy, k);
  EXPECT_EQ(e.consensus.layer, k);
  EXPECT_TRUE(e.consensus.agree);
  ASSERT_TRUE(e.two_segment.has_value());
  EXPECT_TRUE(e.two_segment->supported);
  EXPECT_EQ(e.two_segment->break_layer, k);
}

TEST(EstimatorsStack, PlantedKneeIsRecoveredByTheTwoSegmentFit) {
  // Local up to layer k = 3, then more global by the same step every layer: locality is a
  // hinge at k, which the two-segment fit finds exactly; the notebook's rule lands on the
  // first layer of full slope (k + 1), one layer off.
  const int k = 3;
  std::vector<double> w, frob(12, 1.0);
  for (int l = 0; l < 12; ++l) w.push_back(l <= k ? 0.0 : (l - k) / 8.0);
  const Profiles p = run_stack(w, frob);
  const auto fit = two_segment_fit(p.locality);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->break_layer, k);
  EXPECT_TRUE(fit->supported);
  EXPECT_LT(fit->slope_after, 0.0);
  EXPECT_NEAR(fit->slope_before, 0.0, 1e-6);
  // The notebook's rule sees the same slope at every layer after k + 1 (a tie broken by
  // float rounding): it cannot name the onset.
  EXPECT_GT(l_star_argmax_gradient(p.locality), k);
}

TEST(EstimatorsStack, NoTransitionNoSupportedBreak) {
  // The same mixture at every layer, and a steady drift: no break is supported.
  std::vector<double> flat(10, 0.4), drift, frob(10, 1.0);
  for (int l = 0; l < 10; ++l) drift.push_back(l / 9.0);
  for (const auto& w : {flat, drift}) {
    const Profiles p = run_stack(w, frob);
    const auto fit = two_segment_fit(p.locality);
    ASSERT_TRUE(fit.has_value());
    EXPECT_FALSE(fit->supported) << "delta_bic " << fit->delta_bic;
  }
  // A flat trace never turns from + to -.
  const Profiles p = run_stack(flat, frob);
  EXPECT_FALSE(trace_sign_change(p.trace).has_value());
}

}  // namespace
