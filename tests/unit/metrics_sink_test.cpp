// Sink-aware metrics on hand-worked toy matrices; the derivation of each number is in the
// comment above it (attention_metrics.h gives the definitions).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bentov/metrics/attention_metrics.h"
#include "bentov/metrics/signature_observer.h"

namespace {

using namespace bentov::metrics;

// A = [[1,   0,   0  ],
//      [0.5, 0.5, 0  ],
//      [0.2, 0.3, 0.5]]
const std::vector<double> kToy = {1.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.2, 0.3, 0.5};

TEST(MetricsSink, SinkMassIsTheMeanOfColumnZero) {
  // (1 + 0.5 + 0.2) / 3
  EXPECT_NEAR(sink_mass(kToy.data(), 3), 1.7 / 3.0, 1e-15);
}

TEST(MetricsSink, LocalityWithoutSink) {
  // B = rows 1..2, columns 1..2, rows renormalized:
  //   row 1: [0.5, 0] / 0.5 = [1, 0]          distances |1-1| = 0, |1-2| = 1
  //   row 2: [0.3, 0.5] / 0.8 = [0.375, 0.625]  distances |2-1| = 1, |2-2| = 0
  // sum B|i-j| = 0.375, sum B = 2 rows, farthest distance n - 2 = 1:
  //   1 - (0.375 / 2) / 1 = 0.8125
  EXPECT_NEAR(locality_no_sink(kToy.data(), 3), 0.8125, 1e-15);
}

TEST(MetricsSink, EntropyWithoutSink) {
  // Entries of B above 1e-10: 1, 0.375, 0.625, total 2 -> p = 0.5, 0.1875, 0.3125.
  const double want = -(0.5 * std::log(0.5 + 1e-10) + 0.1875 * std::log(0.1875 + 1e-10) +
                        0.3125 * std::log(0.3125 + 1e-10));
  EXPECT_NEAR(entropy_no_sink(kToy.data(), 3), want, 1e-14);
}

TEST(MetricsSink, RowEntropyMean) {
  // Row 0: one entry, entropy ~0 (-1 * log(1 + 1e-10)). Row 1: two halves, ln 2.
  // Row 2: -(0.2 ln 0.2 + 0.3 ln 0.3 + 0.5 ln 0.5). Mean over the 3 rows.
  auto h = [](double p) { return -p * std::log(p + 1e-10); };
  const double want = (h(1.0) + 2 * h(0.5) + h(0.2) + h(0.3) + h(0.5)) / 3.0;
  EXPECT_NEAR(row_entropy_mean(kToy.data(), 3), want, 1e-14);
}

TEST(MetricsSink, IdentityHasNoSink) {
  // Every token attends to itself: only row 0 touches column 0 -> sink mass 1/n. Without the
  // sink B is the 3x3 identity: locality 1, flattened entropy ln 3 (three equal entries),
  // each row's entropy 0.
  const int n = 4;
  std::vector<double> a(n * n, 0.0);
  for (int i = 0; i < n; ++i) a[i * n + i] = 1.0;
  EXPECT_NEAR(sink_mass(a.data(), n), 0.25, 1e-15);
  EXPECT_NEAR(locality_no_sink(a.data(), n), 1.0, 1e-15);
  EXPECT_NEAR(entropy_no_sink(a.data(), n), std::log(3.0), 1e-9);
  EXPECT_NEAR(row_entropy_mean(a.data(), n), 0.0, 1e-9);
}

TEST(MetricsSink, AllOnTheSinkLeavesNothing) {
  // Every row puts everything on token 0: the notebook's locality says "global"
  // (1 - mean distance / (n - 1) = 1 - (0+1+2+3)/4/3 = 0.5), but the sink mass is 1 and no
  // row has any mass left once column 0 is removed: locality_no_sink is undefined (NaN)
  // and the entropy of nothing is 0.
  const int n = 4;
  std::vector<double> a(n * n, 0.0);
  for (int i = 0; i < n; ++i) a[i * n] = 1.0;
  EXPECT_NEAR(attention_locality(a.data(), n), 0.5, 1e-15);
  EXPECT_NEAR(sink_mass(a.data(), n), 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(locality_no_sink(a.data(), n)));
  EXPECT_EQ(entropy_no_sink(a.data(), n), 0.0);
}

TEST(MetricsSink, TwoTokensHaveNoSinkFreeDistance) {
  // n = 2: B is the single entry of row 1, column 1: no distance to measure.
  const std::vector<double> a = {1.0, 0.0, 0.4, 0.6};
  EXPECT_TRUE(std::isnan(locality_no_sink(a.data(), 2)));
  EXPECT_NEAR(entropy_no_sink(a.data(), 2), 0.0, 1e-9);
  EXPECT_NEAR(sink_mass(a.data(), 2), 0.7, 1e-15);
}

TEST(MetricsSink, FloatAndDoubleAgree) {
  std::vector<float> f(kToy.begin(), kToy.end());
  EXPECT_NEAR(sink_mass(f.data(), 3), sink_mass(kToy.data(), 3), 1e-7);
  EXPECT_NEAR(locality_no_sink(f.data(), 3), locality_no_sink(kToy.data(), 3), 1e-7);
  EXPECT_NEAR(entropy_no_sink(f.data(), 3), entropy_no_sink(kToy.data(), 3), 1e-6);
  EXPECT_NEAR(row_entropy_mean(f.data(), 3), row_entropy_mean(kToy.data(), 3), 1e-6);
}

TEST(MetricsSink, ObserverFillsTheSinkFieldsOfTheHeadAverage) {
  // Two heads whose average is kToy: head 0 = kToy + D, head 1 = kToy - D (D keeps rows
  // summing to 1 and entries in [0, 1]).
  const std::vector<double> d = {0, 0, 0, 0.1, -0.1, 0, -0.1, 0.1, 0};
  std::vector<float> h0(9), h1(9);
  for (int i = 0; i < 9; ++i) {
    h0[i] = static_cast<float>(kToy[i] + d[i]);
    h1[i] = static_cast<float>(kToy[i] - d[i]);
  }
  SignatureObserver obs({2.0});
  obs.on_sequence(1, 2, 3);
  obs.on_attention(0, 0, h0.data(), 3);
  obs.on_attention(0, 1, h1.data(), 3);
  obs.on_layer_end(0);
  const auto layers = obs.take_layers();
  ASSERT_EQ(layers.size(), 1u);
  const auto& l = layers[0];
  EXPECT_NEAR(l.sink_mass, 1.7 / 3.0, 1e-7);
  EXPECT_NEAR(l.locality_no_sink, 0.8125, 1e-7);
  EXPECT_NEAR(l.entropy_no_sink, entropy_no_sink(kToy.data(), 3), 1e-6);
  EXPECT_NEAR(l.row_entropy_mean, row_entropy_mean(kToy.data(), 3), 1e-6);
  EXPECT_NEAR(l.sheaf_trace_per_token, l.sheaf_trace / 3.0, 1e-15);
  // sum A - trace A = 3 - (1 + 0.5 + 0.5) = 1, times ||W_V||^2 = 2, per token: 2/3.
  EXPECT_NEAR(l.sheaf_trace_per_token, 2.0 / 3.0, 1e-7);
}

}  // namespace
