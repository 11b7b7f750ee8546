#include "bentov/tokenizer/normalize.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "bentov/error.h"

namespace bentov {

Normalization parse_normalization(std::string_view type) {
  if (type == "NFC") return Normalization::kNfc;
  if (type == "NFD") return Normalization::kNfd;
  if (type == "NFKC") return Normalization::kNfkc;
  if (type == "NFKD") return Normalization::kNfkd;
  throw UnsupportedError("tokenizer normalizer '" + std::string(type) + "' is not supported",
                         "bentov handles NFC, NFD, NFKC, NFKD or no normalizer");
}

std::string_view normalization_name(Normalization n) {
  switch (n) {
    case Normalization::kNfc: return "NFC";
    case Normalization::kNfd: return "NFD";
    case Normalization::kNfkc: return "NFKC";
    case Normalization::kNfkd: return "NFKD";
    case Normalization::kNone: break;
  }
  return "";
}

void normalize(Normalization n, std::string_view text, std::string& out) {
  bool ascii = true;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (n == Normalization::kNone || ascii) {
    out.assign(text);
    return;
  }
  int flags = UTF8PROC_STABLE;
  switch (n) {
    case Normalization::kNfc: flags |= UTF8PROC_COMPOSE; break;
    case Normalization::kNfd: flags |= UTF8PROC_DECOMPOSE; break;
    case Normalization::kNfkc: flags |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case Normalization::kNfkd: flags |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    case Normalization::kNone: break;
  }
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t len =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &result,
                   static_cast<utf8proc_option_t>(flags));
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
  if (len < 0) {
    throw InputError(std::string("cannot normalize text: ") + utf8proc_errmsg(len),
                     "the text must be valid UTF-8");
  }
  out.assign(reinterpret_cast<const char*>(result), static_cast<std::size_t>(len));
}

}  // namespace bentov
