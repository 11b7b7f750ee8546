// Hub failures as bentov errors: one line saying what was asked and what the server or the
// network answered, and a hint saying what to do (set HF_TOKEN, accept a licence, check the
// id or revision, check the network or work offline).
#pragma once

#include <string>

#include "bentov/error.h"
#include "io/hf_hub_http.h"

namespace bentov::io::hub {

struct RequestContext {
  std::string endpoint;  // https://huggingface.co
  std::string repo_id;   // EleutherAI/pythia-160m
  std::string revision;  // main
  std::string file;      // "" for the api call
  bool token_sent = false;
};

// The error for a final HTTP status >= 400 (X-Error-Code / X-Error-Message refine it).
Error http_error(const Response& r, const RequestContext& c);

// The error for a failed or dropped connection.
Error network_error(const std::string& transport_error, const RequestContext& c);

}  // namespace bentov::io::hub
