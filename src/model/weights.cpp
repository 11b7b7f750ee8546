#include "bentov/model/weights.h"

#include <algorithm>

#include <cstring>

#include "bentov/error.h"
#include "bentov/ops/convert.h"

namespace bentov {

namespace {

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

FloatTensor make_float_tensor(const io::TensorInfo& t) {
  FloatTensor f;
  f.name = t.name;
  f.shape = t.shape;
  if (t.dtype == io::DType::kF32 &&
      reinterpret_cast<std::uintptr_t>(t.data) % alignof(float) == 0) {
    f.data = reinterpret_cast<const float*>(t.data);  // zero copy from the map
  } else {
    if (t.dtype != io::DType::kF32 && t.dtype != io::DType::kF16 && t.dtype != io::DType::kBF16) {
      throw UnsupportedError("tensor '" + t.name + "' has dtype " + io::dtype_name(t.dtype),
                             "bentov reads F32, F16 and BF16 weights");
    }
    // Widen once into an owned buffer, then let the fp16/bf16 pages leave the resident set.
    const auto count = static_cast<std::size_t>(t.numel());
    f.owned = ops::allocate_floats(count);
    const auto* src = reinterpret_cast<const std::uint16_t*>(t.data);
    if (reinterpret_cast<std::uintptr_t>(t.data) % alignof(std::uint16_t) != 0) {
      const auto widened = io::to_float(t);  // odd offset (never written by safetensors): bytewise
      std::memcpy(f.owned.get(), widened.data(), count * sizeof(float));
    } else if (t.dtype == io::DType::kF16) {
      ops::f16_to_f32(src, f.owned.get(), count);
    } else if (t.dtype == io::DType::kBF16) {
      ops::bf16_to_f32(src, f.owned.get(), count);
    } else {  // an unaligned F32 tensor
      std::memcpy(f.owned.get(), t.data, count * sizeof(float));
    }
    ops::release_mapped_pages(t.data, t.nbytes);
    f.data = f.owned.get();
  }
  return f;
}

}  // namespace

WeightBinder::WeightBinder(const io::TensorStore& store, WeightWidening widening)
    : store_(&store), widening_(widening) {}

WeightBinder WeightBinder::recorder() { return WeightBinder(); }

void WeightBinder::choose_prefix(const std::vector<std::string>& candidates, const std::string& probe) {
  if (!store_) {
    prefix_ = candidates.front();
    return;
  }
  for (const auto& c : candidates) {
    if (store_->contains(c + probe)) {
      prefix_ = c;
      return;
    }
  }
  std::string some;
  auto names = store_->names();
  for (std::size_t i = 0; i < std::min<std::size_t>(3, names.size()); ++i) {
    some += (i ? ", " : "") + names[i];
  }
  throw FormatError("no tensor named like '" + candidates.front() + probe + "' in '" + store_->source().string() +
                        "' (it has: " + some + ", ...)",
                    "the weights belong to another architecture than config.json says");
}

bool WeightBinder::has(const std::string& name) const { return store_ && store_->contains(prefix_ + name); }

const io::TensorInfo& WeightBinder::record(const std::string& full, const std::vector<std::int64_t>& shape) {
  table_.push_back({full, shape, true});
  io::TensorInfo& t = zeros_.emplace_back();
  t.name = full;
  t.dtype = io::DType::kF32;
  t.shape = shape;
  auto& payload = zero_payloads_.emplace_back(static_cast<std::size_t>(t.numel()), 0.0f);
  t.data = reinterpret_cast<const std::byte*>(payload.data());
  t.nbytes = payload.size() * sizeof(float);
  return t;
}

const io::TensorInfo& WeightBinder::require_raw(const std::string& name,
                                                std::vector<std::int64_t> shape) {
  const auto full = prefix_ + name;
  if (!store_) return record(full, shape);
  const io::TensorInfo* t = store_->find(full);
  if (!t) {
    throw FormatError("tensor '" + full + "' is missing from '" + store_->source().string() + "'",
                      "the checkpoint does not match its config.json, or is incomplete");
  }
  if (t->shape != shape) {
    throw FormatError("tensor '" + full + "' has shape " + t->shape_string() + ", expected " +
                          shape_str(shape),
                      "the checkpoint does not match its config.json");
  }
  bound_ += t->numel();
  return *t;
}

FloatTensor WeightBinder::require(const std::string& name, std::vector<std::int64_t> shape) {
  return make_float_tensor(require_raw(name, std::move(shape)));
}

FloatTensor WeightBinder::require_matrix(const std::string& name, std::vector<std::int64_t> shape) {
  const io::TensorInfo& t = require_raw(name, std::move(shape));
  const bool half = t.dtype == io::DType::kF16 || t.dtype == io::DType::kBF16;
  if (widening_ == WeightWidening::kOnUse && half &&
      reinterpret_cast<std::uintptr_t>(t.data) % alignof(std::uint16_t) == 0) {
    FloatTensor f;
    f.name = t.name;
    f.shape = t.shape;
    f.raw = &t;
    return f;
  }
  return make_float_tensor(t);
}

FloatTensor WeightBinder::optional(const std::string& name, std::vector<std::int64_t> shape) {
  if (!store_) table_.push_back({prefix_ + name, shape, false});
  if (!has(name)) return {};
  return require(name, std::move(shape));
}

void widen_raw_matrices(ModelWeights& weights) {
  for_each_linear(weights, [](Linear& l) {
    if (l.weight.raw) l.weight = make_float_tensor(*l.weight.raw);
  });
}

void FloatTensor::read(std::size_t offset, std::size_t count, float* out) const {
  if (data) {
    std::memcpy(out, data + offset, count * sizeof(float));
    return;
  }
  const auto* src = reinterpret_cast<const std::uint16_t*>(raw->data) + offset;
  if (raw->dtype == io::DType::kF16) {
    ops::f16_to_f32(src, out, count);
  } else {
    ops::bf16_to_f32(src, out, count);
  }
}

double frob_sq(const FloatTensor& t, std::size_t offset, std::size_t count) {
  if (t.data) return frob_sq(t.data + offset, count);
  constexpr std::size_t kBlock = 4096;
  float block[kBlock];
  double s = 0.0;
  for (std::size_t done = 0; done < count; done += kBlock) {
    const std::size_t m = std::min(kBlock, count - done);
    t.read(offset + done, m, block);
    s += frob_sq(block, m);
  }
  return s;
}

double frob_sq(const float* data, std::size_t count) {
  double s = 0.0;
  for (std::size_t i = 0; i < count; ++i) s += static_cast<double>(data[i]) * data[i];
  return s;
}

}  // namespace bentov
