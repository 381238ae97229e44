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
constexpr auto kDrainTime = milliseconds(2000);  // after an error, read (and drop) so the close sends no RST
constexpr auto kStopDrainTime = milliseconds(250);  // the same while stopping: a request racing the FIN is dropped, not reset
constexpr size_t kDrainBytes = 1 << 20;          // ... but not more than this
constexpr auto kSweepEvery = milliseconds(50);

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

enum class State { Reading, Dispatched, Writing, Draining };

struct Conn {
  uint64_t id = 0;
  int fd = -1;
  State state = State::Reading;
  RequestParser parser;
  std::string method;    // of the request being answered (HEAD gets no body)
  std::shared_ptr<std::atomic<bool>> client_gone;  // of the request being answered
  bool started = false;  // a byte of the current request has arrived
  bool keep_alive = true;
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
      on_error(500, "internal failure", req.path, res);
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
    // A request still being answered: its queued inputs are dropped, not computed.
    if (it->second->state == State::Dispatched && it->second->client_gone) it->second->client_gone->store(true);
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
      c->parser = RequestParser(ParserLimits{opt.max_header_bytes, opt.max_headers, opt.max_body_bytes});
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

  // ---- responses ----
  void respond(Conn& c, Response res) {
    const bool head_only = c.method == "HEAD";
    // On stop the answer says Connection: close, unless a pipelined request is already here (it
    // is answered next, and its own answer closes).
    if (!c.keep_alive || (stopping && !c.parser.has_input())) c.close_after = true;
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
    on_error(r.status, r.message, c.parser.path(), res);
    res.status = r.status;
    c.keep_alive = false;
    c.parser.clear_input();
    respond(c, std::move(res));
  }

  // Half-closes and drops whatever the client still sends, so the close does not reset the
  // connection and destroy a response (or the FIN) before the client has read it.
  void close_gracefully(Conn& c) {
    ::shutdown(c.fd, SHUT_WR);
    c.state = State::Draining;
    c.parser.clear_input();
    c.deadline = Clock::now() + (stopping ? kStopDrainTime : kDrainTime);
    watch(c, EPOLLIN);
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
      close_gracefully(c);
      return;
    }
    c.state = State::Reading;
    c.started = c.parser.has_input();
    c.deadline = Clock::now() + milliseconds(c.started ? opt.request_timeout_ms : opt.keep_alive_timeout_ms);
    watch(c, EPOLLIN);
    if (c.started) progress(c);  // a pipelined request is already here
  }

  // Parses what has arrived and hands a complete request on. May close the connection.
  void progress(Conn& c) {
    bool complete;
    try {
      complete = c.parser.advance();
    } catch (const Refusal& r) {
      refuse(c, r);
      return;
    }
    if (c.parser.take_continue()) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      [[maybe_unused]] ssize_t w = ::send(c.fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
    }
    if (!complete) return;
    Request req = c.parser.take();
    c.keep_alive = c.parser.keep_alive();
    c.method = req.method;
    c.client_gone = req.client_gone = std::make_shared<std::atomic<bool>>(false);
    c.state = State::Dispatched;
    // Read nothing more until this request is answered, but hear the client hang up (RDHUP).
    watch(c, EPOLLRDHUP);
    if (quick && quick(req)) {
      Response res;
      call(req, res);
      respond(c, std::move(res));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      jobs.push_back({c.id, std::move(req)});
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
    if (c.state != State::Reading) return;
    if (!c.started) {
      c.started = true;
      c.deadline = Clock::now() + milliseconds(opt.request_timeout_ms);
    }
    c.parser.append(buf, static_cast<size_t>(n));
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
    // The client closed (or half-closed) while its request is computed: it will read no answer.
    if (c.state == State::Dispatched && (events & (EPOLLRDHUP | EPOLLHUP))) {
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
      if (c.state == State::Reading && c.started)
        refuse(c, Refusal{408, "the request was not received within " + std::to_string(opt.request_timeout_ms) + " ms"});
      else
        close_conn(id);
    }
  }

  // On stop: a kept-alive connection waiting for its next request is half-closed (the client
  // reads a clean end of stream, never a reset); a request partly received is still read, within
  // its deadline, and answered with Connection: close, as are requests being computed or written.
  void close_idle() {
    std::vector<Conn*> idle;
    const auto drain_end = Clock::now() + kStopDrainTime;
    for (auto& [id, c] : conns) {
      if (c->state == State::Reading && !c->started) idle.push_back(c.get());
      if (c->state == State::Draining) c->deadline = std::min(c->deadline, drain_end);
    }
    for (Conn* c : idle) close_gracefully(*c);
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
