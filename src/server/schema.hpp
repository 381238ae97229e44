// The request schema of `bertcpp serve` (apart from the routes and the inference core): TEI's
// error types, statuses and bodies (and OpenAI's error shape), the strict JSON body parse, typed
// field reads with TEI's messages, the embedding `Input` union, and float/base64 output formatting.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bertcpp/tokenizer.hpp"
#include "server/request_parser.hpp"

namespace bertcpp::server::schema {

using json = nlohmann::json;

// TEI's error types (Empty 400, Validation/Tokenizer 422, Backend 424, Overloaded 429, Unhealthy 503).
enum class ErrorType { Unhealthy, Backend, Overloaded, Validation, Tokenizer, Empty };
const char* error_type_name(ErrorType t);
int error_status(ErrorType t);

// An error answered to the client: TEI's {"error", "error_type"} with the status of its type
// (or an explicit status for transport-level errors such as 401 and 413).
struct ApiError : std::runtime_error {
  ErrorType type;
  int status;
  ApiError(ErrorType t, const std::string& message, int explicit_status = 0)
      : std::runtime_error(message), type(t), status(explicit_status ? explicit_status : error_status(t)) {}
};

ApiError validation(const std::string& m);   // 422 "Input validation error: ..."
ApiError empty_error(const std::string& m);  // 400
ApiError backend_error(const std::string& m);  // 424 "Backend error: ..."
ApiError type_error(const std::string& field, const std::string& expected);  // 422 deserialization

std::string error_body(const ApiError& e);         // TEI's {"error", "error_type"}
std::string openai_error_code(const ApiError& e);  // "empty", "validation", "payload_too_large", ...
std::string openai_error_body(const ApiError& e);  // OpenAI's {"error": {"message", "type", "param", "code"}}
bool is_openai_path(const std::string& path);

// Floats in their shortest round-trip form (non-finite: null).
void append_float(std::string& out, float v);
void append_floats(std::string& out, const float* v, size_t n);
std::string little_endian_base64(const std::vector<float>& v);

// The body as a JSON object (depth-bounded; the message never quotes the body), else 422.
json parse_body(const http::Request& req);
bool get_bool(const json& body, const char* key, bool fallback);
std::optional<bool> get_opt_bool(const json& body, const char* key);
std::optional<std::string> get_opt_string(const json& body, const char* key);
std::optional<int64_t> get_opt_uint(const json& body, const char* key);
const json& require(const json& body, const char* key);
TruncationSide get_direction(const json& body);

// One embedding input: a text or token ids (TEI's InputType).
struct InputItem {
  bool is_ids = false;
  std::string text;
  std::vector<int64_t> ids;
};

bool is_id_array(const json& j);
std::vector<int64_t> to_ids(const json& j);
// TEI's Input: InputType | [InputType]; InputType: string | [u32]. Returns (items, single).
std::pair<std::vector<InputItem>, bool> parse_input(const json& j, const char* field);
// `inputs` as a string or a sequence of strings (/tokenize, /predict_tokens). Returns (texts, single).
std::pair<std::vector<std::string>, bool> parse_texts(const json& j, const char* field);

bool constant_time_equal(const std::string& a, const std::string& b);
size_t count_chars(std::string_view s);  // code points of UTF-8

}  // namespace bertcpp::server::schema
