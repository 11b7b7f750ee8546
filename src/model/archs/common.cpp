#include "archs.h"

#include "bentov/error.h"

namespace bentov::archs {

Linear bind_linear(WeightBinder& b, const std::string& name, int in, int out, bool bias) {
  Linear l;
  l.in = in;
  l.out = out;
  l.in_by_out = false;
  l.weight = b.require_matrix(name + ".weight", {out, in});
  if (bias) l.bias = b.require(name + ".bias", {out});
  return l;
}

Linear bind_conv1d(WeightBinder& b, const std::string& name, int in, int out) {
  Linear l;
  l.in = in;
  l.out = out;
  l.in_by_out = true;
  l.weight = b.require_matrix(name + ".weight", {in, out});
  l.bias = b.require(name + ".bias", {out});
  return l;
}

LayerNormWeights bind_layer_norm(WeightBinder& b, const std::string& name, int d, bool affine) {
  LayerNormWeights n;
  if (!affine) return n;
  n.weight = b.require(name + ".weight", {d});
  n.bias = b.optional(name + ".bias", {d});
  return n;
}

Activation parse_activation(const std::string& name, const char* key) {
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::kGeluTanh;
  if (name == "relu") return Activation::kRelu;
  throw UnsupportedError(std::string("config.json: ") + key + " '" + name + "' is not supported",
                         "bentov supports gelu, gelu_new and relu");
}

void check_heads(const ModelConfig& c) {
  if (c.hidden_size % c.n_heads != 0) {
    throw ConfigError("config.json: hidden size " + std::to_string(c.hidden_size) +
                          " is not divisible by " + std::to_string(c.n_heads) + " heads",
                      "the config.json is corrupt");
  }
}

}  // namespace bentov::archs
