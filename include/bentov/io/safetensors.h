// Safetensors checkpoints, memory-mapped and validated as hostile input.
//
// Format (huggingface/safetensors, docs/ "Format"): 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
// then the data; offsets are relative to the first data byte. Validation follows the checks
// of the reference implementation (safetensors/src/tensor.rs `validate`): bounded header,
// known dtypes, shape x dtype size == end - begin without overflow, offsets inside the file,
// no overlapping tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bentov::io {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

const char* dtype_name(DType d);
std::size_t dtype_size(DType d);

// The most a header may claim; real headers are well under 10 MB (thousands of tensors).
inline constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  const std::byte* data = nullptr;  // (numel * dtype_size) bytes inside the mapped file
  std::size_t nbytes = 0;
  std::filesystem::path file;       // for messages

  std::int64_t numel() const;
  std::string shape_string() const;  // "[768, 2304]"
};

// A read-only memory map of one file.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// One .safetensors file: the map plus its validated tensor table.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::shared_ptr<MappedFile> map_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

class PytorchBinFile;  // bentov/io/pytorch_bin.h

// All tensors of a checkpoint folder: `model.safetensors`, or the shards named by
// `model.safetensors.index.json`; when the folder has neither, `pytorch_model.bin` or the
// shards named by `pytorch_model.bin.index.json` (read by the restricted unpickler of
// pytorch_bin.h, same TensorInfo entries). Lookups by full tensor name.
class TensorStore {
 public:
  static TensorStore open_folder(const std::filesystem::path& folder);
  static TensorStore open_file(const std::filesystem::path& file);

  const TensorInfo* find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  std::vector<std::string> names() const;
  std::size_t size() const { return index_.size(); }
  const std::filesystem::path& source() const { return source_; }

 private:
  std::filesystem::path source_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::vector<std::shared_ptr<PytorchBinFile>> bin_files_;
  std::map<std::string, const TensorInfo*> index_;
};

// Reads a tensor's values widened to float (F32, F16, BF16; F64 narrowed). Throws
// UnsupportedError for integer dtypes.
std::vector<float> to_float(const TensorInfo& t);
// Widened to double (F64, F32, F16, BF16), for tests and references.
std::vector<double> to_double(const TensorInfo& t);
// Integer tensors (I64, I32) as int64.
std::vector<std::int64_t> to_int64(const TensorInfo& t);

// Writing. The header is laid out up front from the tensors' specs, then the payloads are
// streamed in the same order (so a capture can write layer by layer), then the temporary file
// is renamed over `path`; an abandoned writer removes its temporary file.
struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
};

class SafetensorsWriter {
 public:
  SafetensorsWriter(std::filesystem::path path, std::vector<TensorSpec> specs,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Appends payload bytes; tensors are filled in spec order, possibly across several calls.
  void write(std::span<const std::byte> bytes);
  // Appends `count` zero bytes as a hole in the file (sparse: no disk, no writing).
  void write_zeros(std::uint64_t count);
  // Checks that every byte was written, flushes and renames into place.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct TensorToWrite {
  TensorSpec spec;
  std::span<const std::byte> bytes;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

float half_to_float(std::uint16_t h);
float bf16_to_float(std::uint16_t b);

}  // namespace bentov::io
