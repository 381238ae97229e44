// HTTP/1.1 request parsing with no socket: bytes in, complete requests (or a refusal) out, under
// hard limits on header bytes and count and on body bytes. The transport feeds it what it reads;
// the fuzzer (fuzz/fuzz_server_request.cpp) feeds it arbitrary bytes.
#pragma once
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertcpp::server::http {

struct Request {
  std::string method;
  std::string path;    // the target without its query string
  std::string target;  // as sent
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // Set by the transport when the client disconnects before its answer (null: never set).
  std::shared_ptr<std::atomic<bool>> client_gone;
  // The first header of that (case-insensitive) name, or "".
  std::string header(std::string_view name) const;
};

// A transport-level refusal: the status (400, 413, 431, 501), a message for the client; the
// connection closes after the answer.
struct Refusal {
  int status;
  std::string message;
};

struct ParserLimits {
  size_t max_header_bytes = 16384;  // request line + headers; more -> 431
  size_t max_headers = 100;         // header lines; more -> 431
  size_t max_body_bytes = 2000000;  // declared or chunked; more -> 413 (before the body is read)
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}
  void append(const char* data, size_t n) { in_.append(data, n); }
  bool has_input() const { return !in_.empty(); }
  void clear_input() { in_.clear(); }
  // Consumes the input as far as it goes; true once a request is complete (then take() it).
  // Throws Refusal.
  bool advance();
  // The complete request; the parser then waits for the next one (pipelined bytes stay).
  Request take();
  // Of the last request whose head was parsed: HTTP/1.1 without `Connection: close`, or keep-alive.
  bool keep_alive() const { return keep_alive_; }
  // True once per request whose head asked `Expect: 100-continue` before its body arrived.
  bool take_continue() { return std::exchange(continue_, false); }
  // The path of the request being read once its head is parsed, else "".
  const std::string& path() const { return req_.path; }

 private:
  enum class Chunk { Size, Data, DataEnd, Trailer };
  void parse_head(size_t end);
  bool advance_chunked();

  ParserLimits limits_;
  std::string in_;  // received, not yet parsed
  Request req_;
  bool in_body_ = false;
  bool keep_alive_ = true;
  bool continue_ = false;
  bool chunked_ = false;
  size_t body_left_ = 0;  // Content-Length bytes still to come
  Chunk chunk_ = Chunk::Size;
  size_t chunk_left_ = 0;
  size_t trailer_bytes_ = 0;
};

}  // namespace bertcpp::server::http
