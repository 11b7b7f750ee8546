#include "bentov/io/pytorch_bin.h"

#include <cstring>
#include <limits>
#include <string_view>

#include "bentov/error.h"
#include "io/zip_archive.h"

namespace bentov::io {
namespace fs = std::filesystem;

namespace {

constexpr const char* kLegacyHint =
    "re-save it with PyTorch >= 1.6 in a trusted environment (torch.save(torch.load(f), f)), "
    "or convert it to safetensors";

// torch.save before 1.6 wrote a bare pickle stream (magic number, protocol, sys_info, ...)
// and the oldest versions a tar archive; neither can be memory-mapped or read safely.
void refuse_legacy(std::span<const std::byte> file, const fs::path& path) {
  auto at = [&](std::size_t i) { return std::to_integer<unsigned char>(file[i]); };
  if (file.size() >= 2 && at(0) == 0x80 && at(1) <= 5) {
    // A bare pickle: a legacy torch.save stream, or a hostile file written with pickle.dump.
    // Scanning it with the restricted unpickler runs nothing and names what it would import.
    try {
      (void)parse_pytorch_pickle(file, "'" + path.string() + "'");
    } catch (const Error& e) {
      if (std::string_view(e.what()).find(": refusing ") != std::string_view::npos) {
        throw FormatError(std::string(e.what()) + " (in a bare pickle, not a torch.save zip)",
                          e.hint());
      }
    }
    throw FormatError(
        "'" + path.string() +
            "' is a legacy (pre-1.6) torch.save file: a bare pickle, not a zip archive",
        kLegacyHint);
  }
  if (file.size() >= 262 && std::memcmp(file.data() + 257, "ustar", 5) == 0) {
    throw FormatError(
        "'" + path.string() + "' is a legacy torch.save tar archive (PyTorch before 0.4)",
        kLegacyHint);
  }
  if (file.size() < 4 || at(0) != 'P' || at(1) != 'K') {
    throw FormatError("'" + path.string() + "' is not a PyTorch checkpoint (no zip signature)",
                      "pass a pytorch_model.bin written by torch.save, or safetensors weights");
  }
}

// The archive's single "<prefix>/data.pkl" (the prefix is the saved file's stem or "archive").
std::string find_prefix(const ZipArchive& zip, const fs::path& path) {
  std::string prefix;
  int found = 0;
  for (const auto& [name, _] : zip.entries()) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && slash > 0 &&
        name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      prefix = name.substr(0, slash);
      ++found;
    }
  }
  if (found == 0) {
    throw FormatError("'" + path.string() + "' is a zip archive without '<prefix>/data.pkl'",
                      "this is not a torch.save checkpoint, or it is truncated; re-download it");
  }
  if (found > 1) {
    throw FormatError("'" + path.string() + "' holds more than one '<prefix>/data.pkl'",
                      "the checkpoint is corrupt or hostile; re-download it");
  }
  return prefix;
}

}  // namespace

std::map<std::string, TensorInfo> read_pytorch_zip(std::span<const std::byte> file,
                                                   const fs::path& path,
                                                   std::vector<std::vector<double>>* owned) {
  refuse_legacy(file, path);
  const std::string where = "'" + path.string() + "'";
  const ZipArchive zip(file, where);
  const std::string prefix = find_prefix(zip, path);

  if (const auto* bo = zip.find(prefix + "/byteorder")) {
    const auto b = zip.stored_data(*bo);
    const std::string order(reinterpret_cast<const char*>(b.data()), b.size());
    if (order != "little") {
      throw UnsupportedError(where + " was saved on a '" + order.substr(0, 16) + "'-endian machine",
                             "bentov reads little-endian checkpoints; re-save it on x86 or ARM");
    }
  }
  const auto* pkl = zip.find(prefix + "/data.pkl");
  const auto tensors = parse_pytorch_pickle(zip.stored_data(*pkl), where + ": data.pkl");

  std::map<std::string, TensorInfo> out;
  for (const auto& t : tensors) {
    auto bad = [&](const std::string& why) {
      throw FormatError(where + ": tensor '" + t.name + "' " + why,
                        "the checkpoint is corrupt or hostile; re-download it");
    };
    const std::string record = prefix + "/data/" + t.storage_key;
    const auto* entry = zip.find(record);
    if (entry == nullptr)
      bad("refers to storage '" + t.storage_key + "', but the archive has no '" + record + "'");
    const auto bytes = zip.stored_data(*entry);
    const std::size_t elem = dtype_size(t.dtype);
    if (t.storage_numel > std::numeric_limits<std::uint64_t>::max() / elem ||
        t.storage_numel * elem != bytes.size()) {
      bad("has a storage of " + std::to_string(t.storage_numel) + " x " + dtype_name(t.dtype) +
          " but '" + record + "' holds " + std::to_string(bytes.size()) + " bytes");
    }
    TensorInfo info;
    info.name = t.name;
    info.dtype = t.dtype;
    info.shape = t.shape;
    info.file = path;
    info.nbytes = static_cast<std::size_t>(info.numel()) * elem;  // checked by the unpickler
    info.data = bytes.data() + t.offset * elem;
    // torch.save aligns every storage to 64 bytes; another writer might not, and the model
    // reads F32 weights in place, so a misaligned one is copied.
    if (reinterpret_cast<std::uintptr_t>(info.data) % elem != 0) {
      owned->emplace_back((info.nbytes + sizeof(double) - 1) / sizeof(double));
      if (info.nbytes) std::memcpy(owned->back().data(), info.data, info.nbytes);
      info.data = reinterpret_cast<const std::byte*>(owned->back().data());
    }
    out.emplace(t.name, std::move(info));
  }
  return out;
}

PytorchBinFile::PytorchBinFile(const fs::path& path) : map_(std::make_shared<MappedFile>(path)) {
  tensors_ = read_pytorch_zip({map_->data(), map_->size()}, path, &owned_);
}

}  // namespace bentov::io
