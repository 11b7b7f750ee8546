// The streaming SignatureObserver gives the same numbers as the direct computation on the
// materialized head-average, also when heads arrive concurrently and out of order.
#include "bentov/metrics/signature_observer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bentov/error.h"
#include "bentov/metrics/attention_metrics.h"

namespace {

using namespace bentov::metrics;

// probs[layer][head]: (n, n) causal softmax rows of random, fairly peaked scores.
using Attn = std::vector<std::vector<std::vector<float>>>;

Attn random_attention(int n_layers, int n_heads, int n, unsigned seed, double score_std = 3.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> score(0.0, score_std);
  Attn out(static_cast<std::size_t>(n_layers));
  for (auto& layer : out) {
    layer.resize(static_cast<std::size_t>(n_heads));
    for (auto& head : layer) {
      head.assign(static_cast<std::size_t>(n * n), 0.0f);
      for (int i = 0; i < n; ++i) {
        std::vector<double> e(static_cast<std::size_t>(i + 1));
        double z = 0.0;
        for (auto& v : e) z += (v = std::exp(score(rng)));
        for (int j = 0; j <= i; ++j) {
          head[static_cast<std::size_t>(i * n + j)] = static_cast<float>(e[j] / z);
        }
      }
    }
  }
  return out;
}

// The definition, materialized: A = mean over heads (in double), then the pure functions.
LayerSignature direct(const std::vector<std::vector<float>>& heads, int n, int index,
                      double frob) {
  std::vector<double> a(static_cast<std::size_t>(n * n), 0.0);
  for (const auto& h : heads) {
    for (std::size_t i = 0; i < a.size(); ++i) a[i] += static_cast<double>(h[i]);
  }
  for (auto& v : a) v /= static_cast<double>(heads.size());
  LayerSignature s;
  s.index = index;
  s.locality = attention_locality(a.data(), n);
  s.entropy = attention_entropy(a.data(), n);
  s.value_frob_sq = frob;
  s.sheaf_trace = sheaf_trace(a.data(), n, frob);
  for (const auto& h : heads) {
    s.heads.push_back({attention_locality(h.data(), n), attention_entropy(h.data(), n)});
  }
  return s;
}

void expect_same(const LayerSignature& got, const LayerSignature& want) {
  EXPECT_EQ(got.index, want.index);
  EXPECT_NEAR(got.locality, want.locality, 1e-13 * std::fabs(want.locality));
  // Entropy: logs in float through the vectorized kernel (within 2 ulp each).
  EXPECT_NEAR(got.entropy, want.entropy, 1e-6 * std::fabs(want.entropy));
  EXPECT_NEAR(got.sheaf_trace, want.sheaf_trace, 1e-12 * std::fabs(want.sheaf_trace));
  EXPECT_EQ(got.value_frob_sq, want.value_frob_sq);
  ASSERT_EQ(got.heads.size(), want.heads.size());
  for (std::size_t h = 0; h < want.heads.size(); ++h) {
    // The same sums in the same order: identical.
    EXPECT_EQ(got.heads[h].locality, want.heads[h].locality) << "head " << h;
    // Streamed: the expected mass n stands in for the kept mass inside the float logs
    // (row_metrics.h), whose arguments so differ in the last bits.
    EXPECT_NEAR(got.heads[h].entropy, want.heads[h].entropy, 1e-6 * std::fabs(want.heads[h].entropy))
        << "head " << h;
  }
}

TEST(MetricsSignatureObserver, StreamingEqualsDirect) {
  const int L = 3, H = 4, n = 9;
  const auto attn = random_attention(L, H, n, 7);
  const std::vector<double> frob = {10.0, 250.5, 3.25};
  SignatureObserver obs(frob);
  obs.on_sequence(L, H, n);
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) obs.on_attention(l, h, attn[l][h].data(), n);
    obs.on_layer_end(l);
  }
  const auto layers = obs.take_layers();
  ASSERT_EQ(layers.size(), 3u);
  for (int l = 0; l < L; ++l) expect_same(layers[l], direct(attn[l], n, l, frob[l]));
  EXPECT_TRUE(obs.take_layers().empty());
}

// The decoder may run heads on several threads: every head of a layer delivered at once,
// in reverse order, over a sequence long enough that stripes are contended.
TEST(MetricsSignatureObserver, ConcurrentHeadsEqualDirect) {
  const int L = 4, H = 12, n = 70;
  const auto attn = random_attention(L, H, n, 11);
  const std::vector<double> frob = {1.0, 2.0, 3.0, 4.0};
  SignatureObserver obs(frob);
  for (int round = 0; round < 2; ++round) {  // the observer is reusable across sequences
    obs.on_sequence(L, H, n);
    for (int l = 0; l < L; ++l) {
      std::vector<std::thread> threads;
      for (int h = H - 1; h >= 0; --h) {
        threads.emplace_back([&, l, h] { obs.on_attention(l, h, attn[l][h].data(), n); });
      }
      for (auto& t : threads) t.join();
      obs.on_layer_end(l);
    }
    const auto layers = obs.take_layers();
    ASSERT_EQ(layers.size(), static_cast<std::size_t>(L));
    for (int l = 0; l < L; ++l) expect_same(layers[l], direct(attn[l], n, l, frob[l]));
  }
}

// The decoder delivers row blocks (every head's block before the next): the same numbers as
// whole matrices, locality and the row sums to the bit, the flattened entropies within the
// float logs' rounding (1e-6 relative, as for the whole matrices against the double reference).
TEST(MetricsSignatureObserver, RowBlocksEqualWholeMatrices) {
  const int L = 2, H = 5, n = 23;
  const auto attn = random_attention(L, H, n, 13, 6.0);
  const std::vector<double> frob = {2.0, 5.0};
  SignatureObserver whole(frob), blocks(frob);
  whole.on_sequence(L, H, n);
  blocks.on_sequence(L, H, n);
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < H; ++h) whole.on_attention(l, h, attn[l][h].data(), n);
    whole.on_layer_end(l);
    for (int r0 = 0; r0 < n; r0 += 4) {
      const int r1 = std::min(n, r0 + 4);
      for (int h = H - 1; h >= 0; --h) {
        blocks.on_attention_rows(l, h, r0, r1, attn[l][h].data() + static_cast<std::size_t>(r0) * n, n);
      }
    }
    blocks.on_layer_end(l);
  }
  const auto a = whole.take_layers(), b = blocks.take_layers();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t l = 0; l < a.size(); ++l) {
    EXPECT_EQ(b[l].locality, a[l].locality);
    EXPECT_EQ(b[l].sheaf_trace, a[l].sheaf_trace);
    EXPECT_EQ(b[l].sink_mass, a[l].sink_mass);
    EXPECT_EQ(b[l].locality_no_sink, a[l].locality_no_sink);
    EXPECT_EQ(b[l].row_entropy_mean, a[l].row_entropy_mean);
    EXPECT_NEAR(b[l].entropy, a[l].entropy, 1e-6 * std::fabs(a[l].entropy));
    EXPECT_NEAR(b[l].entropy_no_sink, a[l].entropy_no_sink, 1e-6 * std::fabs(a[l].entropy_no_sink));
    for (std::size_t h = 0; h < a[l].heads.size(); ++h) {
      EXPECT_EQ(b[l].heads[h].locality, a[l].heads[h].locality);
      EXPECT_NEAR(b[l].heads[h].entropy, a[l].heads[h].entropy, 1e-6 * std::fabs(a[l].heads[h].entropy));
    }
  }
}

// Every field of two signatures, to the bit.
void expect_identical(const LayerSignature& a, const LayerSignature& b, const std::string& what) {
  EXPECT_EQ(a.locality, b.locality) << what;
  EXPECT_EQ(a.entropy, b.entropy) << what;
  EXPECT_EQ(a.sheaf_trace, b.sheaf_trace) << what;
  EXPECT_EQ(a.sink_mass, b.sink_mass) << what;
  EXPECT_EQ(a.locality_no_sink, b.locality_no_sink) << what;
  EXPECT_EQ(a.entropy_no_sink, b.entropy_no_sink) << what;
  EXPECT_EQ(a.row_entropy_mean, b.row_entropy_mean) << what;
  ASSERT_EQ(a.heads.size(), b.heads.size()) << what;
  for (std::size_t h = 0; h < a.heads.size(); ++h) {
    EXPECT_EQ(a.heads[h].locality, b.heads[h].locality) << what << " head " << h;
    EXPECT_EQ(a.heads[h].entropy, b.heads[h].entropy) << what << " head " << h;
  }
}

// The head average is summed in head order whatever order the heads arrive in, so shuffled,
// reversed and concurrent deliveries give the same bits as heads 0, 1, 2, ... in turn. The
// scores spread widely, so that probabilities span more than double's 29 spare bits over float
// and a sum in another order rounds differently.
TEST(MetricsSignatureObserver, AnyHeadOrderGivesTheSameBits) {
  const int H = 12, n = 300, block = 128;
  const auto attn = random_attention(1, H, n, 17, 12.0);
  const auto run = [&](const std::function<void(SignatureObserver&, int, int)>& deliver_block) {
    SignatureObserver obs({1.5});
    obs.on_sequence(1, H, n);
    for (int r0 = 0; r0 < n; r0 += block) deliver_block(obs, r0, std::min(n, r0 + block));
    obs.on_layer_end(0);
    return obs.take_layers().at(0);
  };
  const auto rows_of = [&](int h, int r0) { return attn[0][h].data() + static_cast<std::size_t>(r0) * n; };
  const auto in_order = run([&](SignatureObserver& obs, int r0, int r1) {
    for (int h = 0; h < H; ++h) obs.on_attention_rows(0, h, r0, r1, rows_of(h, r0), n);
  });
  std::mt19937 rng(5);
  for (int trial = 0; trial < 3; ++trial) {
    const auto shuffled = run([&](SignatureObserver& obs, int r0, int r1) {
      std::vector<int> order(H);
      for (int h = 0; h < H; ++h) order[h] = h;
      std::shuffle(order.begin(), order.end(), rng);
      for (int h : order) obs.on_attention_rows(0, h, r0, r1, rows_of(h, r0), n);
    });
    expect_identical(shuffled, in_order, "shuffled, trial " + std::to_string(trial));
  }
  const auto concurrent = run([&](SignatureObserver& obs, int r0, int r1) {
    std::vector<std::thread> threads;
    for (int h = H - 1; h >= 0; --h) {
      threads.emplace_back([&, h] { obs.on_attention_rows(0, h, r0, r1, rows_of(h, r0), n); });
    }
    for (auto& t : threads) t.join();
  });
  expect_identical(concurrent, in_order, "concurrent");
}

// A head that never arrives leaves the heads after it waiting: the block cannot finish.
TEST(MetricsSignatureObserver, MissingHeadIsRefused) {
  const int n = 6;
  const auto attn = random_attention(1, 3, n, 2);
  SignatureObserver obs({1.0});
  obs.on_sequence(1, 3, n);
  obs.on_attention(0, 0, attn[0][0].data(), n);
  obs.on_attention(0, 2, attn[0][2].data(), n);
  EXPECT_THROW(obs.on_layer_end(0), std::logic_error);
}

// Rows out of order, or a head delivered twice, are programming errors that say so.
TEST(MetricsSignatureObserver, RowsOutOfOrderAreRefused) {
  const int n = 6;
  const auto attn = random_attention(1, 1, n, 2);
  SignatureObserver obs({1.0});
  obs.on_sequence(1, 1, n);
  EXPECT_THROW(obs.on_attention_rows(0, 0, 3, 6, attn[0][0].data() + 3 * n, n), std::logic_error);
  SignatureObserver twice({1.0});
  twice.on_sequence(1, 1, n);
  twice.on_attention(0, 0, attn[0][0].data(), n);
  EXPECT_THROW(twice.on_attention(0, 0, attn[0][0].data(), n), std::logic_error);
}

// A layer without a supplied ||W_V||_F^2 gets NaN sheaf trace (written as null), not a
// made-up number.
TEST(MetricsSignatureObserver, MissingValueNormIsNaN) {
  const auto attn = random_attention(2, 2, 4, 3);
  SignatureObserver obs({5.0});
  obs.on_sequence(2, 2, 4);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) obs.on_attention(l, h, attn[l][h].data(), 4);
    obs.on_layer_end(l);
  }
  const auto layers = obs.take_layers();
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].value_frob_sq, 5.0);
  EXPECT_TRUE(std::isnan(layers[1].value_frob_sq));
  EXPECT_TRUE(std::isnan(layers[1].sheaf_trace));
}

TEST(MetricsSignatureObserver, OneTokenIsAnInputError) {
  SignatureObserver obs({1.0});
  try {
    obs.on_sequence(1, 1, 1);
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kInput);
  }
}

}  // namespace
