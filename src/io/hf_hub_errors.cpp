#include "io/hf_hub_errors.h"

namespace bentov::io::hub {

namespace {

// The server's own message, made one short line.
std::string server_message(const Response& r) {
  std::string m = r.final().header("x-error-message");
  if (m.empty()) return {};
  for (auto& ch : m) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  if (m.size() > 200) m = m.substr(0, 200) + "...";
  return " (" + m + ")";
}

std::string what(const RequestContext& c) {
  const std::string at = c.repo_id + "@" + c.revision;
  return c.file.empty() ? "model '" + at + "'" : "file '" + c.file + "' of '" + at + "'";
}

}  // namespace

Error http_error(const Response& r, const RequestContext& c) {
  const long status = r.final().status;
  const std::string code = r.final().header("x-error-code");
  const std::string http = "HTTP " + std::to_string(status);
  const std::string page = c.endpoint + "/" + c.repo_id;
  const std::string msg = server_message(r);
  if (status == 401) {
    return IoError(what(c) + ": " + http + ", the repository is gated or private (or does not exist)" + msg,
                   c.token_sent ? "HF_TOKEN was refused: check the token, and accept the licence on " + page +
                                      " with its account"
                                : "set HF_TOKEN to an access token (" + c.endpoint +
                                      "/settings/tokens) and accept the licence on " + page);
  }
  if (status == 403) {
    return IoError(what(c) + ": " + http + ", access denied" + msg,
                   "accept the model's licence on " + page +
                       " with the account of HF_TOKEN, or use a token with read access");
  }
  if (status == 404) {
    if (code == "RevisionNotFound") {
      return IoError(what(c) + ": " + http + ", no revision '" + c.revision + "'" + msg,
                     "check the revision after '@' (a branch, tag or commit of " + page + ")");
    }
    if (code == "EntryNotFound" || (!c.file.empty() && code != "RepoNotFound")) {
      return IoError(what(c) + ": " + http + ", no such file in the repository" + msg,
                     "the repository's file list names it but the server does not have it; retry later");
    }
    return IoError(what(c) + ": " + http + ", no such repository or revision on " + c.endpoint + msg,
                   "check the id (ORG/NAME, as on " + c.endpoint + ") and the revision after '@'");
  }
  if (status == 416) {
    return IoError(what(c) + ": " + http + ", the server refused to resume the transfer" + msg,
                   "run the command again (the partial file was discarded)");
  }
  if (status == 429) {
    return IoError(what(c) + ": " + http + ", too many requests" + msg,
                   "wait a few minutes; with HF_TOKEN set the Hub allows more requests");
  }
  if (status >= 500) {
    return IoError(what(c) + ": " + http + ", server error" + msg,
                   "the Hub is having trouble; retry later (partial downloads resume)");
  }
  return IoError(what(c) + ": unexpected " + http + msg, "check HF_ENDPOINT (" + c.endpoint + ")");
}

Error network_error(const std::string& transport_error, const RequestContext& c) {
  return IoError("cannot download " + what(c) + " from " + c.endpoint + ": " + transport_error,
                 "check the network (a proxy goes in HTTPS_PROXY) and HF_ENDPOINT; partial downloads "
                 "resume on the next run; --offline (HF_HUB_OFFLINE=1) uses the cache only");
}

}  // namespace bentov::io::hub
