#include "bentov/analysis/corpus_stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

#include "bentov/analysis/bootstrap.h"
#include "bentov/analysis/l_star.h"
#include "bentov/error.h"

namespace bentov::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The per-layer fields averaged over texts (metrics::kTextLayerFields) and, in the same order,
// the statistics they become.
constexpr std::size_t kFields = metrics::kTextLayerFieldCount;
constexpr auto& kLayerFields = metrics::kTextLayerFields;
using StatPtr = MeanCi CorpusLayer::*;
constexpr std::array<StatPtr, kFields> kStatFields = {
    &CorpusLayer::locality,          &CorpusLayer::entropy,         &CorpusLayer::sheaf_trace,
    &CorpusLayer::sink_mass,         &CorpusLayer::locality_no_sink, &CorpusLayer::entropy_no_sink,
    &CorpusLayer::row_entropy_mean,  &CorpusLayer::sheaf_trace_per_token};

// Running mean of the finite values.
struct NanMean {
  double sum = 0.0;
  double count = 0.0;
  void add(double v) {
    if (std::isfinite(v)) {
      sum += v;
      count += 1.0;
    }
  }
  double value() const { return count > 0.0 ? sum / count : kNaN; }
};

int argmax_first(const std::vector<int>& counts) {
  return static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

// Mean profile of the texts indexed by `pick` (or all when empty): field f of layer l at
// [f * n_layers + l].
std::vector<double> mean_profile(const std::vector<TextSignature>& texts,
                                 const std::vector<std::uint32_t>& pick, std::size_t n_layers) {
  std::vector<NanMean> acc(kFields * n_layers);
  auto add = [&](const TextSignature& t) {
    for (std::size_t f = 0; f < kFields; ++f) {
      for (std::size_t l = 0; l < n_layers; ++l) acc[f * n_layers + l].add(t.layers[l].*kLayerFields[f]);
    }
  };
  if (pick.empty()) {
    for (const auto& t : texts) add(t);
  } else {
    for (std::uint32_t i : pick) add(texts[i]);
  }
  std::vector<double> out(acc.size());
  for (std::size_t i = 0; i < acc.size(); ++i) out[i] = acc[i].value();
  return out;
}

// Mean of the texts' losses over `pick` (all texts when empty).
double mean_loss(const std::vector<TextSignature>& texts, const std::vector<std::uint32_t>& pick) {
  double sum = 0.0;
  if (pick.empty()) {
    for (const auto& t : texts) sum += *t.loss;
    return sum / static_cast<double>(texts.size());
  }
  for (const std::uint32_t i : pick) sum += *texts[i].loss;
  return sum / static_cast<double>(pick.size());
}

// A point estimate with the 95% percentile interval of its replicates, widened to contain it.
MeanCi mean_with_interval(double point, std::vector<double> replicates) {
  std::sort(replicates.begin(), replicates.end());
  return {point, std::min(percentile_linear(replicates, 2.5), point), std::max(percentile_linear(replicates, 97.5), point)};
}

}  // namespace

CorpusSummary summarize_corpus(const std::vector<TextSignature>& texts, int bootstrap,
                               std::uint64_t seed) {
  if (texts.empty()) throw InputError("no text to summarize");
  if (bootstrap < 1) throw UsageError("--bootstrap must be at least 1");
  const std::size_t L = texts.front().layers.size();
  const std::size_t H = L > 0 ? texts.front().layers.front().heads.size() : 0;
  if (L == 0) throw InputError("cannot summarize a model with no layers");
  for (const auto& t : texts) {
    if (t.layers.size() != L) throw InputError("texts disagree on the number of layers");
  }
  const std::size_t n = texts.size();

  CorpusSummary s;
  s.n_texts = static_cast<int>(n);
  s.bootstrap = bootstrap;
  s.seed = seed;
  for (const auto& t : texts) s.n_tokens += t.n_tokens;

  // Point estimates.
  const std::vector<double> point = mean_profile(texts, {}, L);
  std::vector<double> locality_point(point.begin(), point.begin() + static_cast<std::ptrdiff_t>(L));
  s.l_star.mean_profile = l_star_argmax_gradient(locality_point);
  s.l_star.counts.assign(L, 0);
  double l_star_sum = 0.0;
  for (const auto& t : texts) {
    s.l_star.counts[static_cast<std::size_t>(std::clamp<int>(t.l_star, 0, static_cast<int>(L) - 1))]++;
    l_star_sum += t.l_star;
  }
  s.l_star.mode = argmax_first(s.l_star.counts);
  s.l_star.mean = l_star_sum / static_cast<double>(n);

  // Replicates.
  const auto B = static_cast<std::size_t>(bootstrap);
  std::vector<std::vector<double>> reps(kFields * L, std::vector<double>(B));  // [f*L+l][b]
  std::vector<int> l_star_reps(B), mode_reps(B);
  const bool with_loss = std::all_of(texts.begin(), texts.end(), [](const TextSignature& t) { return t.loss.has_value(); });
  std::vector<double> loss_reps(with_loss ? B : 0);
  IndexSampler sampler(seed);
  std::vector<std::uint32_t> pick(n);
  std::vector<int> counts(L);
  for (std::size_t b = 0; b < B; ++b) {
    for (auto& i : pick) i = static_cast<std::uint32_t>(sampler.next(n));
    const std::vector<double> m = mean_profile(texts, pick, L);
    for (std::size_t i = 0; i < m.size(); ++i) reps[i][b] = m[i];
    l_star_reps[b] = l_star_argmax_gradient(std::span<const double>(m.data(), L));
    std::fill(counts.begin(), counts.end(), 0);
    for (std::uint32_t i : pick) counts[static_cast<std::size_t>(std::clamp<int>(texts[i].l_star, 0, static_cast<int>(L) - 1))]++;
    mode_reps[b] = argmax_first(counts);
    if (with_loss) loss_reps[b] = mean_loss(texts, pick);
  }
  if (with_loss) s.loss = mean_with_interval(mean_loss(texts, {}), std::move(loss_reps));

  // Intervals.
  s.profile.resize(L);
  for (std::size_t l = 0; l < L; ++l) {
    CorpusLayer& cl = s.profile[l];
    cl.index = texts.front().layers[l].index;
    for (std::size_t f = 0; f < kFields; ++f) {
      MeanCi& stat = cl.*kStatFields[f];
      stat.mean = point[f * L + l];
      std::vector<double> r;
      r.reserve(B);
      for (double v : reps[f * L + l]) {
        if (std::isfinite(v)) r.push_back(v);
      }
      if (r.empty() || !std::isfinite(stat.mean)) continue;  // lo, hi stay NaN
      std::sort(r.begin(), r.end());
      stat.lo = std::min(percentile_linear(r, 2.5), stat.mean);
      stat.hi = std::max(percentile_linear(r, 97.5), stat.mean);
    }
    // Per-head means over texts.
    cl.heads.assign(H, HeadSignature{0.0, 0.0});
    for (std::size_t h = 0; h < H; ++h) {
      NanMean loc, ent;
      for (const auto& t : texts) {
        if (h < t.layers[l].heads.size()) {
          loc.add(t.layers[l].heads[h].locality);
          ent.add(t.layers[l].heads[h].entropy);
        }
      }
      cl.heads[h] = HeadSignature{loc.value(), ent.value()};
    }
  }
  s.l_star.bootstrap_counts.assign(L, 0);
  for (int v : l_star_reps) s.l_star.bootstrap_counts[static_cast<std::size_t>(v)]++;
  std::vector<int> sorted = l_star_reps;
  std::sort(sorted.begin(), sorted.end());
  s.l_star.ci_lo = std::min(percentile_lower(sorted, 2.5), s.l_star.mean_profile);
  s.l_star.ci_hi = std::max(percentile_upper(sorted, 97.5), s.l_star.mean_profile);
  sorted = mode_reps;
  std::sort(sorted.begin(), sorted.end());
  s.l_star.mode_ci_lo = std::min(percentile_lower(sorted, 2.5), s.l_star.mode);
  s.l_star.mode_ci_hi = std::max(percentile_upper(sorted, 97.5), s.l_star.mode);

  // L* / L against 0.5.
  const double Ld = static_cast<double>(L);
  RatioTest& rt = s.l_star_ratio;
  rt.value = s.l_star.mean_profile / Ld;
  rt.replicates.resize(B);
  for (std::size_t b = 0; b < B; ++b) rt.replicates[b] = l_star_reps[b] / Ld;
  std::vector<double> rs = rt.replicates;
  std::sort(rs.begin(), rs.end());
  rt.lo = std::min(percentile_linear(rs, 2.5), rt.value);
  rt.hi = std::max(percentile_linear(rs, 97.5), rt.value);
  rt.p_value = bootstrap_p_value(rt.replicates, 0.5);
  return s;
}

std::vector<LayerSignature> mean_layers(const CorpusSummary& summary,
                                        const std::vector<double>& value_frob_sq) {
  std::vector<LayerSignature> out;
  out.reserve(summary.profile.size());
  for (std::size_t l = 0; l < summary.profile.size(); ++l) {
    const CorpusLayer& cl = summary.profile[l];
    LayerSignature sig;
    sig.index = cl.index;
    for (std::size_t f = 0; f < kFields; ++f) sig.*kLayerFields[f] = (cl.*kStatFields[f]).mean;
    sig.value_frob_sq = l < value_frob_sq.size() ? value_frob_sq[l] : kNaN;
    sig.heads = cl.heads;
    out.push_back(std::move(sig));
  }
  return out;
}

std::optional<CrossModelSummary> cross_model_summary(const std::vector<ModelReport>& models) {
  std::vector<const RatioTest*> tests;
  for (const auto& m : models) {
    if (m.corpus) tests.push_back(&m.corpus->l_star_ratio);
  }
  if (tests.empty()) return std::nullopt;
  const std::size_t B = tests.front()->replicates.size();
  for (const auto* t : tests) {
    if (t->replicates.size() != B) return std::nullopt;
  }
  CrossModelSummary c;
  RatioTest& rt = c.mean_ratio;
  const double k = static_cast<double>(tests.size());
  for (const auto* t : tests) rt.value += t->value / k;
  rt.replicates.assign(B, 0.0);
  for (const auto* t : tests) {
    for (std::size_t b = 0; b < B; ++b) rt.replicates[b] += t->replicates[b] / k;
  }
  if (B > 0) {
    std::vector<double> rs = rt.replicates;
    std::sort(rs.begin(), rs.end());
    rt.lo = std::min(percentile_linear(rs, 2.5), rt.value);
    rt.hi = std::max(percentile_linear(rs, 97.5), rt.value);
  } else {
    rt.lo = rt.hi = rt.value;
  }
  rt.p_value = bootstrap_p_value(rt.replicates, 0.5);
  return c;
}

}  // namespace bentov::analysis
