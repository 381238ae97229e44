#include "server/inference.hpp"

#include <algorithm>

namespace bertcpp::server {

using namespace schema;

// The client-gone flag of the request this worker thread is handling (set around each route call),
// so inputs queued for a client that hung up are dropped by the batcher instead of computed.
thread_local std::shared_ptr<const std::atomic<bool>> t_client_gone;


namespace {

// The first (Right) or last (Left) `n` code points of UTF-8 `s`.
std::string_view keep_chars(std::string_view s, size_t n, TruncationSide side) {
  const auto starts = [&](size_t i) { return (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80; };
  if (side == TruncationSide::Right) {
    size_t seen = 0;
    for (size_t i = 0; i < s.size(); ++i)
      if (starts(i) && seen++ == n) return s.substr(0, i);
    return s;
  }
  size_t seen = 0;
  for (size_t i = s.size(); i-- > 0;)
    if (starts(i) && ++seen == n) return s.substr(i);
  return s;
}

}  // namespace

InferenceCore::InferenceCore(Backend& backend, Batcher& batcher, Metrics& metrics, Limits limits)
    : backend_(backend), batcher_(batcher), metrics_(metrics), limits_(limits), permits_(limits.max_concurrent_requests),
      tokenizers_(limits.tokenization_workers) {}

// Acquires one permit per input or throws 429 (TEI: try_acquire_permit).
std::unique_ptr<PermitGuard> InferenceCore::acquire(size_t n) {
  if (!permits_.try_acquire(static_cast<int64_t>(n))) {
    metrics_.counter_add("te_request_failure", {{"err", "overloaded"}});
    throw ApiError(ErrorType::Overloaded, "Model is overloaded");
  }
  return std::unique_ptr<PermitGuard>(new PermitGuard(permits_, static_cast<int64_t>(n)));
}

void InferenceCore::check_batch(size_t n, const char* what) {
  if (n == 0) {
    metrics_.counter_add("te_request_failure", {{"err", "validation"}});
    throw empty_error(std::string("`") + what + "` cannot be empty");
  }
  if (static_cast<int64_t>(n) > limits_.max_client_batch_size) {
    metrics_.counter_add("te_request_failure", {{"err", "batch_size"}});
    throw ApiError(ErrorType::Validation, "batch size " + std::to_string(n) + " > maximum allowed batch size " +
                                              std::to_string(limits_.max_client_batch_size));
  }
}

// TEI's encode_input: tokenize (optionally truncating) and refuse over-long inputs.
TokenizedInput InferenceCore::encode(const InputItem& item, const std::optional<std::string>& pair, bool truncate,
                                   TruncationSide side, Encoding* keep) {
  TokenizedInput out;
  if (item.is_ids) {
    if (item.ids.empty()) throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
    for (int64_t id : item.ids)
      if (id >= backend_.info().vocab_size)
        throw ApiError(ErrorType::Tokenizer, "tokenizer error: token id " + std::to_string(id) +
                                                 " is out of the vocabulary (size " +
                                                 std::to_string(backend_.info().vocab_size) + ")");
    out.input_ids = item.ids;
    if (truncate && static_cast<int64_t>(out.input_ids.size()) > limits_.max_input_length) {
      if (side == TruncationSide::Right) out.input_ids.resize(static_cast<size_t>(limits_.max_input_length));
      else out.input_ids.erase(out.input_ids.begin(), out.input_ids.end() - limits_.max_input_length);
    }
    out.token_type_ids.assign(out.input_ids.size(), 0);
  } else {
    // Each text of a pair must be non-empty (a pair with an empty side is a client's bug, and the
    // OpenAPI document can then state the rule exactly); the character cap is per text too.
    if (item.text.empty() || (pair && pair->empty()))
      throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
    // Over the character cap: 422, or with truncation (as TEI) only the cap's worth of characters
    // is tokenized, so a huge text never costs a huge tokenization.
    const size_t limit = static_cast<size_t>(limits_.max_input_length * kMaxCharMultiplier);
    std::string_view text = item.text, second = pair ? std::string_view(*pair) : std::string_view();
    for (std::string_view* t : {&text, &second}) {
      const size_t chars = count_chars(*t);
      if (chars <= limit) continue;
      if (!truncate)
        throw validation("`inputs` must have less than " + std::to_string(limit) + " characters. Given: " +
                         std::to_string(chars));
      *t = keep_chars(*t, limit, side);
    }
    Backend::EncodeRequest r;
    r.text = text;
    if (pair) r.text_pair = second;
    r.truncate = truncate;
    r.side = side;
    r.max_length = limits_.max_input_length;
    Encoding enc;
    try {
      enc = tokenizers_.run([&] { return backend_.encode(r); });
    } catch (const std::exception& e) {
      throw ApiError(ErrorType::Tokenizer, std::string("tokenizer error ") + e.what());
    }
    out.input_ids = enc.input_ids;
    out.token_type_ids = enc.token_type_ids;
    if (keep) *keep = std::move(enc);
  }
  const int64_t n = static_cast<int64_t>(out.input_ids.size());
  if (n > limits_.max_input_length)
    throw validation("`inputs` must have less than " + std::to_string(limits_.max_input_length) + " tokens. Given: " +
                     std::to_string(n));
  metrics_.observe("te_request_input_length", {}, static_cast<double>(n), Metrics::size_buckets());
  return out;
}

// Queues every input, waits for all of them. Backend failures -> 424.
std::vector<TaskOutput> InferenceCore::infer(std::vector<TokenizedInput> inputs, Task task, size_t* tokens) {
  std::vector<std::future<TaskOutput>> futures;
  futures.reserve(inputs.size());
  size_t total = 0;
  for (auto& in : inputs) {
    total += in.input_ids.size();
    futures.push_back(batcher_.submit(std::move(in), task, t_client_gone));
  }
  if (tokens) *tokens = total;
  metrics_.counter_add("te_tokens_total", {}, static_cast<double>(total));
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
    metrics_.counter_add("te_request_failure", {{"err", "inference"}});
    throw backend_error(failure);
  }
  return outputs;
}


}  // namespace bertcpp::server
