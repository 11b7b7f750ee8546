#include "bentov/distrib/plan.h"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "bentov/error.h"
#include "bentov/io/hf_cache.h"

namespace bentov::distrib {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Bytes of the weight files in a checkpoint folder; 0 when unknown. Looks only at what is
// already on disk (never downloads): the estimate orders work, it decides nothing else.
double checkpoint_bytes(const std::string& spec) {
  try {
    const auto resolved = io::resolve_model(spec, {/*allow_download=*/false, /*progress=*/false});
    double bytes = 0.0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(resolved.folder, ec)) {
      const auto ext = e.path().extension().string();
      if (ext != ".safetensors" && ext != ".bin") continue;
      const auto size = fs::file_size(e.path(), ec);  // follows the cache's symlinks
      if (!ec) bytes += static_cast<double>(size);
    }
    return bytes;
  } catch (const Error&) {
    return 0.0;
  }
}

json source_json(const analysis::TextSource& s) {
  json j = json::object();
  j["text"] = s.text ? json(*s.text) : json(nullptr);
  j["ids"] = s.ids ? json(*s.ids) : json(nullptr);
  return j;
}

// The plan without the parts that do not decide results (threads, costs).
json identity_json(const Plan& p) {
  json j = json::object();
  j["mode"] = p.mode == Mode::kText ? "text" : "corpus";
  j["specs"] = p.specs;
  if (p.mode == Mode::kText) {
    j["source"] = source_json(p.source);
  } else {
    json texts = json::array();
    for (const auto& t : p.corpus.texts) texts.push_back(json::array({t.line, t.text}));
    j["corpus"] = {{"file", p.corpus.file}, {"jsonl", p.corpus.jsonl}, {"n_blank", p.corpus.n_blank},
                   {"limited", p.corpus.limited}, {"texts", std::move(texts)}};
    j["max_tokens"] = p.max_tokens;
    j["shard_texts"] = p.shard_texts;
  }
  json items = json::array();
  for (const auto& it : p.items) items.push_back(json::array({it.spec, it.begin, it.end}));
  j["items"] = std::move(items);
  return j;
}

[[noreturn]] void bad_plan(const std::string& why) {
  throw FormatError("the work plan received from rank 0 is malformed: " + why,
                    "every rank must run the same bentov build");
}

}  // namespace

Plan text_plan(const std::vector<std::string>& specs, const analysis::TextSource& source, int threads) {
  Plan p;
  p.mode = Mode::kText;
  p.specs = specs;
  p.source = source;
  p.threads = threads;
  for (std::size_t s = 0; s < specs.size(); ++s) p.items.push_back({s, 0, 0, 1.0});
  return p;
}

Plan corpus_plan(const std::vector<std::string>& specs, const analysis::Corpus& corpus, int max_tokens,
                 std::size_t shard_texts, int threads) {
  if (shard_texts < 1) throw UsageError("--shard-texts must be at least 1");
  Plan p;
  p.mode = Mode::kCorpus;
  p.specs = specs;
  p.corpus = corpus;
  p.max_tokens = max_tokens;
  p.shard_texts = shard_texts;
  p.threads = threads;
  const std::size_t n = corpus.texts.size();
  for (std::size_t s = 0; s < specs.size(); ++s) {
    for (std::size_t b = 0; b < n; b += shard_texts) p.items.push_back({s, b, std::min(n, b + shard_texts), 1.0});
  }
  return p;
}

void estimate_costs(Plan& plan) {
  std::vector<double> bytes(plan.specs.size());
  for (std::size_t s = 0; s < plan.specs.size(); ++s) bytes[s] = std::max(1.0, checkpoint_bytes(plan.specs[s]));
  for (auto& it : plan.items) {
    double work = 1.0;
    if (plan.mode == Mode::kCorpus) {
      work = 0.0;
      for (std::size_t t = it.begin; t < it.end; ++t) work += static_cast<double>(plan.corpus.texts[t].text.size()) + 64.0;
    }
    it.cost = bytes[it.spec] * work;
  }
}

std::string encode_plan(const Plan& plan) {
  json j = identity_json(plan);
  j["threads"] = plan.threads;
  json costs = json::array();
  for (const auto& it : plan.items) costs.push_back(it.cost);
  j["costs"] = std::move(costs);
  return j.dump(-1, ' ', false, json::error_handler_t::strict);
}

Plan decode_plan(std::string_view bytes) {
  json j;
  try {
    j = json::parse(bytes);
  } catch (const json::exception& e) {
    bad_plan(e.what());
  }
  try {
    Plan p;
    const std::string mode = j.at("mode").get<std::string>();
    if (mode != "text" && mode != "corpus") bad_plan("mode '" + mode + "'");
    p.mode = mode == "text" ? Mode::kText : Mode::kCorpus;
    p.specs = j.at("specs").get<std::vector<std::string>>();
    p.threads = j.at("threads").get<int>();
    if (p.mode == Mode::kText) {
      const auto& s = j.at("source");
      if (!s.at("text").is_null()) p.source.text = s.at("text").get<std::string>();
      if (!s.at("ids").is_null()) p.source.ids = s.at("ids").get<std::vector<std::int32_t>>();
    } else {
      const auto& c = j.at("corpus");
      p.corpus.file = c.at("file").get<std::string>();
      p.corpus.jsonl = c.at("jsonl").get<bool>();
      p.corpus.n_blank = c.at("n_blank").get<int>();
      p.corpus.limited = c.at("limited").get<bool>();
      for (const auto& t : c.at("texts")) p.corpus.texts.push_back({t.at(0).get<int>(), t.at(1).get<std::string>()});
      p.max_tokens = j.at("max_tokens").get<int>();
      p.shard_texts = j.at("shard_texts").get<std::size_t>();
    }
    const auto& items = j.at("items");
    const auto& costs = j.at("costs");
    if (costs.size() != items.size()) bad_plan("items and costs differ in length");
    for (std::size_t i = 0; i < items.size(); ++i) {
      WorkItem it{items[i].at(0).get<std::size_t>(), items[i].at(1).get<std::size_t>(),
                  items[i].at(2).get<std::size_t>(), costs[i].get<double>()};
      if (it.spec >= p.specs.size() || it.begin > it.end || it.end > p.corpus.texts.size()) {
        bad_plan("item " + std::to_string(i) + " is out of range");
      }
      p.items.push_back(it);
    }
    return p;
  } catch (const json::exception& e) {
    bad_plan(e.what());
  }
}

std::string fingerprint(const Plan& plan) {
  const std::string bytes = identity_json(plan).dump(-1, ' ', false, json::error_handler_t::replace);
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string describe_item(const Plan& plan, std::size_t item) {
  const WorkItem& it = plan.items.at(item);
  std::string s = analysis::display_name(plan.specs.at(it.spec));
  if (plan.mode == Mode::kCorpus) s += ", texts " + std::to_string(it.begin + 1) + "-" + std::to_string(it.end);
  return s;
}

}  // namespace bentov::distrib
