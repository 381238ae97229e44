// The HTTP router of `bertcpp serve`: TEI's routes and JSON shapes (and OpenAI's /v1/embeddings)
// over a Backend, with TEI's limits and error bodies. Batching lives in queue/batcher; this file
// only validates, tokenizes, enqueues, waits and formats.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "server/backend.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"

namespace httplib {
class Server;
}

namespace bertcpp::server {

class Batcher;

struct ServerOptions {
  std::string hostname = "127.0.0.1";
  int port = 3000;                           // 0 = any free port (see HttpServer::port())
  int64_t max_concurrent_requests = 512;     // inputs in flight; more -> 429 immediately
  int64_t max_batch_tokens = 16384;
  std::optional<int64_t> max_batch_requests;
  int64_t max_client_batch_size = 32;
  size_t payload_limit = 2000000;            // bytes; larger bodies -> 413
  bool auto_truncate = false;                // default of each request's `truncate`
  std::optional<std::string> api_key;        // Bearer token required on model routes
  std::string served_model_name;             // empty = model id
  bool json_output = false;
  bool log_inputs = false;
  bool quiet = false;                        // no logs at all (tests)
  int http_threads = 0;                      // 0 = max_concurrent_requests + 32 (at most 2048)
  int read_timeout_sec = 10;
  int write_timeout_sec = 10;
  int keep_alive_timeout_sec = 5;
};

class HttpServer {
 public:
  HttpServer(Backend& backend, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket (throws bertcpp::Error when it cannot). Returns the port.
  int bind();
  // Serves until stop(); then finishes in-flight requests and drains the batch queue.
  void listen();
  // bind() + listen() on a background thread (for tests). Returns the port.
  int start();
  // Stops accepting; in-flight requests complete. Safe from any thread, idempotent.
  void stop();
  // Waits for the background thread of start().
  void join();

  int port() const { return port_; }
  size_t queue_size() const;  // inputs waiting for a batch
  Metrics& metrics() { return metrics_; }
  Logger& logger() { return logger_; }

  struct Impl;

 private:
  Backend& backend_;
  ServerOptions options_;
  Metrics metrics_;
  Logger logger_;
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = -1;
  int listen_fd_ = -1;
  int http_threads_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> listening_{false};
};

}  // namespace bertcpp::server
