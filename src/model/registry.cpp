#include "bentov/model/registry.h"

#include "archs/archs.h"
#include "bentov/error.h"
#include "bentov/io/json_file.h"

namespace bentov {

const std::vector<ArchitectureEntry>& architecture_registry() {
  static const std::vector<ArchitectureEntry> registry = [] {
    std::vector<ArchitectureEntry> all;
    const auto append = [&all](std::vector<ArchitectureEntry> entries) {
      for (auto& e : entries) all.push_back(std::move(e));
    };
#define BENTOV_APPEND_ARCHITECTURE_FILE(file) append(archs::file##_entries());
    BENTOV_ARCHITECTURE_FILES(BENTOV_APPEND_ARCHITECTURE_FILE)
#undef BENTOV_APPEND_ARCHITECTURE_FILE
    return all;
  }();
  return registry;
}

std::vector<TensorEntry> ArchitectureEntry::tensor_table(const ModelConfig& c) const {
  WeightBinder recorder = WeightBinder::recorder();
  bind_weights(recorder, c);
  std::vector<TensorEntry> table = recorder.table();
  // The head of find_output_head (output_head.h): optional, the tied embedding stands in.
  table.push_back({output_head.front(), {c.vocab_size, c.word_embed_dim}, false});
  return table;
}

const ArchitectureEntry& find_architecture(const nlohmann::json& config) {
  std::string model_type, class_name;
  if (auto it = config.find("model_type"); it != config.end() && it->is_string()) {
    model_type = it->get<std::string>();
  }
  if (auto it = config.find("architectures"); it != config.end() && it->is_array() &&
                                               !it->empty() && (*it)[0].is_string()) {
    class_name = (*it)[0].get<std::string>();
  }
  std::string known;
  for (const auto& e : architecture_registry()) {
    if (!model_type.empty() && e.model_type == model_type) return e;
    known += (known.empty() ? "" : ", ") + e.model_type;
  }
  if (model_type.empty()) {
    for (const auto& e : architecture_registry()) {
      for (const auto& cls : e.class_names) {
        if (cls == class_name) return e;
      }
    }
  }
  const std::string what = !model_type.empty() ? "model_type '" + model_type + "'"
                           : !class_name.empty() ? "architecture '" + class_name + "'"
                                                 : "a config without model_type";
  throw UnsupportedError("unsupported architecture: " + what,
                         "bentov supports " + known + "; see docs/ADD_A_MODEL.md");
}

ModelConfig load_model_config(const std::filesystem::path& folder) {
  return load_model_config_and_entry(folder).first;
}

std::pair<ModelConfig, const ArchitectureEntry*> load_model_config_and_entry(const std::filesystem::path& folder) {
  const auto path = folder / "config.json";
  const auto json = io::read_json_file(path, 4u << 20);
  if (!json.is_object()) {
    throw ConfigError("'" + path.string() + "' is not a JSON object", "the config.json is corrupt");
  }
  const auto& entry = find_architecture(json);
  try {
    ModelConfig c = entry.resolve_config(json);
    if (auto it = json.find("architectures"); it != json.end() && it->is_array() && !it->empty() &&
                                               (*it)[0].is_string()) {
      c.model_class = (*it)[0].get<std::string>();
    }
    return {c, &entry};
  } catch (const Error& e) {
    rethrow_with_context(e, path.string());
  }
}

}  // namespace bentov
