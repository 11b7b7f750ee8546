// A read-only view of a ZIP archive held in memory (a memory-mapped file): the central
// directory is parsed and validated once, then entries are looked up by name and their stored
// bytes handed out in place, without copying.
//
// Format: PKWARE APPNOTE.TXT (4.3.7 local header, 4.3.12 central directory header, 4.3.14-16
// ZIP64 end of central directory record and locator, 4.5.3 ZIP64 extended information).
// torch.save's writer (caffe2/serialize/inline_container.cc, miniz with
// MZ_ZIP_FLAG_WRITE_ZIP64) always writes the ZIP64 end records and switches an entry to ZIP64
// sizes/offsets once they pass 4 GiB; entries are stored (method 0) and their data is aligned to
// 64 bytes by padding the local header's extra field. Archives are hostile input: every
// offset and size is checked against the buffer before use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>

namespace bentov::io {

class ZipArchive {
 public:
  struct Entry {
    std::string name;
    std::uint16_t method = 0;  // 0 stored, 8 deflate, ...
    std::uint16_t flags = 0;   // general purpose bit flag
    std::uint64_t compressed_size = 0;
    std::uint64_t size = 0;  // uncompressed
    std::uint64_t local_header_offset = 0;
  };

  // The most entries an archive may list (a torch checkpoint has one per storage).
  static constexpr std::uint64_t kMaxEntries = 1u << 20;

  // Parses the end records and the central directory of `bytes`; `what` names the archive
  // in messages. Throws FormatError.
  ZipArchive(std::span<const std::byte> bytes, std::string what);

  const std::map<std::string, Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;
  // The entry's bytes inside the buffer. Refuses encrypted and compressed entries and entries
  // whose data runs past the central directory.
  std::span<const std::byte> stored_data(const Entry& e) const;
  // The name of the first entry of the central directory ("" for an empty archive).
  const std::string& first_name() const { return first_name_; }

 private:
  void parse_central_directory(std::uint64_t cd_offset, std::uint64_t cd_size, std::uint64_t count);

  std::span<const std::byte> bytes_;
  std::string what_;
  std::uint64_t cd_offset_ = 0;  // entries' data must end before the central directory
  std::map<std::string, Entry> entries_;
  std::string first_name_;
};

}  // namespace bentov::io
