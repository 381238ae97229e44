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
#include "server/request_parser.hpp"

#include <functional>
#include <map>

namespace bertcpp::server {

class Batcher;
namespace http {
class Transport;
struct Response;
}  // namespace http

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
  int tokenization_workers = 0;              // threads that tokenize and decode; 0 = the cores
  int read_timeout_sec = 10;                 // deadline for receiving one whole request; then 408
  int write_timeout_sec = 10;
  int keep_alive_timeout_sec = 5;
  size_t max_header_bytes = 16384;           // request line + headers; more -> 431
  size_t max_headers = 100;                  // header fields; more -> 431
  size_t max_connections = 10000;            // open connections; more are closed on accept
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

  // One parsed request through auth, routing and the route's schema, with no socket: what the
  // transport's workers call (and the fuzzer). Never throws; a failure is a 500 body.
  void handle(const http::Request& req, http::Response& res);
  // A request the parser refused (400, 413, 431, 501) or timed out (408), in the routes' error shape.
  // `path` is the request's when its head was parsed (it picks the error shape), else "".
  void refuse(int status, const std::string& detail, const std::string& path, http::Response& res) {
    transport_error(status, detail, path, res);
  }
  // The parser limits the transport applies (from ServerOptions).
  http::ParserLimits parser_limits() const;

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
  using Route = std::function<void(const http::Request&, http::Response&)>;
  void dispatch(const http::Request& req, http::Response& res);
  void transport_error(int status, const std::string& detail, const std::string& path, http::Response& res);
  std::string route_label(const std::string& path) const;
  std::map<std::string, Route> post_routes_, get_routes_;
  std::unique_ptr<http::Transport> http_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = -1;
  int http_threads_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> listening_{false};
};

}  // namespace bertcpp::server
