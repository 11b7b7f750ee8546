#include "bentov/report/csv_writer.h"

#include <fmt/format.h>

#include <cmath>

#include "bentov/io/atomic_file.h"

namespace bentov::report {
namespace {

std::string field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

}  // namespace

std::string to_csv(const AnalysisReport& report) {
  std::string out = "model,layer,locality,entropy,sheaf_trace,value_frob_sq\n";
  for (const auto& m : report.models) {
    const std::string name = field(m.name);
    for (const auto& l : m.layers) {
      out += fmt::format("{},{},{},{},{},{}\n", name, l.index, number(l.locality),
                         number(l.entropy), number(l.sheaf_trace), number(l.value_frob_sq));
    }
  }
  return out;
}

void write_csv(const std::filesystem::path& path, const AnalysisReport& report) {
  io::write_file_atomic(path, to_csv(report));
}

}  // namespace bentov::report
