// A fixed pool of threads that runs jobs for callers who wait for them: the server's tokenization
// workers (sized to the cores, as TEI's), so however many HTTP workers there are, at most `size()`
// texts are tokenized at once.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace bertcpp::server {

class WorkPool {
 public:
  explicit WorkPool(int threads);  // <= 0: the number of cores
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;
  int size() const { return static_cast<int>(threads_.size()); }

  // Runs f on a pool thread and returns its result (or rethrows what it threw).
  template <class F>
  auto run(F&& f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::forward<F>(f));
    auto result = task.get_future();
    push([&task] { task(); });  // `task` outlives the job: this call waits for it below
    return result.get();
  }

 private:
  void push(std::function<void()> job);
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace bertcpp::server
