#include "bentov/analysis/paired.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>

#include "bentov/analysis/bootstrap.h"
#include "bentov/analysis/l_star.h"
#include "bentov/error.h"

namespace bentov::analysis {

namespace {

constexpr double kNaN = LayerSignature::kUnset;

// The per-layer fields a shift is reported for (metrics::kTextLayerFields) and, in the same
// order, the statistics they become.
constexpr auto& kFields = metrics::kTextLayerFields;
constexpr std::array<PairedStat PairedLayer::*, metrics::kTextLayerFieldCount> kPairedFields{
    &PairedLayer::locality,         &PairedLayer::entropy,          &PairedLayer::sheaf_trace,
    &PairedLayer::sink_mass,        &PairedLayer::locality_no_sink, &PairedLayer::entropy_no_sink,
    &PairedLayer::row_entropy_mean, &PairedLayer::sheaf_trace_per_token};
constexpr std::size_t kF = kFields.size();

// The texts of both sides that share a corpus line, in line order.
std::vector<std::pair<const TextSignature*, const TextSignature*>> pair_by_line(const std::vector<TextSignature>& a,
                                                                                const std::vector<TextSignature>& b) {
  std::map<int, const TextSignature*> by_line;
  for (const auto& t : a) by_line[t.line] = &t;
  std::vector<std::pair<const TextSignature*, const TextSignature*>> out;
  for (const auto& t : b) {
    const auto it = by_line.find(t.line);
    if (it != by_line.end()) out.emplace_back(it->second, &t);
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.first->line < y.first->line; });
  return out;
}

// What one side contributes: per text, (field, layer) values and the loss.
struct Side {
  std::size_t layers = 0;
  std::vector<std::vector<double>> values;  // [text] -> (kF * layers) field-major
  std::vector<double> loss;                 // [text], empty without losses
  std::vector<double> l_star;               // [text] the text's own L*
};

Side side_of(const std::vector<const TextSignature*>& texts) {
  Side s;
  s.layers = texts.front()->layers.size();
  const bool with_loss = std::all_of(texts.begin(), texts.end(), [](const TextSignature* t) { return t->loss.has_value(); });
  for (const auto* t : texts) {
    std::vector<double> v(kF * s.layers);
    for (std::size_t f = 0; f < kF; ++f) {
      for (std::size_t l = 0; l < s.layers; ++l) v[f * s.layers + l] = t->layers[l].*kFields[f];
    }
    s.values.push_back(std::move(v));
    s.l_star.push_back(t->l_star);
    if (with_loss) s.loss.push_back(*t->loss);
  }
  return s;
}

// Mean over the chosen texts of every (field, layer), NaN values left out; `take_b[i]` picks
// which side text i contributes (the permutation's swap), `pick` the texts (with repeats).
struct Means {
  std::vector<double> a, b;  // (kF * layers)
  double loss_a = kNaN, loss_b = kNaN;
  double l_star_a = 0.0, l_star_b = 0.0;  // mean per-text L*
};

Means means(const Side& a, const Side& b, const std::vector<std::uint32_t>& pick, const std::vector<char>& swap) {
  const std::size_t m = kF * a.layers;
  std::vector<double> sa(m, 0.0), sb(m, 0.0);
  std::vector<int> na(m, 0), nb(m, 0);
  double la = 0.0, lb = 0.0, ta = 0.0, tb = 0.0;
  for (const std::uint32_t i : pick) {
    const bool s = !swap.empty() && swap[i];
    const auto& va = s ? b.values[i] : a.values[i];
    const auto& vb = s ? a.values[i] : b.values[i];
    for (std::size_t k = 0; k < m; ++k) {
      if (std::isfinite(va[k])) sa[k] += va[k], ++na[k];
      if (std::isfinite(vb[k])) sb[k] += vb[k], ++nb[k];
    }
    ta += s ? b.l_star[i] : a.l_star[i];
    tb += s ? a.l_star[i] : b.l_star[i];
    if (!a.loss.empty()) {
      la += s ? b.loss[i] : a.loss[i];
      lb += s ? a.loss[i] : b.loss[i];
    }
  }
  Means out;
  out.a.resize(m);
  out.b.resize(m);
  for (std::size_t k = 0; k < m; ++k) {
    out.a[k] = na[k] ? sa[k] / na[k] : kNaN;
    out.b[k] = nb[k] ? sb[k] / nb[k] : kNaN;
  }
  out.l_star_a = ta / static_cast<double>(pick.size());
  out.l_star_b = tb / static_cast<double>(pick.size());
  if (!a.loss.empty()) {
    out.loss_a = la / static_cast<double>(pick.size());
    out.loss_b = lb / static_cast<double>(pick.size());
  }
  return out;
}

// The statistics of one Means: (kF * layers) deltas, the L* shift, the loss delta.
struct Deltas {
  std::vector<double> layer;  // (kF * layers)
  double l_star = 0.0;           // of the mean profiles
  double l_star_per_text = 0.0;  // mean of the per-text shifts
  double loss = kNaN;
};

Deltas deltas(const Means& m, std::size_t layers) {
  Deltas d;
  d.layer.resize(m.a.size());
  for (std::size_t k = 0; k < m.a.size(); ++k) d.layer[k] = m.b[k] - m.a[k];
  const std::span<const double> loc_a(m.a.data(), layers), loc_b(m.b.data(), layers);  // field 0: locality
  d.l_star = static_cast<double>(l_star_argmax_gradient(loc_b) - l_star_argmax_gradient(loc_a));
  d.l_star_per_text = m.l_star_b - m.l_star_a;
  d.loss = m.loss_b - m.loss_a;
  return d;
}

// The 95% percentile interval of `reps` (finite ones), widened to contain `point`; nearest
// rank for integer statistics.
void interval(PairedStat& s, std::vector<double> reps, bool integer) {
  reps.erase(std::remove_if(reps.begin(), reps.end(), [](double v) { return !std::isfinite(v); }), reps.end());
  if (reps.empty() || !std::isfinite(s.value)) return;
  std::sort(reps.begin(), reps.end());
  if (integer) {
    std::vector<int> r(reps.begin(), reps.end());
    s.lo = std::min<double>(percentile_lower(r, 2.5), s.value);
    s.hi = std::max<double>(percentile_upper(r, 97.5), s.value);
  } else {
    s.lo = std::min(percentile_linear(reps, 2.5), s.value);
    s.hi = std::max(percentile_linear(reps, 97.5), s.value);
  }
}

// p = (1 + #{|T*| >= |T|}) / (1 + P); a tolerance keeps rounding from splitting ties.
double permutation_p(double observed, const std::vector<double>& permuted) {
  if (!std::isfinite(observed)) return kNaN;
  const double t = std::fabs(observed) * (1.0 - 1e-12);
  std::size_t at_least = 0, count = 0;
  for (const double v : permuted) {
    if (!std::isfinite(v)) continue;
    ++count;
    if (std::fabs(v) >= t) ++at_least;
  }
  return static_cast<double>(1 + at_least) / static_cast<double>(1 + count);
}

std::vector<std::uint32_t> all_texts(std::size_t n) {
  std::vector<std::uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  return v;
}

// Average ranks (1-based) of `v`.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return v[x] < v[y]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const auto rx = ranks(x), ry = ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = (n + 1.0) / 2.0;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - mx);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - mx) * (ry[i] - mx);
  }
  return sxx > 0.0 && syy > 0.0 ? sxy / std::sqrt(sxx * syy) : kNaN;
}

}  // namespace

PairedShift paired_shift(const std::vector<TextSignature>& a, const std::vector<TextSignature>& b, int bootstrap,
                         std::uint64_t seed) {
  if (bootstrap < 1) throw UsageError("--bootstrap must be at least 1");
  const auto pairs = pair_by_line(a, b);
  if (pairs.empty()) throw InputError("the two models share no analyzed text", "run both over the same corpus");
  std::vector<const TextSignature*> ta, tb;
  for (const auto& [x, y] : pairs) ta.push_back(x), tb.push_back(y);
  if (ta.front()->layers.size() != tb.front()->layers.size() || ta.front()->layers.empty()) {
    throw InputError("the two models differ in layers: no per-layer shift", "compare checkpoints of one model");
  }
  const Side sa = side_of(ta), sb = side_of(tb);
  const bool with_loss = !sa.loss.empty() && !sb.loss.empty();
  const std::size_t n = pairs.size(), L = sa.layers, B = static_cast<std::size_t>(bootstrap);

  const Deltas point = deltas(means(sa, sb, all_texts(n), {}), L);
  std::vector<Deltas> boot, perm;
  boot.reserve(B);
  perm.reserve(B);
  IndexSampler resampler(seed), swapper(seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<std::uint32_t> pick(n);
  std::vector<char> swap(n);
  for (std::size_t r = 0; r < B; ++r) {
    for (auto& i : pick) i = static_cast<std::uint32_t>(resampler.next(n));
    boot.push_back(deltas(means(sa, sb, pick, {}), L));
    for (auto& s : swap) s = static_cast<char>(swapper.next(2));
    perm.push_back(deltas(means(sa, sb, all_texts(n), swap), L));
  }

  auto finish = [&](double value, auto get, bool integer) {
    PairedStat s;
    s.value = value;
    std::vector<double> rb, rp;
    for (std::size_t r = 0; r < B; ++r) rb.push_back(get(boot[r])), rp.push_back(get(perm[r]));
    interval(s, std::move(rb), integer);
    s.p_value = permutation_p(value, rp);
    return s;
  };
  PairedShift out;
  out.n_texts = static_cast<int>(n);
  out.resamples = bootstrap;
  out.l_star = finish(point.l_star, [](const Deltas& d) { return d.l_star; }, true);
  std::vector<double> l_star_reps;
  for (const auto& d : boot) l_star_reps.push_back(d.l_star);
  out.l_star.p_value = bootstrap_p_value(l_star_reps, 0.0);
  out.l_star_per_text = finish(point.l_star_per_text, [](const Deltas& d) { return d.l_star_per_text; }, false);
  out.layers.resize(L);
  for (std::size_t l = 0; l < L; ++l) {
    out.layers[l].index = ta.front()->layers[l].index;
    for (std::size_t f = 0; f < kF; ++f) {
      const std::size_t k = f * L + l;
      out.layers[l].*kPairedFields[f] = finish(point.layer[k], [k](const Deltas& d) { return d.layer[k]; }, false);
    }
  }
  if (with_loss) out.loss = finish(point.loss, [](const Deltas& d) { return d.loss; }, false);
  return out;
}

std::optional<RankCorrelation> l_star_loss_correlation(const std::vector<std::vector<TextSignature>>& checkpoints,
                                                       int bootstrap, std::uint64_t seed) {
  const std::size_t K = checkpoints.size();
  if (K < 3 || bootstrap < 1) return std::nullopt;
  // The lines every checkpoint has, each checkpoint's text of that line.
  std::map<int, std::vector<const TextSignature*>> by_line;
  for (std::size_t k = 0; k < K; ++k) {
    for (const auto& t : checkpoints[k]) {
      if (!t.loss) return std::nullopt;
      auto& row = by_line[t.line];
      row.resize(K, nullptr);
      row[k] = &t;
    }
  }
  std::vector<std::vector<const TextSignature*>> texts;  // [text][checkpoint]
  for (auto& [line, row] : by_line) {
    if (std::all_of(row.begin(), row.end(), [](const TextSignature* t) { return t != nullptr; })) texts.push_back(row);
  }
  if (texts.empty()) return std::nullopt;
  const std::size_t n = texts.size();
  auto rho_of = [&](const std::vector<std::uint32_t>& pick) {
    std::vector<double> ratio(K), loss(K);
    for (std::size_t k = 0; k < K; ++k) {
      const std::size_t L = texts.front()[k]->layers.size();
      std::vector<double> loc(L, 0.0);
      std::vector<int> cnt(L, 0);
      double ls = 0.0;
      for (const std::uint32_t i : pick) {
        const TextSignature& t = *texts[i][k];
        for (std::size_t l = 0; l < L && l < t.layers.size(); ++l) {
          if (std::isfinite(t.layers[l].locality)) loc[l] += t.layers[l].locality, ++cnt[l];
        }
        ls += *t.loss;
      }
      for (std::size_t l = 0; l < L; ++l) loc[l] = cnt[l] ? loc[l] / cnt[l] : kNaN;
      ratio[k] = static_cast<double>(l_star_argmax_gradient(loc)) / static_cast<double>(L);
      loss[k] = ls / static_cast<double>(pick.size());
    }
    return spearman(ratio, loss);
  };
  RankCorrelation rc;
  rc.n_checkpoints = static_cast<int>(K);
  rc.n_texts = static_cast<int>(n);
  rc.rho = rho_of(all_texts(n));
  IndexSampler resampler(seed);
  std::vector<std::uint32_t> pick(n);
  std::vector<double> reps;
  for (int r = 0; r < bootstrap; ++r) {
    for (auto& i : pick) i = static_cast<std::uint32_t>(resampler.next(n));
    reps.push_back(rho_of(pick));
  }
  PairedStat s;
  s.value = rc.rho;
  interval(s, std::move(reps), false);
  rc.lo = s.lo;
  rc.hi = s.hi;
  return rc;
}

}  // namespace bentov::analysis
