// The server's own OpenAPI 3.1 document (GET /api-doc/openapi.json, TEI's path), built at start
// from the loaded model and the limits in force, so it states exactly what this server accepts
// and answers: only the routes the model serves, maxItems = --max-client-batch-size, token ids
// below the vocabulary size, `dimensions` up to the hidden size, every error status and shape.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/backend.hpp"

namespace bertcpp::server {

struct OpenApiLimits {
  int64_t max_client_batch_size = 32;
  int64_t max_input_length = 512;  // tokens
  int64_t max_input_chars = 128000;
  size_t payload_limit = 2000000;
  bool auto_truncate = false;
  bool api_key = false;
  std::string version;
};

nlohmann::json openapi_document(const BackendInfo& info, const OpenApiLimits& limits);

}  // namespace bertcpp::server
