// TEI-compatible HTTP routes. Behaviour follows TEI's router (router/src/http/server.rs) and core
// (core/src/infer.rs, tokenization.rs): error types map to statuses as TEI does
// (Empty 400, Validation/Tokenizer 422, Backend 424, Overloaded 429, Unhealthy 503).
#include "server/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "server/queue/batcher.hpp"
#include "server/transport.hpp"

namespace bertcpp::server {

using json = nlohmann::json;

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr int64_t kMaxCharMultiplier = 250;  // TEI: inputs longer than max_input_length * 250 chars are refused

enum class ErrorType { Unhealthy, Backend, Overloaded, Validation, Tokenizer, Empty };

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

// An error answered to the client: TEI's {"error", "error_type"} with the status of its type
// (or an explicit status for transport-level errors such as 401 and 413).
struct ApiError : std::runtime_error {
  ErrorType type;
  int status;
  ApiError(ErrorType t, const std::string& message, int explicit_status = 0)
      : std::runtime_error(message), type(t), status(explicit_status ? explicit_status : error_status(t)) {}
};

ApiError validation(const std::string& m) { return ApiError(ErrorType::Validation, "Input validation error: " + m); }
ApiError empty_error(const std::string& m) { return ApiError(ErrorType::Empty, m); }
ApiError backend_error(const std::string& m) { return ApiError(ErrorType::Backend, "Backend error: " + m); }

std::string error_body(const ApiError& e) {
  return json{{"error", e.what()}, {"error_type", error_type_name(e.type)}}.dump(-1, ' ', false,
                                                                                   json::error_handler_t::replace);
}

// OpenAI-compatible error: TEI serializes {"message", "code", "type"}; its OpenAPI document names
// the type field "error_type", so both are sent.
std::string openai_error_body(const ApiError& e) {
  return json{{"message", e.what()}, {"code", e.status}, {"type", error_type_name(e.type)},
              {"error_type", error_type_name(e.type)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

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

// bertcpp has no sentence-transformers prompts: a request naming one gets 424 (see docs/server.md).
void reject_prompt_name(const json& body) {
  if (get_opt_string(body, "prompt_name"))
    throw backend_error("`prompt_name` is not supported: this model has no sentence-transformers prompts");
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

std::optional<int64_t> get_opt_uint(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_unsigned()) throw type_error(key, "a non-negative integer");
  const auto v = it->get<uint64_t>();
  if (v > static_cast<uint64_t>(INT32_MAX)) throw type_error(key, "an integer that fits in 32 bits");
  return static_cast<int64_t>(v);
}

// One embedding input: a text or token ids (TEI's InputType).
struct InputItem {
  bool is_ids = false;
  std::string text;
  std::vector<int64_t> ids;
};

bool is_id_array(const json& j) {
  if (!j.is_array()) return false;
  for (const auto& v : j)
    if (!v.is_number_unsigned()) return false;
  return true;
}

std::vector<int64_t> to_ids(const json& j) {
  std::vector<int64_t> ids;
  ids.reserve(j.size());
  for (const auto& v : j) {
    const auto x = v.get<uint64_t>();
    if (x > static_cast<uint64_t>(UINT32_MAX)) throw type_error("inputs", "token ids that fit in 32 bits");
    ids.push_back(static_cast<int64_t>(x));
  }
  return ids;
}

// TEI's Input: InputType | [InputType]; InputType: string | [u32]. Returns (items, single).
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

// ---- concurrency limit (TEI's semaphore: one permit per input) ----
class Permits {
 public:
  explicit Permits(int64_t n) : available_(n) {}
  bool try_acquire(int64_t n) {
    int64_t cur = available_.load();
    while (cur >= n)
      if (available_.compare_exchange_weak(cur, cur - n)) return true;
    return false;
  }
  void release(int64_t n) { available_.fetch_add(n); }
  int64_t available() const { return available_.load(); }

 private:
  std::atomic<int64_t> available_;
};

struct PermitGuard {
  Permits& permits;
  int64_t n;
  PermitGuard(Permits& p, int64_t count) : permits(p), n(count) {}
  PermitGuard(const PermitGuard&) = delete;
  PermitGuard& operator=(const PermitGuard&) = delete;
  ~PermitGuard() { permits.release(n); }
};

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

void normalize_l2(std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  if (s <= 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(s));
  for (float& x : v) x *= scale;
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

}  // namespace

// ---------------------------------------------------------------------------------------------
struct HttpServer::Impl {
  HttpServer& self;
  Backend& backend;
  const ServerOptions& opt;
  Permits permits;
  std::string served_name;
  int64_t max_input_length;

  Impl(HttpServer& s)
      : self(s),
        backend(s.backend_),
        opt(s.options_),
        permits(s.options_.max_concurrent_requests),
        served_name(s.options_.served_model_name.empty() ? s.backend_.info().model_id : s.options_.served_model_name),
        max_input_length(std::min<int64_t>(s.backend_.info().max_input_length, s.options_.max_batch_tokens)) {}

  const BackendInfo& info() const { return backend.info(); }

  // Acquires one permit per input or throws 429 (TEI: try_acquire_permit).
  std::unique_ptr<PermitGuard> acquire(size_t n) {
    if (!permits.try_acquire(static_cast<int64_t>(n))) {
      self.metrics_.counter_add("te_request_failure", {{"err", "overloaded"}});
      throw ApiError(ErrorType::Overloaded, "Model is overloaded");
    }
    return std::unique_ptr<PermitGuard>(new PermitGuard(permits, static_cast<int64_t>(n)));
  }

  void check_batch(size_t n, const char* what = "inputs") {
    if (n == 0) {
      self.metrics_.counter_add("te_request_failure", {{"err", "validation"}});
      throw empty_error(std::string("`") + what + "` cannot be empty");
    }
    if (static_cast<int64_t>(n) > opt.max_client_batch_size) {
      self.metrics_.counter_add("te_request_failure", {{"err", "batch_size"}});
      throw ApiError(ErrorType::Validation, "batch size " + std::to_string(n) + " > maximum allowed batch size " +
                                                std::to_string(opt.max_client_batch_size));
    }
  }

  // TEI's encode_input: tokenize (optionally truncating) and refuse over-long inputs.
  TokenizedInput encode(const InputItem& item, const std::optional<std::string>& pair, bool truncate,
                        TruncationSide side) {
    TokenizedInput out;
    if (item.is_ids) {
      if (item.ids.empty()) throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
      for (int64_t id : item.ids)
        if (id >= info().vocab_size)
          throw ApiError(ErrorType::Tokenizer, "tokenizer error: token id " + std::to_string(id) +
                                                   " is out of the vocabulary (size " +
                                                   std::to_string(info().vocab_size) + ")");
      out.input_ids = item.ids;
      if (truncate && static_cast<int64_t>(out.input_ids.size()) > max_input_length) {
        if (side == TruncationSide::Right) out.input_ids.resize(static_cast<size_t>(max_input_length));
        else out.input_ids.erase(out.input_ids.begin(), out.input_ids.end() - max_input_length);
      }
      out.token_type_ids.assign(out.input_ids.size(), 0);
    } else {
      if (item.text.empty() && (!pair || pair->empty())) throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
      const size_t chars = count_chars(item.text) + (pair ? count_chars(*pair) : 0);
      const size_t limit = static_cast<size_t>(max_input_length * kMaxCharMultiplier);
      if (!truncate && chars > limit)
        throw validation("`inputs` must have less than " + std::to_string(limit) + " characters. Given: " +
                         std::to_string(chars));
      Backend::EncodeRequest r;
      r.text = item.text;
      if (pair) r.text_pair = std::string_view(*pair);
      r.truncate = truncate;
      r.side = side;
      r.max_length = max_input_length;
      Encoding enc;
      try {
        enc = backend.encode(r);
      } catch (const std::exception& e) {
        throw ApiError(ErrorType::Tokenizer, std::string("tokenizer error ") + e.what());
      }
      out.input_ids = std::move(enc.input_ids);
      out.token_type_ids = std::move(enc.token_type_ids);
    }
    const int64_t n = static_cast<int64_t>(out.input_ids.size());
    if (n > max_input_length)
      throw validation("`inputs` must have less than " + std::to_string(max_input_length) + " tokens. Given: " +
                       std::to_string(n));
    self.metrics_.observe("te_request_input_length", {}, static_cast<double>(n), Metrics::size_buckets());
    return out;
  }

  // Queues every input, waits for all of them. Backend failures -> 424.
  std::vector<TaskOutput> infer(std::vector<TokenizedInput> inputs, Task task, size_t* tokens) {
    std::vector<std::future<TaskOutput>> futures;
    futures.reserve(inputs.size());
    size_t total = 0;
    for (auto& in : inputs) {
      total += in.input_ids.size();
      futures.push_back(self.batcher_->submit(std::move(in), task));
    }
    if (tokens) *tokens = total;
    self.metrics_.counter_add("te_tokens_total", {}, static_cast<double>(total));
    std::vector<TaskOutput> outputs;
    outputs.reserve(futures.size());
    std::string failure;
    for (auto& f : futures) {
      try {
        outputs.push_back(f.get());
      } catch (const std::exception& e) {
        if (failure.empty()) failure = e.what();
      }
    }
    if (!failure.empty()) {
      self.metrics_.counter_add("te_request_failure", {{"err", "inference"}});
      throw backend_error(failure);
    }
    return outputs;
  }

  void require_embedding(const char* what) {
    if (info().kind != ModelKind::Embedding || !info().has_hidden_states) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error(std::string("Model is not an embedding model (") + what + ")");
    }
  }

  // ---- /embed, /v1/embeddings, /similarity share this ----
  struct PooledResult {
    std::vector<std::vector<float>> embeddings;
    size_t tokens = 0;
  };
  PooledResult embed_pooled(const std::vector<InputItem>& items, bool truncate, TruncationSide side, bool normalize,
                            std::optional<int64_t> dimensions) {
    require_embedding("/embed");
    if (info().pooling == "splade" && normalize)
      throw backend_error("`normalize` is not available for SPLADE models");
    if (dimensions && *dimensions == 0) throw validation("`dimensions` should be positive");
    auto permit = acquire(items.size());
    std::vector<TokenizedInput> inputs;
    for (const auto& item : items) inputs.push_back(encode(item, std::nullopt, truncate, side));
    PooledResult r;
    auto outputs = infer(std::move(inputs), Task::Pooled, &r.tokens);
    for (auto& o : outputs) {
      if (dimensions) {
        if (*dimensions > static_cast<int64_t>(o.values.size()))
          throw validation("`dimensions` should be smaller than the maximum embedding dimension.");
        o.values.resize(static_cast<size_t>(*dimensions));
      }
      if (normalize) normalize_l2(o.values);
      r.embeddings.push_back(std::move(o.values));
    }
    return r;
  }

  std::string handle_embed(const json& body) {
    auto [items, single] = parse_input(require(body, "inputs"), "inputs");
    if (!single) check_batch(items.size());
    reject_prompt_name(body);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    const bool normalize = get_bool(body, "normalize", true);
    const auto dims = get_opt_uint(body, "dimensions");
    auto r = embed_pooled(items, truncate, side, normalize, dims);
    std::string out = "[";
    for (size_t i = 0; i < r.embeddings.size(); ++i) {
      if (i) out += ',';
      append_floats(out, r.embeddings[i].data(), r.embeddings[i].size());
    }
    out += ']';
    return out;
  }

  std::string handle_openai(const json& body) {
    auto [items, single] = parse_input(require(body, "input"), "input");
    if (!single) check_batch(items.size());
    std::string format = "float";
    if (auto f = get_opt_string(body, "encoding_format")) format = *f;
    else if (body.contains("encoding_format") && !body["encoding_format"].is_null())
      throw type_error("encoding_format", "one of `float`, `base64`");
    if (format != "float" && format != "base64") throw type_error("encoding_format", "one of `float`, `base64`");
    (void)get_opt_string(body, "model");  // TEI serves one model: `model` is only checked for type
    (void)get_opt_string(body, "user");
    const auto dims = get_opt_uint(body, "dimensions");
    auto r = embed_pooled(items, opt.auto_truncate, TruncationSide::Right, true, dims);
    std::string out = "{\"object\":\"list\",\"data\":[";
    for (size_t i = 0; i < r.embeddings.size(); ++i) {
      if (i) out += ',';
      out += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
      if (format == "base64") out += "\"" + little_endian_base64(r.embeddings[i]) + "\"";
      else append_floats(out, r.embeddings[i].data(), r.embeddings[i].size());
      out += '}';
    }
    out += "],\"model\":" + json(served_name).dump(-1, ' ', false, json::error_handler_t::replace);
    out += ",\"usage\":{\"prompt_tokens\":" + std::to_string(r.tokens) +
           ",\"total_tokens\":" + std::to_string(r.tokens) + "}}";
    return out;
  }

  std::string handle_similarity(const json& body) {
    const json& inputs = require(body, "inputs");
    if (!inputs.is_object()) throw type_error("inputs", "an object with `source_sentence` and `sentences`");
    const json& src = require(inputs, "source_sentence");
    const json& sentences = require(inputs, "sentences");
    if (!src.is_string()) throw type_error("inputs.source_sentence", "a string");
    if (!sentences.is_array()) throw type_error("inputs.sentences", "a sequence of strings");
    for (const auto& s : sentences)
      if (!s.is_string()) throw type_error("inputs.sentences", "a sequence of strings");
    if (sentences.empty()) throw empty_error("`inputs.sentences` cannot be empty");
    const size_t batch = sentences.size() + 1;
    if (static_cast<int64_t>(batch) > opt.max_client_batch_size)
      throw ApiError(ErrorType::Validation, "batch size " + std::to_string(batch) + " > maximum allowed batch size " +
                                                std::to_string(opt.max_client_batch_size));
    json params = json::object();
    if (auto it = body.find("parameters"); it != body.end() && !it->is_null()) {
      if (!it->is_object()) throw type_error("parameters", "an object");
      params = *it;
    }
    reject_prompt_name(params);
    const bool truncate = get_opt_bool(params, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(params);
    std::vector<InputItem> items;
    items.push_back({false, src.get<std::string>(), {}});
    for (const auto& s : sentences) items.push_back({false, s.get<std::string>(), {}});
    auto r = embed_pooled(items, truncate, side, false, std::nullopt);
    std::string out = "[";
    for (size_t i = 1; i < r.embeddings.size(); ++i) {
      if (i > 1) out += ',';
      append_float(out, static_cast<float>(cosine(r.embeddings[0], r.embeddings[i])));
    }
    out += ']';
    return out;
  }

  std::string handle_embed_all(const json& body) {
    auto [items, single] = parse_input(require(body, "inputs"), "inputs");
    if (!single) check_batch(items.size());
    reject_prompt_name(body);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    require_embedding("/embed_all");
    if (info().pooling == "splade") throw backend_error("`embed_all` is not available for SPLADE models");
    auto permit = acquire(items.size());
    std::vector<TokenizedInput> inputs;
    for (const auto& item : items) inputs.push_back(encode(item, std::nullopt, truncate, side));
    auto outputs = infer(std::move(inputs), Task::AllTokens, nullptr);
    std::string out = "[";
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (i) out += ',';
      out += '[';
      const auto& o = outputs[i];
      const size_t h = o.rows ? o.values.size() / static_cast<size_t>(o.rows) : 0;
      for (int64_t t = 0; t < o.rows; ++t) {
        if (t) out += ',';
        append_floats(out, o.values.data() + static_cast<size_t>(t) * h, h);
      }
      out += ']';
    }
    out += ']';
    return out;
  }

  std::string handle_embed_sparse(const json& body) {
    auto [items, single] = parse_input(require(body, "inputs"), "inputs");
    if (!single) check_batch(items.size());
    reject_prompt_name(body);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    if (!info().has_mlm_head) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error("Model is not an embedding model with SPLADE pooling (it has no masked-LM head)");
    }
    auto permit = acquire(items.size());
    std::vector<TokenizedInput> inputs;
    for (const auto& item : items) inputs.push_back(encode(item, std::nullopt, truncate, side));
    auto outputs = infer(std::move(inputs), Task::Sparse, nullptr);
    std::string out = "[";
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (i) out += ',';
      out += '[';
      bool first = true;
      const auto& v = outputs[i].values;
      for (size_t k = 0; k < v.size(); ++k) {
        if (v[k] == 0.0f) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"index\":" + std::to_string(k) + ",\"value\":";
        append_float(out, v[k]);
        out += '}';
      }
      out += ']';
    }
    out += ']';
    return out;
  }

  // Softmax (several labels) or sigmoid (one label) unless raw scores are asked for (TEI's predict).
  static void scores(std::vector<float>& v, bool raw) {
    if (raw || v.empty()) return;
    if (v.size() == 1) {
      v[0] = 1.0f / (1.0f + std::exp(-v[0]));
      return;
    }
    const float m = *std::max_element(v.begin(), v.end());
    double den = 0;
    for (float& x : v) {
      x = std::exp(x - m);
      den += x;
    }
    for (float& x : v) x = static_cast<float>(x / den);
  }

  void require_classifier(const char* what) {
    if (!info().has_classifier) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error(std::string("Model is not a classifier model (") + what + ")");
    }
  }

  std::string handle_predict(const json& body) {
    const json& in = require(body, "inputs");
    struct Seq {
      std::string a;
      std::optional<std::string> b;
    };
    std::vector<Seq> seqs;
    bool single = true;
    const auto bad = [] {
      return ApiError(ErrorType::Validation,
                      "Failed to deserialize the JSON body into the target type: inputs: expected a string, a pair "
                      "of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]");
    };
    if (in.is_string()) {
      seqs.push_back({in.get<std::string>(), std::nullopt});
    } else if (in.is_array() && !in.empty() && in[0].is_string()) {
      if (in.size() > 2) throw bad();
      for (const auto& e : in)
        if (!e.is_string()) throw bad();
      seqs.push_back({in[0].get<std::string>(), in.size() == 2 ? std::optional(in[1].get<std::string>()) : std::nullopt});
    } else if (in.is_array() && !in.empty()) {
      single = false;
      for (const auto& e : in) {
        if (!e.is_array() || e.empty() || e.size() > 2) throw bad();
        for (const auto& s : e)
          if (!s.is_string()) throw bad();
        seqs.push_back({e[0].get<std::string>(), e.size() == 2 ? std::optional(e[1].get<std::string>()) : std::nullopt});
      }
    } else {
      throw bad();
    }
    if (!single) check_batch(seqs.size());
    const bool raw = get_bool(body, "raw_scores", false);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    require_classifier("/predict");
    auto permit = acquire(seqs.size());
    std::vector<TokenizedInput> inputs;
    for (const auto& s : seqs) inputs.push_back(encode({false, s.a, {}}, s.b, truncate, side));
    auto outputs = infer(std::move(inputs), Task::Classify, nullptr);
    json result = json::array();
    for (auto& o : outputs) {
      scores(o.values, raw);
      std::vector<std::pair<float, size_t>> order;
      for (size_t k = 0; k < o.values.size(); ++k) {
        if (std::isnan(o.values[k])) throw backend_error("score is NaN");
        order.push_back({o.values[k], k});
      }
      std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      json preds = json::array();
      for (const auto& [score, k] : order) {
        const std::string label = k < info().labels.size() ? info().labels[k] : "LABEL_" + std::to_string(k);
        preds.push_back({{"score", score}, {"label", label}});
      }
      result.push_back(std::move(preds));
    }
    if (single) return result[0].dump(-1, ' ', false, json::error_handler_t::replace);
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string handle_rerank(const json& body) {
    const json& query = require(body, "query");
    const json& texts = require(body, "texts");
    if (!query.is_string()) throw type_error("query", "a string");
    if (!texts.is_array()) throw type_error("texts", "a sequence of strings");
    for (const auto& t : texts)
      if (!t.is_string()) throw type_error("texts", "a sequence of strings");
    const bool raw = get_bool(body, "raw_scores", false);
    const bool return_text = get_bool(body, "return_text", false);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    if (texts.empty()) throw empty_error("`texts` cannot be empty");
    require_classifier("/rerank");
    check_batch(texts.size(), "texts");
    auto permit = acquire(texts.size());
    const std::string q = query.get<std::string>();
    std::vector<TokenizedInput> inputs;
    for (const auto& t : texts) inputs.push_back(encode({false, q, {}}, t.get<std::string>(), truncate, side));
    auto outputs = infer(std::move(inputs), Task::Classify, nullptr);
    struct Rank {
      size_t index;
      float score;
    };
    std::vector<Rank> ranks;
    for (size_t i = 0; i < outputs.size(); ++i) {
      scores(outputs[i].values, raw);
      const float s = outputs[i].values.empty() ? NAN : outputs[i].values[0];
      if (std::isnan(s)) throw backend_error("score is NaN");
      ranks.push_back({i, s});
    }
    std::stable_sort(ranks.begin(), ranks.end(), [](const Rank& a, const Rank& b) { return a.score > b.score; });
    json result = json::array();
    for (const auto& r : ranks) {
      json j = {{"index", r.index}, {"score", r.score}};
      if (return_text) j["text"] = texts[r.index];
      result.push_back(std::move(j));
    }
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string handle_tokenize(const json& body) {
    const json& in = require(body, "inputs");
    std::vector<std::string> texts;
    bool single = false;
    if (in.is_string()) {
      texts.push_back(in.get<std::string>());
      single = true;
    } else if (in.is_array()) {
      for (const auto& e : in) {
        if (!e.is_string()) throw type_error("inputs", "a string or a sequence of strings");
        texts.push_back(e.get<std::string>());
      }
    } else {
      throw type_error("inputs", "a string or a sequence of strings");
    }
    if (!single) check_batch(texts.size());
    const bool add_special = get_bool(body, "add_special_tokens", true);
    reject_prompt_name(body);
    // Permits as the inference routes (one per input): tokenization is the same CPU and memory.
    auto permit = acquire(texts.size());
    // Written straight out: a JSON DOM of every token cost ~700 bytes a token (1.4 GB for one
    // 2 MB request). Keys in the DOM's (sorted) order, so the bytes are as before.
    std::string out = "[";
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string& text = texts[i];
      if (text.empty()) throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
      const size_t limit = static_cast<size_t>(max_input_length * kMaxCharMultiplier);
      if (count_chars(text) > limit)
        throw validation("`inputs` must have less than " + std::to_string(limit) + " characters. Given: " +
                         std::to_string(count_chars(text)));
      Backend::EncodeRequest r;
      r.text = text;
      r.add_special_tokens = add_special;
      r.truncate = false;
      Encoding enc;
      try {
        enc = backend.encode(r);
      } catch (const std::exception& e) {
        throw ApiError(ErrorType::Tokenizer, std::string("tokenizer error ") + e.what());
      }
      if (i) out += ',';
      out += '[';
      for (size_t k = 0; k < enc.input_ids.size(); ++k) {
        const bool special = k < enc.sequence_ids.size() ? enc.sequence_ids[k] < 0 : false;
        if (k) out += ',';
        out += "{\"id\":" + std::to_string(enc.input_ids[k]) + ",\"special\":" + (special ? "true" : "false");
        if (special) {
          out += ",\"start\":null,\"stop\":null,\"text\":";
          out += json(k < enc.tokens.size() ? enc.tokens[k] : "").dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
          const auto [b, e] = k < enc.byte_offsets.size() ? enc.byte_offsets[k] : std::pair<int64_t, int64_t>{0, 0};
          const size_t bb = static_cast<size_t>(std::clamp<int64_t>(b, 0, static_cast<int64_t>(text.size())));
          const size_t ee = static_cast<size_t>(std::clamp<int64_t>(e, static_cast<int64_t>(bb), static_cast<int64_t>(text.size())));
          out += ",\"start\":" + std::to_string(bb) + ",\"stop\":" + std::to_string(ee) + ",\"text\":";
          out += json(text.substr(bb, ee - bb)).dump(-1, ' ', false, json::error_handler_t::replace);
        }
        out += '}';
      }
      out += ']';
    }
    out += ']';
    return out;
  }

  std::string handle_decode(const json& body) {
    const json& in = require(body, "ids");
    std::vector<std::vector<int64_t>> batch;
    bool single = false;
    if (is_id_array(in)) {
      batch.push_back(to_ids(in));
      single = true;
    } else if (in.is_array()) {
      for (const auto& e : in) {
        if (!is_id_array(e)) throw type_error("ids", "a sequence of token ids or a sequence of sequences of token ids");
        batch.push_back(to_ids(e));
      }
    } else {
      throw type_error("ids", "a sequence of token ids or a sequence of sequences of token ids");
    }
    if (!single) check_batch(batch.size(), "ids");
    const bool skip = get_bool(body, "skip_special_tokens", true);
    json result = json::array();
    for (const auto& ids : batch) {
      for (int64_t id : ids)
        if (id >= info().vocab_size)
          throw ApiError(ErrorType::Tokenizer, "tokenizer error: token id " + std::to_string(id) +
                                                   " is out of the vocabulary (size " +
                                                   std::to_string(info().vocab_size) + ")");
      try {
        result.push_back(backend.decode(ids, skip));
      } catch (const std::exception& e) {
        throw ApiError(ErrorType::Tokenizer, std::string("tokenizer error ") + e.what());
      }
    }
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string handle_info() const {
    json classifier = json::object();
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < info().labels.size(); ++i) {
      id2label[std::to_string(i)] = info().labels[i];
      label2id[info().labels[i]] = i;
    }
    json model_type;
    switch (info().kind) {
      case ModelKind::Embedding: model_type = {{"embedding", {{"pooling", info().pooling}}}}; break;
      case ModelKind::Classifier: model_type = {{"classifier", {{"id2label", id2label}, {"label2id", label2id}}}}; break;
      case ModelKind::Reranker: model_type = {{"reranker", {{"id2label", id2label}, {"label2id", label2id}}}}; break;
    }
    json j = {{"model_id", info().model_id},
              {"model_sha", nullptr},
              {"model_dtype", info().model_dtype},
              {"served_model_name", served_name},
              {"model_type", model_type},
              {"model_architecture", info().model_architecture},  // bertcpp: config.json's model_type
              {"model_family", info().model_family},              // bertcpp: the engine family
              {"max_concurrent_requests", opt.max_concurrent_requests},
              {"max_input_length", max_input_length},
              {"max_batch_tokens", opt.max_batch_tokens},
              {"max_batch_requests", opt.max_batch_requests ? json(*opt.max_batch_requests) : json(nullptr)},
              {"max_client_batch_size", opt.max_client_batch_size},
              {"auto_truncate", opt.auto_truncate},
              {"tokenization_workers", self.http_threads_},
              {"version", kVersion},
              {"sha", nullptr},
              {"docker_label", nullptr}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
};

// ---------------------------------------------------------------------------------------------
HttpServer::HttpServer(Backend& backend, ServerOptions options)
    : backend_(backend), options_(std::move(options)), logger_(options_.json_output, options_.quiet) {
  if (options_.max_concurrent_requests <= 0) throw invalid_argument("--max-concurrent-requests must be positive");
  if (options_.max_batch_tokens <= 0) throw invalid_argument("--max-batch-tokens must be positive");
  if (options_.max_client_batch_size <= 0) throw invalid_argument("--max-client-batch-size must be positive");
  if (options_.max_batch_requests && *options_.max_batch_requests <= 0)
    throw invalid_argument("--max-batch-requests must be positive");
  http_threads_ = options_.http_threads > 0
                      ? options_.http_threads
                      : static_cast<int>(std::min<int64_t>(options_.max_concurrent_requests + 32, 2048));
  batcher_ = std::make_unique<Batcher>(backend_, BatcherOptions{options_.max_batch_tokens, options_.max_batch_requests},
                                       &metrics_);
  impl_ = std::make_unique<Impl>(*this);

  // Every model route: auth, JSON parsing, error mapping, metrics and one access-log line.
  const auto route = [this](const std::string& path, bool openai,
                            std::function<std::string(Impl&, const json&)> fn) {
    post_routes_[path] = [this, path, openai, fn](const http::Request& req, http::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      std::string error_message;
      try {
        const json body = parse_body(req);
        res.set_content(fn(*impl_, body), "application/json");
        res.status = 200;
      } catch (const ApiError& e) {
        res.status = e.status;
        res.set_content(openai ? openai_error_body(e) : error_body(e), "application/json");
        error_message = e.what();
      } catch (const std::exception& e) {
        const ApiError err(ErrorType::Backend, std::string("Backend error: ") + e.what());
        res.status = err.status;
        res.set_content(openai ? openai_error_body(err) : error_body(err), "application/json");
        error_message = err.what();
      } catch (...) {
        const ApiError err(ErrorType::Backend, "Backend error: unknown failure");
        res.status = err.status;
        res.set_content(openai ? openai_error_body(err) : error_body(err), "application/json");
        error_message = err.what();
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      metrics_.counter_add("te_request_count", {{"route", path}, {"status", std::to_string(res.status)}});
      metrics_.observe("te_request_duration", {{"route", path}}, seconds, Metrics::latency_buckets());
      if (res.status == 200) metrics_.counter_add("te_request_success", {{"route", path}});
      json fields = {{"method", "POST"}, {"path", path}, {"status", res.status},
                     {"duration_ms", std::round(seconds * 1e5) / 100}, {"body_bytes", req.body.size()}};
      if (!error_message.empty()) fields["error"] = error_message;
      if (options_.log_inputs) fields["body"] = req.body.substr(0, 4096);
      if (res.status == 200) logger_.info("request", fields);
      else logger_.warn("request", fields);
    };
  };
  route("/embed", false, [](Impl& i, const json& b) { return i.handle_embed(b); });
  route("/embed_all", false, [](Impl& i, const json& b) { return i.handle_embed_all(b); });
  route("/embed_sparse", false, [](Impl& i, const json& b) { return i.handle_embed_sparse(b); });
  route("/predict", false, [](Impl& i, const json& b) { return i.handle_predict(b); });
  route("/rerank", false, [](Impl& i, const json& b) { return i.handle_rerank(b); });
  route("/similarity", false, [](Impl& i, const json& b) { return i.handle_similarity(b); });
  route("/tokenize", false, [](Impl& i, const json& b) { return i.handle_tokenize(b); });
  route("/decode", false, [](Impl& i, const json& b) { return i.handle_decode(b); });
  route("/v1/embeddings", true, [](Impl& i, const json& b) { return i.handle_openai(b); });
  route("/embeddings", true, [](Impl& i, const json& b) { return i.handle_openai(b); });
  // TEI's default route (and SageMaker's /invocations): the model type's main task.
  const auto default_task = [](Impl& i, const json& b) {
    switch (i.info().kind) {
      case ModelKind::Classifier: return i.handle_predict(b);
      case ModelKind::Reranker: return i.handle_rerank(b);
      case ModelKind::Embedding: break;
    }
    if (i.info().pooling == "splade") return i.handle_embed_sparse(b);
    return i.handle_embed(b);
  };
  route("/", false, default_task);
  route("/invocations", false, default_task);

  const auto health = [this](const http::Request&, http::Response& res) {
    res.status = 200;
    metrics_.counter_add("te_request_count", {{"route", "/health"}, {"status", "200"}});
  };
  get_routes_["/health"] = health;
  get_routes_["/"] = health;
  get_routes_["/ping"] = health;
  get_routes_["/info"] = [this](const http::Request&, http::Response& res) {
    res.set_content(impl_->handle_info(), "application/json");
    metrics_.counter_add("te_request_count", {{"route", "/info"}, {"status", "200"}});
  };
  get_routes_["/metrics"] = [this](const http::Request&, http::Response& res) {
    metrics_.gauge_set("te_queue_size", {}, static_cast<double>(batcher_->queue_size()));
    metrics_.gauge_set("te_inputs_in_flight", {},
                       static_cast<double>(options_.max_concurrent_requests - impl_->permits.available()));
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  };

  http::TransportOptions t;
  t.host = options_.hostname;
  t.port = options_.port;
  t.max_header_bytes = options_.max_header_bytes;
  t.max_headers = options_.max_headers;
  t.max_body_bytes = options_.payload_limit;
  t.request_timeout_ms = options_.read_timeout_sec * 1000;
  t.keep_alive_timeout_ms = options_.keep_alive_timeout_sec * 1000;
  t.write_timeout_ms = options_.write_timeout_sec * 1000;
  t.max_connections = options_.max_connections;
  t.workers = http_threads_;
  // GET routes do no model work: answered on the transport's own thread, even when every worker is busy.
  const auto quick = [](const http::Request& req) { return req.method == "GET" || req.method == "HEAD"; };
  http_ = std::make_unique<http::Transport>(
      t, [this](const http::Request& req, http::Response& res) { dispatch(req, res); }, quick,
      [this](int status, const std::string& message, http::Response& res) { transport_error(status, message, res); });
}

// API key (Bearer) on every route except health and metrics, as TEI; then the route.
void HttpServer::dispatch(const http::Request& req, http::Response& res) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (options_.api_key) {
    const bool open = req.path == "/health" || req.path == "/ping" || req.path == "/metrics" ||
                      (req.path == "/" && get);
    if (!open && !constant_time_equal(req.header("Authorization"), "Bearer " + *options_.api_key)) {
      const ApiError err(ErrorType::Validation, "Unauthorized: missing or wrong API key (Authorization: Bearer <key>)",
                         401);
      res.status = 401;
      res.set_content(req.path.find("embeddings") != std::string::npos ? openai_error_body(err) : error_body(err),
                      "application/json");
      metrics_.counter_add("te_request_count", {{"route", route_label(req.path)}, {"status", "401"}});
      logger_.warn("request", {{"method", req.method.substr(0, 16)}, {"path", req.path.substr(0, 256)}, {"status", 401}});
      return;
    }
  }
  const auto& routes = get ? get_routes_ : post_routes_;
  const auto it = req.method == "POST" || get ? routes.find(req.path) : routes.end();
  if (it == routes.end()) {
    transport_error(404, "Not found: " + req.path.substr(0, 256), res);
    return;
  }
  it->second(req, res);
}

// Routes known by name; anything else is counted as "other" (bounded metric label cardinality).
std::string HttpServer::route_label(const std::string& path) const {
  return post_routes_.count(path) || get_routes_.count(path) ? path : "other";
}

// Transport-level errors (400, 404, 408, 413, 431, 500): TEI's body shape.
void HttpServer::transport_error(int status, const std::string& detail, http::Response& res) {
  std::string message;
  switch (status) {
    case 413: message = "Payload too large: the body exceeds the limit of " + std::to_string(options_.payload_limit) + " bytes"; break;
    case 404: message = detail; break;
    case 408: message = "Request timeout: " + detail; break;
    case 431: message = "Request header fields too large: " + detail; break;
    case 500: message = "Backend error: internal failure"; break;
    default: message = "Bad request: " + detail; break;
  }
  const ApiError err(status == 500 ? ErrorType::Backend : ErrorType::Validation, message, status);
  res.status = status;
  res.set_content(error_body(err), "application/json");
  metrics_.counter_add("te_request_count", {{"route", "other"}, {"status", std::to_string(status)}});
}

HttpServer::~HttpServer() {
  stop();
  join();
  if (batcher_) batcher_->stop();
}

int HttpServer::bind() {
  const int port = http_->bind();
  if (port < 0)
    throw Error(ErrorKind::InvalidArgument,
                "cannot listen on " + options_.hostname + ":" + std::to_string(options_.port) +
                    " (address in use, or not an address of this machine)");
  port_ = port;
  return port;
}

void HttpServer::listen() {
  logger_.info("Ready", {{"hostname", options_.hostname}, {"port", port_}, {"model_id", backend_.info().model_id},
                         {"max_batch_tokens", options_.max_batch_tokens},
                         {"max_concurrent_requests", options_.max_concurrent_requests},
                         {"http_threads", http_threads_}});
  listening_ = true;
  if (!stopped_) http_->run();
  listening_ = false;
  // run() returns once stopped and every dispatched request has been answered.
  batcher_->stop();
  logger_.info("Shut down");
}

int HttpServer::start() {
  const int port = bind();
  thread_ = std::thread([this] { listen(); });
  while (!http_->running() && !stopped_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) return;
  if (http_) http_->stop();
}

size_t HttpServer::queue_size() const { return batcher_->queue_size(); }

void HttpServer::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace bertcpp::server
