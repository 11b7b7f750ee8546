// The CPU backend of the decoder (decoder.h), with its buffers for one sequence.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bentov/model/config.h"
#include "bentov/model/observer.h"
#include "bentov/model/weights.h"
#include "bentov/ops/phase_clock.h"
#include "bentov/ops/tiles.h"
#include "decoder.h"

namespace bentov {

class Bf16Weights;

class DecoderWorkspace final : public DecoderBackend {
 public:
  // Attention runs in blocks of kCausalBlock query rows, every head of a block before the next
  // (observer.h); a block only needs the keys up to its last query, so the masked upper
  // triangle is never computed (half the work at large n), and no (n, n) buffer exists.
  static constexpr int kCausalBlock = 128;

  // threads: workers for projections, heads, norms and activations. With `bf16` (--dtype bf16)
  // the projections multiply those matrices by their inputs rounded to bf16, summing in float32;
  // everything else stays as in float32 (the attention takes the projections' float32 outputs,
  // as a bf16 product on tensor cores accumulates them, and the statistics sum in double).
  DecoderWorkspace(const ModelConfig& config, const ModelWeights& weights, int n, int threads,
                   const Bf16Weights* bf16 = nullptr);
  // The bytes a workspace for n tokens allocates (from the sizes the constructor allocates by).
  static std::uint64_t bytes_for(const ModelConfig& config, const ModelWeights& weights, int n, int threads,
                                 bool bf16 = false);

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

 private:
  struct Sizes {              // float counts
    std::size_t workers = 1;  // threads_
    std::size_t words = 0, per_token_d = 0, qkv = 0, ctx = 0, ff = 0, up = 0, out = 0;
    std::size_t scores = 0;   // per worker
    std::size_t widen = 0;    // per worker, when some matrix is widened on use
    std::size_t rotary = 0;   // each of cos and sin
    std::size_t in16 = 0;     // bf16 values (not floats) of a product's rounded input
  };
  static Sizes sizes(const ModelConfig& c, const ModelWeights& w, int n, int threads, bool bf16);

  float* buffer(Buf b);
  std::size_t width(Buf b) const;  // row length of b
  const float* head_q(int h) const;  // (n, dh) views with row stride qkv_ld_
  const float* head_k(int h) const;
  const float* head_v(int h) const;
  // Query rows [r0, r1) of one head: scores against keys < r1 only, softmax, observer, probs @ V.
  void attention_rows(int layer, int head, int r0, int r1, float scale, int worker, AttentionObserver* observer);
  void clear_scores_past(int worker, int r1);
  void linear(const Linear& l, const float* x, float* y, int ldy) const;
  void linear_bf16(const Linear& l, const float* x, float* y, int ldy) const;
  void round_rows_to_bf16(const float* x, int width) const;
  void linear_widening_on_use(const Linear& l, const ops::ProductTiles& tiles, const float* x, float* y, int ldy) const;
  void multiply_tile(const Linear& l, const ops::Tile& t, const float* x, const float* w_cols, int ldw, float* y,
                     int ldy) const;
  float write_bias(const Linear& l, float* y, int ldy, int rows, int c0, int c1) const;
  void norm(const LayerNormWeights& w, const float* x, float* y) const;

  const ModelConfig& c_;
  const ModelWeights& w_;
  const Bf16Weights* bf16_;    // null: float32 products
  mutable ops::PhaseClock phases_{"pass"};  // BENTOV_CPU_PHASES
  int n_;                      // sequence length
  int threads_;                // attention workers
  int q_width_;                // H * dh
  int kv_width_;               // KV * dh
  int qkv_ld_;                 // row stride of qkv_: q_width + 2 * kv_width (3d without GQA)
  std::vector<float> words_;   // (n, e) token embedding rows
  std::vector<float> x_;       // (n, d) residual stream
  std::vector<float> h_;       // (n, d) normalized input of a sublayer
  std::vector<float> qkv_;     // (n, qkv_ld_) projections, layout c_.qkv_layout
  std::vector<std::vector<float>> scores_;  // [worker] (kCausalBlock, n) a row block's scores, then probabilities
  std::vector<int> scores_cols_;            // [worker] its buffer's columns 0 .. this may hold non-zeros
  std::vector<float> ctx_;     // (n, H*dh) heads' outputs side by side (h*dh .. h*dh+dh)
  std::vector<float> attn_;    // (n, d) attention sublayer output
  std::vector<float> ff_;      // (n, intermediate) MLP hidden (the gate of a gated MLP)
  std::vector<float> up_;      // (n, intermediate) gated MLP's up projection, else empty
  std::vector<float> mlp_;     // (n, d) MLP sublayer output
  std::vector<float> out_;     // (n, e) after project_out (OPT-350m), else empty
  std::vector<float> cos_;     // (n, rotary_dims / 2) rotary tables
  std::vector<float> sin_;     // (n, rotary_dims / 2)
  // [worker] (in, col_block) or (col_block, in): one column tile of a weight widened on use
  // (WeightWidening::kOnUse; at most 256 columns, ops/tiles.h); empty when every weight is
  // float already. Workers write only their own block.
  mutable std::vector<std::vector<float>> widen_;
  // (n, widest product input) bf16: the input of the product running, rounded (bf16_ only).
  mutable std::vector<std::uint16_t> in16_;
};

}  // namespace bentov
