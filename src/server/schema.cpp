// The request schema of `bertcpp serve`: TEI's error types and bodies (and OpenAI's), JSON parsing
// and typed field reads with TEI's messages, the embedding `Input` union, and output formatting.
#include "server/schema.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::server::schema {

namespace {

const char* openai_type(int status) {
  if (status == 429) return "rate_limit_error";
  if (status >= 500 || status == 424) return "server_error";
  if (status == 401) return "authentication_error";
  return "invalid_request_error";
}

std::string base64_encode(const unsigned char* data, size_t n) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const uint32_t v = (uint32_t(data[i]) << 16) | (uint32_t(data[i + 1]) << 8) | data[i + 2];
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t(data[i]) << 16;
    if (i + 1 < n) v |= uint32_t(data[i + 1]) << 8;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

const char* error_type_name(ErrorType t) {
  switch (t) {
    case ErrorType::Unhealthy: return "Unhealthy";
    case ErrorType::Backend: return "Backend";
    case ErrorType::Overloaded: return "Overloaded";
    case ErrorType::Validation: return "Validation";
    case ErrorType::Tokenizer: return "Tokenizer";
    case ErrorType::Empty: return "Empty";
  }
  return "Backend";
}

int error_status(ErrorType t) {
  switch (t) {
    case ErrorType::Unhealthy: return 503;
    case ErrorType::Backend: return 424;
    case ErrorType::Overloaded: return 429;
    case ErrorType::Validation: return 422;
    case ErrorType::Tokenizer: return 422;
    case ErrorType::Empty: return 400;
  }
  return 500;
}

ApiError validation(const std::string& m) { return ApiError(ErrorType::Validation, "Input validation error: " + m); }
ApiError empty_error(const std::string& m) { return ApiError(ErrorType::Empty, m); }
ApiError backend_error(const std::string& m) { return ApiError(ErrorType::Backend, "Backend error: " + m); }

std::string error_body(const ApiError& e) {
  return json{{"error", e.what()}, {"error_type", error_type_name(e.type)}}.dump(-1, ' ', false,
                                                                                   json::error_handler_t::replace);
}

// OpenAI's error shape, {"error": {"message", "type", "param", "code"}}, which OpenAI's clients
// parse (TEI answers its own shape there; see docs/server.md). `code` names the failure.
std::string openai_error_code(const ApiError& e) {
  switch (e.status) {
    case 401: return "invalid_api_key";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 408: return "request_timeout";
    case 413: return "payload_too_large";
    case 431: return "header_fields_too_large";
    default: break;
  }
  std::string c = error_type_name(e.type);
  for (char& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return c;
}

std::string openai_error_body(const ApiError& e) {
  return json{{"error", {{"message", e.what()}, {"type", openai_type(e.status)}, {"param", nullptr},
                         {"code", openai_error_code(e)}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_openai_path(const std::string& path) { return path == "/v1/embeddings" || path == "/embeddings"; }

// ---- JSON output helpers: floats in their shortest round-trip form ----
void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_floats(std::string& out, const float* v, size_t n) {
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_float(out, v[i]);
  }
  out += ']';
}

// ---- request parsing ----
// The strict parse bounds nesting depth (deeper values would overflow the stack when copied) and
// never quotes the body in its message (the message reaches the default log).
json parse_body(const http::Request& req) {
  json body;
  try {
    body = io::parse_json_strict(req.body, "body");
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind("body: ", 0) == 0) msg.erase(0, 6);
    throw ApiError(ErrorType::Validation, "Failed to parse the request body as JSON: " + msg);
  }
  if (!body.is_object()) throw ApiError(ErrorType::Validation, "Failed to deserialize the JSON body: expected an object");
  return body;
}

ApiError type_error(const std::string& field, const std::string& expected) {
  return ApiError(ErrorType::Validation,
                  "Failed to deserialize the JSON body into the target type: " + field + ": invalid type, expected " +
                      expected);
}

bool get_bool(const json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw type_error(key, "a boolean");
  return it->get<bool>();
}

std::optional<bool> get_opt_bool(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw type_error(key, "a boolean");
  return it->get<bool>();
}

std::optional<std::string> get_opt_string(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw type_error(key, "a string");
  return it->get<std::string>();
}

const json& require(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end())
    throw ApiError(ErrorType::Validation,
                   std::string("Failed to deserialize the JSON body into the target type: missing field `") + key + "`");
  return *it;
}

TruncationSide get_direction(const json& body) {
  auto it = body.find("truncation_direction");
  if (it == body.end() || it->is_null()) return TruncationSide::Right;
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s == "Left" || s == "left") return TruncationSide::Left;
    if (s == "Right" || s == "right") return TruncationSide::Right;
  }
  throw type_error("truncation_direction", "one of `Left`, `Right`");
}

namespace {

// A non-negative integer as JSON Schema counts them: 7 and 7.0 (a number with no fraction; some
// clients, and JavaScript, write integers so). Its value, up to `max`; nullopt otherwise.
std::optional<uint64_t> as_uint(const json& v, uint64_t max) {
  if (v.is_number_unsigned()) {
    const auto x = v.get<uint64_t>();
    return x <= max ? std::optional(x) : std::nullopt;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d >= 0 && d == std::floor(d) && d <= static_cast<double>(max)) return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

bool is_uint(const json& v) {
  return v.is_number_unsigned() || (v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
                                    v.get<double>() == std::floor(v.get<double>()));
}

}  // namespace

std::optional<int64_t> get_opt_uint(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!is_uint(*it)) throw type_error(key, "a non-negative integer");
  const auto v = as_uint(*it, static_cast<uint64_t>(INT32_MAX));
  if (!v) throw type_error(key, "an integer that fits in 32 bits");
  return static_cast<int64_t>(*v);
}

bool is_id_array(const json& j) {
  if (!j.is_array()) return false;
  for (const auto& v : j)
    if (!is_uint(v)) return false;
  return true;
}

std::vector<int64_t> to_ids(const json& j) {
  std::vector<int64_t> ids;
  ids.reserve(j.size());
  for (const auto& v : j) {
    const auto x = as_uint(v, static_cast<uint64_t>(UINT32_MAX));
    if (!x) throw type_error("inputs", "token ids that fit in 32 bits");
    ids.push_back(static_cast<int64_t>(*x));
  }
  return ids;
}

// TEI's Input: InputType | [InputType]; InputType: string | [u32]. Returns (items, single).
std::pair<std::vector<std::string>, bool> parse_texts(const json& j, const char* field) {
  if (j.is_string()) return {{j.get<std::string>()}, true};
  if (!j.is_array()) throw type_error(field, "a string or a sequence of strings");
  std::vector<std::string> texts;
  texts.reserve(j.size());
  for (const auto& e : j) {
    if (!e.is_string()) throw type_error(field, "a string or a sequence of strings");
    texts.push_back(e.get<std::string>());
  }
  return {std::move(texts), false};
}

std::pair<std::vector<InputItem>, bool> parse_input(const json& j, const char* field) {
  std::vector<InputItem> items;
  if (j.is_string()) {
    items.push_back({false, j.get<std::string>(), {}});
    return {std::move(items), true};
  }
  if (is_id_array(j)) {  // includes [] (an empty id list, rejected later as empty)
    items.push_back({true, {}, to_ids(j)});
    return {std::move(items), true};
  }
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) items.push_back({false, e.get<std::string>(), {}});
      else if (is_id_array(e)) items.push_back({true, {}, to_ids(e)});
      else throw ApiError(ErrorType::Validation,
                          std::string("Failed to deserialize the JSON body into the target type: ") + field +
                              ": data did not match any variant of untagged enum Input");
    }
    return {std::move(items), false};
  }
  throw ApiError(ErrorType::Validation, std::string("Failed to deserialize the JSON body into the target type: ") +
                                            field + ": data did not match any variant of untagged enum Input");
}

std::string little_endian_base64(const std::vector<float>& v) {
  std::vector<unsigned char> bytes(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<unsigned char>(u >> (8 * b));
  }
  return base64_encode(bytes.data(), bytes.size());
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace bertcpp::server::schema
