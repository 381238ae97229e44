// Dynamic batching (TEI's queue + batching task): HTTP handlers submit tokenized inputs; one
// scheduler thread drains the queue, sorts what it took by length (to limit padding), cuts it into
// batches under a padded token budget (max_len * count <= max_batch_tokens) and a request cap, runs
// each batch through Backend::run and fulfils every input's promise. A failing batch fails only its
// own inputs. stop() finishes everything already queued, then joins.
#pragma once
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
  std::future<TaskOutput> submit(TokenizedInput input, Task task);
  void stop();
  size_t queue_size() const;
  uint64_t batches_run() const;

 private:
  struct Entry {
    TokenizedInput input;
    Task task;
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
  std::thread thread_;
};

}  // namespace bertcpp::server
