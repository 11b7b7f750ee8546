// sha256 of a file (OpenSSL libcrypto): the Hub names LFS blobs by the sha256 of their bytes,
// so a downloaded weight file is checked against its own name.
#pragma once

#include <filesystem>
#include <string>

namespace bentov::io::hub {

// Lower-case hex digest. Throws IoError when the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace bentov::io::hub
