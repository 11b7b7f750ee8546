// The CPU backend of the decoder (decoder.h): OpenBLAS products in tiles fixed by their shapes,
// AVX2 kernels, heads and tiles spread over the workers.
#include "decoder_workspace.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "bentov/ops/bf16_gemm.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"
#include "bentov/ops/tiles.h"
#include "bf16_weights.h"
#include "embedding.h"

namespace bentov {

namespace {
std::size_t sz(long long v) { return static_cast<std::size_t>(v); }

}  // namespace

// Float counts of every buffer for n tokens: the constructor allocates by these, and
// bytes_for (the memory plan, Model::forward) sums them.
DecoderWorkspace::Sizes DecoderWorkspace::sizes(const ModelConfig& c, const ModelWeights& w, int n, int threads,
                                                bool bf16) {
  const std::size_t nn = sz(n), d = sz(c.hidden_size), ff = sz(c.intermediate_size);
  const std::size_t q_width = sz(c.n_heads) * sz(c.head_dim), kv_width = sz(c.kv_heads()) * sz(c.head_dim);
  Sizes z;
  z.workers = sz(std::max(1, std::min(threads, c.n_heads)));
  z.words = nn * sz(c.word_embed_dim);
  z.per_token_d = nn * d;  // x, h, attn, mlp
  z.qkv = nn * (q_width + 2 * kv_width);
  z.scores = sz(std::min(n, kCausalBlock)) * nn;
  z.ctx = nn * q_width;
  z.ff = nn * ff;
  z.up = c.mlp == MlpKind::kGated ? z.ff : 0;
  z.out = w.project_out.weight.empty() ? 0 : nn * sz(c.word_embed_dim);
  z.rotary = c.positions == PositionKind::kRotary ? nn * sz(c.rotary_dims / 2) : 0;
  std::size_t widest_raw = 0, widest_input = 0;  // the longest row of a matrix widened on use, of any
  for_each_linear(w, [&](const Linear& l) {
    if (l.weight.raw) widest_raw = std::max(widest_raw, sz(l.in));
    widest_input = std::max(widest_input, sz(l.in));
  });
  if (bf16) {
    z.in16 = nn * widest_input;  // bf16 products read no float32 matrix: nothing is widened
  } else {
    z.widen = widest_raw * sz(ops::kMaxWidenColBlock);
  }
  return z;
}

std::uint64_t DecoderWorkspace::bytes_for(const ModelConfig& c, const ModelWeights& w, int n, int threads,
                                          bool bf16) {
  const Sizes z = sizes(c, w, n, threads, bf16);
  const std::size_t floats = z.words + 4 * z.per_token_d + z.qkv + z.workers * (z.scores + z.widen) + z.ctx + z.ff +
                             z.up + z.out + 2 * z.rotary;
  return static_cast<std::uint64_t>(floats) * sizeof(float) + z.in16 * sizeof(std::uint16_t);
}

DecoderWorkspace::DecoderWorkspace(const ModelConfig& config, const ModelWeights& weights, int n,
                                   int threads, const Bf16Weights* bf16)
    : c_(config),
      w_(weights),
      bf16_(bf16),
      n_(n),
      threads_(std::max(1, std::min(threads, config.n_heads))),
      q_width_(config.n_heads * config.head_dim),
      kv_width_(config.kv_heads() * config.head_dim),
      qkv_ld_(q_width_ + 2 * kv_width_) {
  const Sizes z = sizes(c_, w_, n, threads, bf16 != nullptr);
  words_.resize(z.words);
  x_.resize(z.per_token_d);
  h_.resize(z.per_token_d);
  qkv_.resize(z.qkv);
  scores_.assign(z.workers, std::vector<float>(z.scores));
  scores_cols_.assign(z.workers, 0);  // the buffers start as zeros
  ctx_.resize(z.ctx);
  attn_.resize(z.per_token_d);
  ff_.resize(z.ff);
  up_.resize(z.up);
  mlp_.resize(z.per_token_d);
  out_.resize(z.out);
  if (z.widen) widen_.assign(z.workers, {});  // each grows to at most z.widen in the first product
  in16_.resize(z.in16);
  if (z.rotary) {
    cos_.resize(z.rotary);
    sin_.resize(z.rotary);
    rotary_tables(c_, n, cos_.data(), sin_.data());
  }
}

// y (n, out) with leading dimension ldy = x (n, in) W^T + b (nn.Linear) or x W + b (Conv1D).
// The output is cut into tiles fixed by its shape (ops/tiles.h), handed to the workers, each
// running a single-threaded sgemm per tile: OpenBLAS's own threads stay asleep, so they never
// spin against the attention workers (measured: 20% of the time went to their sched_yield when
// both were used). Every tile is the same call whoever runs it, and whether W was widened at
// load or is widened on use, so the result has the same bits for any number of workers and
// either widening, on every OpenBLAS core type (runs with any --threads, and mpirun ranks on
// one machine, give the same JSON).
void DecoderWorkspace::linear(const Linear& l, const float* x, float* y, int ldy) const {
  const ops::PhaseSpan span(phases_, "products");
  if (bf16_) {
    linear_bf16(l, x, y, ldy);
    return;
  }
  const ops::ProductTiles tiles =
      l.weight.data ? ops::product_tiles(n_, l.out) : ops::product_tiles(n_, l.out, ops::kMaxWidenColBlock);
  if (!l.weight.data) {
    linear_widening_on_use(l, tiles, x, y, ldy);
    return;
  }
  ops::parallel_for(tiles.count(), threads_, [&](int i, int) {
    const ops::Tile t = tiles.tile(i);
    const float* w_cols = l.in_by_out ? l.weight.data + t.c0 : l.weight.data + static_cast<std::ptrdiff_t>(t.c0) * l.in;
    multiply_tile(l, t, x, w_cols, l.in_by_out ? l.out : l.in, y, ldy);
  });
}

// y = x W^T (or x W) + b in bf16 (--dtype bf16): x rounded to bf16 once, then the same tiles
// as in float32, each one oneDNN matmul on its worker with float32 sums (ops/bf16_gemm.h).
void DecoderWorkspace::linear_bf16(const Linear& l, const float* x, float* y, int ldy) const {
  round_rows_to_bf16(x, l.in);
  const ops::ProductTiles tiles = ops::product_tiles(n_, l.out);
  const std::uint16_t* w = bf16_->of(l);  // (out, in), or (in, out) when l.in_by_out
  ops::parallel_for(tiles.count(), threads_, [&](int i, int) {
    const ops::Tile t = tiles.tile(i);
    const int rows = t.r1 - t.r0, cols = t.c1 - t.c0;
    const std::uint16_t* xt = in16_.data() + static_cast<std::ptrdiff_t>(t.r0) * l.in;  // (rows, in)
    float* yt = y + static_cast<std::ptrdiff_t>(t.r0) * ldy + t.c0;                     // (rows, cols), stride ldy
    const float beta = write_bias(l, yt, ldy, rows, t.c0, t.c1);
    if (l.in_by_out) {
      ops::gemm_bf16(rows, cols, l.in, xt, l.in, w + t.c0, false, l.out, beta, yt, ldy);
    } else {
      ops::gemm_bf16(rows, cols, l.in, xt, l.in, w + static_cast<std::ptrdiff_t>(t.c0) * l.in, true, l.in, beta, yt,
                     ldy);
    }
  });
}

// in16_'s first n rows of `width` = x (n, width) rounded to bf16, split by rows over the workers.
void DecoderWorkspace::round_rows_to_bf16(const float* x, int width) const {
  const int chunks = std::min(n_, threads_ * 4);
  ops::parallel_for(chunks, threads_, [&](int c, int) {
    const std::size_t r0 = sz(static_cast<long long>(n_) * c / chunks);
    const std::size_t r1 = sz(static_cast<long long>(n_) * (c + 1) / chunks);
    ops::round_to_bf16(x + r0 * sz(width), in16_.data() + r0 * sz(width), (r1 - r0) * sz(width));
  });
}

// y = x W^T (or x W) + b for a W still fp16/bf16 in the map: each worker takes a column tile,
// widens those columns of W into its own buffer, and multiplies them for every row block. Every
// weight is read once, from the map, and no fresh memory the size of the model is touched.
void DecoderWorkspace::linear_widening_on_use(const Linear& l, const ops::ProductTiles& tiles, const float* x,
                                              float* y, int ldy) const {
  ops::parallel_for(tiles.col_tiles(), threads_, [&](int c, int worker) {
    const int c0 = c * tiles.col_block;
    const int bc = std::min(tiles.col_block, l.out - c0);
    std::vector<float>& block = widen_[sz(worker)];  // (in, bc) for W (in, out), else (bc, in)
    block.resize(sz(bc) * sz(l.in));
    if (l.in_by_out) {  // row i of the block = W[i, c0 .. c0 + bc)
      for (int i = 0; i < l.in; ++i) {
        l.weight.read(sz(i) * sz(l.out) + sz(c0), sz(bc), block.data() + static_cast<std::ptrdiff_t>(i) * bc);
      }
    } else {  // rows c0 .. c0 + bc of W
      l.weight.read(sz(c0) * sz(l.in), sz(bc) * sz(l.in), block.data());
    }
    for (int r = 0; r < tiles.row_tiles(); ++r) {
      const ops::Tile t = tiles.tile(r * tiles.col_tiles() + c);
      multiply_tile(l, t, x, block.data(), l.in_by_out ? bc : l.in, y, ldy);
    }
  });
}

// Tile t of y = x W^T + b (or x W + b): w_cols points at W's column t.c0 (W (in, out), row
// stride ldw) or its row t.c0 (W (out, in), row stride ldw).
void DecoderWorkspace::multiply_tile(const Linear& l, const ops::Tile& t, const float* x, const float* w_cols,
                                     int ldw, float* y, int ldy) const {
  const int rows = t.r1 - t.r0, cols = t.c1 - t.c0;
  const float* xt = x + static_cast<std::ptrdiff_t>(t.r0) * l.in;  // (rows, in)
  float* yt = y + static_cast<std::ptrdiff_t>(t.r0) * ldy + t.c0;    // (rows, cols), row stride ldy
  const float beta = write_bias(l, yt, ldy, rows, t.c0, t.c1);
  ops::gemm(false, !l.in_by_out, rows, cols, l.in, 1.0f, xt, l.in, w_cols, ldw, beta, yt, ldy);
}

// y (rows, c1 - c0) with stride ldy, the output columns c0..c1 of some rows, set to the bias;
// returns the beta with which the product is then accumulated onto it (1), or 0 without a bias:
// one pass over y instead of sgemm's zeroing plus a bias pass.
float DecoderWorkspace::write_bias(const Linear& l, float* y, int ldy, int rows, int c0, int c1) const {
  if (l.bias.empty()) return 0.0f;
  for (int r = 0; r < rows; ++r) {
    std::memcpy(y + static_cast<std::ptrdiff_t>(r) * ldy, l.bias.data + c0, sz(c1 - c0) * sizeof(float));
  }
  return 1.0f;
}

void DecoderWorkspace::norm(const LayerNormWeights& w, const float* x, float* y) const {
  const ops::PhaseSpan span(phases_, "norms");
  // Rows are independent: split them over the workers.
  const int d = c_.hidden_size;
  const int chunks = std::min(n_, threads_ * 4);
  ops::parallel_for(chunks, threads_, [&](int c, int) {
    const int r0 = static_cast<int>(static_cast<long long>(n_) * c / chunks);
    const int r1 = static_cast<int>(static_cast<long long>(n_) * (c + 1) / chunks);
    const float* xr = x + static_cast<std::ptrdiff_t>(r0) * d;
    float* yr = y + static_cast<std::ptrdiff_t>(r0) * d;
    if (c_.norm_kind == NormKind::kRmsNorm) {
      ops::rms_norm_to(xr, yr, r1 - r0, d, w.weight.data, c_.norm_eps);
    } else {
      ops::layer_norm_to(xr, yr, r1 - r0, d, w.weight.data, w.bias.empty() ? nullptr : w.bias.data, c_.norm_eps);
    }
  });
}

float* DecoderWorkspace::buffer(Buf b) {
  switch (b) {
    case Buf::kWords: return words_.data();
    case Buf::kX: return x_.data();
    case Buf::kH: return h_.data();
    case Buf::kQkv: return qkv_.data();
    case Buf::kCtx: return ctx_.data();
    case Buf::kAttn: return attn_.data();
    case Buf::kFf: return ff_.data();
    case Buf::kUp: return up_.data();
    case Buf::kMlp: return mlp_.data();
    case Buf::kOut: return out_.data();
  }
  return nullptr;
}

std::size_t DecoderWorkspace::width(Buf b) const { return buffer_width(c_, b); }

void DecoderWorkspace::set_tokens(std::span<const std::int32_t> ids) {
  const ops::PhaseSpan span(phases_, "embedding");
  const std::vector<float> rows = token_rows(c_, w_, ids);  // (n, e)
  std::copy(rows.begin(), rows.end(), words_.begin());
}

void DecoderWorkspace::copy(Buf from, Buf to) {
  const ops::PhaseSpan span(phases_, "elementwise");
  std::memcpy(buffer(to), buffer(from), sz(n_) * width(from) * sizeof(float));
}

void DecoderWorkspace::add_positions(Buf x) {
  const ops::PhaseSpan span(phases_, "elementwise");
  const int d = c_.hidden_size;
  for (int i = 0; i < n_; ++i) {
    const float* pos = w_.position_embedding.data + static_cast<std::ptrdiff_t>(i + c_.position_offset) * d;
    ops::add_inplace(buffer(x) + static_cast<std::ptrdiff_t>(i) * d, pos, sz(d));
  }
}

void DecoderWorkspace::linear(const Linear& l, Buf in, Buf out, int col, int ldy) {
  linear(l, buffer(in), buffer(out) + col, ldy);
}

void DecoderWorkspace::norm(const LayerNormWeights& w, Buf in, Buf out) { norm(w, buffer(in), buffer(out)); }

void DecoderWorkspace::add(Buf x, Buf y) {
  const ops::PhaseSpan span(phases_, "elementwise");
  ops::add_inplace(buffer(x), buffer(y), sz(n_) * width(x));
}

void DecoderWorkspace::add_parallel_residual(Buf x, Buf attn, Buf mlp) {
  const ops::PhaseSpan span(phases_, "elementwise");
  float* xs = buffer(x);
  const float *a = buffer(attn), *m = buffer(mlp);
  const std::size_t count = sz(n_) * width(x);
  for (std::size_t i = 0; i < count; ++i) xs[i] = m[i] + a[i] + xs[i];
}

std::vector<float> DecoderWorkspace::download(Buf b) {
  const float* p = buffer(b);
  return std::vector<float>(p, p + sz(n_) * width(b));
}

const float* DecoderWorkspace::head_q(int h) const {
  const int dh = c_.head_dim;
  return qkv_.data() + (c_.qkv_layout == QkvLayout::kPerHeadFused ? h * 3 * dh : h * dh);
}

// Query head h reads key/value head h / (H / KV) (transformers' repeat_kv).
const float* DecoderWorkspace::head_k(int h) const {
  const int dh = c_.head_dim;
  if (c_.qkv_layout == QkvLayout::kPerHeadFused) return qkv_.data() + h * 3 * dh + dh;
  const int g = h / (c_.n_heads / c_.kv_heads());
  return qkv_.data() + q_width_ + g * dh;
}

const float* DecoderWorkspace::head_v(int h) const {
  const int dh = c_.head_dim;
  if (c_.qkv_layout == QkvLayout::kPerHeadFused) return qkv_.data() + h * 3 * dh + 2 * dh;
  const int g = h / (c_.n_heads / c_.kv_heads());
  return qkv_.data() + q_width_ + kv_width_ + g * dh;
}

void DecoderWorkspace::rotary() {
  const ops::PhaseSpan span(phases_, "rotary");
  const int half = c_.rotary_dims / 2, dh = c_.head_dim;
  const bool fused = c_.qkv_layout == QkvLayout::kPerHeadFused;
  for (int i = 0; i < n_; ++i) {
    float* row = qkv_.data() + static_cast<std::ptrdiff_t>(i) * qkv_ld_;
    const float* cr = cos_.data() + static_cast<std::ptrdiff_t>(i) * half;
    const float* sr = sin_.data() + static_cast<std::ptrdiff_t>(i) * half;
    for (int h = 0; h < c_.n_heads; ++h) {
      ops::apply_rotary(row + (fused ? h * 3 * dh : h * dh), c_.rotary_dims, cr, sr);
      if (fused) ops::apply_rotary(row + h * 3 * dh + dh, c_.rotary_dims, cr, sr);
    }
    if (!fused) {  // each key head once
      for (int g = 0; g < c_.kv_heads(); ++g) ops::apply_rotary(row + q_width_ + g * dh, c_.rotary_dims, cr, sr);
    }
  }
}


// Query rows [r0, r1) of one head: scores against keys 0..r1-1 only (the causal block),
// softmax, observer, then probs @ V into the head's columns of the context rows, in the
// worker's (kCausalBlock, n) scores buffer.
void DecoderWorkspace::attention_rows(int layer, int h, int r0, int r1, float scale, int worker,
                                      AttentionObserver* observer) {
  const int dh = c_.head_dim, ld = qkv_ld_;
  const float* q = head_q(h);  // (n, dh) with row stride qkv_ld_
  const float* k = head_k(h);
  const float* v = head_v(h);
  float* scores = scores_[sz(worker)].data();
  {
    const ops::PhaseSpan span(phases_, "attention scores (workers)");
    ops::gemm(false, true, r1 - r0, r1, dh, scale, q + static_cast<std::ptrdiff_t>(r0) * ld, ld, k, ld, 0.0f,
              scores, n_);
    if (c_.attn_logit_softcap > 0.0) {
      ops::tanh_softcap(scores, r1 - r0, r1, n_, static_cast<float>(c_.attn_logit_softcap));
    }
  }
  {
    const ops::PhaseSpan span(phases_, "attention softmax (workers)");
    // Reads k <= q only (and k > q - window), writes exact zeros elsewhere up to column r1.
    ops::causal_softmax_rows(scores, r0, r1, n_, c_.window(layer));
    clear_scores_past(worker, r1);
  }
  if (observer) {
    const ops::PhaseSpan span(phases_, "attention observer (workers)");
    observer->on_attention_rows(layer, h, r0, r1, scores, n_);
  }
  const ops::PhaseSpan span(phases_, "attention values (workers)");
  ops::gemm(false, false, r1 - r0, dh, r1, 1.0f, scores, n_, v, ld, 0.0f,
            ctx_.data() + static_cast<std::ptrdiff_t>(r0) * q_width_ + h * dh, q_width_);
}

// The observer reads whole rows, zero past the diagonal (observer.h); the softmax writes the
// block's columns 0 .. r1 - 1. Columns from r1 on hold what an earlier block of more columns
// (the previous layer's) left, cleared here once: a layer's blocks only widen, so zeroing
// every row past its diagonal, as many values as the probabilities, is not repeated per block.
void DecoderWorkspace::clear_scores_past(int worker, int r1) {
  int& cols = scores_cols_[sz(worker)];
  if (cols > r1) {  // only a block of kCausalBlock rows ends before an earlier one (r1 < n)
    float* scores = scores_[sz(worker)].data();
    for (int r = 0; r < kCausalBlock; ++r) {
      std::fill(scores + static_cast<std::ptrdiff_t>(r) * n_ + r1, scores + static_cast<std::ptrdiff_t>(r) * n_ + cols, 0.0f);
    }
  }
  cols = r1;
}

void DecoderWorkspace::attention(int layer, AttentionObserver* observer) {
  const ops::PhaseSpan span(phases_, "attention");
  const float scale = c_.score_scale(layer);
  // Row blocks in order, every head of a block before the next block (the observer contract,
  // observer.h): no (n, n) buffer exists. Heads of a block run in parallel, each with
  // single-threaded sgemm (Model::forward keeps OpenBLAS at one thread: all parallelism is ours).
  for (int r0 = 0; r0 < n_; r0 += kCausalBlock) {
    const int r1 = std::min(n_, r0 + kCausalBlock);
    ops::parallel_for(c_.n_heads, threads_, [&](int h, int worker) {
      attention_rows(layer, h, r0, r1, scale, worker, observer);
    });
  }
  if (observer) {
    const ops::PhaseSpan layer_end(phases_, "observer layer end");
    observer->on_layer_end(layer);
  }
}

void DecoderWorkspace::activation(bool gated) {
  const ops::PhaseSpan span(phases_, "activation");
  // Elementwise over (n, ff): contiguous chunks over the workers.
  const std::size_t total = ff_.size();
  const int chunks = threads_ * 4;
  ops::parallel_for(chunks, threads_, [&](int c, int) {
    const std::size_t b = total * static_cast<std::size_t>(c) / static_cast<std::size_t>(chunks);
    const std::size_t e = total * static_cast<std::size_t>(c + 1) / static_cast<std::size_t>(chunks);
    float* x = ff_.data() + b;
    const float* up = gated ? up_.data() + b : nullptr;  // act(gate) * up for any activation
    switch (c_.activation) {
      case Activation::kGeluErf: ops::gelu_erf(x, e - b); break;
      case Activation::kGeluTanh: ops::gelu_tanh(x, e - b); break;
      case Activation::kRelu: ops::relu(x, e - b); break;
      case Activation::kSilu:
        if (up) {
          ops::silu_mul(x, up, e - b);  // one rounding of silu(gate) * up, as LlamaMLP in float32
          up = nullptr;
        } else {
          std::vector<float> ones(e - b, 1.0f);
          ops::silu_mul(x, ones.data(), e - b);
        }
        break;
    }
    if (up) {
      for (std::size_t i = 0; i < e - b; ++i) x[i] *= up[i];
    }
  });
}

}  // namespace bentov
