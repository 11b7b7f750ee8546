#include "io/hf_hub_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "bentov/version.h"

namespace bentov::io::hub {

namespace {

constexpr long kConnectTimeoutS = 30;
constexpr long kStallSeconds = 60;  // a transfer slower than 1 byte/s for this long fails
constexpr int kMaxRedirects = 10;
constexpr std::size_t kMaxErrorBody = 4096;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

bool is_absolute_url(const std::string& s) { return s.find("://") != std::string::npos; }

// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  CURL* curl = nullptr;
  Response* response = nullptr;
  const BodySink* sink = nullptr;
  std::size_t max_bytes = 0;  // kText bound
  bool too_large = false;
  bool sink_aborted = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t bytes = size * n;
  const std::string line = trim(std::string(data, bytes));
  auto& hops = t->response->hops;
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response; an interim 1xx one is replaced by what follows it.
    if (!hops.empty() && hops.back().status >= 100 && hops.back().status < 200) hops.pop_back();
    Hop hop;
    const auto sp = line.find(' ');
    if (sp != std::string::npos) hop.status = std::atol(line.c_str() + sp + 1);
    char* url = nullptr;
    if (curl_easy_getinfo(t->curl, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) hop.url = url;
    hops.push_back(std::move(hop));
  } else if (!line.empty() && !hops.empty()) {
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      hops.back().headers.emplace_back(lower(trim(line.substr(0, colon))),
                                       trim(line.substr(colon + 1)));
    }
  }
  return bytes;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t bytes = size * n;
  Response& r = *t->response;
  r.body_bytes += bytes;
  const bool error_status = !r.hops.empty() && r.hops.back().status >= 400;
  if (!t->sink || error_status) {
    // Text mode, or an error page (kept for its message, never written to a blob).
    const std::size_t limit = t->sink ? kMaxErrorBody : t->max_bytes;
    if (r.body.size() + bytes > limit) {
      if (t->sink) return bytes;  // the rest of an error page is not needed
      t->too_large = true;
      return 0;
    }
    r.body.append(data, bytes);
    return bytes;
  }
  if (!(*t->sink)(r, data, bytes)) {
    t->sink_aborted = true;
    return 0;
  }
  return bytes;
}

}  // namespace

std::string Hop::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

bool Hop::has(const std::string& name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& kv) { return kv.first == name; });
}

std::string Hop::location() const {
  const std::string loc = header("location");
  if (loc.empty() || is_absolute_url(loc)) return loc;
  const std::string origin = url_origin(url);
  if (!loc.empty() && loc[0] == '/') return origin + loc;
  // Relative to the current path's folder.
  const auto q = url.find('?');
  const std::string base = url.substr(0, q);
  const auto slash = base.rfind('/');
  return (slash == std::string::npos || slash < origin.size() ? origin + "/" : base.substr(0, slash + 1)) +
         loc;
}

const Hop& Response::final() const {
  if (hops.empty()) throw std::logic_error("no HTTP response");
  return hops.back();
}

std::string Response::first_header(const std::string& name) const {
  for (const auto& h : hops) {
    if (h.has(name)) return h.header(name);
  }
  return {};
}

std::string url_origin(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  const auto end = url.find_first_of("/?#", scheme + 3);
  return lower(url.substr(0, end));
}

std::string url_quote(const std::string& s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpClient::HttpClient(std::string endpoint, std::string token)
    : endpoint_host_(url_origin(endpoint)), token_(std::move(token)) {
  global_init();
}

Response HttpClient::perform(const std::string& url, Mode mode, std::uint64_t offset,
                             std::size_t max_bytes, const BodySink* sink) const {
  Response r;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) {
    r.transport_error = "cannot initialise libcurl";
    return r;
  }
  Transfer t{curl.get(), &r, sink, max_bytes};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "bentov/" BENTOV_VERSION);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutS);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (mode == Mode::kHead) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(kMaxRedirects));
  }
  if (mode == Mode::kText) {
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // any encoding libcurl can decode
  }
  std::string range;
  if (mode == Mode::kStream && offset > 0) {
    range = std::to_string(offset) + "-";
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }
  curl_slist* headers = nullptr;
  // Files are compared byte for byte with their size and hash: no transfer encoding.
  if (mode != Mode::kText) headers = curl_slist_append(headers, "Accept-Encoding: identity");
  std::string auth;
  if (!token_.empty() && url_origin(url) == endpoint_host_) {
    // libcurl drops a custom Authorization header when a redirect leaves this host, so the
    // token never reaches the CDN.
    auth = "Authorization: Bearer " + token_;
    headers = curl_slist_append(headers, auth.c_str());
  }
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (t.too_large) {
    r.transport_error = "the response is larger than " + std::to_string(max_bytes) + " bytes";
  } else if (t.sink_aborted) {
    r.transport_error = "aborted";
  } else if (rc != CURLE_OK) {
    r.transport_error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  } else if (r.hops.empty()) {
    r.transport_error = "no HTTP response";
  }
  return r;
}

Response HttpClient::head(const std::string& url) const {
  Response all;
  std::string next = url;
  for (int i = 0; i <= kMaxRedirects; ++i) {
    Response r = perform(next, Mode::kHead, 0, 0, nullptr);
    for (auto& h : r.hops) {
      if (h.url.empty()) h.url = next;
      all.hops.push_back(std::move(h));
    }
    if (!r.ok_transport()) {
      all.transport_error = r.transport_error;
      return all;
    }
    const Hop& last = all.hops.back();
    const std::string raw = last.header("location");
    if (!last.is_redirect() || is_absolute_url(raw)) return all;
    next = last.location();
  }
  all.transport_error = "more than " + std::to_string(kMaxRedirects) + " redirects";
  return all;
}

Response HttpClient::get_text(const std::string& url, std::size_t max_bytes) const {
  return perform(url, Mode::kText, 0, max_bytes, nullptr);
}

Response HttpClient::get_stream(const std::string& url, std::uint64_t offset,
                                const BodySink& sink) const {
  return perform(url, Mode::kStream, offset, 0, &sink);
}

}  // namespace bentov::io::hub
