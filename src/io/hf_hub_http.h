// A small libcurl client for the Hub: HEAD and GET requests that record the headers of
// every response along a redirect chain (the Hub puts X-Repo-Commit and X-Linked-Etag on the
// first response, the 302 to its CDN), transport failures returned rather than thrown so
// that the caller can resume, and the token sent only to the endpoint's own host.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bentov::io::hub {

// One response of a redirect chain.
struct Hop {
  std::string url;  // the URL this response answered
  long status = 0;  // 200, 206, 302, 404, ...
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

  // The first value of header `name` (lower-case), or "" when absent.
  std::string header(const std::string& name) const;
  bool has(const std::string& name) const;
  bool is_redirect() const { return status >= 300 && status < 400 && has("location"); }
  // The Location header resolved against `url`.
  std::string location() const;
};

struct Response {
  std::vector<Hop> hops;        // in order; the last one is the final answer
  std::string transport_error;  // non-empty when the connection failed or dropped
  std::string body;             // get_text only
  std::uint64_t body_bytes = 0; // bytes received in the final response's body

  bool ok_transport() const { return transport_error.empty(); }
  const Hop& final() const;  // throws std::logic_error when there was no response at all
  bool has_response() const { return !hops.empty(); }
  // The first value of `name` along the chain, from the first response onwards.
  std::string first_header(const std::string& name) const;
};

// Called with each chunk of the final response's body; `r` holds the complete headers of
// every hop so far. Return false to abort the transfer.
using BodySink = std::function<bool(const Response& r, const char* data, std::size_t n)>;

class HttpClient {
 public:
  // `endpoint` ("https://huggingface.co") decides where `token` may be sent.
  HttpClient(std::string endpoint, std::string token);

  // HEAD that follows only relative redirects (a renamed repository), as huggingface_hub
  // does: an absolute one (a signed CDN URL, which may refuse HEAD) ends the chain.
  Response head(const std::string& url) const;

  // GET of a small document (the api JSON), bounded by `max_bytes`; follows redirects.
  Response get_text(const std::string& url, std::size_t max_bytes) const;

  // GET of a file from byte `offset` on (a Range request when offset > 0), following
  // redirects; the body goes to `sink`. `identity` asks for no content encoding, so that
  // sizes and hashes are those of the file.
  Response get_stream(const std::string& url, std::uint64_t offset, const BodySink& sink) const;

 private:
  enum class Mode { kHead, kText, kStream };
  Response perform(const std::string& url, Mode mode, std::uint64_t offset,
                   std::size_t max_bytes, const BodySink* sink) const;

  std::string endpoint_host_;  // scheme://host[:port] of the endpoint
  std::string token_;
};

// "https://host:8080/a/b" -> "https://host:8080"; "" when `url` has no scheme.
std::string url_origin(const std::string& url);

// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string url_quote(const std::string& s, bool keep_slash);

}  // namespace bentov::io::hub
