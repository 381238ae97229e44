// The inference core of `bertcpp serve`, apart from HTTP and the request schema: TEI's permits
// (one per input, 429 when none is left), the bounded tokenization pool, TEI's input validation
// (empty, character and token limits, vocabulary), and enqueueing inputs on the batcher and
// waiting for them (inputs of a client that went away are dropped by the batcher).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/backend.hpp"
#include "server/metrics.hpp"
#include "server/queue/batcher.hpp"
#include "server/schema.hpp"
#include "server/work_pool.hpp"

namespace bertcpp::server {

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

// The client-gone flag of the request this worker thread is handling (set by the route around each
// call), so inputs queued for a client that hung up are dropped instead of computed.
extern thread_local std::shared_ptr<const std::atomic<bool>> t_client_gone;

class InferenceCore {
 public:
  static constexpr int64_t kMaxCharMultiplier = 250;  // TEI: inputs over max_input_length * 250 chars are refused
  struct Limits {
    int64_t max_concurrent_requests = 512;
    int64_t max_client_batch_size = 32;
    int64_t max_input_length = 512;  // tokens
    int tokenization_workers = 0;    // 0 = the cores
  };
  InferenceCore(Backend& backend, Batcher& batcher, Metrics& metrics, Limits limits);

  // One permit per input or throws 429 (TEI: try_acquire_permit).
  std::unique_ptr<PermitGuard> acquire(size_t n);
  // 400 when empty, 422 over --max-client-batch-size.
  void check_batch(size_t n, const char* what = "inputs");
  // TEI's encode_input: tokenize on the pool (optionally truncating) and refuse over-long inputs;
  // `keep` receives the full Encoding (offsets, tokens) when given.
  TokenizedInput encode(const schema::InputItem& item, const std::optional<std::string>& pair, bool truncate,
                        TruncationSide side, Encoding* keep = nullptr);
  // Queues every input, waits for all of them. Backend failures -> 424.
  std::vector<TaskOutput> infer(std::vector<TokenizedInput> inputs, Task task, size_t* tokens);

  WorkPool& tokenizers() { return tokenizers_; }
  int tokenization_workers() const { return tokenizers_.size(); }
  int64_t permits_available() const { return permits_.available(); }

 private:
  Backend& backend_;
  Batcher& batcher_;
  Metrics& metrics_;
  Limits limits_;
  Permits permits_;
  WorkPool tokenizers_;
};

}  // namespace bertcpp::server
