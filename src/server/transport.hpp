// The HTTP/1.1 transport of `bertcpp serve`: one epoll thread owns every socket and parses
// requests under hard limits (header bytes and count, body bytes, a deadline for the whole
// request), so a slow or hostile client holds a few KB and no thread. Complete requests run on a
// fixed pool of worker threads; `quick` requests (health checks) run on the epoll thread itself,
// so they are answered even while every worker is busy. Parsing is request_parser.cpp; routing
// and JSON live in http_server.cpp.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/request_parser.hpp"

namespace bertcpp::server::http {

struct Response {
  int status = 200;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  void set_content(std::string b, std::string type) {
    body = std::move(b);
    content_type = std::move(type);
  }
};

struct TransportOptions {
  std::string host = "127.0.0.1";
  int port = 0;                     // 0 = any free port
  size_t max_header_bytes = 16384;  // request line + headers; more -> 431
  size_t max_headers = 100;         // header lines; more -> 431
  size_t max_body_bytes = 2000000;  // declared or chunked; more -> 413 (before the body is read)
  int request_timeout_ms = 10000;   // first byte to last body byte of one request; then 408
  int keep_alive_timeout_ms = 5000; // an idle kept-alive connection is closed after this
  int write_timeout_ms = 10000;     // a response not taken by the client in this time is dropped
  size_t max_connections = 10000;   // more are accepted and closed at once
  int workers = 8;
};

class Transport {
 public:
  using Handler = std::function<void(const Request&, Response&)>;
  using Predicate = std::function<bool(const Request&)>;
  // Formats a transport-level error (400, 408, 413, 431) as the routes' error body; `path` is the
  // request's when its head was parsed, else "".
  using ErrorFormatter = std::function<void(int status, const std::string& message, const std::string& path, Response&)>;

  Transport(TransportOptions options, Handler handler, Predicate quick, ErrorFormatter on_error);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Binds and listens; returns the port or -1.
  int bind();
  // Serves until stop(): then stops accepting, finishes every dispatched request, writes its
  // response (with Connection: close) and returns.
  void run();
  void stop();  // any thread, idempotent
  bool running() const { return running_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> running_{false};
};

}  // namespace bertcpp::server::http
