#include "server/queue/batcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace bertcpp::server {

Batcher::Batcher(Backend& backend, BatcherOptions options, Metrics* metrics)
    : backend_(backend), options_(options), metrics_(metrics) {
  if (options_.max_batch_tokens <= 0) options_.max_batch_tokens = 1;
  thread_ = std::thread([this] { loop(); });
}

Batcher::~Batcher() { stop(); }

std::future<TaskOutput> Batcher::submit(TokenizedInput input, Task task,
                                        std::shared_ptr<const std::atomic<bool>> client_gone) {
  auto entry = std::make_unique<Entry>();
  entry->input = std::move(input);
  entry->task = task;
  entry->client_gone = std::move(client_gone);
  auto future = entry->promise.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      entry->promise.set_exception(std::make_exception_ptr(std::runtime_error("server is shutting down")));
      return future;
    }
    pending_.push_back(std::move(entry));
    if (metrics_) metrics_->gauge_set("te_queue_size", {}, static_cast<double>(pending_.size()));
  }
  cv_.notify_one();
  return future;
}

void Batcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t Batcher::queue_size() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

uint64_t Batcher::batches_run() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

uint64_t Batcher::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void Batcher::loop() {
  const size_t cap = options_.max_batch_requests && *options_.max_batch_requests > 0
                         ? static_cast<size_t>(*options_.max_batch_requests)
                         : SIZE_MAX;
  const size_t budget = static_cast<size_t>(options_.max_batch_tokens);
  for (;;) {
    std::vector<std::unique_ptr<Entry>> batch, gone;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping and drained
      size_t tokens = 0;
      while (!pending_.empty() && batch.size() < cap) {
        auto& e = pending_.front();
        if (e->client_gone && e->client_gone->load()) {
          gone.push_back(std::move(e));
          pending_.pop_front();
          continue;
        }
        const size_t len = std::max<size_t>(e->input.input_ids.size(), 1);
        if (!batch.empty() && tokens + len > budget) break;
        tokens += len;
        batch.push_back(std::move(e));
        pending_.pop_front();
      }
      dropped_ += gone.size();
      if (metrics_) metrics_->gauge_set("te_queue_size", {}, static_cast<double>(pending_.size()));
    }
    if (!gone.empty()) {
      if (metrics_) metrics_->counter_add("te_request_dropped", {}, static_cast<double>(gone.size()));
      for (auto& e : gone)
        e->promise.set_exception(std::make_exception_ptr(std::runtime_error("the client went away")));
    }
    if (!batch.empty()) run_batch(batch, 0, batch.size());
  }
}

void Batcher::run_batch(std::vector<std::unique_ptr<Entry>>& entries, size_t begin, size_t end) {
  std::vector<const TokenizedInput*> inputs;
  std::vector<Task> tasks;
  size_t tokens = 0, max_len = 0;
  for (size_t k = begin; k < end; ++k) {
    inputs.push_back(&entries[k]->input);
    tasks.push_back(entries[k]->task);
    tokens += entries[k]->input.input_ids.size();
    max_len = std::max(max_len, entries[k]->input.input_ids.size());
  }
  const auto t0 = std::chrono::steady_clock::now();
  // Metrics are recorded before any promise is fulfilled, so a client that reads /metrics right
  // after its answer sees its batch counted.
  const auto record = [&] {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      std::lock_guard lock(mutex_);
      ++batches_;
    }
    if (metrics_) {
      metrics_->observe("te_batch_next_size", {}, static_cast<double>(end - begin), Metrics::size_buckets());
      metrics_->observe("te_batch_next_tokens", {}, static_cast<double>(tokens), Metrics::size_buckets());
      metrics_->observe("te_batch_padded_tokens", {}, static_cast<double>(max_len * (end - begin)),
                        Metrics::size_buckets());
      metrics_->observe("te_batch_inference_duration", {}, seconds, Metrics::latency_buckets());
      metrics_->counter_add("te_batch_count", {});
    }
  };
  std::vector<TaskOutput> outputs;
  try {
    outputs = backend_.run(inputs, tasks);
    if (outputs.size() != inputs.size()) throw std::runtime_error("backend returned a wrong number of outputs");
  } catch (...) {
    const auto error = std::current_exception();
    record();
    // One input the model refuses must not fail its neighbours: run each alone, so only it fails.
    if (end - begin == 1) {
      entries[begin]->promise.set_exception(error);
      return;
    }
    for (size_t k = begin; k < end; ++k) {
      try {
        std::vector<TaskOutput> one = backend_.run(std::span<const TokenizedInput* const>(&inputs[k - begin], 1),
                                                   std::span<const Task>(&tasks[k - begin], 1));
        if (one.size() != 1) throw std::runtime_error("backend returned a wrong number of outputs");
        entries[k]->promise.set_value(std::move(one[0]));
      } catch (...) {
        entries[k]->promise.set_exception(std::current_exception());
      }
    }
    return;
  }
  record();
  for (size_t k = begin; k < end; ++k) entries[k]->promise.set_value(std::move(outputs[k - begin]));
}

}  // namespace bertcpp::server
