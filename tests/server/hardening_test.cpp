// One hostile request or client must never take the server down (issue 16): deep JSON, request
// text in error messages, /tokenize without permits, header floods, trickled bodies, and a
// bounded load test (loopback only) of /health during a header flood and slowloris.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "fake_backend.hpp"
#include "server/http_server.hpp"
#include "server/queue/batcher.hpp"

using namespace bertcpp::server;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Server {
  fake::FakeBackend backend;
  std::unique_ptr<HttpServer> server;
  int port = 0;
  explicit Server(ServerOptions o = {}) {
    o.hostname = "127.0.0.1";
    o.port = 0;
    o.quiet = !getenv("SERVER_TEST_LOGS");
    if (o.http_threads == 0) o.http_threads = 16;
    server = std::make_unique<HttpServer>(backend, o);
    port = server->start();
  }
  ~Server() {
    backend.unblock();
    server->stop();
    server->join();
  }
  httplib::Result post(const std::string& path, const std::string& body) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c.Post(path.c_str(), body, "application/json");
  }
  bool alive() {
    auto r = post("/embed", R"({"inputs":"still alive"})");
    return r && r->status == 200;
  }
};

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Whatever the server sends within `ms` (until it closes or goes quiet).
std::string read_for(int fd, int ms) {
  std::string got;
  const auto end = Clock::now() + std::chrono::milliseconds(ms);
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) break;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

size_t rss_kb(const char* field = "VmRSS:") {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::stoul(line.substr(std::strlen(field)));
  return 0;
}

// Milliseconds for one GET /health on a fresh connection, or -1 without a 200 within 5 s.
double health_ms(int port) {
  const auto t0 = Clock::now();
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  auto r = c.Get("/health");
  if (!r || r->status != 200) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

// Finding 1: 150,000 levels in `parameters` overflowed the stack of a recursive copy.
TEST(ServerHardening, DeeplyNestedJsonIsRefusedAndServerLives) {
  Server s;
  const std::string deep = R"({"inputs":{"source_sentence":"a","sentences":["b"]},"parameters":{"x":)" +
                           nested(150000) + "}}";
  ASSERT_LT(deep.size(), 2000000u);
  auto r = s.post("/similarity", deep);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_NE(r->body.find("deeper than 128"), std::string::npos) << r->body;
  for (const char* route : {"/embed", "/tokenize", "/rerank", "/v1/embeddings"}) {
    auto d = s.post(route, R"({"inputs":)" + nested(100000) + "}");
    ASSERT_TRUE(d) << route;
    EXPECT_EQ(d->status, 422) << route << " " << d->body;
  }
  EXPECT_TRUE(s.alive());
}

// Finding 5: the parse error's "last read: '...'" quoted request text into the WARN log line
// (the log line carries exactly this error message).
TEST(ServerHardening, MalformedJsonErrorDoesNotQuoteTheBody) {
  Server s;
  const std::string secret = "private " + std::string(2000, 's');
  auto r = s.post("/embed", "{\"inputs\": \"" + secret);  // unterminated: the parser's token is the whole text
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(r->body.find("Failed to parse the request body as JSON"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("sss"), std::string::npos) << r->body.substr(0, 300);
  EXPECT_LT(r->body.size(), 400u);
}

// Finding 2: /tokenize took no permits.
TEST(ServerHardening, TokenizeTakesPermits) {
  ServerOptions o;
  o.max_concurrent_requests = 2;
  Server s(o);
  s.backend.block();
  auto busy = std::async(std::launch::async, [&] { return s.post("/embed", R"({"inputs":["a","b"]})"); });
  s.backend.wait_until_running();
  auto r = s.post("/tokenize", R"({"inputs":"hello world"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  s.backend.unblock();
  auto b = busy.get();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 200);
  r = s.post("/tokenize", R"({"inputs":"hello world"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// The streamed /tokenize body is byte for byte what the JSON DOM it replaced would print.
TEST(ServerHardening, TokenizeOutputIsCanonicalJson) {
  Server s;
  auto r = s.post("/tokenize", R"({"inputs":["hello \"quoted\" w\u00f6rld", "a b"]})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json parsed = json::parse(r->body);
  EXPECT_EQ(parsed.dump(-1, ' ', false), r->body);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0][1]["text"], "hello");
  EXPECT_EQ(parsed[0][2]["text"], "\"quoted\"");
  EXPECT_EQ(parsed[0][0]["start"], nullptr);
}

// Finding 3: header lines streamed without end were all kept in memory.
TEST(ServerHardening, EndlessHeadersGet431AndClose) {
  Server s;
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "POST /embed HTTP/1.1\r\nHost: x\r\n"));
  const std::string line = "X-Flood: " + std::string(1000, 'a') + "\r\n";
  size_t sent = 0;
  while (sent < (8u << 20) && send_all(fd, line)) sent += line.size();
  const std::string got = read_for(fd, 3000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got.substr(0, 200);
  EXPECT_LT(sent, (8u << 20)) << "the server kept reading 8 MB of headers";
  EXPECT_TRUE(s.alive());
}

TEST(ServerHardening, TooManyHeaderFieldsGet431) {
  Server s;
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  std::string req = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) req += "X-" + std::to_string(i) + ": 1\r\n";
  req += "\r\n";
  ASSERT_TRUE(send_all(fd, req));
  const std::string got = read_for(fd, 3000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got.substr(0, 200);
}

// Finding 4: a chunked body trickled byte by byte was never timed out (the timeout was per read).
TEST(ServerHardening, TrickledChunkedBodyHitsTheRequestDeadline) {
  ServerOptions o;
  o.read_timeout_sec = 1;
  Server s(o);
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const auto t0 = Clock::now();
  std::string got;
  for (int i = 0; i < 40 && got.empty(); ++i) {  // 1 byte every 150 ms for at most 6 s
    if (!send_all(fd, "1\r\n{\r\n")) break;
    got = read_for(fd, 150);
  }
  if (got.empty()) got = read_for(fd, 500);
  const double s_elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got.substr(0, 200);
  EXPECT_LT(s_elapsed, 3.0);
  EXPECT_TRUE(s.alive());
}

TEST(ServerHardening, ChunkedBodyIsServedAndOversizeIsRefused) {
  ServerOptions o;
  o.payload_limit = 1000;
  Server s(o);
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  const std::string body = R"({"inputs":"hello world"})";
  std::string req = "POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  req += "5;ext=1\r\n" + body.substr(0, 5) + "\r\n";
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", body.size() - 5);
  req += std::string(hex) + "\r\n" + body.substr(5) + "\r\n0\r\nX-Trailer: t\r\n\r\n";
  ASSERT_TRUE(send_all(fd, req));
  std::string got = read_for(fd, 1000);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  // The same keep-alive connection: a chunk past the payload limit -> 413 before it is read.
  ASSERT_TRUE(send_all(fd, "POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffff\r\n"));
  got = read_for(fd, 1000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
  // A declared 10 GB body is refused from its headers alone.
  const int fd2 = connect_to(s.port);
  ASSERT_TRUE(send_all(fd2, "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"));
  got = read_for(fd2, 1000);
  ::close(fd2);
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
  EXPECT_TRUE(s.alive());
}

// The load test of issue 16: /health within 1 s while 8 connections flood headers and 600 trickle
// requests (slowloris), RSS bounded. Loopback only; bounded in connections (608) and time (~8 s).
TEST(ServerHardening, HealthAnswersDuringHeaderFloodAndSlowloris) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2000) {
    rl.rlim_cur = std::min<rlim_t>(4096, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < 1400) GTEST_SKIP() << "needs 1400 file descriptors";
  ServerOptions o;
  o.read_timeout_sec = 30;  // longer than the test: the slow clients are not timed out meanwhile
  o.http_threads = 544;     // the default for --max-concurrent-requests 512
  Server s(o);
  ASSERT_GE(health_ms(s.port), 0);
  const size_t rss0 = rss_kb();

  std::atomic<bool> done{false};
  std::atomic<size_t> flood_bytes{0};
  std::vector<std::thread> flooders;
  for (int i = 0; i < 8; ++i)
    flooders.emplace_back([&] {
      const std::string line = "X-Flood: " + std::string(1000, 'f') + "\r\n";
      while (!done) {  // reconnect after each 431
        const int fd = connect_to(s.port);
        if (fd < 0) break;
        timeval tv{0, 200000};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        send_all(fd, "POST /embed HTTP/1.1\r\nHost: x\r\n");
        while (!done && send_all(fd, line)) flood_bytes += line.size();
        ::close(fd);
      }
    });
  std::vector<int> slow;
  for (int i = 0; i < 600; ++i) {
    const int fd = connect_to(s.port);
    ASSERT_GE(fd, 0) << "connection " << i;
    slow.push_back(fd);
    send_all(fd, i % 2 ? "POST /embed HTTP/1.1\r\nHost: x\r\n" : "POST /embed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  double worst = 0;
  int answered = 0;
  size_t rss_peak = rss0;
  for (int round = 0; round < 10; ++round) {
    for (size_t i = 0; i < slow.size(); ++i) send_all(slow[i], i % 2 ? "X-Slow: 1\r\n" : "1\r\n{\r\n");
    const double ms = health_ms(s.port);
    if (ms >= 0) ++answered;
    worst = std::max(worst, ms < 0 ? 1e9 : ms);
    rss_peak = std::max(rss_peak, rss_kb());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  done = true;
  for (auto& t : flooders) t.join();
  for (int fd : slow) ::close(fd);
  std::printf("[ load ] /health answered %d/10, worst %.1f ms; flood sent %.1f MB; RSS %zu -> peak %zu KB\n",
              answered, worst, flood_bytes / 1e6, rss0, rss_peak);
  EXPECT_EQ(answered, 10);
  EXPECT_LT(worst, 1000.0);
  EXPECT_GT(flood_bytes.load(), 1000000u);   // the flood really ran
  EXPECT_LT(rss_peak, rss0 + 200 * 1024);    // < 200 MB growth (the test's own threads included)
  EXPECT_TRUE(s.alive());
}

// Finding 10: one client's input that the model refuses failed every request batched with it.
TEST(ServerHardening, BadInputFailsOnlyItsOwnRequestInABatch) {
  fake::FakeBackend backend;
  backend.set_type_vocab_1(true);
  backend.block();
  Batcher batcher(backend, {1000, std::nullopt});
  auto first = batcher.submit({{1, 5, 2}, {0, 0, 0}}, Task::Pooled);
  backend.wait_until_running();
  // Queued together, so they share the next batch.
  auto good1 = batcher.submit({{1, 6, 2}, {0, 0, 0}}, Task::Pooled);
  auto bad = batcher.submit({{1, 7, 2, 8, 2}, {0, 0, 0, 1, 1}}, Task::Pooled);
  auto good2 = batcher.submit({{1, 9, 9, 2}, {0, 0, 0, 0}}, Task::Pooled);
  backend.unblock();
  EXPECT_EQ(first.get().values.size(), 4u);
  EXPECT_EQ(good1.get().values, fake::FakeBackend::pooled({1, 6, 2}));
  EXPECT_EQ(good2.get().values, fake::FakeBackend::pooled({1, 9, 9, 2}));
  EXPECT_THROW(bad.get(), std::runtime_error);
}

// Low finding: every unauthenticated path became its own metric label (unbounded cardinality).
TEST(ServerHardening, UnknownPathsShareOneMetricLabel) {
  ServerOptions o;
  o.api_key = "k";
  Server s(o);
  httplib::Client c("127.0.0.1", s.port);
  for (int i = 0; i < 20; ++i) {
    std::string path = "/probe-";
    path += std::to_string(i);
    auto r = c.Post(path.c_str(), "{}", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->body.find("probe-"), std::string::npos);
  EXPECT_NE(m->body.find("te_request_count{route=\"other\",status=\"401\"} 20"), std::string::npos) << m->body;
}

namespace {

// Waits until the server has seen stop(): its listening socket is closed (connect is refused).
void wait_until_not_accepting(int port) {
  for (;;) {
    const int fd = connect_to(port);
    if (fd < 0) return;
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::string embed_request(const std::string& text, bool close = false) {
  const std::string body = json{{"inputs", text}}.dump();
  return "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         std::string(close ? "Connection: close\r\n" : "") + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace

// Low finding (SIGTERM): a request whose bytes were arriving when the server stopped is still
// read and answered (Connection: close), not reset.
TEST(ServerHardening, RequestArrivingDuringStopIsAnswered) {
  Server s;
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  const std::string req = embed_request("arriving while stopping");
  const size_t half = req.size() - 10;
  ASSERT_TRUE(send_all(fd, req.substr(0, half)));
  // The server must have these bytes before it stops: a /health on another connection is
  // answered after them in the same epoll loop.
  ASSERT_GE(health_ms(s.port), 0);
  s.server->stop();
  wait_until_not_accepting(s.port);
  ASSERT_TRUE(send_all(fd, req.substr(half)));
  const std::string got = read_for(fd, 5000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got.substr(0, 200);
  EXPECT_NE(got.find("Connection: close"), std::string::npos);
}

// Low finding (SIGTERM): a kept-alive client's next (pipelined) request behind one in flight is
// answered too, the last answer with Connection: close.
TEST(ServerHardening, PipelinedRequestBehindInFlightIsAnsweredOnStop) {
  Server s;
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  s.backend.block();
  ASSERT_TRUE(send_all(fd, embed_request("first") + embed_request("second")));
  s.backend.wait_until_running();
  s.server->stop();
  wait_until_not_accepting(s.port);
  s.backend.unblock();
  const std::string got = read_for(fd, 5000);
  ::close(fd);
  EXPECT_EQ(count_of(got, "HTTP/1.1 200 OK"), 2u) << got.substr(0, 400);
  EXPECT_EQ(count_of(got, "Connection: close"), 1u);
  EXPECT_EQ(got.rfind("Connection: close"), got.find("Connection: close"));
  EXPECT_GT(got.rfind("Connection: close"), got.rfind("HTTP/1.1 200 OK"));
}

// On stop an idle kept-alive connection ends with a clean end of stream (FIN), and a request the
// client sends after it is dropped without a reset.
TEST(ServerHardening, IdleKeepAliveConnectionEndsCleanlyOnStop) {
  Server s;
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, embed_request("one")));
  const std::string first = read_for(fd, 2000);
  ASSERT_EQ(first.rfind("HTTP/1.1 200", 0), 0u);
  ASSERT_NE(first.find("Connection: keep-alive"), std::string::npos);
  s.server->stop();
  char c;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0);  // blocks until the FIN
  ASSERT_TRUE(send_all(fd, embed_request("too late")));
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  errno = 0;
  EXPECT_EQ(::recv(fd, &c, 1, 0), 0) << "errno " << errno;  // still end of stream, no ECONNRESET
  ::close(fd);
  s.server->join();
}

// The server's shape (issue 16): inputs of a client that hung up before its batch ran are dropped,
// never computed (Batcher::dropped, te_request_dropped), and the others are answered.
TEST(ServerHardening, InputsOfAClientThatWentAwayAreNotComputed) {
  Server s;
  s.backend.block();
  auto first = std::async(std::launch::async, [&] { return s.post("/embed", R"({"inputs":"computing"})"); });
  s.backend.wait_until_running();
  const int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, embed_request("goes away")));
  while (s.server->queue_size() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::close(fd);
  // Two /health in a row: the second is read in a later epoll round than the close was.
  ASSERT_GE(health_ms(s.port), 0);
  ASSERT_GE(health_ms(s.port), 0);
  s.backend.unblock();
  auto r = first.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(s.alive());
  EXPECT_EQ(s.backend.inputs_run(), 2u);  // "computing" and "still alive", not "goes away"
  httplib::Client c("127.0.0.1", s.port);
  const auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("te_request_dropped 1"), std::string::npos) << m->body.substr(0, 2000);
}

// /info.tokenization_workers is the real tokenization pool (it reported the HTTP thread count).
TEST(ServerHardening, InfoReportsTheTokenizationPool) {
  ServerOptions o;
  o.tokenization_workers = 3;
  Server s(o);
  httplib::Client c("127.0.0.1", s.port);
  auto r = c.Get("/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["tokenization_workers"], 3);
  Server d;
  httplib::Client cd("127.0.0.1", d.port);
  r = cd.Get("/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["tokenization_workers"],
            std::max(1, static_cast<int>(std::thread::hardware_concurrency())));
}

// A NUL byte is no token character: a header name or method holding one is malformed (400); the
// parser took it for one (strchr finds the terminator).
TEST(ServerHardening, NulInHeaderNameIs400) {
  Server s;
  for (const std::string& req : {std::string("GET /health HTTP/1.1\r\nX-A\0b: 1\r\n\r\n", 34),
                                 std::string("GE\0T /health HTTP/1.1\r\n\r\n", 25)}) {
    const int fd = connect_to(s.port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, req));
    const std::string got = read_for(fd, 3000);
    ::close(fd);
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got.substr(0, 100);
  }
}
