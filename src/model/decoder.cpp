#include "decoder.h"


namespace bentov {

std::size_t buffer_width(const ModelConfig& c, Buf b) {
  const auto q_width = static_cast<std::size_t>(c.n_heads) * static_cast<std::size_t>(c.head_dim);
  const auto kv_width = static_cast<std::size_t>(c.kv_heads()) * static_cast<std::size_t>(c.head_dim);
  switch (b) {
    case Buf::kWords: case Buf::kOut: return static_cast<std::size_t>(c.word_embed_dim);
    case Buf::kQkv: return q_width + 2 * kv_width;
    case Buf::kCtx: return q_width;
    case Buf::kFf: case Buf::kUp: return static_cast<std::size_t>(c.intermediate_size);
    default: return static_cast<std::size_t>(c.hidden_size);
  }
}

namespace {

void attention_sublayer(const ModelConfig& c, const LayerWeights& lw, int layer, DecoderBackend& b, Buf in, Buf out,
                        AttentionObserver* observer) {
  const int q_width = c.n_heads * c.head_dim, kv_width = c.kv_heads() * c.head_dim;
  const int ld = q_width + 2 * kv_width;
  if (!lw.qkv.weight.empty()) {
    b.linear(lw.qkv, in, Buf::kQkv, 0, ld);
  } else {  // separate q/k/v written into the Q | K | V blocks
    b.linear(lw.q, in, Buf::kQkv, 0, ld);
    b.linear(lw.k, in, Buf::kQkv, q_width, ld);
    b.linear(lw.v, in, Buf::kQkv, q_width + kv_width, ld);
  }
  if (c.positions == PositionKind::kRotary && c.rotary_dims > 0) b.rotary();
  b.attention(layer, observer);
  b.linear(lw.attn_out, Buf::kCtx, out, 0, c.hidden_size);  // (n, H*dh) -> (n, d)
}

void mlp_sublayer(const ModelConfig& c, const LayerWeights& lw, DecoderBackend& b, Buf in, Buf out) {
  const bool gated = c.mlp == MlpKind::kGated;
  b.linear(lw.fc1, in, Buf::kFf, 0, c.intermediate_size);
  if (gated) b.linear(lw.up, in, Buf::kUp, 0, c.intermediate_size);
  b.activation(gated);
  b.linear(lw.fc2, Buf::kFf, out, 0, c.hidden_size);
}

// One layer in the config's block form (BlockKind, config.h), as the families' layers write it:
// GPT2Block / LlamaDecoderLayer (pre-norm), OPTDecoderLayer with do_layer_norm_before=False
// (post-norm), GPTNeoXLayer with use_parallel_residual (parallel), PhiDecoderLayer (parallel,
// one shared input_layernorm), Gemma2DecoderLayer (sandwich).
void layer(const ModelConfig& c, const LayerWeights& lw, int l, DecoderBackend& b, AttentionObserver* observer) {
  switch (c.block) {
    case BlockKind::kPostNorm:
      attention_sublayer(c, lw, l, b, Buf::kX, Buf::kAttn, observer);
      b.add(Buf::kX, Buf::kAttn);
      b.norm(lw.attn_norm, Buf::kX, Buf::kX);
      mlp_sublayer(c, lw, b, Buf::kX, Buf::kMlp);
      b.add(Buf::kX, Buf::kMlp);
      b.norm(lw.mlp_norm, Buf::kX, Buf::kX);
      return;
    case BlockKind::kParallel:
      b.norm(lw.attn_norm, Buf::kX, Buf::kH);
      attention_sublayer(c, lw, l, b, Buf::kH, Buf::kAttn, observer);
      b.norm(lw.mlp_norm, Buf::kX, Buf::kH);
      mlp_sublayer(c, lw, b, Buf::kH, Buf::kMlp);
      b.add_parallel_residual(Buf::kX, Buf::kAttn, Buf::kMlp);
      return;
    case BlockKind::kParallelSharedNorm:
      b.norm(lw.attn_norm, Buf::kX, Buf::kH);
      attention_sublayer(c, lw, l, b, Buf::kH, Buf::kAttn, observer);
      mlp_sublayer(c, lw, b, Buf::kH, Buf::kMlp);
      b.add_parallel_residual(Buf::kX, Buf::kAttn, Buf::kMlp);
      return;
    case BlockKind::kPreNorm:
    case BlockKind::kSandwich: {
      const bool sandwich = c.block == BlockKind::kSandwich;
      b.norm(lw.attn_norm, Buf::kX, Buf::kH);
      attention_sublayer(c, lw, l, b, Buf::kH, Buf::kAttn, observer);
      if (sandwich) b.norm(lw.attn_post_norm, Buf::kAttn, Buf::kAttn);
      b.add(Buf::kX, Buf::kAttn);
      b.norm(lw.mlp_norm, Buf::kX, Buf::kH);
      mlp_sublayer(c, lw, b, Buf::kH, Buf::kMlp);
      if (sandwich) b.norm(lw.mlp_post_norm, Buf::kMlp, Buf::kMlp);
      b.add(Buf::kX, Buf::kMlp);
      return;
    }
  }
}

}  // namespace

std::vector<float> run_decoder(const ModelConfig& c, const ModelWeights& w, DecoderBackend& b,
                               std::span<const std::int32_t> ids, AttentionObserver* observer, bool hidden) {
  if (observer) observer->on_sequence(c.n_layers, c.n_heads, static_cast<int>(ids.size()));
  b.set_tokens(ids);
  if (!w.project_in.weight.empty()) {
    b.linear(w.project_in, Buf::kWords, Buf::kX, 0, c.hidden_size);  // OPT-350m: (n, e) -> (n, d)
  } else {
    b.copy(Buf::kWords, Buf::kX);
  }
  // GPT-2: wpe[i]; OPT: embed_positions[i + 2] (OPTLearnedPositionalEmbedding offset).
  if (c.positions == PositionKind::kLearned) b.add_positions(Buf::kX);
  for (int l = 0; l < c.n_layers; ++l) layer(c, w.layers[static_cast<std::size_t>(l)], l, b, observer);
  if (!w.final_norm.weight.empty()) b.norm(w.final_norm, Buf::kX, Buf::kX);
  std::vector<float> last;
  if (hidden && !w.project_out.weight.empty()) {
    b.linear(w.project_out, Buf::kX, Buf::kOut, 0, c.word_embed_dim);
    last = b.download(Buf::kOut);
  } else if (hidden) {
    last = b.download(Buf::kX);
  }
  b.finish(observer);
  return last;
}

}  // namespace bentov
