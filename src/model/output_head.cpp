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
// What every vocabulary block's logits go through after the product.
struct LogitTail {
  const float* bias = nullptr;  // (vocab) or null
  float softcap = 0.0f;         // 0: none
};

// Rows (m, vb) of logits of vocabulary block v0: plus the bias, then soft-capped.
void finish_logits(const LogitTail& tail, int v0, int m, int vb, float* logits) {
  if (tail.bias) {
    for (int r = 0; r < m; ++r) ops::add_inplace(logits + static_cast<std::size_t>(r) * vb, tail.bias + v0, vb);
  }
  if (tail.softcap > 0.0f) ops::tanh_softcap(logits, m, vb, vb, tail.softcap);
}

void nll_rows(const FloatTensor& head, const LogitTail& tail, int vocab, int dim, const float* hidden,
              const std::int32_t* next, int m, int threads, double* out) {
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
    finish_logits(tail, v0, m, vb, l.data());
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

namespace {

void check_float_dtype(const io::TensorInfo& t) {
  if (t.dtype != io::DType::kF32 && t.dtype != io::DType::kF16 && t.dtype != io::DType::kBF16) {
    throw UnsupportedError("tensor '" + t.name + "' has dtype " + io::dtype_name(t.dtype),
                           "bentov reads F32, F16 and BF16 weights");
  }
}

// "lm_head.weight" -> "lm_head.bias" of the store, checked to be [vocab]; null when absent.
const io::TensorInfo* find_head_bias(const io::TensorStore& store, const ModelConfig& c, const std::string& head_name) {
  const std::string suffix = ".weight";
  if (head_name.size() <= suffix.size() || head_name.compare(head_name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return nullptr;
  }
  const std::string bias_name = head_name.substr(0, head_name.size() - suffix.size()) + ".bias";
  const io::TensorInfo* bias = store.find(bias_name);
  if (bias && bias->shape != std::vector<std::int64_t>{c.vocab_size}) {
    throw FormatError("tensor '" + bias_name + "' has shape " + bias->shape_string() + ", expected [" +
                          std::to_string(c.vocab_size) + "]",
                      "the output head's bias must have one value per vocabulary entry");
  }
  if (bias) check_float_dtype(*bias);
  return bias;
}

}  // namespace

OutputHead find_output_head(const io::TensorStore& store, const ModelConfig& c, const ModelWeights& w,
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
    check_float_dtype(*head);
    return {head, find_head_bias(store, c, head_name)};
  }
  // A tied head is the embedding itself, [vocab, word_embed_dim]: after OPT's project_out the
  // output has that width.
  return {c.tie_word_embeddings ? w.token_embedding : nullptr, nullptr};
}

std::vector<double> next_token_nll(const OutputHead& head, std::span<const std::int32_t> ids,
                                   const std::vector<float>& hidden, int dim, float softcap, int threads) {
  const int n = static_cast<int>(ids.size());
  const int vocab = static_cast<int>(head.weight->shape.at(0));
  if (threads <= 0) threads = ops::default_threads();
  const FloatTensor view = view_of(*head.weight);
  std::vector<float> bias;  // (vocab) widened, or empty
  if (head.bias) {
    bias.resize(static_cast<std::size_t>(vocab));
    view_of(*head.bias).read(0, bias.size(), bias.data());
  }
  const LogitTail tail{bias.empty() ? nullptr : bias.data(), softcap};
  std::vector<double> nll(static_cast<std::size_t>(std::max(n - 1, 0)));  // (n - 1)
  const ops::ScopedSingleThreadedBlas single;  // our workers split the vocabulary
  for (int r0 = 0; r0 < n - 1; r0 += kRowBlock) {
    const int m = std::min(kRowBlock, n - 1 - r0);
    nll_rows(view, tail, vocab, dim, hidden.data() + static_cast<std::size_t>(r0) * dim, ids.data() + r0 + 1, m, threads,
             nll.data() + r0);
  }
  return nll;
}

}  // namespace bentov
