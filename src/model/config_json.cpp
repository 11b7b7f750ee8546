#include "config_json.h"

#include <cmath>

#include "bentov/error.h"

namespace bentov::config_json {
using nlohmann::json;

namespace {
[[noreturn]] void bad(const char* key, const std::string& what) {
  throw ConfigError(std::string("config.json: '") + key + "' " + what,
                    "the config.json is corrupt or not a Hugging Face model config");
}
}  // namespace

std::optional<long long> get_int(const json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number_float()) {
    // 12.0 is 12; 1e300, 2.5 and NaN are not integers (and casting them would be undefined).
    const double v = it->get<double>();
    if (v >= -9.0e15 && v <= 9.0e15 && v == std::trunc(v)) return static_cast<long long>(v);
  }
  bad(key, "is not an integer");
}

std::optional<double> get_number(const json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) bad(key, "is not a number");
  return it->get<double>();
}

std::optional<bool> get_bool(const json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) bad(key, "is not true or false");
  return it->get<bool>();
}

std::optional<std::string> get_string(const json& c, const char* key) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(key, "is not a string");
  return it->get<std::string>();
}

int require_size(const json& c, const char* key, long long max) {
  auto v = get_int(c, key);
  if (!v) bad(key, "is missing");
  if (*v <= 0) bad(key, "must be positive (got " + std::to_string(*v) + ")");
  if (*v > max) bad(key, "is absurdly large (" + std::to_string(*v) + ", limit " + std::to_string(max) + ")");
  return static_cast<int>(*v);
}

int require_size_any(const json& c, std::initializer_list<const char*> keys, long long max) {
  for (const char* k : keys) {
    if (c.contains(k) && !c[k].is_null()) return require_size(c, k, max);
  }
  bad(*keys.begin(), "is missing");
}

int optional_size(const json& c, const char* key, int fallback, long long max) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  return require_size(c, key, max);
}

std::string dtype_of(const json& c) {
  if (auto d = get_string(c, "dtype")) return *d;
  if (auto d = get_string(c, "torch_dtype")) return *d;
  return "float32";
}

}  // namespace bentov::config_json
