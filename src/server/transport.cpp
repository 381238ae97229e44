#include "server/transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace bertcpp::server::http {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxChunkLine = 1024;           // "<hex size>[;extensions]\r\n"
constexpr auto kDrainTime = milliseconds(2000);  // after an error, read (and drop) so the close sends no RST
constexpr size_t kDrainBytes = 1 << 20;          // ... but not more than this
constexpr auto kSweepEvery = milliseconds(50);

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

const char* reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 424: return "Failed Dependency";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// A transport-level refusal: the status, a message for the client, and the connection closes.
struct Refusal {
  int status;
  std::string message;
};

enum class State { Head, Body, Dispatched, Writing, Draining };
enum class Chunk { Size, Data, DataEnd, Trailer };

struct Conn {
  uint64_t id = 0;
  int fd = -1;
  State state = State::Head;
  std::string in;  // received, not yet parsed
  Request req;
  bool started = false;  // a byte of the current request has arrived
  bool keep_alive = true;
  bool chunked = false;
  size_t body_left = 0;  // Content-Length bytes still to come
  Chunk chunk = Chunk::Size;
  size_t chunk_left = 0;
  size_t trailer_bytes = 0;
  std::string out;
  size_t out_off = 0;
  size_t drained = 0;
  bool close_after = false;
  Clock::time_point deadline;
  uint32_t events = 0;
};

struct Job {
  uint64_t conn;
  Request req;
};

struct Done {
  uint64_t conn;
  Response res;
};

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return a == lower(b); }))
      return v;
  return "";
}

struct Transport::Impl {
  TransportOptions opt;
  Handler handler;
  Predicate quick;
  ErrorFormatter on_error;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  bool listening = false;  // listen_fd is in the epoll set
  std::atomic<bool> stopping{false};
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 2;
  Clock::time_point last_sweep;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;
  std::deque<Done> done;
  bool workers_exit = false;
  std::vector<std::thread> workers;
  size_t dispatched = 0;  // requests handed to workers, not yet answered

  Impl(TransportOptions o, Handler h, Predicate q, ErrorFormatter e)
      : opt(std::move(o)), handler(std::move(h)), quick(std::move(q)), on_error(std::move(e)) {}

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      workers_exit = true;
    }
    cv.notify_all();
    for (auto& t : workers)
      if (t.joinable()) t.join();
    for (auto& [id, c] : conns) ::close(c->fd);
    if (listen_fd >= 0) ::close(listen_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd, &one, sizeof one);
  }

  void worker() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return workers_exit || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      Response res;
      call(job.req, res);
      {
        std::lock_guard<std::mutex> lock(mu);
        done.push_back({job.conn, std::move(res)});
      }
      wake();
    }
  }

  void call(const Request& req, Response& res) {
    try {
      handler(req, res);
    } catch (...) {
      res = Response{};
      on_error(500, "internal failure", res);
      res.status = 500;
    }
  }

  // ---- epoll bookkeeping ----
  void watch(Conn& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = c.id;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  void close_conn(uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, it->second->fd, nullptr);
    ::close(it->second->fd);
    conns.erase(it);
  }

  void set_listening(bool on) {
    if (listen_fd < 0 || on == listening) return;
    if (on) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenId;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
    } else {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    }
    listening = on;
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          set_listening(false);  // out of descriptors: retry on the next sweep instead of spinning
        return;
      }
      if (conns.size() >= opt.max_connections) {
        ::close(fd);
        continue;
      }
      int yes = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
      auto c = std::make_unique<Conn>();
      c->id = next_id++;
      c->fd = fd;
      c->deadline = Clock::now() + milliseconds(opt.request_timeout_ms);
      c->started = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->id;
      c->events = EPOLLIN;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      conns.emplace(c->id, std::move(c));
    }
  }

  // ---- request parsing ----
  // Parses the request line and headers in c.in[0, end). Throws Refusal.
  void parse_head(Conn& c, size_t end) {
    std::string_view head(c.in.data(), end);
    size_t pos = head.find("\r\n");
    const std::string_view line = head.substr(0, pos);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
      throw Refusal{400, "malformed request line"};
    Request& r = c.req;
    r.method = std::string(line.substr(0, sp1));
    r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    const std::string_view version = line.substr(sp2 + 1);
    for (char ch : r.method)
      if (!is_token_char(ch)) throw Refusal{400, "malformed request line"};
    if (r.target.empty() || r.target[0] != '/') throw Refusal{400, "malformed request target"};
    if (version != "HTTP/1.1" && version != "HTTP/1.0") throw Refusal{400, "unsupported HTTP version"};
    r.path = r.target.substr(0, r.target.find('?'));
    while (pos != std::string_view::npos && pos + 2 <= head.size()) {
      const size_t start = pos + 2;
      pos = head.find("\r\n", start);
      const std::string_view h = head.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
      if (h.empty()) continue;
      if (r.headers.size() >= opt.max_headers) throw Refusal{431, "more than " + std::to_string(opt.max_headers) + " header fields"};
      const size_t colon = h.find(':');
      if (colon == 0 || colon == std::string_view::npos) throw Refusal{400, "malformed header field"};
      for (size_t i = 0; i < colon; ++i)
        if (!is_token_char(h[i])) throw Refusal{400, "malformed header field"};
      r.headers.emplace_back(to_lower(h.substr(0, colon)), std::string(trim(h.substr(colon + 1))));
    }
    c.keep_alive = version == "HTTP/1.1";
    const std::string connection = to_lower(r.header("connection"));
    if (connection.find("close") != std::string::npos) c.keep_alive = false;
    else if (connection.find("keep-alive") != std::string::npos) c.keep_alive = true;

    const std::string te = to_lower(trim(r.header("transfer-encoding")));
    const bool has_length = !r.header("content-length").empty() ||
                            std::any_of(r.headers.begin(), r.headers.end(), [](const auto& kv) { return kv.first == "content-length"; });
    c.chunked = false;
    c.body_left = 0;
    if (!te.empty()) {
      if (te != "chunked") throw Refusal{501, "Transfer-Encoding '" + te.substr(0, 64) + "' is not supported"};
      if (has_length) throw Refusal{400, "both Content-Length and Transfer-Encoding"};
      c.chunked = true;
      c.chunk = Chunk::Size;
      c.trailer_bytes = 0;
    } else if (has_length) {
      size_t n = 0;
      int seen = 0;
      for (const auto& [k, v] : r.headers) {
        if (k != "content-length") continue;
        if (++seen > 1) throw Refusal{400, "more than one Content-Length"};
        if (v.empty() || v.size() > 19) throw Refusal{400, "invalid Content-Length"};
        for (char ch : v) {
          if (ch < '0' || ch > '9') throw Refusal{400, "invalid Content-Length"};
          n = n * 10 + static_cast<size_t>(ch - '0');
        }
      }
      if (n > opt.max_body_bytes) throw Refusal{413, ""};
      c.body_left = n;
    }
  }

  // Consumes c.in as far as it goes; returns true once the request is complete. Throws Refusal.
  bool advance(Conn& c) {
    if (c.state == State::Head) {
      while (c.in.size() >= 2 && c.in[0] == '\r' && c.in[1] == '\n') c.in.erase(0, 2);  // RFC 9112 2.2
      const size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > opt.max_header_bytes)
          throw Refusal{431, "request headers exceed " + std::to_string(opt.max_header_bytes) + " bytes"};
        return false;
      }
      if (end + 4 > opt.max_header_bytes)
        throw Refusal{431, "request headers exceed " + std::to_string(opt.max_header_bytes) + " bytes"};
      c.req = Request{};
      parse_head(c, end + 2);
      c.in.erase(0, end + 4);
      c.state = State::Body;
      if (!c.chunked && c.body_left > 0 && c.in.size() < c.body_left &&
          to_lower(c.req.header("expect")) == "100-continue") {
        static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] ssize_t w = ::send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
      }
    }
    if (!c.chunked) {
      const size_t take = std::min(c.body_left, c.in.size());
      c.req.body.append(c.in, 0, take);
      c.in.erase(0, take);
      c.body_left -= take;
      return c.body_left == 0;
    }
    for (;;) {
      switch (c.chunk) {
        case Chunk::Size: {
          const size_t eol = c.in.find("\r\n");
          if (eol == std::string::npos) {
            if (c.in.size() > kMaxChunkLine) throw Refusal{400, "malformed chunk size"};
            return false;
          }
          size_t n = 0, i = 0;
          for (; i < eol; ++i) {
            const char ch = c.in[i];
            int d = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                                                         : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
            if (d < 0) break;
            if (n > (opt.max_body_bytes >> 4) + 1) throw Refusal{413, ""};
            n = n * 16 + static_cast<size_t>(d);
          }
          if (i == 0 || (i < eol && c.in[i] != ';' && c.in[i] != ' ' && c.in[i] != '\t'))
            throw Refusal{400, "malformed chunk size"};
          if (c.req.body.size() + n > opt.max_body_bytes) throw Refusal{413, ""};
          c.in.erase(0, eol + 2);
          c.chunk_left = n;
          c.chunk = n == 0 ? Chunk::Trailer : Chunk::Data;
          break;
        }
        case Chunk::Data: {
          const size_t take = std::min(c.chunk_left, c.in.size());
          c.req.body.append(c.in, 0, take);
          c.in.erase(0, take);
          c.chunk_left -= take;
          if (c.chunk_left > 0) return false;
          c.chunk = Chunk::DataEnd;
          break;
        }
        case Chunk::DataEnd:
          if (c.in.size() < 2) return false;
          if (c.in[0] != '\r' || c.in[1] != '\n') throw Refusal{400, "malformed chunk"};
          c.in.erase(0, 2);
          c.chunk = Chunk::Size;
          break;
        case Chunk::Trailer: {
          const size_t eol = c.in.find("\r\n");
          if (eol == std::string::npos) {
            if (c.trailer_bytes + c.in.size() > opt.max_header_bytes) throw Refusal{431, "trailer fields too large"};
            return false;
          }
          c.trailer_bytes += eol + 2;
          if (c.trailer_bytes > opt.max_header_bytes) throw Refusal{431, "trailer fields too large"};
          c.in.erase(0, eol + 2);
          if (eol == 0) return true;  // trailers are read and dropped
          break;
        }
      }
    }
  }

  // ---- responses ----
  void respond(Conn& c, Response res) {
    const bool head_only = c.req.method == "HEAD";
    if (!c.keep_alive || stopping) c.close_after = true;
    std::string& o = c.out;
    o.clear();
    o.reserve(res.body.size() + 160);
    o += "HTTP/1.1 " + std::to_string(res.status) + " " + reason(res.status) + "\r\n";
    if (!res.content_type.empty()) o += "Content-Type: " + res.content_type + "\r\n";
    for (const auto& [k, v] : res.headers) o += k + ": " + v + "\r\n";
    o += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    o += c.close_after ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
    if (!head_only) o += res.body;
    c.out_off = 0;
    c.state = State::Writing;
    c.deadline = Clock::now() + milliseconds(opt.write_timeout_ms);
    flush(c);
  }

  void refuse(Conn& c, const Refusal& r) {
    Response res;
    on_error(r.status, r.message, res);
    res.status = r.status;
    c.keep_alive = false;
    c.in.clear();
    respond(c, std::move(res));
  }

  // Writes what the socket takes. May close the connection (then `c` is gone).
  void flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c, EPOLLOUT);
        return;
      }
      close_conn(c.id);
      return;
    }
    std::string().swap(c.out);
    c.out_off = 0;
    if (c.close_after) {
      // Half-close and drop whatever the client still sends, so the close does not reset the
      // connection and destroy the response before the client has read it.
      ::shutdown(c.fd, SHUT_WR);
      c.state = State::Draining;
      c.in.clear();
      c.deadline = Clock::now() + kDrainTime;
      watch(c, EPOLLIN);
      return;
    }
    c.state = State::Head;
    c.req = Request{};
    c.started = !c.in.empty();
    c.deadline = Clock::now() + milliseconds(c.started ? opt.request_timeout_ms : opt.keep_alive_timeout_ms);
    watch(c, EPOLLIN);
    if (c.started) progress(c);  // a pipelined request is already here
  }

  // Parses what has arrived and hands a complete request on. May close the connection.
  void progress(Conn& c) {
    bool complete;
    try {
      complete = advance(c);
    } catch (const Refusal& r) {
      refuse(c, r);
      return;
    }
    if (!complete) return;
    c.state = State::Dispatched;
    watch(c, 0);  // read nothing more until this request is answered
    if (quick && quick(c.req)) {
      Response res;
      call(c.req, res);
      respond(c, std::move(res));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      jobs.push_back({c.id, std::move(c.req)});
      c.req = Request{};
      c.req.method = jobs.back().req.method;  // respond() needs to know HEAD
      ++dispatched;
    }
    cv.notify_one();
  }

  void on_readable(Conn& c) {
    char buf[kReadChunk];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      close_conn(c.id);
      return;
    }
    if (c.state == State::Draining) {  // dropped
      c.drained += static_cast<size_t>(n);
      if (c.drained > kDrainBytes) close_conn(c.id);
      return;
    }
    if (c.state != State::Head && c.state != State::Body) return;
    if (!c.started) {
      c.started = true;
      c.deadline = Clock::now() + milliseconds(opt.request_timeout_ms);
    }
    c.in.append(buf, static_cast<size_t>(n));
    progress(c);
  }

  void on_event(uint64_t id, uint32_t events) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    if (events & (EPOLLERR)) {
      close_conn(id);
      return;
    }
    if (c.state == State::Writing && (events & EPOLLOUT)) {
      flush(c);
      return;
    }
    if (events & (EPOLLIN | EPOLLHUP)) on_readable(c);
  }

  void take_done() {
    std::deque<Done> ready;
    {
      std::lock_guard<std::mutex> lock(mu);
      ready.swap(done);
      dispatched -= ready.size();
    }
    for (auto& d : ready) {
      auto it = conns.find(d.conn);
      if (it == conns.end() || it->second->state != State::Dispatched) continue;  // the client went away
      respond(*it->second, std::move(d.res));
    }
  }

  void sweep() {
    const auto now = Clock::now();
    if (now - last_sweep < kSweepEvery) return;
    last_sweep = now;
    if (!stopping && !listening) set_listening(true);
    std::vector<uint64_t> expired;
    for (auto& [id, c] : conns)
      if (c->state != State::Dispatched && now >= c->deadline) expired.push_back(id);
    for (uint64_t id : expired) {
      Conn& c = *conns.at(id);
      if ((c.state == State::Head || c.state == State::Body) && c.started && !stopping)
        refuse(c, Refusal{408, "the request was not received within " + std::to_string(opt.request_timeout_ms) + " ms"});
      else
        close_conn(id);
    }
  }

  // On stop: connections not inside a dispatched request or a response are closed now.
  void close_idle() {
    std::vector<uint64_t> idle;
    for (auto& [id, c] : conns)
      if (c->state == State::Head || c->state == State::Body || c->state == State::Draining) idle.push_back(id);
    for (uint64_t id : idle) close_conn(id);
  }

  void loop() {
    epoll_event events[256];
    bool stop_seen = false;
    for (;;) {
      if (stopping && !stop_seen) {
        stop_seen = true;
        set_listening(false);
        ::close(listen_fd);
        listen_fd = -1;
        close_idle();
      }
      if (stop_seen) {
        close_idle();
        if (conns.empty()) {
          std::lock_guard<std::mutex> lock(mu);
          if (dispatched == 0) break;
        }
      }
      const int n = ::epoll_wait(epoll_fd, events, 256, static_cast<int>(kSweepEvery.count()));
      for (int i = 0; i < n; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kListenId) {
          if (!stopping) accept_all();
        } else if (id == kWakeId) {
          uint64_t v;
          [[maybe_unused]] ssize_t r = ::read(wake_fd, &v, sizeof v);
        } else {
          on_event(id, events[i].events);
        }
      }
      take_done();
      sweep();
    }
  }
};

Transport::Transport(TransportOptions options, Handler handler, Predicate quick, ErrorFormatter on_error)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(quick), std::move(on_error))) {}

Transport::~Transport() { stop(); }

int Transport::bind() {
  Impl& m = *impl_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(m.opt.port);
  if (::getaddrinfo(m.opt.host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return -1;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const int bound = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                              : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  m.listen_fd = fd;
  m.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  m.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  ::epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, m.wake_fd, &ev);
  m.set_listening(true);
  return bound;
}

void Transport::run() {
  Impl& m = *impl_;
  if (m.epoll_fd < 0) return;
  for (int i = 0; i < std::max(1, m.opt.workers); ++i) m.workers.emplace_back([&m] { m.worker(); });
  running_ = true;
  if (!m.stopping) m.loop();
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.workers_exit = true;
  }
  m.cv.notify_all();
  for (auto& t : m.workers) t.join();
  m.workers.clear();
  running_ = false;
}

void Transport::stop() {
  Impl& m = *impl_;
  if (m.stopping.exchange(true)) return;
  if (m.wake_fd >= 0) m.wake();
}

}  // namespace bertcpp::server::http
