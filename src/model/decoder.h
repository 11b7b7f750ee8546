// The one decoder forward pass: transformers' block structure for every family, written once
// over the operations a backend provides (DecoderBackend). The CPU backend is
// DecoderWorkspace (decoder_workspace.h: OpenBLAS tiles and AVX2 kernels), the CUDA backend
// cuda/cuda_model.cpp (cuBLAS and CUDA kernels). The sublayers follow transformers' eager code:
//   GPT2Block.forward / GPT2Attention (modeling_gpt2.py, eager_attention_forward),
//   GPTNeoXLayer.forward / GPTNeoXAttention (modeling_gpt_neox.py),
//   OPTDecoderLayer.forward / OPTAttention (modeling_opt.py),
//   LlamaDecoderLayer.forward / LlamaAttention / LlamaMLP / LlamaRMSNorm (modeling_llama.py;
//   Mistral and Qwen2 are the same with sliding windows and q/k/v biases),
//   PhiDecoderLayer.forward / PhiAttention (modeling_phi.py),
//   GemmaDecoderLayer / GemmaRMSNorm (modeling_gemma.py), Gemma2DecoderLayer.forward and
//   eager_attention_forward's softcapping (modeling_gemma2.py).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bentov/model/config.h"
#include "bentov/model/observer.h"
#include "bentov/model/weights.h"

namespace bentov {

// The activations of one forward pass, held by the backend (host or device memory), n rows each.
enum class Buf {
  kWords,  // (n, word_embed_dim) the token rows
  kX,      // (n, d) residual stream
  kH,      // (n, d) normalized input of a sublayer
  kQkv,    // (n, H*dh + 2*KV*dh) projections, layout config.qkv_layout
  kCtx,    // (n, H*dh) heads' outputs side by side
  kAttn,   // (n, d) attention sublayer output
  kFf,     // (n, intermediate) MLP hidden (the gate of a gated MLP)
  kUp,     // (n, intermediate) a gated MLP's up projection
  kMlp,    // (n, d) MLP sublayer output
  kOut,    // (n, word_embed_dim) after OPT-350m's project_out
};

// Row length of buffer b (floats), the same for every backend.
std::size_t buffer_width(const ModelConfig& c, Buf b);

// What the decoder needs of a backend. Weights are named by the host structs of ModelWeights;
// a backend maps them onto its own copy.
class DecoderBackend {
 public:
  virtual ~DecoderBackend() = default;
  // kWords (n, e) = the token embedding rows of ids (token_rows in embedding.h, scale included).
  virtual void set_tokens(std::span<const std::int32_t> ids) = 0;
  virtual void copy(Buf from, Buf to) = 0;                      // same width
  virtual void add_positions(Buf x) = 0;                        // x[i] += learned position row i + offset
  // out[:, col .. col + l.out) with row stride ldy = in W^T + b (or in W + b, Conv1D).
  virtual void linear(const Linear& l, Buf in, Buf out, int col, int ldy) = 0;
  virtual void norm(const LayerNormWeights& w, Buf in, Buf out) = 0;  // may be in place
  virtual void add(Buf x, Buf y) = 0;                                  // x += y
  virtual void add_parallel_residual(Buf x, Buf attn, Buf mlp) = 0;    // x = (mlp + attn) + x
  virtual void rotary() = 0;                                           // on the q and k heads of kQkv
  // kQkv -> kCtx: scores times config.score_scale(layer), soft-capped when
  // config.attn_logit_softcap is set, causal (windowed) softmax, the observer (probabilities by
  // row block, or row statistics), probabilities times V. Ends the layer for the observer.
  virtual void attention(int layer, AttentionObserver* observer) = 0;
  virtual void activation(bool gated) = 0;  // kFf = act(kFf), times kUp when gated
  virtual std::vector<float> download(Buf b) = 0;
  // After the last layer: what a backend deferred for the observer (the CUDA backend's row
  // statistics, delivered in one transfer).
  virtual void finish(AttentionObserver* observer) { (void)observer; }
};

// Returns the last hidden state (n, out_dim), or nothing unless `hidden`; attention goes to
// `observer` (may be null).
std::vector<float> run_decoder(const ModelConfig& c, const ModelWeights& w, DecoderBackend& backend,
                               std::span<const std::int32_t> ids, AttentionObserver* observer, bool hidden = true);

}  // namespace bentov
