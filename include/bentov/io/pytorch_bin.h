// PyTorch checkpoints (`pytorch_model.bin`), read without executing anything.
//
// torch.save (since 1.6, torch/serialization.py `_save`) writes a zip archive whose entries
// share one prefix (the file's stem, or "archive"):
//   <prefix>/data.pkl        the pickled object; tensors refer to storages via persistent ids
//   <prefix>/data/<key>      one storage's raw little-endian bytes, stored, 64-byte aligned
//   <prefix>/byteorder       "little" (torch >= 2.1), <prefix>/version, .data/... bookkeeping
// A state dict pickles as a dict (or collections.OrderedDict) of name -> tensor, each tensor as
// REDUCE(torch._utils._rebuild_tensor_v2, (storage, storage_offset, size, stride,
// requires_grad, backward_hooks)) with the storage a BINPERSID of the tuple
// ('storage', torch.<T>Storage, key, location, numel).
//
// The pickle is read by a restricted unpickler that knows only the opcodes and the handful of
// globals a state dict needs; any other global (os.system, builtins.eval, ...), any
// REDUCE/BUILD outside the state-dict shapes, and every opcode that could instantiate an
// arbitrary class is refused with a FormatError naming it. Nothing is ever imported or called:
// the "globals" are tokens matched by name. Storages are used in place from the memory map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bentov/io/safetensors.h"

namespace bentov::io {

// Bounds on hostile pickles (a real state dict needs ~25 values and ~250 bytes per tensor).
inline constexpr std::uint64_t kMaxPickleBytes = 256ull << 20;
inline constexpr std::size_t kMaxPickleValues = 1u << 22;    // objects built
inline constexpr std::size_t kMaxPickleStack = 1u << 20;     // stack entries
inline constexpr std::size_t kMaxPickleMarks = 256;          // nested MARKs
inline constexpr std::uint64_t kMaxPickleMemo = 1u << 22;    // memo index
inline constexpr std::uint64_t kMaxPickleString = 1u << 20;  // one string or bytes object
inline constexpr std::size_t kMaxPickleTensors = 1u << 20;
inline constexpr std::size_t kMaxTensorDims = 16;

// One tensor of the unpickled state dict, before its storage is resolved in the archive.
struct PickledTensor {
  std::string name;
  std::string storage_key;          // <prefix>/data/<storage_key>
  DType dtype;                      // from the storage type (torch.FloatStorage -> F32)
  std::uint64_t storage_numel = 0;  // elements in the whole storage
  std::uint64_t offset = 0;         // storage_offset, in elements
  std::vector<std::int64_t> shape;  // contiguous: strides were checked against it
};

// Unpickles a torch.save `data.pkl` holding a state dict (protocols 2 to 5) into its tensors,
// in pickle order. `what` names the file in messages. Throws FormatError on anything that is
// not a state dict of contiguous tensors. This is also the libFuzzer entry point for the
// unpickler (tests/fuzz): it touches nothing but `pickle`.
std::vector<PickledTensor> parse_pytorch_pickle(std::span<const std::byte> pickle,
                                                const std::string& what = "data.pkl");

// Reads a whole torch.save zip held in memory (a mapped file): finds <prefix>/data.pkl,
// unpickles it and resolves every tensor to its bytes inside `file`, checking the storage
// sizes. The returned TensorInfos point into `file` (or, for a storage not aligned for its
// dtype, which torch never writes, into `owned`). Legacy (pre-1.6) torch files are refused
// with a hint to re-save. Also the libFuzzer entry point for the whole reader.
std::map<std::string, TensorInfo> read_pytorch_zip(std::span<const std::byte> file,
                                                   const std::filesystem::path& path,
                                                   std::vector<std::vector<double>>* owned);

// One pytorch_model*.bin file: the map plus its validated tensor table.
class PytorchBinFile {
 public:
  explicit PytorchBinFile(const std::filesystem::path& path);

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }

 private:
  std::shared_ptr<MappedFile> map_;
  std::vector<std::vector<double>> owned_;  // copies of misaligned storages (none for torch.save)
  std::map<std::string, TensorInfo> tensors_;
};

}  // namespace bentov::io
