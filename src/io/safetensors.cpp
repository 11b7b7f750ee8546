#include "bentov/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "bentov/io/json_file.h"
#include "bentov/ops/convert.h"
#include "bentov/io/pytorch_bin.h"

namespace bentov::io {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kHeaderHint =
    "the file is truncated or not a safetensors checkpoint; re-download it";

struct DTypeEntry {
  const char* name;
  DType dtype;
  std::size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {"F64", DType::kF64, 8}, {"F32", DType::kF32, 4}, {"F16", DType::kF16, 2},
    {"BF16", DType::kBF16, 2}, {"I64", DType::kI64, 8}, {"I32", DType::kI32, 4},
    {"I16", DType::kI16, 2}, {"I8", DType::kI8, 1},   {"U8", DType::kU8, 1},
    {"BOOL", DType::kBool, 1},
};

DType parse_dtype(const std::string& s, const std::string& tensor, const fs::path& file) {
  for (const auto& e : kDTypes) {
    if (s == e.name) return e.dtype;
  }
  throw FormatError("'" + file.string() + "': tensor '" + tensor + "' has unknown dtype '" + s +
                        "'",
                    "bentov reads F32, F16 and BF16 weights (F64, integer and BOOL buffers are "
                    "accepted); convert the checkpoint with safetensors");
}

std::uint64_t read_u64_le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

// Checked product of the shape's dims times the element size: the byte length a tensor needs.
std::uint64_t checked_nbytes(const std::vector<std::int64_t>& shape, std::size_t elem,
                             const std::string& tensor, const fs::path& file) {
  std::uint64_t n = elem;
  for (auto d : shape) {
    if (d < 0) {
      throw FormatError("'" + file.string() + "': tensor '" + tensor + "' has a negative dimension",
                        kHeaderHint);
    }
    auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && n > std::numeric_limits<std::uint64_t>::max() / ud) {
      throw FormatError(
          "'" + file.string() + "': tensor '" + tensor + "' has a shape whose size overflows",
          kHeaderHint);
    }
    n *= ud;
  }
  return n;
}

TensorInfo parse_entry(const std::string& name, const json& entry, const fs::path& file,
                       const std::byte* data, std::uint64_t data_size) {
  auto fail = [&](const std::string& what) {
    throw FormatError("'" + file.string() + "': tensor '" + name + "' " + what, kHeaderHint);
  };
  if (!entry.is_object()) fail("is not a JSON object in the header");
  auto dt = entry.find("dtype");
  auto sh = entry.find("shape");
  auto off = entry.find("data_offsets");
  if (dt == entry.end() || !dt->is_string()) fail("has no string 'dtype'");
  if (sh == entry.end() || !sh->is_array()) fail("has no 'shape' array");
  if (off == entry.end() || !off->is_array() || off->size() != 2) fail("has no 'data_offsets' pair");
  if (sh->size() > 16) fail("has more than 16 dimensions");

  TensorInfo t;
  t.name = name;
  t.file = file;
  t.dtype = parse_dtype(dt->get<std::string>(), name, file);
  for (const auto& d : *sh) {
    if (!d.is_number_integer()) fail("has a non-integer dimension");
    if (d.is_number_unsigned() && d.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max())
      fail("has a dimension out of range");
    t.shape.push_back(d.get<std::int64_t>());
  }
  for (const auto& o : *off) {
    if (!o.is_number_unsigned()) fail("has a negative or non-integer data offset");
  }
  const auto begin = (*off)[0].get<std::uint64_t>();
  const auto end = (*off)[1].get<std::uint64_t>();
  if (begin > end) fail("has data_offsets with begin > end");
  if (end > data_size) {
    fail("has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
         "] past the end of the data (" + std::to_string(data_size) + " bytes)");
  }
  const auto need = checked_nbytes(t.shape, dtype_size(t.dtype), name, file);
  if (need != end - begin) {
    fail("has shape " + t.shape_string() + " x " + dtype_name(t.dtype) + " = " +
         std::to_string(need) + " bytes but its data_offsets span " + std::to_string(end - begin));
  }
  t.data = data + begin;
  t.nbytes = static_cast<std::size_t>(end - begin);
  return t;
}

void check_no_overlap(const std::map<std::string, TensorInfo>& tensors, const fs::path& file) {
  std::vector<const TensorInfo*> order;
  for (const auto& [_, t] : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->data < b->data; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->data + order[i - 1]->nbytes > order[i]->data) {
      throw FormatError("'" + file.string() + "': tensors '" + order[i - 1]->name + "' and '" +
                            order[i]->name + "' overlap",
                        kHeaderHint);
    }
  }
}

}  // namespace

const char* dtype_name(DType d) {
  for (const auto& e : kDTypes) {
    if (e.dtype == d) return e.name;
  }
  return "?";
}

std::size_t dtype_size(DType d) {
  for (const auto& e : kDTypes) {
    if (e.dtype == d) return e.size;
  }
  return 0;
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

MappedFile::MappedFile(const fs::path& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw IoError("cannot open '" + path.string() + "': " + std::strerror(errno),
                  "check that the file exists and is readable");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError("'" + path.string() + "' is not a regular file", "pass a checkpoint file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw IoError("cannot memory-map '" + path.string() + "': " + std::strerror(errno),
                    "is the file on a file system that supports mmap?");
    }
    data_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
}

SafetensorsFile::SafetensorsFile(const fs::path& path)
    : map_(std::make_shared<MappedFile>(path)) {
  const auto size = static_cast<std::uint64_t>(map_->size());
  if (size < 8) {
    throw FormatError("'" + path.string() + "' is too short to be a safetensors file (" +
                          std::to_string(size) + " bytes)",
                      kHeaderHint);
  }
  const std::uint64_t header_len = read_u64_le(map_->data());
  if (header_len > kMaxHeaderBytes) {
    throw FormatError("'" + path.string() + "' claims a " + std::to_string(header_len) +
                          "-byte header (limit " + std::to_string(kMaxHeaderBytes) + ")",
                      kHeaderHint);
  }
  if (header_len > size - 8) {
    throw FormatError("'" + path.string() + "' claims a " + std::to_string(header_len) +
                          "-byte header but the file has only " + std::to_string(size - 8) +
                          " bytes after the length",
                      kHeaderHint);
  }
  const auto* header_begin = reinterpret_cast<const char*>(map_->data() + 8);
  // JSON lets a key repeat and the parser would keep one of them silently; a tensor named
  // twice is ambiguous (which bytes are the weight?), so the header is refused.
  std::set<std::string> keys;
  std::string duplicate;
  json::parser_callback_t on_key = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && duplicate.empty() &&
        !keys.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json header = json::parse(header_begin, header_begin + header_len, on_key, false);
  if (!duplicate.empty()) {
    throw FormatError("'" + path.string() + "': tensor '" + duplicate + "' appears twice in the header",
                      kHeaderHint);
  }
  if (header.is_discarded() || !header.is_object()) {
    throw FormatError("'" + path.string() + "' has a header that is not a JSON object", kHeaderHint);
  }
  const std::byte* data = map_->data() + 8 + header_len;
  const std::uint64_t data_size = size - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw FormatError("'" + path.string() + "': __metadata__ is not an object", kHeaderHint);
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    tensors_.emplace(it.key(), parse_entry(it.key(), *it, path, data, data_size));
  }
  check_no_overlap(tensors_, path);
}

TensorStore TensorStore::open_file(const fs::path& file) {
  TensorStore store;
  store.source_ = file;
  store.files_.push_back(std::make_shared<SafetensorsFile>(file));
  for (const auto& [name, info] : store.files_.back()->tensors()) store.index_[name] = &info;
  return store;
}

namespace {

// A shard name from an index must stay inside the model folder: relative, no "..", no root.
void check_shard_name(const std::string& shard, const fs::path& index_path) {
  fs::path p(shard);
  bool bad = shard.empty() || p.is_absolute() || p.has_root_name() || p.has_root_directory() ||
             shard.find('\0') != std::string::npos || shard.find('\\') != std::string::npos;
  for (const auto& part : p) {
    if (part == "..") bad = true;
  }
  if (bad) {
    throw FormatError("'" + index_path.string() + "' names shard file '" + shard +
                          "' outside the model folder",
                      "the index is corrupt or hostile; re-download the checkpoint");
  }
}

}  // namespace

TensorStore TensorStore::open_folder(const fs::path& folder) {
  fs::path index_path = folder / "model.safetensors.index.json";
  fs::path single = folder / "model.safetensors";
  // PyTorch checkpoints only when the folder has no safetensors weights (transformers'
  // order too): the same index format, shards read by the restricted unpickler.
  bool pytorch = false;
  if (!fs::exists(index_path) && !fs::exists(single)) {
    pytorch = true;
    index_path = folder / "pytorch_model.bin.index.json";
    single = folder / "pytorch_model.bin";
  }
  if (!fs::exists(index_path)) {
    if (!fs::exists(single)) {
      throw IoError("no model.safetensors, model.safetensors.index.json, pytorch_model.bin or "
                        "pytorch_model.bin.index.json in '" + folder.string() + "'",
                    "pass a Hugging Face checkpoint folder with its weights");
    }
    if (pytorch) {
      TensorStore s;
      s.source_ = folder;
      s.bin_files_.push_back(std::make_shared<PytorchBinFile>(single));
      for (const auto& [name, info] : s.bin_files_.back()->tensors()) s.index_[name] = &info;
      return s;
    }
    TensorStore s = open_file(single);
    s.source_ = folder;
    return s;
  }
  json index = read_json_file(index_path);
  auto wm = index.find("weight_map");
  if (!index.is_object() || wm == index.end() || !wm->is_object()) {
    throw FormatError("'" + index_path.string() + "' has no 'weight_map' object",
                      "the index is corrupt; re-download the checkpoint");
  }
  TensorStore store;
  store.source_ = folder;
  std::map<std::string, const std::map<std::string, TensorInfo>*> shards;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string()) {
      throw FormatError("'" + index_path.string() + "': weight_map entry '" + it.key() +
                            "' is not a file name",
                        "the index is corrupt; re-download the checkpoint");
    }
    const auto shard = it->get<std::string>();
    check_shard_name(shard, index_path);
    if (!shards.count(shard)) {
      if (pytorch) {
        store.bin_files_.push_back(std::make_shared<PytorchBinFile>(folder / shard));
        shards[shard] = &store.bin_files_.back()->tensors();
      } else {
        store.files_.push_back(std::make_shared<SafetensorsFile>(folder / shard));
        shards[shard] = &store.files_.back()->tensors();
      }
    }
  }
  // Every tensor of every shard is indexed; a name in two shards is ambiguous.
  for (const auto& [shard, tensors] : shards) {
    for (const auto& [name, info] : *tensors) {
      if (!store.index_.emplace(name, &info).second) {
        throw FormatError("tensor '" + name + "' appears in more than one shard of '" +
                              folder.string() + "'",
                          "the checkpoint is corrupt; re-download it");
      }
    }
  }
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    auto found = store.index_.find(it.key());
    if (found == store.index_.end() || found->second->file.filename() != fs::path(it->get<std::string>()).filename()) {
      throw FormatError("'" + index_path.string() + "' maps tensor '" + it.key() + "' to '" +
                            it->get<std::string>() + "', which does not hold it",
                        "the index and its shards disagree; re-download the checkpoint");
    }
  }
  return store;
}

const TensorInfo* TensorStore::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& [name, _] : index_) out.push_back(name);
  return out;
}

// IEEE 754 binary16 -> binary32, exact (every half is representable as a float).
float half_to_float(std::uint16_t h) { return ops::ref::f16_to_f32(h); }

float bf16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

namespace {

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename Out>
std::vector<Out> widen(const TensorInfo& t) {
  const auto n = static_cast<std::size_t>(t.numel());
  std::vector<Out> out(n);
  const std::byte* p = t.data;
  switch (t.dtype) {
    case DType::kF64:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<double>(p + 8 * i));
      break;
    case DType::kF32:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<float>(p + 4 * i));
      break;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(p + 2 * i));
      break;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_float(load<std::uint16_t>(p + 2 * i));
      break;
    default:
      throw UnsupportedError("tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                                 ", not a floating-point type",
                             "bentov reads F32, F16 and BF16 weights");
  }
  return out;
}

}  // namespace

std::vector<float> to_float(const TensorInfo& t) { return widen<float>(t); }
std::vector<double> to_double(const TensorInfo& t) { return widen<double>(t); }

std::vector<std::int64_t> to_int64(const TensorInfo& t) {
  const auto n = static_cast<std::size_t>(t.numel());
  std::vector<std::int64_t> out(n);
  if (t.dtype == DType::kI64) {
    for (std::size_t i = 0; i < n; ++i) out[i] = load<std::int64_t>(t.data + 8 * i);
  } else if (t.dtype == DType::kI32) {
    for (std::size_t i = 0; i < n; ++i) out[i] = load<std::int32_t>(t.data + 4 * i);
  } else {
    throw UnsupportedError("tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                               ", expected I64 or I32",
                           "");
  }
  return out;
}

// ---- writing ----

struct SafetensorsWriter::Impl {
  fs::path path;
  fs::path tmp;
  std::ofstream out;
  std::uint64_t expected = 0;  // payload bytes the header promises
  std::uint64_t written = 0;
  std::uint64_t data_start = 0;  // 8 + header length
  bool committed = false;
};

SafetensorsWriter::SafetensorsWriter(fs::path path, std::vector<TensorSpec> specs,
                                     const std::map<std::string, std::string>& metadata)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(path);
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::uint64_t offset = 0;
  for (const auto& s : specs) {
    if (!seen.insert(s.name).second) {
      throw UsageError("duplicate tensor name '" + s.name + "'", "a safetensors file names each tensor once");
    }
    const auto nbytes = checked_nbytes(s.shape, dtype_size(s.dtype), s.name, impl_->path);
    header[s.name] = {{"dtype", dtype_name(s.dtype)}, {"shape", s.shape},
                      {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  impl_->expected = offset;
  std::string text = header.dump();
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');

  std::random_device rd;
  impl_->tmp = impl_->path.parent_path() /
               ("." + impl_->path.filename().string() + ".tmp-" + std::to_string(::getpid()) +
                "-" + std::to_string(rd()));
  if (!impl_->path.parent_path().empty()) {
    std::error_code ec;
    fs::create_directories(impl_->path.parent_path(), ec);
    if (ec) {
      throw IoError("cannot create directory '" + impl_->path.parent_path().string() + "': " + ec.message(),
                    "check the output path and its permissions");
    }
  }
  register_temporary(impl_->tmp);
  impl_->out.open(impl_->tmp, std::ios::binary | std::ios::trunc);
  if (!impl_->out) {
    unregister_temporary(impl_->tmp);
    throw IoError("cannot open '" + impl_->tmp.string() + "' for writing",
                  "check that the output folder is writable");
  }
  std::uint64_t len = text.size();
  char le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  impl_->out.write(le, 8);
  impl_->out.write(text.data(), static_cast<std::streamsize>(text.size()));
  impl_->data_start = 8 + len;
}

SafetensorsWriter::~SafetensorsWriter() {
  if (impl_ && !impl_->committed) {
    impl_->out.close();
    std::error_code ec;
    fs::remove(impl_->tmp, ec);
    unregister_temporary(impl_->tmp);
  }
}

namespace {
constexpr const char* kWriterMisuseHint = "the payloads must match the tensors the writer was given, in order";
}  // namespace

void SafetensorsWriter::write(std::span<const std::byte> bytes) {
  if (impl_->written + bytes.size() > impl_->expected) {
    throw UsageError("safetensors writer: more payload than the header declares", kWriterMisuseHint);
  }
  impl_->out.write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
  impl_->written += bytes.size();
}

void SafetensorsWriter::write_zeros(std::uint64_t count) {
  if (impl_->written + count > impl_->expected) {
    throw UsageError("safetensors writer: more payload than the header declares", kWriterMisuseHint);
  }
  impl_->out.seekp(static_cast<std::streamoff>(count), std::ios::cur);  // a hole, read back as zeros
  impl_->written += count;
}

void SafetensorsWriter::commit() {
  if (impl_->written != impl_->expected) {
    throw UsageError("safetensors writer: " + std::to_string(impl_->written) + " of " +
                         std::to_string(impl_->expected) + " payload bytes written",
                     kWriterMisuseHint);
  }
  impl_->out.flush();
  if (!impl_->out) throw IoError("write to '" + impl_->path.string() + "' failed", "is the disk full?");
  impl_->out.close();
  std::error_code size_ec;  // a trailing hole (write_zeros last) still needs the file's length
  if (fs::file_size(impl_->tmp, size_ec) < impl_->data_start + impl_->expected && !size_ec) {
    fs::resize_file(impl_->tmp, impl_->data_start + impl_->expected, size_ec);
  }
  if (size_ec) throw IoError("write to '" + impl_->path.string() + "' failed: " + size_ec.message(), "is the disk full?");
  std::error_code ec;
  fs::rename(impl_->tmp, impl_->path, ec);
  if (ec) {
    throw IoError("cannot write '" + impl_->path.string() + "': " + ec.message(),
                  "check the output path and its permissions");
  }
  impl_->committed = true;
  unregister_temporary(impl_->tmp);
}

void write_safetensors(const fs::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorSpec> specs;
  for (const auto& t : tensors) specs.push_back(t.spec);
  SafetensorsWriter w(path, std::move(specs), metadata);
  for (const auto& t : tensors) w.write(t.bytes);
  w.commit();
}

}  // namespace bentov::io
