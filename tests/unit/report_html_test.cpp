// The HTML report's pattern encodings (pooling, quantization, base64), the capture beside the
// metrics on one forward pass, and the page's size bound and self-containment.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "bentov/metrics/signature_observer.h"
#include "bentov/model/capture.h"
#include "bentov/model/fan_out_observer.h"
#include "bentov/report/html_report.h"
#include "bentov/report/pattern_capture.h"
#include "bentov/report/pattern_encoding.h"
#include "unit/report_fixtures.h"

namespace {

using namespace bentov::report;

// A causal (n, n) pattern with peaked, uneven rows (every row sums to 1).
std::vector<float> random_pattern(int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> z(0.0, 2.5);
  std::vector<float> p(static_cast<std::size_t>(n) * n, 0.0f);
  for (int q = 0; q < n; ++q) {
    std::vector<double> e(static_cast<std::size_t>(q) + 1);
    double s = 0;
    for (auto& v : e) s += (v = std::exp(z(rng)));
    for (int k = 0; k <= q; ++k) p[static_cast<std::size_t>(q) * n + k] = static_cast<float>(e[k] / s);
  }
  return p;
}

TEST(HtmlEncoding, Base64KnownVectorsAndRoundTrip) {
  auto enc = [](std::string_view s) {
    return base64_encode({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  };
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("M"), "TQ==");
  EXPECT_EQ(enc("Ma"), "TWE=");
  EXPECT_EQ(enc("Man"), "TWFu");
  EXPECT_EQ(enc("any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
  std::vector<std::uint8_t> all(1000);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i * 37 + 11);
  for (std::size_t len : {0u, 1u, 2u, 3u, 998u, 1000u}) {
    const std::span<const std::uint8_t> part(all.data(), len);
    const auto text = base64_encode(part);
    EXPECT_EQ(text.size(), base64_size(len));
    EXPECT_EQ(base64_decode(text), std::vector<std::uint8_t>(part.begin(), part.end()));
  }
  EXPECT_THROW(base64_decode("TQ="), bentov::Error);
  EXPECT_THROW(base64_decode("T!=="), bentov::Error);
}

TEST(HtmlEncoding, FullScaleKeepsStatedRelativePrecision) {
  EXPECT_EQ(encode_full(0.0), 0);
  EXPECT_EQ(encode_full(9e-11), 0);
  EXPECT_EQ(encode_full(1.0), 65535);
  EXPECT_EQ(encode_full(1.0000001), 65535);  // float rounding above 1 clamps
  EXPECT_DOUBLE_EQ(decode_full(65535), 1.0);
  EXPECT_EQ(decode_full(0), 0.0);
  double worst = 0;
  for (double p = 1e-10; p <= 1.0; p *= 1.0007) {
    worst = std::max(worst, std::fabs(decode_full(encode_full(p)) - p) / p);
  }
  EXPECT_LE(worst, kFullRelativeError);
  EXPECT_GT(worst, kFullRelativeError * 0.9);  // the bound is tight, not loose
}

TEST(HtmlEncoding, ThumbScaleIsLogOverSixDecades) {
  EXPECT_EQ(encode_thumb(0.0), 0);
  EXPECT_EQ(encode_thumb(5e-7), 0);
  EXPECT_EQ(encode_thumb(1e-6), 1);
  EXPECT_EQ(encode_thumb(1.0), 255);
  for (double v = 1e-6; v <= 1.0; v *= 1.01) {
    EXPECT_NEAR(decode_thumb(encode_thumb(v)) / v, 1.0, 0.028) << v;
  }
}

TEST(HtmlEncoding, PoolCellsCoverEveryCellInOrder) {
  EXPECT_EQ(pool_cells(4, 2), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(pool_cells(5, 5), (std::vector<int>{0, 1, 2, 3, 4}));
  const auto c = pool_cells(4096, 128);
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_LE(c[i - 1], c[i]);
  EXPECT_EQ(c.front(), 0);
  EXPECT_EQ(c.back(), 127);
  EXPECT_EQ(std::count(c.begin(), c.end(), 5), 32);
}

TEST(HtmlEncoding, ThumbSideShrinksToTheBudget) {
  EXPECT_EQ(choose_thumb_side(20, 32, kHtmlThumbBudget), 20);          // small inputs: no pooling
  EXPECT_EQ(choose_thumb_side(4096, 1, kHtmlThumbBudget), 256);        // at most 256 a side
  EXPECT_EQ(choose_thumb_side(4096, 24 * 32, kHtmlThumbBudget), 128);  // 24 x 32 heads at 4,096 tokens
  EXPECT_LE(24 * 32 * thumb_page_bytes(128), kHtmlThumbBudget);
  EXPECT_EQ(choose_thumb_side(4096, 100000, 1000), kThumbMinSide);
  EXPECT_EQ(choose_thumb_side(3, 100000, 1), 3);
}

TEST(HtmlEncoding, FullPatternOrderGivesEveryLayerOneFirst) {
  EXPECT_EQ(full_pattern_order(3, 2), (std::vector<int>{0, 2, 4, 1, 3, 5}));
}

// Uniform causal attention over 4 tokens pooled to 2 x 2, masked entries counting as 0:
//   rows 1, 1/2 1/2, 1/3 1/3 1/3, 1/4 x4
//   (0,0): (1 + 1/2 + 1/2) / 4 = 0.5        (1,0): (1/3 + 1/3 + 1/4 + 1/4) / 4 = 0.291667
//   (1,1): (1/3 + 0 + 1/4 + 1/4) / 4 = 0.208333
TEST(HtmlEncoding, ThumbPoolIsTheBlockMean) {
  const int n = 4;
  std::vector<float> p(16, 0.0f);
  for (int q = 0; q < n; ++q) {
    for (int k = 0; k <= q; ++k) p[static_cast<std::size_t>(q * n + k)] = 1.0f / static_cast<float>(q + 1);
  }
  const auto cells = pool_cells(n, 2);
  ThumbPool pool(n, 2);
  pool.add_rows(0, 2, p.data(), cells);  // two row blocks, as the decoder delivers them
  pool.add_rows(2, 4, p.data() + 8, cells);
  const auto bytes = pool.encode(cells);
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(bytes[0], encode_thumb(0.5));
  EXPECT_EQ(bytes[1], encode_thumb(0.291667));
  EXPECT_EQ(bytes[2], encode_thumb(0.208333));
}

TEST(HtmlEncoding, FullRowsAreTheLowerTriangle) {
  const int n = 37;
  const auto p = random_pattern(n, 3);
  std::vector<std::uint16_t> tri(triangle_size(n));
  encode_full_rows(0, 16, p.data(), n, tri.data());
  encode_full_rows(16, n, p.data() + 16 * n, n, tri.data());
  for (int q = 0; q < n; ++q) {
    for (int k = 0; k <= q; ++k) {
      const double want = p[static_cast<std::size_t>(q * n + k)];
      const double got = decode_full(tri[triangle_size(q) + k]);
      if (want < kFullFloor) {
        EXPECT_EQ(got, 0.0);
      } else {
        EXPECT_LE(std::fabs(got - want), kFullRelativeError * want) << q << "," << k;
      }
    }
  }
}

// Streams `layers` x `heads` random patterns in 8-row blocks to an observer.
void stream(bentov::AttentionObserver& o, int layers, int heads, int n) {
  o.on_sequence(layers, heads, n);
  for (int l = 0; l < layers; ++l) {
    std::vector<std::vector<float>> ps;
    for (int h = 0; h < heads; ++h) ps.push_back(random_pattern(n, static_cast<std::uint32_t>(100 * l + h)));
    for (int r0 = 0; r0 < n; r0 += 8) {
      const int r1 = std::min(n, r0 + 8);
      for (int h = heads - 1; h >= 0; --h) o.on_attention_rows(l, h, r0, r1, ps[h].data() + r0 * n, n);
    }
    o.on_layer_end(l);
  }
}

TEST(HtmlCapture, BesideTheMetricsOnOnePass) {
  const int layers = 3, heads = 2, n = 21;
  std::vector<double> frob(layers, 2.0);
  bentov::metrics::SignatureObserver alone(frob), beside(frob);
  stream(alone, layers, heads, n);
  PatternCapture capture(std::vector<std::string>(n, "x"), true, {kHtmlThumbBudget, kHtmlFullBudget});
  bentov::MemoryCapture memory;
  bentov::FanOutObserver both({&beside, nullptr, &capture, &memory});
  EXPECT_TRUE(both.wants_probabilities());
  stream(both, layers, heads, n);
  const auto a = alone.take_layers(), b = beside.take_layers();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t l = 0; l < a.size(); ++l) {
    EXPECT_EQ(a[l].locality, b[l].locality);  // the same bits: the fan-out changes nothing
    EXPECT_EQ(a[l].entropy, b[l].entropy);
  }
  ASSERT_TRUE(capture.complete());
  const ModelPatterns& p = capture.patterns();
  EXPECT_EQ(p.thumb_side, n);
  EXPECT_EQ(p.full_heads(), static_cast<std::size_t>(layers * heads));
  for (int l = 0; l < layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      const auto& full = p.full[static_cast<std::size_t>(l * heads + h)];
      const float* want = memory.layer(l).data() + static_cast<std::size_t>(h) * n * n;
      for (int q = 0; q < n; ++q) {
        for (int k = 0; k <= q; ++k) {
          const double w = want[q * n + k];
          EXPECT_NEAR(decode_full(full[triangle_size(q) + k]), w, kFullRelativeError * w + 1e-10);
        }
      }
    }
  }
}

TEST(HtmlCapture, FullPatternsOnlyWithinTheBudget) {
  const int layers = 4, heads = 3, n = 30;
  PatternCapture capture({}, false, {1 << 20, 3 * full_page_bytes(n) + 10});
  stream(capture, layers, heads, n);
  const auto& p = capture.patterns();
  EXPECT_EQ(p.full_heads(), 3u);
  for (const int i : {0, 3, 6}) EXPECT_FALSE(p.full[static_cast<std::size_t>(i)].empty()) << i;  // head 0 of layers 0-2
  for (const auto& t : p.thumbs) EXPECT_EQ(t.size(), triangle_size(static_cast<std::size_t>(p.thumb_side)));
}

TEST(HtmlCapture, LabelsFallBackToIds) {
  bool from_tokenizer = true;
  const std::vector<std::int32_t> ids = {5, 17};
  EXPECT_EQ(token_labels("/nonexistent", ids, from_tokenizer), (std::vector<std::string>{"#5", "#17"}));
  EXPECT_FALSE(from_tokenizer);
}

ModelReport model_of(int layers, int heads, int n, const std::string& name) {
  auto m = bentov::report::testing::fake_model(name, layers, layers / 2.0);
  m.n_heads = heads;
  m.token_ids.assign(static_cast<std::size_t>(n), 7);
  for (auto& l : m.layers) l.heads.assign(static_cast<std::size_t>(heads), {0.5, 1.5});
  return m;
}

// Captures of `models` models of layers x heads at n tokens (patterns all zero: the page's
// size does not depend on them), as the CLI's collector makes them.
void capture_zeros(PatternCollector& c, const AnalysisReport& r) {
  for (const auto& m : r.models) {
    auto* o = c.begin({m, m.token_ids, "/nonexistent"});
    o->on_sequence(m.n_layers, m.n_heads, static_cast<int>(m.token_ids.size()));
    for (int l = 0; l < m.n_layers; ++l) o->on_layer_end(l);
  }
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t k = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++k;
  return k;
}

TEST(HtmlPage, SelfContainedWithOneBlobPerHead) {
  AnalysisReport r;
  r.text = "a </script> <b>text</b>";
  r.models = {model_of(3, 2, 12, "m0"), model_of(2, 4, 9, "m1")};
  PatternCollector c(r.models.size());
  capture_zeros(c, r);
  const std::string page = analyze_html(r, &c);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  EXPECT_FALSE(std::regex_search(page, std::regex(R"((src|href)\s*=\s*["']?\s*(https?:)?//)", std::regex::icase)));
  EXPECT_EQ(count(page, "<script type=\"application/octet-stream\" id=\"t-"), 3u * 2 + 2 * 4);
  EXPECT_EQ(count(page, "<script type=\"application/octet-stream\" id=\"f-"), 3u * 2 + 2 * 4);
  EXPECT_EQ(count(page, "</script>"), 2 + 2 * (3u * 2 + 2 * 4));  // the text's own is escaped
  EXPECT_EQ(count(page, "<script"), count(page, "</script>"));
}

TEST(HtmlPage, StaysUnderTheBoundAt4096TokensAnd24x32Heads) {
  AnalysisReport r;
  r.models = {model_of(24, 32, 4096, "big")};
  PatternCollector c(1);
  capture_zeros(c, r);
  const auto* p = c.find(r.models[0].source);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->thumb_side, 128);
  EXPECT_GE(p->full_heads(), 1u);
  const std::string page = analyze_html(r, &c);
  EXPECT_LT(page.size(), kHtmlMaxBytes);
  EXPECT_EQ(count(page, "id=\"t-0-"), 24u * 32);
  EXPECT_EQ(count(page, "id=\"f-0-"), p->full_heads());
}

TEST(HtmlPage, ManyModelsShareTheBound) {
  AnalysisReport r;
  for (int i = 0; i < 6; ++i) r.models.push_back(model_of(24, 16, 2048, "ckpt" + std::to_string(i)));
  PatternCollector c(r.models.size());
  capture_zeros(c, r);
  const std::string page = sweep_html(r, &c);
  EXPECT_LT(page.size(), kHtmlMaxBytes);
  EXPECT_EQ(count(page, "id=\"t-5-"), 24u * 16);
}

TEST(HtmlPage, CurvesOnlyWithoutPatterns) {
  const auto r = bentov::report::testing::fake_report();
  const std::string page = analyze_html(r, nullptr);
  EXPECT_EQ(count(page, "application/octet-stream"), 0u);
  EXPECT_NE(page.find("\"patterns\":[null,null,null,null]"), std::string::npos);
}

}  // namespace
