// Writing the huggingface_hub cache layout of one repository folder
// (models--ORG--NAME/): blobs named by ETag, snapshots/<commit>/<file> as relative symlinks
// to ../../blobs/<etag> (one more ../ per folder level of <file>), refs/<rev> holding the
// commit. Names that come from the server (ETags, commits, file paths) are checked here
// before they become paths.
#pragma once

#include <filesystem>
#include <string>

namespace bentov::io::hub {

// An ETag header as a blob name: strips a weak-validator prefix (W/) and the quotes, then
// requires 1 to 128 characters of [A-Za-z0-9_-]. Throws FormatError otherwise.
std::string blob_name_from_etag(const std::string& header_value);

// True for 64 lower- or upper-case hex digits (the sha256 ETag of an LFS file).
bool is_sha256_hex(const std::string& s);

// "../../blobs/<etag>" for "config.json", "../../../blobs/<etag>" for "sub/file".
std::string snapshot_link_target(const std::string& repo_path, const std::string& etag);

// Creates (or corrects) snapshots/<commit>/<repo_path> -> blobs/<etag>, atomically.
void link_snapshot_file(const std::filesystem::path& repo_dir, const std::string& commit,
                        const std::string& repo_path, const std::string& etag);

// Writes refs/<rev> = commit (no newline, as huggingface_hub), atomically.
void write_ref(const std::filesystem::path& repo_dir, const std::string& rev,
               const std::string& commit);

}  // namespace bentov::io::hub
