// The bootstrap: a specified, portable index draw; numpy's percentiles; corpus summaries that
// are reproducible for a seed and whose intervals contain their estimates.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "bentov/analysis/bootstrap.h"
#include "bentov/analysis/corpus_stats.h"
#include "bentov/analysis/l_star.h"

namespace {

using namespace bentov::analysis;

TEST(Bootstrap, IndexSamplerIsRejectionOverMt19937_64) {
  // The definition, spelled out: accept x >= 2^64 mod n, return x mod n.
  std::mt19937_64 engine(42);
  IndexSampler sampler(42);
  const std::uint64_t n = 7;
  const std::uint64_t threshold = (0 - n) % n;
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t x = engine();
    while (x < threshold) x = engine();
    EXPECT_EQ(sampler.next(n), x % n);
  }
}

TEST(Bootstrap, IndexSamplerFirstDrawsArePinned) {
  // std::mt19937_64 is specified by the standard (its 10000th output from the default seed
  // is 9981545732273789042); these values, with n = 10 (threshold 6), hold on any platform.
  std::mt19937_64 check;
  check.discard(9999);
  ASSERT_EQ(check(), 9981545732273789042ull);
  IndexSampler s(0);
  std::mt19937_64 e(0);
  std::vector<std::uint64_t> want;
  for (int i = 0; i < 5; ++i) want.push_back(e() % 10);  // no rejection below 6 in 5 draws
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.next(10), want[static_cast<std::size_t>(i)]);
}

TEST(Bootstrap, IndexSamplerIsUniform) {
  IndexSampler s(1);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i) counts[s.next(5)]++;
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);  // ~4.5 standard deviations
}

TEST(Bootstrap, PercentilesAreNumpys) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_linear(v, 25), 1.75);    // np.percentile([1,2,3,4], 25)
  EXPECT_DOUBLE_EQ(percentile_linear(v, 97.5), 3.925);
  EXPECT_DOUBLE_EQ(percentile_linear(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile_linear(v, 100), 4);
  const std::vector<int> k = {0, 1, 2, 3, 4};
  EXPECT_EQ(percentile_lower(k, 2.5), 0);   // position 0.1
  EXPECT_EQ(percentile_upper(k, 97.5), 4);  // position 3.9
  EXPECT_EQ(percentile_upper(k, 50), 2);
}

TEST(Bootstrap, PValue) {
  EXPECT_DOUBLE_EQ(bootstrap_p_value(std::vector<double>(99, 0.2), 0.5), 2.0 / 100.0);
  EXPECT_DOUBLE_EQ(bootstrap_p_value(std::vector<double>(99, 0.5), 0.5), 1.0);
  EXPECT_DOUBLE_EQ(bootstrap_p_value(std::vector<double>{}, 0.5), 1.0);
}

// Texts whose locality falls from 0.9 to 0.3 at a text-dependent layer, with noise.
std::vector<TextSignature> fake_texts(int n_texts, int L, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.03);
  std::vector<TextSignature> out;
  for (int t = 0; t < n_texts; ++t) {
    TextSignature ts;
    ts.line = t + 1;
    ts.n_tokens = 10 + t % 7;
    const double mid = 3.0 + (t % 3);
    for (int l = 0; l < L; ++l) {
      LayerSignature s;
      s.index = l;
      s.locality = 0.9 - 0.6 / (1.0 + std::exp(-(l - mid) * 2.0)) + noise(rng);
      s.entropy = 2.0 + 0.1 * l + noise(rng);
      s.sheaf_trace = 10.0 + l + noise(rng);
      s.sheaf_trace_per_token = s.sheaf_trace / ts.n_tokens;
      s.sink_mass = 0.2 + 0.02 * l + noise(rng);
      s.locality_no_sink = t == 0 ? NAN : s.locality + 0.05;  // one text without the value
      s.entropy_no_sink = s.entropy - 0.1;
      s.row_entropy_mean = 1.0 + noise(rng);
      s.heads = {{s.locality, s.entropy}, {s.locality - 0.1, s.entropy + 0.1}};
      ts.layers.push_back(s);
    }
    std::vector<double> loc;
    for (const auto& s : ts.layers) loc.push_back(s.locality);
    ts.l_star = l_star_argmax_gradient(loc);
    out.push_back(std::move(ts));
  }
  return out;
}

TEST(CorpusStats, SameSeedSameSummaryOtherSeedOtherIntervals) {
  const auto texts = fake_texts(40, 8, 3);
  const auto a = summarize_corpus(texts, 300, 7);
  const auto b = summarize_corpus(texts, 300, 7);
  const auto c = summarize_corpus(texts, 300, 8);
  bool any_differs = false;
  for (std::size_t l = 0; l < 8; ++l) {
    EXPECT_EQ(a.profile[l].locality.lo, b.profile[l].locality.lo);
    EXPECT_EQ(a.profile[l].locality.hi, b.profile[l].locality.hi);
    EXPECT_EQ(a.profile[l].sink_mass.hi, b.profile[l].sink_mass.hi);
    EXPECT_EQ(a.profile[l].locality.mean, c.profile[l].locality.mean);  // no randomness
    any_differs = any_differs || a.profile[l].locality.lo != c.profile[l].locality.lo;
  }
  EXPECT_TRUE(any_differs);
  EXPECT_EQ(a.l_star.ci_lo, b.l_star.ci_lo);
  EXPECT_EQ(a.l_star.bootstrap_counts, b.l_star.bootstrap_counts);
  EXPECT_EQ(a.l_star_ratio.replicates, b.l_star_ratio.replicates);
}

TEST(CorpusStats, IntervalsContainTheirMeans) {
  const auto texts = fake_texts(60, 10, 5);
  const auto s = summarize_corpus(texts, 1000, 0);
  EXPECT_EQ(s.n_texts, 60);
  for (const auto& l : s.profile) {
    for (const MeanCi* m : {&l.locality, &l.entropy, &l.sink_mass, &l.locality_no_sink,
                            &l.entropy_no_sink, &l.row_entropy_mean, &l.sheaf_trace,
                            &l.sheaf_trace_per_token}) {
      ASSERT_TRUE(std::isfinite(m->mean));
      EXPECT_LE(m->lo, m->mean);
      EXPECT_GE(m->hi, m->mean);
      EXPECT_LT(m->hi - m->lo, 0.2);  // 60 texts with noise 0.03: narrow
    }
  }
  // The mean ignores the text without locality_no_sink: 59 texts of locality + 0.05.
  double want = 0.0;
  for (std::size_t t = 1; t < texts.size(); ++t) want += texts[t].layers[2].locality + 0.05;
  EXPECT_NEAR(s.profile[2].locality_no_sink.mean, want / 59.0, 1e-12);
  // L*: counts add up, the estimate sits in its interval, the mode is the most common.
  int total = 0;
  for (int c : s.l_star.counts) total += c;
  EXPECT_EQ(total, 60);
  EXPECT_LE(s.l_star.ci_lo, s.l_star.mean_profile);
  EXPECT_GE(s.l_star.ci_hi, s.l_star.mean_profile);
  EXPECT_LE(s.l_star.mode_ci_lo, s.l_star.mode);
  EXPECT_GE(s.l_star.mode_ci_hi, s.l_star.mode);
  EXPECT_EQ(s.l_star.counts[static_cast<std::size_t>(s.l_star.mode)],
            *std::max_element(s.l_star.counts.begin(), s.l_star.counts.end()));
  int reps = 0;
  for (int c : s.l_star.bootstrap_counts) reps += c;
  EXPECT_EQ(reps, 1000);
  EXPECT_NEAR(s.l_star_ratio.value, s.l_star.mean_profile / 10.0, 1e-15);
  EXPECT_LE(s.l_star_ratio.lo, s.l_star_ratio.value);
  EXPECT_GE(s.l_star_ratio.hi, s.l_star_ratio.value);
  // Per-head means.
  ASSERT_EQ(s.profile[0].heads.size(), 2u);
  EXPECT_NEAR(s.profile[0].heads[1].locality, s.profile[0].locality.mean - 0.1, 1e-12);
}

TEST(CorpusStats, CrossModelPairsTheReplicates) {
  const auto texts = fake_texts(30, 8, 9);
  ModelReport a, b;
  a.corpus = summarize_corpus(texts, 200, 1);
  b.corpus = summarize_corpus(texts, 200, 1);
  const auto c = cross_model_summary({a, b});
  ASSERT_TRUE(c.has_value());
  EXPECT_DOUBLE_EQ(c->mean_ratio.value, a.corpus->l_star_ratio.value);
  EXPECT_EQ(c->mean_ratio.replicates, a.corpus->l_star_ratio.replicates);
  EXPECT_FALSE(cross_model_summary({ModelReport{}}).has_value());
}

}  // namespace
