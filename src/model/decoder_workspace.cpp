// One generic decoder for GPT-2, GPT-NeoX and OPT. The per-family differences are all data
// in ModelConfig (norm placement, parallel residual, positions, QKV layout, activation); the
// sublayers follow transformers' eager code paths:
//   GPT2Block.forward / GPT2Attention (modeling_gpt2.py, eager_attention_forward),
//   GPTNeoXLayer.forward / GPTNeoXAttention (modeling_gpt_neox.py),
//   OPTDecoderLayer.forward / OPTAttention (modeling_opt.py).
#include "decoder_workspace.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"

namespace bentov {

namespace {
std::size_t sz(long long v) { return static_cast<std::size_t>(v); }
}  // namespace

DecoderWorkspace::DecoderWorkspace(const ModelConfig& config, const ModelWeights& weights, int n,
                                   int threads)
    : c_(config), w_(weights), n_(n), threads_(std::max(1, std::min(threads, config.n_heads))) {
  const long long d = c_.hidden_size;
  x_.resize(sz(n * d));
  h_.resize(sz(n * d));
  qkv_.resize(sz(n * 3 * d));
  scores_.assign(sz(threads_), std::vector<float>(sz(static_cast<long long>(n) * n)));
  ctx_.resize(sz(n * d));
  attn_.resize(sz(n * d));
  ff_.resize(sz(static_cast<long long>(n) * c_.intermediate_size));
  mlp_.resize(sz(n * d));
  if (c_.positions == PositionKind::kRotary) {
    const int half = c_.rotary_dims / 2;
    cos_.resize(sz(static_cast<long long>(n) * half));
    sin_.resize(sz(static_cast<long long>(n) * half));
    ops::rotary_tables(n, c_.rotary_dims, c_.rope_theta, cos_.data(), sin_.data());
  }
}

// y (n, out) with leading dimension ldy = x (n, in) W^T + b (nn.Linear) or x W + b (Conv1D).
void DecoderWorkspace::linear(const Linear& l, const float* x, float* y, int ldy) const {
  if (l.in_by_out) {
    ops::gemm(false, false, n_, l.out, l.in, 1.0f, x, l.in, l.weight.data, l.out, 0.0f, y, ldy);
  } else {
    ops::gemm(false, true, n_, l.out, l.in, 1.0f, x, l.in, l.weight.data, l.in, 0.0f, y, ldy);
  }
  if (!l.bias.empty()) {
    for (int r = 0; r < n_; ++r) {
      float* yr = y + static_cast<std::ptrdiff_t>(r) * ldy;
      for (int j = 0; j < l.out; ++j) yr[j] += l.bias.data[j];
    }
  }
}

void DecoderWorkspace::norm(const LayerNormWeights& w, const float* x, float* y) const {
  // Rows are independent: split them over the workers.
  const int d = c_.hidden_size;
  const int chunks = std::min(n_, threads_ * 4);
  ops::parallel_for(chunks, threads_, [&](int c, int) {
    const int r0 = static_cast<int>(static_cast<long long>(n_) * c / chunks);
    const int r1 = static_cast<int>(static_cast<long long>(n_) * (c + 1) / chunks);
    ops::layer_norm_to(x + static_cast<std::ptrdiff_t>(r0) * d, y + static_cast<std::ptrdiff_t>(r0) * d,
                       r1 - r0, d, w.weight.data, w.bias.empty() ? nullptr : w.bias.data, c_.norm_eps);
  });
}

void DecoderWorkspace::embed(std::span<const std::int32_t> ids) {
  const int d = c_.hidden_size;
  const int e = c_.word_embed_dim;
  const io::TensorInfo& table = *w_.token_embedding;  // (vocab, e), stored dtype
  // Widen only the rows of the input ids.
  std::vector<float> words(sz(static_cast<long long>(n_) * e));  // (n, e)
  const std::size_t row_bytes = static_cast<std::size_t>(e) * io::dtype_size(table.dtype);
  for (int i = 0; i < n_; ++i) {
    const std::byte* row = table.data + static_cast<std::size_t>(ids[sz(i)]) * row_bytes;
    float* out = words.data() + static_cast<std::ptrdiff_t>(i) * e;
    for (int j = 0; j < e; ++j) {
      std::uint16_t u16;
      switch (table.dtype) {
        case io::DType::kF32:
          std::memcpy(&out[j], row + 4 * j, 4);
          break;
        case io::DType::kF16:
          std::memcpy(&u16, row + 2 * j, 2);
          out[j] = io::half_to_float(u16);
          break;
        case io::DType::kBF16:
          std::memcpy(&u16, row + 2 * j, 2);
          out[j] = io::bf16_to_float(u16);
          break;
        default:
          throw UnsupportedError("tensor '" + table.name + "' has dtype " + io::dtype_name(table.dtype),
                                 "bentov reads F32, F16 and BF16 weights");
      }
    }
  }
  if (!w_.project_in.weight.empty()) {
    linear(w_.project_in, words.data(), x_.data(), d);  // OPT-350m: (n, e) -> (n, d)
  } else {
    std::memcpy(x_.data(), words.data(), words.size() * sizeof(float));
  }
  if (c_.positions == PositionKind::kLearned) {
    // GPT-2: wpe[i]; OPT: embed_positions[i + 2] (OPTLearnedPositionalEmbedding offset).
    for (int i = 0; i < n_; ++i) {
      const float* pos = w_.position_embedding.data + static_cast<std::ptrdiff_t>(i + c_.position_offset) * d;
      ops::add_inplace(x_.data() + static_cast<std::ptrdiff_t>(i) * d, pos, sz(d));
    }
  }
}

void DecoderWorkspace::project_qkv(const LayerWeights& lw, const float* input) {
  const int d = c_.hidden_size;
  if (!lw.qkv.weight.empty()) {
    linear(lw.qkv, input, qkv_.data(), 3 * d);
  } else {  // separate q/k/v written into the Q | K | V blocks of qkv_
    linear(lw.q, input, qkv_.data(), 3 * d);
    linear(lw.k, input, qkv_.data() + d, 3 * d);
    linear(lw.v, input, qkv_.data() + 2 * d, 3 * d);
  }
}

void DecoderWorkspace::rotate_qk() {
  const int d = c_.hidden_size, dh = c_.head_dim, half = c_.rotary_dims / 2;
  for (int i = 0; i < n_; ++i) {
    float* row = qkv_.data() + static_cast<std::ptrdiff_t>(i) * 3 * d;
    const float* cr = cos_.data() + static_cast<std::ptrdiff_t>(i) * half;
    const float* sr = sin_.data() + static_cast<std::ptrdiff_t>(i) * half;
    for (int h = 0; h < c_.n_heads; ++h) {
      float* q = c_.qkv_layout == QkvLayout::kPerHeadFused ? row + h * 3 * dh : row + h * dh;
      float* k = c_.qkv_layout == QkvLayout::kPerHeadFused ? q + dh : row + d + h * dh;
      ops::apply_rotary(q, c_.rotary_dims, cr, sr);
      ops::apply_rotary(k, c_.rotary_dims, cr, sr);
    }
  }
}

// Rows are processed in blocks of kCausalBlock queries; a block only needs the keys up to its
// last query, so the masked upper triangle is never computed (half the work at large n).
constexpr int kCausalBlock = 128;

void DecoderWorkspace::attention_head(int layer, int h, float scale, float* scores,
                                      AttentionObserver* observer) {
  const int d = c_.hidden_size, dh = c_.head_dim, ld = 3 * d;
  const bool per_head = c_.qkv_layout == QkvLayout::kPerHeadFused;
  const float* q = qkv_.data() + (per_head ? h * 3 * dh : h * dh);          // (n, dh), stride 3d
  const float* k = qkv_.data() + (per_head ? h * 3 * dh + dh : d + h * dh);
  const float* v = qkv_.data() + (per_head ? h * 3 * dh + 2 * dh : 2 * d + h * dh);
  for (int r0 = 0; r0 < n_; r0 += kCausalBlock) {
    const int r1 = std::min(n_, r0 + kCausalBlock);
    ops::gemm(false, true, r1 - r0, r1, dh, scale, q + static_cast<std::ptrdiff_t>(r0) * ld, ld, k, ld,
              0.0f, scores + static_cast<std::ptrdiff_t>(r0) * n_, n_);
  }
  ops::causal_softmax(scores, n_);  // reads k <= q only, writes exact zeros above the diagonal
  if (observer) observer->on_attention(layer, h, scores, n_);
  for (int r0 = 0; r0 < n_; r0 += kCausalBlock) {
    const int r1 = std::min(n_, r0 + kCausalBlock);
    ops::gemm(false, false, r1 - r0, dh, r1, 1.0f, scores + static_cast<std::ptrdiff_t>(r0) * n_, n_, v, ld,
              0.0f, ctx_.data() + static_cast<std::ptrdiff_t>(r0) * d + h * dh, d);
  }
}

void DecoderWorkspace::attention(int layer, const LayerWeights& lw, const float* input, float* output,
                                 AttentionObserver* observer) {
  project_qkv(lw, input);
  if (c_.positions == PositionKind::kRotary && c_.rotary_dims > 0) rotate_qk();
  // Every family scales scores by head_dim^-0.5 (GPT-2 divides by sqrt(dh), NeoX multiplies by
  // norm_factor, OPT scales the query); GPT-2 optionally also by 1 / (layer + 1).
  float scale = 1.0f / std::sqrt(static_cast<float>(c_.head_dim));
  if (c_.scale_attn_by_inverse_layer_idx) scale /= static_cast<float>(layer + 1);
  {
    // Heads in parallel, each with single-threaded sgemm: the per-head products are small.
    ops::ScopedSingleThreadedBlas single;
    ops::parallel_for(c_.n_heads, threads_, [&](int h, int worker) {
      attention_head(layer, h, scale, scores_[sz(worker)].data(), observer);
    });
  }
  if (observer) observer->on_layer_end(layer);
  linear(lw.attn_out, ctx_.data(), output, c_.hidden_size);
}

void DecoderWorkspace::mlp(const LayerWeights& lw, const float* input, float* output) {
  const int ff = c_.intermediate_size;
  linear(lw.fc1, input, ff_.data(), ff);
  // Elementwise over (n, ff): contiguous chunks over the workers.
  const std::size_t total = ff_.size();
  const int chunks = threads_ * 4;
  ops::parallel_for(chunks, threads_, [&](int c, int) {
    const std::size_t b = total * static_cast<std::size_t>(c) / static_cast<std::size_t>(chunks);
    const std::size_t e = total * static_cast<std::size_t>(c + 1) / static_cast<std::size_t>(chunks);
    float* x = ff_.data() + b;
    switch (c_.activation) {
      case Activation::kGeluErf: ops::gelu_erf(x, e - b); break;
      case Activation::kGeluTanh: ops::gelu_tanh(x, e - b); break;
      case Activation::kRelu: ops::relu(x, e - b); break;
    }
  });
  linear(lw.fc2, ff_.data(), output, c_.hidden_size);
}

std::vector<float> DecoderWorkspace::run(std::span<const std::int32_t> ids, AttentionObserver* observer) {
  const std::size_t nd = x_.size();
  if (observer) observer->on_sequence(c_.n_layers, c_.n_heads, n_);
  embed(ids);
  for (int l = 0; l < c_.n_layers; ++l) {
    const LayerWeights& lw = w_.layers[sz(l)];
    if (c_.norm_placement == NormPlacement::kPost) {
      // OPT-350m: x = LN1(x + attn(x)); x = LN2(x + mlp(x)).
      attention(l, lw, x_.data(), attn_.data(), observer);
      ops::add_inplace(x_.data(), attn_.data(), nd);
      norm(lw.attn_norm, x_.data(), x_.data());
      mlp(lw, x_.data(), mlp_.data());
      ops::add_inplace(x_.data(), mlp_.data(), nd);
      norm(lw.mlp_norm, x_.data(), x_.data());
    } else if (c_.parallel_residual) {
      // GPT-NeoX: x = x + attn(LN1(x)) + mlp(LN2(x)).
      norm(lw.attn_norm, x_.data(), h_.data());
      attention(l, lw, h_.data(), attn_.data(), observer);
      norm(lw.mlp_norm, x_.data(), h_.data());
      mlp(lw, h_.data(), mlp_.data());
      for (std::size_t i = 0; i < nd; ++i) x_[i] = mlp_[i] + attn_[i] + x_[i];
    } else {
      // Pre-LN: x = x + attn(LN1(x)); x = x + mlp(LN2(x)).
      norm(lw.attn_norm, x_.data(), h_.data());
      attention(l, lw, h_.data(), attn_.data(), observer);
      ops::add_inplace(x_.data(), attn_.data(), nd);
      norm(lw.mlp_norm, x_.data(), h_.data());
      mlp(lw, h_.data(), mlp_.data());
      ops::add_inplace(x_.data(), mlp_.data(), nd);
    }
  }
  if (!w_.final_norm.weight.empty()) norm(w_.final_norm, x_.data(), x_.data());
  if (!w_.project_out.weight.empty()) {
    std::vector<float> out(sz(static_cast<long long>(n_) * c_.word_embed_dim));  // (n, e)
    linear(w_.project_out, x_.data(), out.data(), c_.word_embed_dim);
    return out;
  }
  return x_;
}

}  // namespace bentov
