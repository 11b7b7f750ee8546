#include "io/zip_archive.h"

#include <algorithm>
#include <utility>

#include "bentov/error.h"

namespace bentov::io {

namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralHeaderSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::uint16_t kZip64ExtraId = 0x0001;

constexpr const char* kZipHint =
    "the file is truncated or corrupt; re-download it (or re-save it with torch.save)";

std::uint64_t le(const std::byte* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}
std::uint16_t le16(const std::byte* p) {
  return static_cast<std::uint16_t>(le(p, 2));
}
std::uint32_t le32(const std::byte* p) {
  return static_cast<std::uint32_t>(le(p, 4));
}
std::uint64_t le64(const std::byte* p) {
  return le(p, 8);
}

}  // namespace

ZipArchive::ZipArchive(std::span<const std::byte> bytes, std::string what)
    : bytes_(bytes), what_(std::move(what)) {
  auto fail = [&](const std::string& m) { throw FormatError(what_ + ": " + m, kZipHint); };
  const std::uint64_t size = bytes_.size();
  if (size < kEndSize) fail("too short to be a zip archive (" + std::to_string(size) + " bytes)");

  // The end of central directory record is the last 22 bytes plus a comment of at most
  // 65535 bytes: search backwards for its signature with a comment length that fits exactly.
  std::uint64_t eocd = 0;
  bool found = false;
  const std::uint64_t lowest = size >= kEndSize + 0xffff ? size - kEndSize - 0xffff : 0;
  for (std::uint64_t p = size - kEndSize + 1; p-- > lowest;) {
    const std::byte* h = bytes_.data() + p;
    if (le32(h) == kEndSig && p + kEndSize + le16(h + 20) == size) {
      eocd = p;
      found = true;
      break;
    }
  }
  if (!found) fail("no end of central directory record (not a zip archive, or truncated)");

  const std::byte* e = bytes_.data() + eocd;
  if (le16(e + 4) != 0 || le16(e + 6) != 0) fail("is a multi-disk (spanned) zip archive");
  std::uint64_t count = le16(e + 10);
  std::uint64_t cd_size = le32(e + 12);
  std::uint64_t cd_offset = le32(e + 16);
  std::uint64_t cd_limit = eocd;  // the central directory ends before the end records

  // ZIP64: a locator just before the end record points at the ZIP64 end record, whose
  // 64-bit counts and offsets replace the 16/32-bit ones.
  if (eocd >= kZip64LocatorSize && le32(e - kZip64LocatorSize) == kZip64LocatorSig) {
    const std::byte* loc = e - kZip64LocatorSize;
    const std::uint64_t z64 = le64(loc + 8);
    if (le32(loc + 4) != 0 || le32(loc + 16) > 1) fail("is a multi-disk (spanned) zip archive");
    if (z64 > eocd - kZip64LocatorSize || eocd - kZip64LocatorSize - z64 < kZip64EndSize) {
      fail("has a ZIP64 end of central directory locator pointing outside the file");
    }
    const std::byte* r = bytes_.data() + z64;
    if (le32(r) != kZip64EndSig)
      fail("has no ZIP64 end of central directory record where its locator points");
    if (le32(r + 16) != 0 || le32(r + 20) != 0) fail("is a multi-disk (spanned) zip archive");
    count = le64(r + 32);
    cd_size = le64(r + 40);
    cd_offset = le64(r + 48);
    cd_limit = z64;
  } else if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    fail("needs ZIP64 end records but has none");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
    fail("has a central directory [" + std::to_string(cd_offset) + ", +" + std::to_string(cd_size) +
         ") outside the file");
  }
  if (count > kMaxEntries) {
    fail("lists " + std::to_string(count) + " entries (limit " + std::to_string(kMaxEntries) + ")");
  }
  if (count * kCentralHeaderSize > cd_size) {
    fail("lists " + std::to_string(count) + " entries in a " + std::to_string(cd_size) +
         "-byte central directory");
  }
  cd_offset_ = cd_offset;
  parse_central_directory(cd_offset, cd_size, count);
}

void ZipArchive::parse_central_directory(std::uint64_t cd_offset, std::uint64_t cd_size,
                                         std::uint64_t count) {
  auto fail = [&](const std::string& m) { throw FormatError(what_ + ": " + m, kZipHint); };
  std::uint64_t pos = cd_offset;
  const std::uint64_t end = cd_offset + cd_size;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (end - pos < kCentralHeaderSize)
      fail("central directory entry " + std::to_string(i) + " is truncated");
    const std::byte* h = bytes_.data() + pos;
    if (le32(h) != kCentralHeaderSig)
      fail("central directory entry " + std::to_string(i) + " has a bad signature");
    Entry entry;
    entry.flags = le16(h + 8);
    entry.method = le16(h + 10);
    entry.compressed_size = le32(h + 20);
    entry.size = le32(h + 24);
    const std::uint16_t name_len = le16(h + 28);
    const std::uint16_t extra_len = le16(h + 30);
    const std::uint16_t comment_len = le16(h + 32);
    const std::uint16_t disk = le16(h + 34);
    entry.local_header_offset = le32(h + 42);
    const std::uint64_t total = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (end - pos < total) fail("central directory entry " + std::to_string(i) + " is truncated");
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);

    // ZIP64 extended information: only the fields whose 32/16-bit slot is all ones are
    // present, in this order (APPNOTE 4.5.3).
    const std::byte* x = h + kCentralHeaderSize + name_len;
    const std::byte* x_end = x + extra_len;
    while (x_end - x >= 4) {
      const std::uint16_t id = le16(x);
      const std::uint16_t len = le16(x + 2);
      if (x_end - x - 4 < len) fail("entry '" + entry.name + "' has a truncated extra field");
      if (id == kZip64ExtraId) {
        const std::byte* f = x + 4;
        std::uint16_t left = len;
        auto take = [&](std::uint64_t& v) {
          if (left < 8) fail("entry '" + entry.name + "' has a truncated ZIP64 extra field");
          v = le64(f);
          f += 8;
          left = static_cast<std::uint16_t>(left - 8);
        };
        if (entry.size == 0xffffffffu) take(entry.size);
        if (entry.compressed_size == 0xffffffffu) take(entry.compressed_size);
        if (entry.local_header_offset == 0xffffffffu) take(entry.local_header_offset);
      }
      x += 4 + len;
    }
    if (disk != 0 && disk != 0xffff) fail("entry '" + entry.name + "' is on another disk");
    if (i == 0) first_name_ = entry.name;
    const std::string name = entry.name;
    if (!entries_.emplace(name, std::move(entry)).second) {
      fail("entry '" + name + "' appears twice in the central directory");
    }
    pos += total;
  }
}

const ZipArchive::Entry* ZipArchive::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::span<const std::byte> ZipArchive::stored_data(const Entry& e) const {
  auto fail = [&](const std::string& m, const char* hint = kZipHint) {
    throw FormatError(what_ + ": entry '" + e.name + "' " + m, hint);
  };
  if (e.flags & 0x1) fail("is encrypted", "bentov reads unencrypted checkpoints only");
  if (e.method != 0) {
    fail("is compressed (zip method " + std::to_string(e.method) + ")",
         "bentov memory-maps stored (uncompressed) entries, which torch.save writes; re-save "
         "the checkpoint with torch.save or convert it to safetensors");
  }
  if (e.compressed_size != e.size) {
    fail("is stored but its compressed and uncompressed sizes differ (" +
         std::to_string(e.compressed_size) + " vs " + std::to_string(e.size) + ")");
  }
  const std::uint64_t off = e.local_header_offset;
  if (off > cd_offset_ || cd_offset_ - off < kLocalHeaderSize)
    fail("has a local header outside the file");
  const std::byte* h = bytes_.data() + off;
  if (le32(h) != kLocalHeaderSig) fail("has no local header where the central directory points");
  const std::uint16_t name_len = le16(h + 26);
  const std::uint16_t extra_len = le16(h + 28);
  const std::uint64_t data = off + kLocalHeaderSize + name_len + extra_len;
  if (data > cd_offset_ || e.size > cd_offset_ - data) {
    fail("has " + std::to_string(e.size) + " bytes of data running past the end of the entries");
  }
  if (name_len != e.name.size() ||
      !std::equal(e.name.begin(), e.name.end(),
                  reinterpret_cast<const char*>(h + kLocalHeaderSize))) {
    fail("has a local header naming another file");
  }
  return bytes_.subspan(static_cast<std::size_t>(data), static_cast<std::size_t>(e.size));
}

}  // namespace bentov::io
