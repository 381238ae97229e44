// Dynamic batching (TEI's queue + batching task): HTTP handlers submit tokenized inputs; one
// scheduler thread takes one batch at a time from the queue, in arrival order, under a budget of
// real (unpadded) tokens — the forward pass packs away the padding — and a request cap, runs it
// through Backend::run and fulfils every input's promise. An input whose client went away before
// its batch was formed is dropped, never computed. A failing batch fails only its own inputs.
// stop() finishes everything already queued, then joins.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "server/backend.hpp"
#include "server/metrics.hpp"

namespace bertcpp::server {

struct BatcherOptions {
  int64_t max_batch_tokens = 16384;
  std::optional<int64_t> max_batch_requests;  // unset = no cap beyond the token budget
};

class Batcher {
 public:
  Batcher(Backend& backend, BatcherOptions options, Metrics* metrics = nullptr);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one input. The future throws what Backend::run threw for its batch, or
  // std::runtime_error("server is shutting down") when submitted after stop().
  // `client_gone` (optional) is set by the transport when the client disconnects.
  std::future<TaskOutput> submit(TokenizedInput input, Task task,
                                 std::shared_ptr<const std::atomic<bool>> client_gone = nullptr);
  void stop();
  size_t queue_size() const;
  uint64_t batches_run() const;
  uint64_t dropped() const;  // inputs dropped because their client went away

 private:
  struct Entry {
    TokenizedInput input;
    Task task;
    std::shared_ptr<const std::atomic<bool>> client_gone;
    std::promise<TaskOutput> promise;
  };
  void loop();
  void run_batch(std::vector<std::unique_ptr<Entry>>& entries, size_t begin, size_t end);

  Backend& backend_;
  BatcherOptions options_;
  Metrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Entry>> pending_;
  bool stopping_ = false;
  uint64_t batches_ = 0;
  uint64_t dropped_ = 0;
  std::thread thread_;
};

}  // namespace bertcpp::server
