// Typed, bounded reads of config.json fields for the architecture resolvers: every missing,
// mistyped or absurd field becomes a ConfigError naming the key.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace bentov::config_json {

std::optional<long long> get_int(const nlohmann::json& c, const char* key);
std::optional<double> get_number(const nlohmann::json& c, const char* key);
std::optional<bool> get_bool(const nlohmann::json& c, const char* key);
std::optional<std::string> get_string(const nlohmann::json& c, const char* key);

// A required positive integer no larger than `max` (sizes, counts).
int require_size(const nlohmann::json& c, const char* key, long long max);
// The first present key of a list of aliases (n_embd / hidden_size).
int require_size_any(const nlohmann::json& c, std::initializer_list<const char*> keys, long long max);
int optional_size(const nlohmann::json& c, const char* key, int fallback, long long max);

// The stored dtype: "dtype" (current transformers) or "torch_dtype" (hub era).
std::string dtype_of(const nlohmann::json& c);

// Limits that keep absurd configs from allocating: 10^12 layers is a config error, not an OOM.
inline constexpr long long kMaxLayers = 1024;
inline constexpr long long kMaxHeads = 1024;
inline constexpr long long kMaxHidden = 1 << 17;
inline constexpr long long kMaxVocab = 1 << 22;
inline constexpr long long kMaxPositions = 1 << 20;

}  // namespace bentov::config_json
