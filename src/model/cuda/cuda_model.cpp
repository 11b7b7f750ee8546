// The CUDA backend of the decoder (decoder.h) on one NVIDIA GPU: every operation with the
// arithmetic of the CPU backend's (decoder_workspace.cpp), over cuBLAS products and the kernels
// of backend/cuda/kernels.h. Weights are uploaded once (fp16/bf16 as stored, widened on the
// GPU); a forward pass uploads the token ids (their embedding rows are gathered there) and rotary
// tables, downloads the last hidden state when asked for, and, for metrics, each layer's row
// statistics (backend/row_stats.h) into page-locked memory while the next layers run:
// probabilities leave the GPU only for an observer that asks for them (bentov attention,
// captures), one row block at a time. Several texts may share a pass, packed side by side.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "backend/cuda/attention.h"
#include "backend/cuda/context.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/phase_timer.h"
#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "model/decoder.h"
#include "model/device_model.h"
#include "model/embedding.h"

namespace bentov {

namespace {

using cuda::Buffer;

std::size_t sz(long long v) { return static_cast<std::size_t>(v); }

constexpr int kCausalBlock = 128;  // query rows per attention block, as the CPU backend

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
  Buffer<float> weight;            // fp32 compute: as stored, (out, in) or (in, out) for Conv1D
  Buffer<std::uint16_t> weight16;  // bf16 / fp16 compute: the same matrix in that type
  Buffer<float> bias;              // (out) or empty
  int in = 0, out = 0;
  bool in_by_out = false;
  bool empty() const { return weight.empty() && weight16.empty(); }
};

cuda::Precision precision_of(ComputeDtype d) {
  switch (d) {
    case ComputeDtype::kFloat32: return cuda::Precision::kFloat32;
    case ComputeDtype::kBFloat16: return cuda::Precision::kBFloat16;
    case ComputeDtype::kFloat16: return cuda::Precision::kFloat16;
  }
  return cuda::Precision::kFloat32;
}

struct DeviceNorm {
  Buffer<float> weight, bias;  // (d); bias empty for RMSNorm
  bool empty() const { return weight.empty(); }
};

struct DeviceLayer {
  DeviceNorm attn_norm, mlp_norm, attn_post_norm, mlp_post_norm;
  DeviceLinear qkv, q, k, v, attn_out, fc1, fc2, up;
};

class CudaModel final : public DeviceModel {
 public:
  CudaModel(const ModelConfig& c, std::shared_ptr<const ModelWeights> w, int device, const std::string& name,
            ComputeDtype dtype);
  std::vector<float> forward(std::span<const std::int32_t> ids, std::span<const int> lengths,
                             AttentionObserver* observer, bool hidden) const override;
  bool fits(int rows, bool statistics) const override;

  const ModelConfig& config() const { return c_; }
  const cuda::Context& context() const { return ctx_; }
  const DeviceLinear& on_device(const Linear& l) const { return *linears_.at(&l); }
  const DeviceNorm& on_device(const LayerNormWeights& n) const { return *norms_.at(&n); }
  const Buffer<float>& positions() const { return positions_; }
  const Buffer<unsigned char>& token_table() const { return token_table_; }
  cuda::Element token_element() const { return token_element_; }
  // Where a pass's row statistics land on the host (one pass at a time: forward holds mutex_).
  cuda::HostBuffer& statistics_on_host() const { return statistics_on_host_; }
  void check_fits(std::size_t bytes, const std::string& what, const std::string& hint) const;
  const std::string& name() const { return name_; }
  cuda::Precision precision() const { return precision_; }

 private:
  Buffer<float> upload_tensor(const FloatTensor& t) const;
  Buffer<std::uint16_t> upload_narrow(const FloatTensor& t) const;
  DeviceLinear upload_linear(const Linear& l) const;
  DeviceNorm upload_norm(const LayerNormWeights& n) const;
  void upload_token_table();

  ModelConfig c_;
  std::shared_ptr<const ModelWeights> weights_;
  const ModelWeights& w_;
  std::string name_;
  cuda::Precision precision_;
  cuda::Context ctx_;
  std::vector<DeviceLayer> layers_;
  DeviceLinear project_in_, project_out_;
  DeviceNorm final_norm_;
  Buffer<float> positions_;  // (max_positions + offset, d) learned position table, or empty
  Buffer<unsigned char> token_table_;  // (vocab, e) the token embedding as stored, token_element_ each
  cuda::Element token_element_ = cuda::Element::kF32;
  mutable cuda::HostBuffer statistics_on_host_;  // (L, H, n) HeadRowStats then (L, n) LayerRowStats of a pass
  // The device copy of each host weight the decoder names (run_decoder passes ModelWeights' own).
  std::unordered_map<const Linear*, const DeviceLinear*> linears_;
  std::unordered_map<const LayerNormWeights*, const DeviceNorm*> norms_;
  mutable std::mutex mutex_;  // one forward pass at a time on this model's stream
};

// One forward pass on the GPU, with its buffers (those of the CPU backend, decoder_workspace.h).
class CudaPass final : public DecoderBackend {
 public:
  // The texts' rows side by side, lengths[k] rows each, no attention across texts. statistics:
  // the observer takes row statistics (delivered by finish); probabilities: it takes
  // probabilities (row blocks through the host, one text only), so the attention materializes them.
  CudaPass(const CudaModel& m, std::span<const int> lengths, bool statistics, bool probabilities);

  // Device memory a pass over `rows` packed rows takes (the buffers below).
  static std::size_t bytes_needed(const CudaModel& m, int rows, bool statistics, bool probabilities);

  void set_tokens(std::span<const std::int32_t> ids) override;
  void copy(Buf from, Buf to) override;
  void add_positions(Buf x) override;
  void linear(const Linear& l, Buf in, Buf out, int col, int ldy) override;
  void norm(const LayerNormWeights& w, Buf in, Buf out) override;
  void add(Buf x, Buf y) override;
  void add_parallel_residual(Buf x, Buf attn, Buf mlp) override;
  void rotary() override;
  void attention(int layer, AttentionObserver* observer) override;
  void activation(bool gated) override;
  std::vector<float> download(Buf b) override;
  void finish(AttentionObserver* observer) override;

 private:
  float* buffer(Buf b);
  std::size_t width(Buf b) const;  // row length of b
  static std::size_t widest_input(const ModelConfig& c);  // the widest input of a product (floats per row)
  std::vector<cuda::QueryBlock> upload_query_blocks();  // returns the host copy
  void upload_statistics_plan(const std::vector<cuda::QueryBlock>& blocks);
  void upload_rotary_tables();
  cuda::HeadLayout head_layout() const;  // where the heads are in kQkv
  cuda::AttentionProblem attention_problem(int layer) const;
  void attention_by_row_blocks(int layer, AttentionObserver* observer);
  bool narrow_products() const { return m_.precision() != cuda::Precision::kFloat32; }
  // in16_ as the output copy of a kernel that writes buffer b (16-bit products only).
  cuda::Narrowed narrowed_copy(Buf b);
  void wrote(Buf b) {  // b changed: in16_ (qkv16_) no longer holds it
    if (narrowed_ == b) narrowed_.reset();
    if (b == Buf::kQkv) qkv16_current_ = false;
  }

  const CudaModel& m_;
  const ModelConfig& c_;
  const cuda::Context& ctx_;
  std::vector<int> lengths_;  // rows of each packed text
  std::vector<int> offsets_;  // first row of each text
  int n_;                     // rows of all texts
  int max_length_;            // the longest text
  int q_width_, kv_width_, qkv_ld_;  // H * dh, KV * dh, and qkv's row stride
  bool statistics_;                  // the observer takes row statistics (delivered by finish)
  bool probabilities_;               // the observer takes probabilities
  int block_rows_;                   // query rows per fused attention block
  int n_blocks_;
  Buffer<float> words_;   // (n, e)
  Buffer<float> x_, h_;   // (n, d)
  Buffer<float> qkv_;     // (n, qkv_ld_)
  Buffer<float> ctx_buf_; // (n, H*dh)
  Buffer<float> attn_, mlp_;  // (n, d)
  Buffer<float> ff_, up_;     // (n, intermediate); up_ only for a gated MLP
  Buffer<float> out_;         // (n, e) after project_out, else empty
  Buffer<float> scores_;      // (H, kCausalBlock, n) one row block of every head, with probabilities_
  Buffer<unsigned char> blocks_;  // (n_blocks_) cuda::QueryBlock, the fused attention's query blocks
  Buffer<float> row_max_, row_inv_;  // (H, n) the fused attention's row maxima and 1 / row sums
  Buffer<double> rest_mass_;         // (H, n) mass beyond the sink key
  Buffer<double> partials_;          // cuda::statistics_partial_doubles, with statistics_
  std::vector<cuda::Event> layer_downloaded_;  // (L) recorded after each layer's statistics downloads
  int splits_ = 1, tiles_per_split_ = 1;
  Buffer<unsigned char> statistics_items_;  // (n_statistics_items_) cuda::StatisticsItem, pass 3's CTAs
  int n_statistics_items_ = 0;
  Buffer<float> cos_, sin_;   // (n, rotary_dims / 2)
  Buffer<std::int32_t> rotated_dim_;  // (qkv_ld_) the rotated dim of a query or key head each column is, or -1
  Buffer<std::uint16_t> in16_;   // (n, widest product input) a product's input in bf16 / fp16
  // The buffer whose values in16_ holds, rounded: a norm or the activation writes its output
  // there as it goes, and the product that reads it next rounds nothing. In 16-bit modes the
  // activation's output exists only there (kFf keeps the pre-activation floats).
  std::optional<Buf> narrowed_;
  Buffer<std::uint16_t> qkv16_;  // (n, qkv_ld_) the attention's input in bf16 / fp16
  // qkv16_ holds kQkv as the attention takes it: the fused attention's rotary writes it there
  // as it rotates (kQkv's floats then stay unrotated, read by nothing after).
  bool qkv16_current_ = false;
  Buffer<unsigned char> head_stats_;   // (L, H, n) HeadRowStats, with statistics_
  Buffer<unsigned char> layer_stats_;  // (L, n) LayerRowStats
  cuda::PhaseTimer phases_;            // BENTOV_CUDA_PHASES: where the pass's time goes
};

CudaModel::CudaModel(const ModelConfig& c, std::shared_ptr<const ModelWeights> weights, int device,
                     const std::string& name, ComputeDtype dtype)
    : c_(c), weights_(std::move(weights)), w_(*weights_), name_(name), precision_(precision_of(dtype)), ctx_(device) {
  const ModelWeights& w = w_;
  std::size_t bytes = 0;
  const bool narrow = precision_ != cuda::Precision::kFloat32;
  for_each_linear(w, [&](const Linear& l) {
    bytes += float_bytes(l.weight) / (narrow ? 2 : 1) + float_bytes(l.bias);
  });
  bytes += float_bytes(w.position_embedding) + w.token_embedding->nbytes;
  check_fits(bytes + (std::size_t{256} << 20), name + "'s weights",
             "use --device cpu, or a GPU with more free memory");
  layers_.reserve(w.layers.size());
  for (const LayerWeights& l : w.layers) {
    DeviceLayer d;
    d.attn_norm = upload_norm(l.attn_norm);
    d.mlp_norm = upload_norm(l.mlp_norm);
    d.attn_post_norm = upload_norm(l.attn_post_norm);
    d.mlp_post_norm = upload_norm(l.mlp_post_norm);
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
  upload_token_table();
  ctx_.synchronize();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    DeviceLayer& d = layers_[i];
    for (auto [host, dev] : {std::pair{&l.qkv, &d.qkv}, {&l.q, &d.q}, {&l.k, &d.k}, {&l.v, &d.v},
                             {&l.attn_out, &d.attn_out}, {&l.fc1, &d.fc1}, {&l.fc2, &d.fc2}, {&l.up, &d.up}}) {
      linears_[host] = dev;
    }
    norms_[&l.attn_norm] = &d.attn_norm;
    norms_[&l.mlp_norm] = &d.mlp_norm;
    norms_[&l.attn_post_norm] = &d.attn_post_norm;
    norms_[&l.mlp_post_norm] = &d.mlp_post_norm;
  }
  linears_[&w.project_in] = &project_in_;
  linears_[&w.project_out] = &project_out_;
  norms_[&w.final_norm] = &final_norm_;
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

// A matrix for bf16 / fp16 compute: uploaded as stored when it is stored in that type, else
// widened (or taken as float32) and rounded to it on the GPU.
Buffer<std::uint16_t> CudaModel::upload_narrow(const FloatTensor& t) const {
  std::size_t count = 1;
  for (auto d : t.shape) count *= sz(d);
  Buffer<std::uint16_t> out(count);
  const io::DType same = precision_ == cuda::Precision::kBFloat16 ? io::DType::kBF16 : io::DType::kF16;
  if (!t.data && t.raw->dtype == same) {
    cuda::upload(ctx_, out.data(), t.raw->data, count * sizeof(std::uint16_t));
    return out;
  }
  const Buffer<float> wide = upload_tensor(t);
  cuda::narrow(wide.data(), out.data(), count, precision_, ctx_.stream());
  ctx_.synchronize();  // `wide` is freed on return
  return out;
}

// The token embedding as stored (rows are gathered and widened per pass, cuda::gather_rows).
void CudaModel::upload_token_table() {
  const io::TensorInfo& t = *w_.token_embedding;
  switch (t.dtype) {
    case io::DType::kF32: token_element_ = cuda::Element::kF32; break;
    case io::DType::kF16: token_element_ = cuda::Element::kF16; break;
    case io::DType::kBF16: token_element_ = cuda::Element::kBF16; break;
    default:
      throw UnsupportedError("tensor '" + t.name + "' has dtype " + io::dtype_name(t.dtype),
                             "bentov reads F32, F16 and BF16 weights");
  }
  token_table_ = Buffer<unsigned char>(t.nbytes);
  cuda::upload(ctx_, token_table_.data(), t.data, t.nbytes);
}

DeviceLinear CudaModel::upload_linear(const Linear& l) const {
  DeviceLinear d;
  if (l.weight.empty()) return d;
  if (precision_ == cuda::Precision::kFloat32) {
    d.weight = upload_tensor(l.weight);
  } else {
    d.weight16 = upload_narrow(l.weight);
  }
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

CudaPass::CudaPass(const CudaModel& m, std::span<const int> lengths, bool statistics, bool probabilities)
    : m_(m),
      c_(m.config()),
      ctx_(m.context()),
      lengths_(lengths.begin(), lengths.end()),
      offsets_(lengths.size()),
      n_(0),
      max_length_(0),
      q_width_(c_.n_heads * c_.head_dim),
      kv_width_(c_.kv_heads() * c_.head_dim),
      qkv_ld_(q_width_ + 2 * kv_width_),
      statistics_(statistics),
      probabilities_(probabilities),
      block_rows_(cuda::attention_block_rows(c_.head_dim)),
      n_blocks_(0),
      phases_(m.context().stream()) {
  for (std::size_t k = 0; k < lengths_.size(); ++k) {
    offsets_[k] = n_;
    n_ += lengths_[k];
    max_length_ = std::max(max_length_, lengths_[k]);
    n_blocks_ += (lengths_[k] + block_rows_ - 1) / block_rows_;
  }
  if (probabilities_ && lengths_.size() != 1) throw std::logic_error("probabilities are delivered for one text per pass");
  const cuda::HostSpan setup(phases_, "setup (host)");
  m_.check_fits(bytes_needed(m_, n_, statistics_, probabilities_), std::to_string(n_) + " tokens through " + m_.name(),
                "use a shorter text (--max-tokens for corpora), or --device cpu");
  const std::size_t nn = sz(n_), d = sz(c_.hidden_size), H = sz(c_.n_heads), L = sz(c_.n_layers);
  const cudaStream_t s = ctx_.stream();  // every buffer from the pool, back to it after the pass
  words_ = Buffer<float>(nn * sz(c_.word_embed_dim), s);
  x_ = Buffer<float>(nn * d, s);
  h_ = Buffer<float>(nn * d, s);
  qkv_ = Buffer<float>(nn * sz(qkv_ld_), s);
  ctx_buf_ = Buffer<float>(nn * sz(q_width_), s);
  attn_ = Buffer<float>(nn * d, s);
  mlp_ = Buffer<float>(nn * d, s);
  ff_ = Buffer<float>(nn * sz(c_.intermediate_size), s);
  if (c_.mlp == MlpKind::kGated) up_ = Buffer<float>(ff_.size(), s);
  out_ = Buffer<float>(nn * sz(c_.word_embed_dim), s);
  if (m_.precision() != cuda::Precision::kFloat32) {
    in16_ = Buffer<std::uint16_t>(nn * widest_input(c_), s);
    qkv16_ = Buffer<std::uint16_t>(nn * sz(qkv_ld_), s);
  }
  std::vector<cuda::QueryBlock> query_blocks;  // (n_blocks_) the fused attention's, host copy
  if (probabilities_) {
    scores_ = Buffer<float>(H * sz(kCausalBlock) * nn, s);
  } else {
    query_blocks = upload_query_blocks();
    row_max_ = Buffer<float>(H * nn, s);
    row_inv_ = Buffer<float>(H * nn, s);
    rest_mass_ = Buffer<double>(H * nn, s);
  }
  if (statistics_) {
    head_stats_ = Buffer<unsigned char>(L * H * nn * sizeof(HeadRowStats), s);
    layer_stats_ = Buffer<unsigned char>(L * nn * sizeof(LayerRowStats), s);
    m_.statistics_on_host().reserve(head_stats_.size() + layer_stats_.size());
    layer_downloaded_.resize(L);
    if (!probabilities_) upload_statistics_plan(query_blocks);
  }
  if (c_.positions == PositionKind::kRotary && c_.rotary_dims > 0) upload_rotary_tables();
}

// The fused attention's query blocks: each text's rows in blocks of block_rows_, its own keys only,
// by first row ascending across the texts (the kernels take the longest first: longest_first).
std::vector<cuda::QueryBlock> CudaPass::upload_query_blocks() {
  std::vector<cuda::QueryBlock> blocks;  // (n_blocks_)
  for (std::size_t k = 0; k < lengths_.size(); ++k) {
    for (int r0 = 0; r0 < lengths_[k]; r0 += block_rows_) blocks.push_back({offsets_[k], lengths_[k], r0});
  }
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const cuda::QueryBlock& a, const cuda::QueryBlock& b) { return a.r0 < b.r0; });
  blocks_ = Buffer<unsigned char>(blocks.size() * sizeof(cuda::QueryBlock), ctx_.stream());
  cuda::upload(ctx_, blocks_.data(), blocks.data(), blocks_.size());
  return blocks;
}

// Pass 3's key-tile ranges, CTAs and partial sums, for the kernels this pass's precision runs.
void CudaPass::upload_statistics_plan(const std::vector<cuda::QueryBlock>& blocks) {
  cuda::AttentionProblem p = attention_problem(0);
  if (narrow_products()) p.precision = m_.precision();
  const cuda::StatisticsPlan plan = cuda::plan_statistics(p, blocks, ctx_.multiprocessors());
  splits_ = plan.splits;
  tiles_per_split_ = plan.tiles_per_split;
  n_statistics_items_ = static_cast<int>(plan.items.size());
  statistics_items_ = Buffer<unsigned char>(plan.items.size() * sizeof(cuda::StatisticsItem), ctx_.stream());
  cuda::upload(ctx_, statistics_items_.data(), plan.items.data(), statistics_items_.size());
  partials_ = Buffer<double>(cuda::statistics_partial_doubles(p.rows, p.layout.heads, splits_), ctx_.stream());
}

// cos / sin (n, rotary_dims / 2) of every packed row at its position within its own text.
void CudaPass::upload_rotary_tables() {
  const std::size_t half = sz(c_.rotary_dims / 2), longest = sz(max_length_);
  std::vector<float> cos_by_position(longest * half), sin_by_position(longest * half);  // (max_length, half)
  rotary_tables(c_, max_length_, cos_by_position.data(), sin_by_position.data());
  std::vector<float> cos(sz(n_) * half), sin(sz(n_) * half);  // (n, half)
  for (std::size_t k = 0; k < lengths_.size(); ++k) {
    const std::size_t count = sz(lengths_[k]) * half, at = sz(offsets_[k]) * half;
    std::copy_n(cos_by_position.begin(), count, cos.begin() + static_cast<std::ptrdiff_t>(at));
    std::copy_n(sin_by_position.begin(), count, sin.begin() + static_cast<std::ptrdiff_t>(at));
  }
  // The rotated dims of the query heads (from q_base, q_stride apart) and key heads (rotary()).
  const cuda::HeadLayout L = head_layout();
  std::vector<std::int32_t> rotated_dim(sz(qkv_ld_), -1);  // (qkv_ld_)
  for (int col = 0; col < qkv_ld_; ++col) {
    const int qc = col - L.q_base, kc = col - L.k_base;
    if (qc >= 0 && qc < L.heads * L.q_stride && qc % L.q_stride < c_.rotary_dims) {
      rotated_dim[sz(col)] = qc % L.q_stride;
    } else if (kc >= 0 && kc < L.kv_heads * L.k_stride && kc % L.k_stride < c_.rotary_dims) {
      rotated_dim[sz(col)] = kc % L.k_stride;
    }
  }
  rotated_dim_ = Buffer<std::int32_t>(rotated_dim.size(), ctx_.stream());
  cuda::upload(ctx_, rotated_dim_.data(), rotated_dim.data(), rotated_dim.size() * sizeof(std::int32_t));
  cos_ = Buffer<float>(cos.size(), ctx_.stream());
  sin_ = Buffer<float>(sin.size(), ctx_.stream());
  cuda::upload(ctx_, cos_.data(), cos.data(), cos.size() * sizeof(float));
  cuda::upload(ctx_, sin_.data(), sin.data(), sin.size() * sizeof(float));
}

std::size_t CudaPass::bytes_needed(const CudaModel& m, int rows, bool statistics, bool probabilities) {
  const ModelConfig& c = m.config();
  const std::size_t nn = sz(rows), H = sz(c.n_heads), L = sz(c.n_layers);
  const std::size_t q_width = H * sz(c.head_dim), qkv_ld = q_width + 2 * sz(c.kv_heads()) * sz(c.head_dim);
  const std::size_t floats = nn * (5 * sz(c.hidden_size) + qkv_ld + q_width + 2 * sz(c.word_embed_dim) +
                                   (c.mlp == MlpKind::kGated ? 2 : 1) * sz(c.intermediate_size)) +
                             (probabilities ? H * sz(kCausalBlock) * nn : 0);
  const std::size_t row_scratch = probabilities ? 0 : H * nn * (2 * sizeof(float) + sizeof(double));
  // The statistics' partial sums, at their most splits (cuda::statistics_max_splits).
  const std::size_t partials =
      statistics ? cuda::statistics_partial_doubles(rows, c.n_heads, cuda::kStatisticsMaxSplits) * sizeof(double) : 0;
  const std::size_t stats = statistics ? L * nn * (H * sizeof(HeadRowStats) + sizeof(LayerRowStats)) : 0;
  const std::size_t narrow =
      m.precision() == cuda::Precision::kFloat32 ? 0 : nn * (widest_input(c) + qkv_ld) * sizeof(std::uint16_t);
  return floats * sizeof(float) + row_scratch + partials + stats + narrow;
}

std::size_t CudaPass::widest_input(const ModelConfig& c) {
  return std::max({sz(c.hidden_size), sz(c.n_heads) * sz(c.head_dim), sz(c.intermediate_size), sz(c.word_embed_dim)});
}

float* CudaPass::buffer(Buf b) {
  switch (b) {
    case Buf::kWords: return words_.data();
    case Buf::kX: return x_.data();
    case Buf::kH: return h_.data();
    case Buf::kQkv: return qkv_.data();
    case Buf::kCtx: return ctx_buf_.data();
    case Buf::kAttn: return attn_.data();
    case Buf::kFf: return ff_.data();
    case Buf::kUp: return up_.data();
    case Buf::kMlp: return mlp_.data();
    case Buf::kOut: return out_.data();
  }
  return nullptr;
}

std::size_t CudaPass::width(Buf b) const { return buffer_width(c_, b); }

void CudaPass::set_tokens(std::span<const std::int32_t> ids) {
  wrote(Buf::kWords);
  Buffer<std::int32_t> on_device(ids.size(), ctx_.stream());  // (n), back to the pool after the gather
  cuda::upload(ctx_, on_device.data(), ids.data(), ids.size_bytes());
  cuda::gather_rows(m_.token_table().data(), m_.token_element(), c_.word_embed_dim, on_device.data(), n_,
                    static_cast<float>(c_.embedding_scale), words_.data(), ctx_.stream());
}

void CudaPass::copy(Buf from, Buf to) {
  wrote(to);
  cuda::check(cudaMemcpyAsync(buffer(to), buffer(from), sz(n_) * width(from) * sizeof(float),
                              cudaMemcpyDeviceToDevice, ctx_.stream()),
              "cudaMemcpy (device)");
}

void CudaPass::add_positions(Buf x) {
  wrote(x);
  const std::size_t d = sz(c_.hidden_size);
  const float* first_position = m_.positions().data() + sz(c_.position_offset) * d;
  for (std::size_t k = 0; k < lengths_.size(); ++k) {  // each text from its own position 0
    cuda::add(buffer(x) + sz(offsets_[k]) * d, first_position, sz(lengths_[k]) * d, ctx_.stream());
  }
}

// out[:, col ..] (row stride ldy) = in W^T + b, or in W + b for Conv1D (the CPU's
// DecoderWorkspace::linear: the bias written first, the product accumulated onto it).
void CudaPass::linear(const Linear& host, Buf in, Buf out, int col, int ldy) {
  const cuda::Phase phase(phases_, "products");
  const DeviceLinear& l = m_.on_device(host);
  const float* x = buffer(in);
  float* y = buffer(out) + col;
  if (narrow_products()) {
    if (narrowed_ != in) cuda::narrow(x, in16_.data(), sz(n_) * sz(l.in), m_.precision(), ctx_.stream());
    narrowed_ = in;
    const bool bf16 = m_.precision() == cuda::Precision::kBFloat16;
    cuda::gemm_16_bias(ctx_, bf16, !l.in_by_out, n_, l.out, l.in, in16_.data(), l.in, l.weight16.data(),
                       l.in_by_out ? l.out : l.in, l.bias.empty() ? nullptr : l.bias.data(), y, ldy);
    wrote(out);
    return;
  }
  float beta = 0.0f;
  if (!l.bias.empty()) {
    cuda::fill_rows(y, ldy, n_, l.out, l.bias.data(), ctx_.stream());
    beta = 1.0f;
  }
  if (l.in_by_out) {
    cuda::gemm(ctx_, false, false, n_, l.out, l.in, 1.0f, x, l.in, l.weight.data(), l.out, beta, y, ldy);
  } else {
    cuda::gemm(ctx_, false, true, n_, l.out, l.in, 1.0f, x, l.in, l.weight.data(), l.in, beta, y, ldy);
  }
  wrote(out);
}

cuda::Narrowed CudaPass::narrowed_copy(Buf b) {
  if (!narrow_products()) return {};
  narrowed_ = b;
  return {in16_.data(), m_.precision() == cuda::Precision::kBFloat16};
}

void CudaPass::norm(const LayerNormWeights& host, Buf in, Buf out) {
  const cuda::Phase phase(phases_, "norms");
  const DeviceNorm& w = m_.on_device(host);
  wrote(out);
  const cuda::Narrowed copy = narrowed_copy(out);
  if (c_.norm_kind == NormKind::kRmsNorm) {
    cuda::rms_norm(buffer(in), buffer(out), n_, c_.hidden_size, w.weight.data(), c_.norm_eps, ctx_.stream(), copy);
  } else {
    cuda::layer_norm(buffer(in), buffer(out), n_, c_.hidden_size, w.weight.data(),
                     w.bias.empty() ? nullptr : w.bias.data(), c_.norm_eps, ctx_.stream(), copy);
  }
}

void CudaPass::add(Buf x, Buf y) {
  const cuda::Phase phase(phases_, "residual adds");
  wrote(x);
  cuda::add(buffer(x), buffer(y), sz(n_) * width(x), ctx_.stream());
}

void CudaPass::add_parallel_residual(Buf x, Buf attn, Buf mlp) {
  const cuda::Phase phase(phases_, "residual adds");
  wrote(x);
  cuda::add_parallel_residual(buffer(x), buffer(attn), buffer(mlp), sz(n_) * width(x), ctx_.stream());
}

// Query head h at column h * q_stride; key (and value) head g at k_base + g * k_stride
// (DecoderWorkspace::head_q / head_k / head_v).
void CudaPass::rotary() {
  const cuda::Phase phase(phases_, "rotary");
  wrote(Buf::kQkv);
  if (narrow_products() && !probabilities_) {
    const cuda::Narrowed to{qkv16_.data(), m_.precision() == cuda::Precision::kBFloat16};
    cuda::rotary_narrowed(qkv_.data(), n_, qkv_ld_, rotated_dim_.data(), c_.rotary_dims, cos_.data(), sin_.data(), to,
                          ctx_.stream());
    qkv16_current_ = true;
    return;
  }
  const cuda::HeadLayout L = head_layout();
  cuda::rotary(qkv_.data(), n_, qkv_ld_, L.heads, L.q_base, L.q_stride, L.kv_heads, L.k_base, L.k_stride,
               c_.rotary_dims, cos_.data(), sin_.data(), ctx_.stream());
}

cuda::HeadLayout CudaPass::head_layout() const {
  const int dh = c_.head_dim;
  const bool fused = c_.qkv_layout == QkvLayout::kPerHeadFused;
  cuda::HeadLayout L;
  L.ld = qkv_ld_;
  L.heads = c_.n_heads;
  L.kv_heads = fused ? c_.n_heads : c_.kv_heads();
  L.head_dim = dh;
  L.q_base = 0;
  L.q_stride = fused ? 3 * dh : dh;
  L.k_base = fused ? dh : q_width_;
  L.k_stride = fused ? 3 * dh : dh;
  L.v_base = fused ? 2 * dh : q_width_ + kv_width_;
  L.v_stride = L.k_stride;
  return L;
}

cuda::AttentionProblem CudaPass::attention_problem(int layer) const {
  cuda::AttentionProblem p;
  p.qkv = qkv_.data();
  p.precision = cuda::Precision::kFloat32;
  p.layout = head_layout();
  p.scale = c_.score_scale(layer);
  p.softcap = static_cast<float>(c_.attn_logit_softcap);
  p.window = c_.window(layer);
  p.blocks = reinterpret_cast<const cuda::QueryBlock*>(blocks_.data());
  p.n_blocks = n_blocks_;
  p.rows = n_;
  p.max_length = max_length_;
  return p;
}

// The fused attention (backend/cuda/attention.h): no probability leaves the GPU's shared memory.
void CudaPass::attention(int layer, AttentionObserver* observer) {
  wrote(Buf::kCtx);
  if (probabilities_) {
    attention_by_row_blocks(layer, observer);
    return;
  }
  cuda::AttentionProblem p = attention_problem(layer);
  cuda::Phase phase(phases_, "softmax");
  if (narrow_products()) {
    if (!qkv16_current_) cuda::narrow(qkv_.data(), qkv16_.data(), qkv16_.size(), m_.precision(), ctx_.stream());
    qkv16_current_ = true;
    p.qkv = qkv16_.data();
    p.precision = m_.precision();
  }
  cuda::AttentionScratch scratch;
  scratch.row_max = row_max_.data();
  scratch.row_inv = row_inv_.data();
  scratch.rest_mass = rest_mass_.data();
  scratch.partials = partials_.data();
  scratch.splits = splits_;
  scratch.tiles_per_split = tiles_per_split_;
  scratch.items = reinterpret_cast<const cuda::StatisticsItem*>(statistics_items_.data());
  scratch.n_items = n_statistics_items_;
  cuda::attention_softmax(p, scratch, ctx_buf_.data(), q_width_, ctx_.stream());
  if (statistics_) {
    phases_.start("statistics");
    const std::size_t nn = sz(n_), H = sz(c_.n_heads);
    auto* head_stats = reinterpret_cast<HeadRowStats*>(head_stats_.data()) + sz(layer) * H * nn;
    auto* layer_stats = reinterpret_cast<LayerRowStats*>(layer_stats_.data()) + sz(layer) * nn;
    cuda::attention_statistics(p, scratch, head_stats, layer_stats, ctx_.stream());
    // To the host while the next layers run (finish waits for it).
    unsigned char* host = m_.statistics_on_host().data();
    const std::size_t head_bytes = H * nn * sizeof(HeadRowStats), layer_bytes = nn * sizeof(LayerRowStats);
    cuda::download_async(ctx_, host + sz(layer) * head_bytes, head_stats, head_bytes);
    cuda::download_async(ctx_, host + head_stats_.size() + sz(layer) * layer_bytes, layer_stats, layer_bytes);
    layer_downloaded_[sz(layer)].record(ctx_);
  }
}

// Probabilities for an observer that takes them: every head's scores of a block of query rows
// through cuBLAS into one (H, kCausalBlock, n) buffer, softmaxed there, handed to the observer
// row block by row block, then multiplied with V.
void CudaPass::attention_by_row_blocks(int layer, AttentionObserver* observer) {
  const int n = n_, dh = c_.head_dim, H = c_.n_heads, ld = qkv_ld_;
  const bool fused = c_.qkv_layout == QkvLayout::kPerHeadFused;
  const int q_stride = fused ? 3 * dh : dh, k_base = fused ? dh : q_width_, k_stride = fused ? 3 * dh : dh;
  const int v_base = fused ? 2 * dh : q_width_ + kv_width_, v_stride = k_stride;
  const int group = H / c_.kv_heads();  // query head h reads key/value head h / group (repeat_kv)
  const float scale = c_.score_scale(layer);
  const float* qkv = qkv_.data();
  float* scores = scores_.data();
  const std::size_t head_stride = sz(kCausalBlock) * sz(n);
  std::vector<float> host_block;  // (r1 - r0, n) one head's rows, for an observer that takes them
  for (int r0 = 0; r0 < n; r0 += kCausalBlock) {
    const int r1 = std::min(n, r0 + kCausalBlock), rows = r1 - r0;
    for (int h = 0; h < H; ++h) {  // scores = scale * Q_h[r0:r1] K_g[0:r1]^T
      const int g = fused ? h : h / group;
      cuda::gemm(ctx_, false, true, rows, r1, dh, scale, qkv + sz(r0) * sz(ld) + h * q_stride, ld,
                 qkv + k_base + g * k_stride, ld, 0.0f, scores + sz(h) * head_stride, n);
    }
    if (c_.attn_logit_softcap > 0.0) {
      cuda::tanh_softcap(scores, H, head_stride, rows, r1, n, static_cast<float>(c_.attn_logit_softcap), ctx_.stream());
    }
    cuda::causal_softmax(scores, H, head_stride, r0, r1, n, c_.window(layer), ctx_.stream());
    if (observer) {
      host_block.resize(sz(rows) * sz(n));
      for (int h = 0; h < H; ++h) {
        cuda::download(ctx_, host_block.data(), scores + sz(h) * head_stride, host_block.size() * sizeof(float));
        observer->on_attention_rows(layer, h, r0, r1, host_block.data(), n);
      }
    }
    for (int h = 0; h < H; ++h) {  // ctx[r0:r1, h] = P_h V_g[0:r1]
      const int g = fused ? h : h / group;
      cuda::gemm(ctx_, false, false, rows, dh, r1, 1.0f, scores + sz(h) * head_stride, n, qkv + v_base + g * v_stride,
                 ld, 0.0f, ctx_buf_.data() + sz(r0) * sz(q_width_) + h * dh, q_width_);
    }
  }
  if (observer) observer->on_layer_end(layer);
}

void CudaPass::activation(bool gated) {
  const cuda::Phase phase(phases_, "activation");
  const float* up = gated ? up_.data() : nullptr;
  wrote(Buf::kFf);
  if (narrow_products()) {
    cuda::activation_narrowed(ff_.data(), up, ff_.size(), act_of(c_.activation), narrowed_copy(Buf::kFf),
                              ctx_.stream());
  } else {
    cuda::activation(ff_.data(), up, ff_.size(), act_of(c_.activation), ctx_.stream());
  }
}

std::vector<float> CudaPass::download(Buf b) {
  if (narrow_products() && b == Buf::kFf) throw std::logic_error("the activation's output is on the device in 16 bits only");
  std::vector<float> out(sz(n_) * width(b));
  cuda::download(ctx_, out.data(), buffer(b), out.size() * sizeof(float));
  return out;
}

// Every layer's row statistics, copied to page-locked host memory as its layer ended, handed to
// the observer layer by layer as each arrives, while the GPU runs the later layers.
void CudaPass::finish(AttentionObserver* observer) {
  if (!statistics_ || !observer) return;
  const std::size_t nn = sz(n_), H = sz(c_.n_heads);
  const unsigned char* host = m_.statistics_on_host().data();
  const auto* heads = reinterpret_cast<const HeadRowStats*>(host);                         // (L, H, n)
  const auto* rows = reinterpret_cast<const LayerRowStats*>(host + head_stats_.size());  // (L, n)
  // Each layer as soon as it is on the host: the observers' work overlaps the later layers'.
  for (int l = 0; l < c_.n_layers; ++l) {
    {
      const cuda::HostSpan wait(phases_, "wait (host)");
      layer_downloaded_[sz(l)].wait();
    }
    const cuda::HostSpan hand_off(phases_, "observers (host)");
    observer->on_row_statistics(l, c_.n_heads, n_, heads + sz(l) * H * nn, rows + sz(l) * nn);
    observer->on_layer_end(l);
  }
}

std::vector<float> CudaModel::forward(std::span<const std::int32_t> ids, std::span<const int> lengths,
                                     AttentionObserver* observer, bool hidden) const {
  std::lock_guard<std::mutex> lock(mutex_);
  ctx_.activate();
  const bool probabilities = observer && observer->wants_probabilities();
  CudaPass pass(*this, lengths, observer && !probabilities, probabilities);
  return run_decoder(c_, w_, pass, ids, observer, hidden);
}

bool CudaModel::fits(int rows, bool statistics) const {
  std::lock_guard<std::mutex> lock(mutex_);
  ctx_.activate();
  return CudaPass::bytes_needed(*this, rows, statistics, false) <= ctx_.free_bytes();
}

}  // namespace

std::unique_ptr<DeviceModel> upload_to_cuda(const ModelConfig& config, std::shared_ptr<const ModelWeights> weights,
                                            int device, const std::string& model_name, ComputeDtype dtype) {
  return std::make_unique<CudaModel>(config, std::move(weights), device, model_name, dtype);
}

}  // namespace bentov
