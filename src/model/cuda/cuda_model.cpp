// The generic decoder on one NVIDIA GPU: the same sublayers, in the same order and with the same
// arithmetic, as the CPU decoder (decoder_workspace.cpp, which names the transformers code each
// follows), over cuBLAS products and the kernels of backend/cuda/kernels.h. Weights are uploaded
// once (fp16/bf16 as stored, widened on the GPU); a forward pass uploads the token rows and
// rotary tables, downloads the last hidden state, and, for metrics, each layer's row statistics
// (backend/row_stats.h) once at the end: probabilities leave the GPU only for an observer that
// asks for them (bentov attention, captures), one row block at a time.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "backend/cuda/context.h"
#include "backend/cuda/kernels.h"
#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "model/device_model.h"
#include "model/embedding.h"

namespace bentov {

namespace {

using cuda::Buffer;

std::size_t sz(long long v) { return static_cast<std::size_t>(v); }

constexpr int kCausalBlock = 128;  // query rows per attention block, as the CPU decoder

cuda::Act act_of(Activation a) {
  switch (a) {
    case Activation::kGeluErf: return cuda::Act::kGeluErf;
    case Activation::kGeluTanh: return cuda::Act::kGeluTanh;
    case Activation::kRelu: return cuda::Act::kRelu;
    case Activation::kSilu: return cuda::Act::kSilu;
  }
  return cuda::Act::kGeluErf;
}

// Bytes a tensor takes on the GPU once widened.
std::size_t float_bytes(const FloatTensor& t) {
  std::size_t n = 1;
  for (auto d : t.shape) n *= sz(d);
  return t.empty() ? 0 : n * sizeof(float);
}

struct DeviceLinear {
  Buffer<float> weight;  // as stored: (out, in), or (in, out) for Conv1D
  Buffer<float> bias;    // (out) or empty
  int in = 0, out = 0;
  bool in_by_out = false;
  bool empty() const { return weight.empty(); }
};

struct DeviceNorm {
  Buffer<float> weight, bias;  // (d); bias empty for RMSNorm
  bool empty() const { return weight.empty(); }
};

struct DeviceLayer {
  DeviceNorm attn_norm, mlp_norm;
  DeviceLinear qkv, q, k, v, attn_out, fc1, fc2, up;
};

class CudaModel final : public DeviceModel {
 public:
  CudaModel(const ModelConfig& c, std::shared_ptr<const ModelWeights> w, int device, const std::string& name);
  std::vector<float> forward(std::span<const std::int32_t> ids, AttentionObserver* observer) const override;

 private:
  struct Pass;  // one forward pass's buffers

  Buffer<float> upload_tensor(const FloatTensor& t) const;
  DeviceLinear upload_linear(const Linear& l) const;
  DeviceNorm upload_norm(const LayerNormWeights& n) const;
  void check_fits(std::size_t bytes, const std::string& what, const std::string& hint) const;

  void linear(const DeviceLinear& l, const float* x, float* y, int ldy, int n) const;
  void norm(const DeviceNorm& w, const float* x, float* y, int n) const;
  void attention(Pass& p, int layer, const DeviceLayer& lw, const float* input, float* output,
                 AttentionObserver* observer) const;
  void mlp(Pass& p, const DeviceLayer& lw, const float* input, float* output) const;

  ModelConfig c_;
  std::shared_ptr<const ModelWeights> weights_;
  const ModelWeights& w_;
  std::string name_;
  cuda::Context ctx_;
  std::vector<DeviceLayer> layers_;
  DeviceLinear project_in_, project_out_;
  DeviceNorm final_norm_;
  Buffer<float> positions_;  // (max_positions + offset, d) learned position table, or empty
  mutable std::mutex mutex_;  // one forward pass at a time on this model's stream
};

struct CudaModel::Pass {
  int n = 0;
  int q_width = 0, kv_width = 0, qkv_ld = 0;
  Buffer<float> x, h, qkv, ctx, attn, ff, up, mlp;  // as the CPU decoder's buffers (decoder_workspace.h)
  Buffer<float> scores;   // (H, kCausalBlock, n) one row block of every head
  Buffer<float> cos, sin;  // (n, rotary_dims / 2)
  Buffer<unsigned char> head_stats;   // (L, H, n) HeadRowStats, when the observer takes statistics
  Buffer<unsigned char> layer_stats;  // (L, n) LayerRowStats
  bool statistics = false;
};

CudaModel::CudaModel(const ModelConfig& c, std::shared_ptr<const ModelWeights> weights, int device,
                     const std::string& name)
    : c_(c), weights_(std::move(weights)), w_(*weights_), name_(name), ctx_(device) {
  const ModelWeights& w = w_;
  std::size_t bytes = 0;
  for_each_linear(w, [&](const Linear& l) { bytes += float_bytes(l.weight) + float_bytes(l.bias); });
  bytes += float_bytes(w.position_embedding);
  check_fits(bytes + (std::size_t{256} << 20), name + "'s weights",
             "use --device cpu, or a GPU with more free memory");
  layers_.reserve(w.layers.size());
  for (const LayerWeights& l : w.layers) {
    DeviceLayer d;
    d.attn_norm = upload_norm(l.attn_norm);
    d.mlp_norm = upload_norm(l.mlp_norm);
    for (auto [dst, src] : {std::pair{&d.qkv, &l.qkv}, {&d.q, &l.q}, {&d.k, &l.k}, {&d.v, &l.v},
                            {&d.attn_out, &l.attn_out}, {&d.fc1, &l.fc1}, {&d.fc2, &l.fc2}, {&d.up, &l.up}}) {
      *dst = upload_linear(*src);
    }
    layers_.push_back(std::move(d));
  }
  project_in_ = upload_linear(w.project_in);
  project_out_ = upload_linear(w.project_out);
  final_norm_ = upload_norm(w.final_norm);
  positions_ = upload_tensor(w.position_embedding);
  ctx_.synchronize();
}

void CudaModel::check_fits(std::size_t bytes, const std::string& what, const std::string& hint) const {
  const std::size_t free = ctx_.free_bytes();
  if (bytes > free) {
    const auto gib = [](std::size_t b) { return std::to_string(static_cast<double>(b) / (1ull << 30)).substr(0, 5); };
    throw UnsupportedError(what + " need " + gib(bytes) + " GiB on cuda:" + std::to_string(ctx_.device()) + " (" +
                               ctx_.device_name() + "), which has " + gib(free) + " GiB free",
                           hint);
  }
}

// A float tensor as it is on the host; a raw fp16/bf16 one (left mapped, WeightWidening::kOnUse)
// uploaded as stored and widened on the GPU.
Buffer<float> CudaModel::upload_tensor(const FloatTensor& t) const {
  if (t.empty()) return {};
  std::size_t count = 1;
  for (auto d : t.shape) count *= sz(d);
  Buffer<float> out(count);
  if (t.data) {
    cuda::upload(ctx_, out.data(), t.data, count * sizeof(float));
    return out;
  }
  const io::TensorInfo& raw = *t.raw;
  Buffer<std::uint16_t> stored(count);
  cuda::upload(ctx_, stored.data(), raw.data, count * sizeof(std::uint16_t));
  if (raw.dtype == io::DType::kF16) {
    cuda::widen_f16(stored.data(), out.data(), count, ctx_.stream());
  } else if (raw.dtype == io::DType::kBF16) {
    cuda::widen_bf16(stored.data(), out.data(), count, ctx_.stream());
  } else {
    throw UnsupportedError("tensor '" + raw.name + "' has dtype " + io::dtype_name(raw.dtype),
                           "bentov reads F32, F16 and BF16 weights");
  }
  ctx_.synchronize();  // `stored` is freed on return
  return out;
}

DeviceLinear CudaModel::upload_linear(const Linear& l) const {
  DeviceLinear d;
  if (l.weight.empty()) return d;
  d.weight = upload_tensor(l.weight);
  d.bias = upload_tensor(l.bias);
  d.in = l.in, d.out = l.out, d.in_by_out = l.in_by_out;
  return d;
}

DeviceNorm CudaModel::upload_norm(const LayerNormWeights& n) const {
  DeviceNorm d;
  d.weight = upload_tensor(n.weight);
  d.bias = upload_tensor(n.bias);
  return d;
}

// y (n, out) with row stride ldy = x (n, in) W^T + b, or x W + b for Conv1D (the CPU's
// DecoderWorkspace::linear: the bias written first, the product accumulated onto it).
void CudaModel::linear(const DeviceLinear& l, const float* x, float* y, int ldy, int n) const {
  float beta = 0.0f;
  if (!l.bias.empty()) {
    cuda::fill_rows(y, ldy, n, l.out, l.bias.data(), ctx_.stream());
    beta = 1.0f;
  }
  if (l.in_by_out) {
    cuda::gemm(ctx_, false, false, n, l.out, l.in, 1.0f, x, l.in, l.weight.data(), l.out, beta, y, ldy);
  } else {
    cuda::gemm(ctx_, false, true, n, l.out, l.in, 1.0f, x, l.in, l.weight.data(), l.in, beta, y, ldy);
  }
}

void CudaModel::norm(const DeviceNorm& w, const float* x, float* y, int n) const {
  if (c_.norm_kind == NormKind::kRmsNorm) {
    cuda::rms_norm(x, y, n, c_.hidden_size, w.weight.data(), c_.norm_eps, ctx_.stream());
  } else {
    cuda::layer_norm(x, y, n, c_.hidden_size, w.weight.data(), w.bias.empty() ? nullptr : w.bias.data(), c_.norm_eps,
                     ctx_.stream());
  }
}

void CudaModel::attention(Pass& p, int layer, const DeviceLayer& lw, const float* input, float* output,
                          AttentionObserver* observer) const {
  const int n = p.n, dh = c_.head_dim, H = c_.n_heads, KV = c_.kv_heads(), ld = p.qkv_ld;
  float* qkv = p.qkv.data();
  if (!lw.qkv.empty()) {
    linear(lw.qkv, input, qkv, ld, n);
  } else {  // separate q/k/v into the Q | K | V blocks
    linear(lw.q, input, qkv, ld, n);
    linear(lw.k, input, qkv + p.q_width, ld, n);
    linear(lw.v, input, qkv + p.q_width + p.kv_width, ld, n);
  }
  // Column of query head h, key head g and value head g (DecoderWorkspace::head_q/k/v).
  const bool fused = c_.qkv_layout == QkvLayout::kPerHeadFused;
  const int q_stride = fused ? 3 * dh : dh, k_base = fused ? dh : p.q_width, k_stride = fused ? 3 * dh : dh;
  const int v_base = fused ? 2 * dh : p.q_width + p.kv_width, v_stride = fused ? 3 * dh : dh;
  if (c_.positions == PositionKind::kRotary && c_.rotary_dims > 0) {
    cuda::rotary(qkv, n, ld, H, 0, q_stride, fused ? H : KV, k_base, k_stride, c_.rotary_dims, p.cos.data(),
                 p.sin.data(), ctx_.stream());
  }
  float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  if (c_.scale_attn_by_inverse_layer_idx) scale /= static_cast<float>(layer + 1);
  const int group = H / KV;
  const std::size_t head_stride = sz(kCausalBlock) * sz(n);
  auto* head_stats = reinterpret_cast<HeadRowStats*>(p.head_stats.data()) + sz(layer) * sz(H) * sz(n);
  auto* layer_stats = reinterpret_cast<LayerRowStats*>(p.layer_stats.data()) + sz(layer) * sz(n);
  std::vector<float> host_block;  // (H, r1 - r0, n) for an observer that takes probabilities
  for (int r0 = 0; r0 < n; r0 += kCausalBlock) {
    const int r1 = std::min(n, r0 + kCausalBlock), rows = r1 - r0;
    for (int h = 0; h < H; ++h) {  // scores = scale * Q_h[r0:r1] K_g[0:r1]^T
      const int g = fused ? h : h / group;
      cuda::gemm(ctx_, false, true, rows, r1, dh, scale, qkv + sz(r0) * ld + h * q_stride, ld,
                 qkv + k_base + g * k_stride, ld, 0.0f, p.scores.data() + sz(h) * head_stride, n);
    }
    cuda::causal_softmax(p.scores.data(), H, head_stride, r0, r1, n, c_.window(layer), ctx_.stream());
    if (p.statistics) {
      cuda::row_statistics(p.scores.data(), H, head_stride, r0, r1, n, head_stats, layer_stats, ctx_.stream());
    } else if (observer) {
      host_block.resize(sz(rows) * sz(n));
      for (int h = 0; h < H; ++h) {
        cuda::download(ctx_, host_block.data(), p.scores.data() + sz(h) * head_stride, host_block.size() * sizeof(float));
        observer->on_attention_rows(layer, h, r0, r1, host_block.data(), n);
      }
    }
    for (int h = 0; h < H; ++h) {  // ctx[r0:r1, h] = P_h V_g[0:r1]
      const int g = fused ? h : h / group;
      cuda::gemm(ctx_, false, false, rows, dh, r1, 1.0f, p.scores.data() + sz(h) * head_stride, n,
                 qkv + v_base + g * v_stride, ld, 0.0f, p.ctx.data() + sz(r0) * sz(p.q_width) + h * dh, p.q_width);
    }
  }
  if (observer && !p.statistics) observer->on_layer_end(layer);
  linear(lw.attn_out, p.ctx.data(), output, c_.hidden_size, n);
}

void CudaModel::mlp(Pass& p, const DeviceLayer& lw, const float* input, float* output) const {
  const int ff = c_.intermediate_size;
  linear(lw.fc1, input, p.ff.data(), ff, p.n);
  const float* up = nullptr;
  if (c_.gated_mlp) {
    linear(lw.up, input, p.up.data(), ff, p.n);
    up = p.up.data();
  }
  cuda::activation(p.ff.data(), up, sz(p.n) * sz(ff), act_of(c_.activation), ctx_.stream());
  linear(lw.fc2, p.ff.data(), output, c_.hidden_size, p.n);
}

std::vector<float> CudaModel::forward(std::span<const std::int32_t> ids, AttentionObserver* observer) const {
  std::lock_guard<std::mutex> lock(mutex_);
  ctx_.activate();
  const int n = static_cast<int>(ids.size()), d = c_.hidden_size, H = c_.n_heads, L = c_.n_layers;
  Pass p;
  p.n = n;
  p.q_width = H * c_.head_dim;
  p.kv_width = c_.kv_heads() * c_.head_dim;
  p.qkv_ld = p.q_width + 2 * p.kv_width;
  p.statistics = observer && !observer->wants_probabilities();
  const std::size_t nn = sz(n);
  const std::size_t stats_bytes =
      p.statistics ? sz(L) * nn * (sz(H) * sizeof(HeadRowStats) + sizeof(LayerRowStats)) : 0;
  const std::size_t floats = nn * (4 * sz(d) + sz(p.qkv_ld) + sz(p.q_width) + sz(c_.word_embed_dim) +
                                   (c_.gated_mlp ? 2 : 1) * sz(c_.intermediate_size)) +
                             sz(H) * sz(std::min(n, kCausalBlock)) * nn;
  check_fits(floats * sizeof(float) + stats_bytes, std::to_string(n) + " tokens through " + name_,
             "use a shorter text (--max-tokens for corpora), or --device cpu");
  p.x = Buffer<float>(nn * sz(d));
  p.h = Buffer<float>(nn * sz(d));
  p.qkv = Buffer<float>(nn * sz(p.qkv_ld));
  p.ctx = Buffer<float>(nn * sz(p.q_width));
  p.attn = Buffer<float>(nn * sz(d));
  p.mlp = Buffer<float>(nn * sz(d));
  p.ff = Buffer<float>(nn * sz(c_.intermediate_size));
  if (c_.gated_mlp) p.up = Buffer<float>(p.ff.size());
  p.scores = Buffer<float>(sz(H) * sz(kCausalBlock) * nn);
  if (p.statistics) {
    p.head_stats = Buffer<unsigned char>(sz(L) * sz(H) * nn * sizeof(HeadRowStats));
    p.layer_stats = Buffer<unsigned char>(sz(L) * nn * sizeof(LayerRowStats));
  }
  if (c_.positions == PositionKind::kRotary && c_.rotary_dims > 0) {
    const std::size_t half = sz(c_.rotary_dims / 2);
    std::vector<float> cos(nn * half), sin(nn * half);
    rotary_tables(c_, n, cos.data(), sin.data());
    p.cos = Buffer<float>(cos.size());
    p.sin = Buffer<float>(sin.size());
    cuda::upload(ctx_, p.cos.data(), cos.data(), cos.size() * sizeof(float));
    cuda::upload(ctx_, p.sin.data(), sin.data(), sin.size() * sizeof(float));
  }
  if (observer) observer->on_sequence(L, H, n);

  // Embedding (DecoderWorkspace::embed): the ids' rows, OPT-350m's project_in, learned positions.
  const std::vector<float> words = token_rows(c_, w_, ids);  // (n, e)
  if (!project_in_.empty()) {
    Buffer<float> e(words.size());
    cuda::upload(ctx_, e.data(), words.data(), words.size() * sizeof(float));
    linear(project_in_, e.data(), p.x.data(), d, n);
    ctx_.synchronize();
  } else {
    cuda::upload(ctx_, p.x.data(), words.data(), words.size() * sizeof(float));
  }
  if (c_.positions == PositionKind::kLearned) {
    cuda::add(p.x.data(), positions_.data() + sz(c_.position_offset) * sz(d), nn * sz(d), ctx_.stream());
  }

  const std::size_t nd = nn * sz(d);
  float *x = p.x.data(), *h = p.h.data(), *attn = p.attn.data(), *mlp_out = p.mlp.data();
  for (int l = 0; l < L; ++l) {  // DecoderWorkspace::run
    const DeviceLayer& lw = layers_[sz(l)];
    if (c_.norm_placement == NormPlacement::kPost) {
      attention(p, l, lw, x, attn, observer);
      cuda::add(x, attn, nd, ctx_.stream());
      norm(lw.attn_norm, x, x, n);
      mlp(p, lw, x, mlp_out);
      cuda::add(x, mlp_out, nd, ctx_.stream());
      norm(lw.mlp_norm, x, x, n);
    } else if (c_.parallel_residual) {
      norm(lw.attn_norm, x, h, n);
      attention(p, l, lw, h, attn, observer);
      norm(lw.mlp_norm, x, h, n);
      mlp(p, lw, h, mlp_out);
      cuda::add_parallel_residual(x, attn, mlp_out, nd, ctx_.stream());
    } else {
      norm(lw.attn_norm, x, h, n);
      attention(p, l, lw, h, attn, observer);
      cuda::add(x, attn, nd, ctx_.stream());
      norm(lw.mlp_norm, x, h, n);
      mlp(p, lw, h, mlp_out);
      cuda::add(x, mlp_out, nd, ctx_.stream());
    }
  }
  if (!final_norm_.empty()) norm(final_norm_, x, x, n);
  std::vector<float> hidden;
  if (!project_out_.empty()) {
    Buffer<float> out(nn * sz(c_.word_embed_dim));
    linear(project_out_, x, out.data(), c_.word_embed_dim, n);
    hidden.resize(out.size());
    cuda::download(ctx_, hidden.data(), out.data(), hidden.size() * sizeof(float));
  } else {
    hidden.resize(nd);
    cuda::download(ctx_, hidden.data(), x, nd * sizeof(float));
  }
  if (p.statistics) {  // every layer's statistics in one transfer, after the whole pass
    std::vector<HeadRowStats> heads(sz(L) * sz(H) * nn);
    std::vector<LayerRowStats> rows(sz(L) * nn);
    cuda::download(ctx_, heads.data(), p.head_stats.data(), p.head_stats.size());
    cuda::download(ctx_, rows.data(), p.layer_stats.data(), p.layer_stats.size());
    for (int l = 0; l < L; ++l) {
      observer->on_row_statistics(l, H, n, heads.data() + sz(l) * sz(H) * nn, rows.data() + sz(l) * nn);
      observer->on_layer_end(l);
    }
  }
  return hidden;
}

}  // namespace

std::unique_ptr<DeviceModel> upload_to_cuda(const ModelConfig& config, std::shared_ptr<const ModelWeights> weights,
                                            int device, const std::string& model_name) {
  return std::make_unique<CudaModel>(config, std::move(weights), device, model_name);
}

}  // namespace bentov
