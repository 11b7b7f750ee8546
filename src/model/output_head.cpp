#include "output_head.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bentov/error.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"

namespace bentov {

namespace {

constexpr int kVocabBlock = 256;  // head rows per product: fixed, so the bits never depend on the workers
constexpr int kRowBlock = 512;    // query rows per pass over the head (bounds the partial sums)

// One vocabulary block's share of one row's log-sum-exp: its largest logit and sum exp(l - max).
struct Partial {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0.0;
};

FloatTensor view_of(const io::TensorInfo& t) {
  FloatTensor v;
  v.shape = t.shape;
  v.name = t.name;
  if (t.dtype == io::DType::kF32) {
    v.data = reinterpret_cast<const float*>(t.data);
  } else {
    v.raw = &t;
  }
  return v;
}

// Rows [r0, r0 + m) of the nll: logits block by block, each block's partial log-sum-exp, then
// the blocks combined in vocabulary order.
void nll_rows(const FloatTensor& head, int vocab, int dim, const float* hidden, const std::int32_t* next, int m,
              int threads, double* out) {
  const int blocks = (vocab + kVocabBlock - 1) / kVocabBlock;
  std::vector<Partial> partial(static_cast<std::size_t>(m) * blocks);  // (m, blocks)
  std::vector<double> target(static_cast<std::size_t>(m), 0.0);        // (m) logit of the next token
  std::vector<std::vector<float>> weights(static_cast<std::size_t>(threads));  // per worker (kVocabBlock, dim)
  std::vector<std::vector<float>> logits(static_cast<std::size_t>(threads));   // per worker (m, kVocabBlock)
  ops::parallel_for(blocks, threads, [&](int b, int worker) {
    const int v0 = b * kVocabBlock, vb = std::min(kVocabBlock, vocab - v0);
    auto& w = weights[static_cast<std::size_t>(worker)];
    auto& l = logits[static_cast<std::size_t>(worker)];
    w.resize(static_cast<std::size_t>(kVocabBlock) * dim);
    l.resize(static_cast<std::size_t>(m) * kVocabBlock);
    head.read(static_cast<std::size_t>(v0) * dim, static_cast<std::size_t>(vb) * dim, w.data());
    ops::gemm(false, true, m, vb, dim, 1.0f, hidden, dim, w.data(), dim, 0.0f, l.data(), vb);
    for (int r = 0; r < m; ++r) {
      const float* row = l.data() + static_cast<std::size_t>(r) * vb;
      const double mx = *std::max_element(row, row + vb);
      double s = 0.0;
      for (int j = 0; j < vb; ++j) s += std::exp(static_cast<double>(row[j]) - mx);
      partial[static_cast<std::size_t>(r) * blocks + b] = {mx, s};
      const int t = next[r] - v0;
      if (t >= 0 && t < vb) target[static_cast<std::size_t>(r)] = row[t];
    }
  });
  for (int r = 0; r < m; ++r) {
    const Partial* p = partial.data() + static_cast<std::size_t>(r) * blocks;
    double mx = -std::numeric_limits<double>::infinity();
    for (int b = 0; b < blocks; ++b) mx = std::max(mx, p[b].max);
    double s = 0.0;
    for (int b = 0; b < blocks; ++b) s += p[b].sum * std::exp(p[b].max - mx);
    out[r] = mx + std::log(s) - target[static_cast<std::size_t>(r)];
  }
}

}  // namespace

const io::TensorInfo* find_output_head(const io::TensorStore& store, const ModelConfig& c, const ModelWeights& w,
                                       const std::vector<std::string>& head_names) {
  const int dim = w.project_out.weight.empty() ? c.hidden_size : c.word_embed_dim;
  for (const std::string& head_name : head_names) {
    const io::TensorInfo* head = store.find(head_name);
    if (!head) continue;
    if (head->shape != std::vector<std::int64_t>{c.vocab_size, dim}) {
      throw FormatError("tensor '" + head_name + "' has shape " + head->shape_string() + ", expected [" +
                            std::to_string(c.vocab_size) + ", " + std::to_string(dim) + "]",
                        "the output head must map the model's output to its vocabulary");
    }
    if (head->dtype != io::DType::kF32 && head->dtype != io::DType::kF16 && head->dtype != io::DType::kBF16) {
      throw UnsupportedError("tensor '" + head_name + "' has dtype " + io::dtype_name(head->dtype),
                             "bentov reads F32, F16 and BF16 weights");
    }
    return head;
  }
  // A tied head is the embedding itself, [vocab, word_embed_dim]: after OPT's project_out the
  // output has that width.
  return c.tie_word_embeddings ? w.token_embedding : nullptr;
}

std::vector<double> next_token_nll(const io::TensorInfo& head, std::span<const std::int32_t> ids,
                                   const std::vector<float>& hidden, int dim, int threads) {
  const int n = static_cast<int>(ids.size());
  const int vocab = static_cast<int>(head.shape.at(0));
  if (threads <= 0) threads = ops::default_threads();
  const FloatTensor view = view_of(head);
  std::vector<double> nll(static_cast<std::size_t>(std::max(n - 1, 0)));  // (n - 1)
  const ops::ScopedSingleThreadedBlas single;  // our workers split the vocabulary
  for (int r0 = 0; r0 < n - 1; r0 += kRowBlock) {
    const int m = std::min(kRowBlock, n - 1 - r0);
    nll_rows(view, vocab, dim, hidden.data() + static_cast<std::size_t>(r0) * dim, ids.data() + r0 + 1, m, threads,
             nll.data() + r0);
  }
  return nll;
}

}  // namespace bentov
