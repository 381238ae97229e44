// The HTTP layer against a fake backend: every route's responses checked against TEI's OpenAPI
// document, TEI's limits and error statuses, hostile clients, batching and graceful shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <thread>

#include "fake_backend.hpp"
#include "schema.hpp"
#include "server/http_server.hpp"
#include "server/queue/batcher.hpp"

using namespace bertcpp::server;
using nlohmann::json;

namespace {

const schema::Checker& checker() {
  static const schema::Checker c = [] {
    std::ifstream f(std::string(BERTCPP_SOURCE_DIR) + "/tests/server/tei-openapi.json");
    return schema::Checker(json::parse(f));
  }();
  return c;
}

// Parses the body and checks it against the spec's schema for (route, status).
json valid(const std::string& route, const httplib::Result& res, const std::string& method = "post") {
  EXPECT_TRUE(res) << route << ": no response";
  if (!res) return nullptr;
  json body = json::parse(res->body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << route << ": not JSON: " << res->body.substr(0, 200);
  if (body.is_discarded()) return nullptr;
  EXPECT_TRUE(checker().has_response(route, method, res->status)) << route << " has no status " << res->status
                                                                  << " in the spec; body " << res->body;
  if (!checker().has_response(route, method, res->status)) return body;
  const auto errors = checker().check(body, checker().response_schema(route, method, res->status));
  EXPECT_TRUE(errors.empty()) << route << " " << res->status << ": " << (errors.empty() ? "" : errors.front())
                              << "\nbody: " << res->body.substr(0, 300);
  return body;
}

// The request is valid per the spec too (catches tests that send what TEI would not accept).
void valid_request(const std::string& route, const json& request) {
  const auto errors = checker().check(request, checker().request_schema(route));
  EXPECT_TRUE(errors.empty()) << route << " request: " << (errors.empty() ? "" : errors.front());
}

struct Running {
  fake::FakeBackend backend;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<httplib::Client> client;
  int port = 0;

  explicit Running(ServerOptions o = {}, ModelKind kind = ModelKind::Embedding, bool mlm = false)
      : backend(kind, mlm) {
    o.hostname = "127.0.0.1";
    o.port = 0;
    o.quiet = !getenv("SERVER_TEST_LOGS");
    if (o.http_threads == 0) o.http_threads = 16;
    server = std::make_unique<HttpServer>(backend, o);
    port = server->start();
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_read_timeout(30, 0);
  }
  ~Running() {
    backend.unblock();
    server->stop();
    server->join();
  }
  httplib::Result post(const std::string& path, const json& body) {
    return client->Post(path.c_str(), body.dump(), "application/json");
  }
  httplib::Result post_raw(const std::string& path, const std::string& body) {
    return client->Post(path.c_str(), body, "application/json");
  }
  bool alive() {
    auto r = post("/embed", {{"inputs", "still alive"}});
    return r && r->status == 200;
  }
};

std::vector<float> normalized(std::vector<float> v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(s));
  return v;
}

std::vector<int64_t> ids_of(const fake::FakeBackend& b, const std::string& text) {
  bertcpp::server::Backend::EncodeRequest r;
  r.text = text;
  return b.encode(r).input_ids;
}

int raw_connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

}  // namespace

TEST(ServerHttp, EmbedSingleAndBatchMatchBackendNormalized) {
  Running s;
  const json req = {{"inputs", "hello world"}};
  valid_request("/embed", req);
  json body = valid("/embed", s.post("/embed", req));
  ASSERT_EQ(body.size(), 1u);
  const auto want = normalized(fake::FakeBackend::pooled(ids_of(s.backend, "hello world")));
  ASSERT_EQ(body[0].size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_FLOAT_EQ(body[0][k].get<float>(), want[k]);

  const json batch = {{"inputs", {"a b c", "hello world", json::array({7, 8, 9})}}, {"normalize", false}};
  valid_request("/embed", batch);
  body = valid("/embed", s.post("/embed", batch));
  ASSERT_EQ(body.size(), 3u);
  const auto raw = fake::FakeBackend::pooled(ids_of(s.backend, "hello world"));
  for (size_t k = 0; k < raw.size(); ++k) EXPECT_FLOAT_EQ(body[1][k].get<float>(), raw[k]);
  const auto from_ids = fake::FakeBackend::pooled({7, 8, 9});
  for (size_t k = 0; k < from_ids.size(); ++k) EXPECT_FLOAT_EQ(body[2][k].get<float>(), from_ids[k]);
}

TEST(ServerHttp, EmbedDimensions) {
  Running s;
  json body = valid("/embed", s.post("/embed", {{"inputs", "x y"}, {"dimensions", 2}, {"normalize", false}}));
  ASSERT_EQ(body[0].size(), 2u);
  auto r = s.post("/embed", {{"inputs", "x y"}, {"dimensions", 0}});
  EXPECT_EQ(r->status, 422);
  valid("/embed", r);
  r = s.post("/embed", {{"inputs", "x y"}, {"dimensions", 99}});
  EXPECT_EQ(r->status, 422);
  valid("/embed", r);
}

TEST(ServerHttp, EmbedAllAndSparse) {
  Running s({}, ModelKind::Embedding, true);
  json body = valid("/embed_all", s.post("/embed_all", {{"inputs", {"a b", "c d e"}}}));
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0].size(), 4u);  // [CLS] a b [SEP]
  EXPECT_EQ(body[1].size(), 5u);
  EXPECT_EQ(body[1][0].size(), 4u);
  EXPECT_EQ(body[1][0][0].get<float>(), 1.0f);  // [CLS] id

  body = valid("/embed_sparse", s.post("/embed_sparse", {{"inputs", "a a b"}}));
  ASSERT_EQ(body.size(), 1u);
  std::map<int64_t, float> got;
  for (const auto& v : body[0]) got[v["index"].get<int64_t>()] = v["value"].get<float>();
  EXPECT_EQ(got.size(), 4u);  // CLS, a, b, SEP
  EXPECT_EQ(got[fake::FakeBackend::word_id("a")], 2.0f);
}

TEST(ServerHttp, SparseWithoutMlmHeadIs424) {
  Running s;
  auto r = s.post("/embed_sparse", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  json body = valid("/embed_sparse", r);
  EXPECT_EQ(body["error_type"], "Backend");
}

TEST(ServerHttp, PredictSinglePairBatchAndRawScores) {
  Running s({}, ModelKind::Classifier);
  const json single = {{"inputs", "good movie"}};
  valid_request("/predict", single);
  json body = valid("/predict", s.post("/predict", single));
  ASSERT_EQ(body.size(), 3u);
  double sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    sum += body[i]["score"].get<double>();
    if (i) {
      EXPECT_GE(body[i - 1]["score"].get<double>(), body[i]["score"].get<double>());
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  EXPECT_EQ(body[0]["label"], "negative");  // logits [n/4, -n/4, 0.5] with n = 4 tokens: 1, -1, 0.5

  const json pair = {{"inputs", {"first", "second"}}, {"raw_scores", true}};
  valid_request("/predict", pair);
  body = valid("/predict", s.post("/predict", pair));
  ASSERT_EQ(body.size(), 3u);
  EXPECT_FLOAT_EQ(body[0]["score"].get<float>(), 1.25f);  // 5 tokens: [CLS] first [SEP] second [SEP]

  const json batch = {{"inputs", {{"a"}, {"b", "c"}}}};
  valid_request("/predict", batch);
  body = valid("/predict", s.post("/predict", batch));
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[1].size(), 3u);

  auto r = s.post("/predict", {{"inputs", {"a", "b", "c"}}});
  EXPECT_EQ(r->status, 422);
  valid("/predict", r);
}

TEST(ServerHttp, PredictAndRerankOnEmbeddingModelAre424) {
  Running s;
  auto r = s.post("/predict", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  valid("/predict", r);
  r = s.post("/rerank", {{"query", "q"}, {"texts", {"a"}}});
  EXPECT_EQ(r->status, 424);
  valid("/rerank", r);
}

TEST(ServerHttp, EmbedOnClassifierIs424) {
  Running s({}, ModelKind::Classifier);
  auto r = s.post("/embed", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  valid("/embed", r);
}

TEST(ServerHttp, RerankSortedWithText) {
  Running s({}, ModelKind::Reranker);
  const json req = {{"query", "q"}, {"texts", {"one", "one two three", "one two"}}, {"return_text", true}};
  valid_request("/rerank", req);
  json body = valid("/rerank", s.post("/rerank", req));
  ASSERT_EQ(body.size(), 3u);
  // score = sigmoid(n/4 - 2), longer pair -> higher score.
  EXPECT_EQ(body[0]["index"], 1);
  EXPECT_EQ(body[0]["text"], "one two three");
  EXPECT_EQ(body[2]["index"], 0);
  EXPECT_NEAR(body[2]["score"].get<double>(), 1.0 / (1.0 + std::exp(-(5.0 / 4 - 2))), 1e-6);
  body = valid("/rerank", s.post("/rerank", {{"query", "q"}, {"texts", {"one"}}, {"raw_scores", true}}));
  EXPECT_FALSE(body[0].contains("text"));
  EXPECT_FLOAT_EQ(body[0]["score"].get<float>(), 5.0f / 4 - 2);

  auto r = s.post("/rerank", {{"query", "q"}, {"texts", json::array()}});
  EXPECT_EQ(r->status, 400);
  valid("/rerank", r);
}

TEST(ServerHttp, Similarity) {
  Running s;
  const json req = {{"inputs", {{"source_sentence", "a b"}, {"sentences", {"a b", "c d e"}}}}};
  valid_request("/similarity", req);
  json body = valid("/similarity", s.post("/similarity", req));
  ASSERT_EQ(body.size(), 2u);
  EXPECT_NEAR(body[0].get<double>(), 1.0, 1e-6);
  const auto a = fake::FakeBackend::pooled(ids_of(s.backend, "a b"));
  const auto c = fake::FakeBackend::pooled(ids_of(s.backend, "c d e"));
  double dot = 0, na = 0, nc = 0;
  for (size_t k = 0; k < a.size(); ++k) dot += a[k] * c[k], na += a[k] * a[k], nc += c[k] * c[k];
  EXPECT_NEAR(body[1].get<double>(), dot / std::sqrt(na * nc), 1e-6);
  auto r = s.post("/similarity", {{"inputs", {{"source_sentence", "a"}, {"sentences", json::array()}}}});
  EXPECT_EQ(r->status, 400);
  valid("/similarity", r);
}

TEST(ServerHttp, TokenizeAndDecode) {
  Running s;
  const json req = {{"inputs", "héllo  world"}};
  valid_request("/tokenize", req);
  json body = valid("/tokenize", s.post("/tokenize", req));
  ASSERT_EQ(body.size(), 1u);
  ASSERT_EQ(body[0].size(), 4u);
  EXPECT_EQ(body[0][0]["special"], true);
  EXPECT_TRUE(body[0][0]["start"].is_null());
  EXPECT_EQ(body[0][1]["text"], "héllo");
  EXPECT_EQ(body[0][1]["start"], 0);
  EXPECT_EQ(body[0][1]["stop"], 6);  // bytes, as TEI
  EXPECT_EQ(body[0][2]["start"], 8);
  body = valid("/tokenize", s.post("/tokenize", {{"inputs", {"a", "b"}}, {"add_special_tokens", false}}));
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0].size(), 1u);

  const json dreq = {{"ids", {1, 7, 8, 2}}};
  valid_request("/decode", dreq);
  body = valid("/decode", s.post("/decode", dreq));
  EXPECT_EQ(body, json({"w7 w8"}));
  body = valid("/decode", s.post("/decode", {{"ids", {{1, 7}, {8}}}, {"skip_special_tokens", false}}));
  EXPECT_EQ(body, json({"w1 w7", "w8"}));
  auto r = s.post("/decode", {{"ids", {1000}}});
  EXPECT_EQ(r->status, 422);
  valid("/decode", r);
  // Integers written with a zero fraction are integers (JSON Schema's rule, which the served
  // OpenAPI document relies on); a fraction is not a token id.
  r = s.client->Post("/decode", R"({"ids": [1.0, 7.0, 8, 2.0]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body), json({"w7 w8"}));
  r = s.client->Post("/decode", R"({"ids": [1.5]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  r = s.client->Post("/embed", R"({"inputs": [[7.0, 8.0]], "dimensions": 2.0})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body), json::parse(s.post("/embed", {{"inputs", {{7, 8}}}, {"dimensions", 2}})->body));
}

TEST(ServerHttp, InfoHealthMetrics) {
  ServerOptions o;
  o.max_batch_requests = 8;
  Running s(o);
  auto r = s.client->Get("/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json info = valid("/info", r, "get");
  EXPECT_EQ(info["model_id"], "fake/model");
  EXPECT_EQ(info["model_type"]["embedding"]["pooling"], "mean");
  EXPECT_EQ(info["max_input_length"], 16);
  EXPECT_EQ(info["max_client_batch_size"], 32);
  EXPECT_EQ(info["max_concurrent_requests"], 512);
  EXPECT_EQ(info["max_batch_requests"], 8);

  r = s.client->Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  ASSERT_TRUE(s.alive());
  s.post("/embed", {{"inputs", ""}});
  r = s.client->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("te_request_count{route=\"/embed\",status=\"200\"} 1"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("te_request_count{route=\"/embed\",status=\"400\"} 1"), std::string::npos);
  EXPECT_NE(r->body.find("te_request_duration_bucket{route=\"/embed\",le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_NE(r->body.find("te_batch_next_size_count 1"), std::string::npos);
  EXPECT_NE(r->body.find("te_queue_size"), std::string::npos);
  EXPECT_NE(r->body.find("te_tokens_total 4"), std::string::npos);

  r = s.client->Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(ServerHttp, OpenAIFloatAndBase64) {
  Running s;
  const json req = {{"input", {"hello world", "a"}}, {"model", "whatever"}};
  valid_request("/v1/embeddings", req);
  json body = valid("/v1/embeddings", s.post("/v1/embeddings", req));
  EXPECT_EQ(body["object"], "list");
  EXPECT_EQ(body["model"], "fake/model");
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["index"], 1);
  EXPECT_EQ(body["data"][0]["object"], "embedding");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 4 + 3);
  EXPECT_EQ(body["usage"]["total_tokens"], 7);
  const auto want = normalized(fake::FakeBackend::pooled(ids_of(s.backend, "hello world")));
  for (size_t k = 0; k < want.size(); ++k) EXPECT_FLOAT_EQ(body["data"][0]["embedding"][k].get<float>(), want[k]);

  json b64 = valid("/v1/embeddings", s.post("/v1/embeddings", {{"input", "hello world"}, {"encoding_format", "base64"}}));
  const std::string enc = b64["data"][0]["embedding"].get<std::string>();
  // Decode standard base64 -> little-endian float32.
  std::string bytes;
  int val = 0, bits = -8;
  for (char c : enc) {
    const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = std::strchr(tbl, c);
    if (c == '=' || !p) break;
    val = (val << 6) | static_cast<int>(p - tbl);
    bits += 6;
    if (bits >= 0) {
      bytes.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  ASSERT_EQ(bytes.size(), want.size() * 4);
  for (size_t k = 0; k < want.size(); ++k) {
    uint32_t u = 0;
    for (int b = 0; b < 4; ++b) u |= uint32_t(static_cast<unsigned char>(bytes[k * 4 + b])) << (8 * b);
    float f;
    std::memcpy(&f, &u, 4);
    EXPECT_FLOAT_EQ(f, want[k]);
  }
  // Errors in OpenAI's shape, which OpenAI's clients parse: {"error": {message, type, param, code}}.
  const auto openai_error = [](const httplib::Result& r) {
    json err = json::parse(r->body);
    EXPECT_EQ(err.size(), 1u) << r->body;
    EXPECT_TRUE(err["error"]["message"].is_string()) << r->body;
    EXPECT_TRUE(err["error"]["type"].is_string()) << r->body;
    EXPECT_TRUE(err["error"].contains("param")) << r->body;
    EXPECT_TRUE(err["error"]["code"].is_string()) << r->body;
    return err["error"];
  };
  auto r = s.post("/v1/embeddings", {{"input", json::array()}});
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(openai_error(r)["code"], "empty");
  r = s.post("/v1/embeddings", {{"input", "a"}, {"encoding_format", "hex"}});
  EXPECT_EQ(r->status, 422);
  EXPECT_EQ(openai_error(r)["type"], "invalid_request_error");
  // 413 (refused by the transport from Content-Length, before the body is read) in the same shape.
  ServerOptions small;
  small.payload_limit = 1000;
  Running limited(small);
  for (const char* path : {"/v1/embeddings", "/embeddings"}) {
    r = limited.client->Post(path, json{{"input", std::string(5000, 'a')}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(openai_error(r)["code"], "payload_too_large");
  }
  r = limited.client->Post("/embed", json{{"inputs", std::string(5000, 'a')}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json::parse(r->body)["error_type"], "Validation");  // TEI's shape on TEI's routes
}

TEST(ServerHttp, BadInputsGetTeiStatusesAndServerKeepsServing) {
  ServerOptions o;
  o.payload_limit = 10000;
  o.max_client_batch_size = 4;
  Running s(o);
  struct Case {
    std::string body;
    int status;
    std::string error_type;
  };
  const std::vector<Case> cases = {
      {"{\"inputs\": ", 422, "Validation"},                         // malformed JSON
      {"[1, 2]", 422, "Validation"},                                // not an object
      {"{\"inputs\": 5}", 422, "Validation"},                       // wrong type
      {"{\"inputs\": [\"a\", 5]}", 422, "Validation"},              // mixed types
      {"{\"inputs\": \"a\", \"normalize\": \"yes\"}", 422, "Validation"},
      {"{\"inputs\": \"a\", \"truncation_direction\": \"up\"}", 422, "Validation"},
      {"{\"input\": \"a\"}", 422, "Validation"},                    // missing field
      {"{\"inputs\": []}", 400, "Empty"},                           // empty batch
      {"{\"inputs\": \"\"}", 400, "Empty"},                         // empty text
      {"{\"inputs\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}", 422, "Validation"},  // > max_client_batch_size
      {"{\"inputs\": \"\xff\xfe bad utf8\"}", 422, "Validation"},   // invalid UTF-8
      {"{\"inputs\": \"a b c d e f g h i j k l m n o p q r\"}", 422, "Validation"},  // 20 tokens > 16
      {"{\"inputs\": [[5, 1000]]}", 422, "Tokenizer"},              // id outside the vocabulary
  };
  for (const auto& c : cases) {
    auto r = s.post_raw("/embed", c.body);
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    json body = valid("/embed", r);
    if (body.is_object()) {
      EXPECT_EQ(body["error_type"], c.error_type) << c.body;
    }
  }
  auto r = s.post("/embed", {{"inputs", "a b c d e f g h i j k l m n o p q r"}});
  EXPECT_NE(r->body.find("must have less than 16 tokens. Given: 20"), std::string::npos) << r->body;
  // truncate: true cuts to 16 tokens and succeeds.
  r = s.post("/embed", {{"inputs", "a b c d e f g h i j k l m n o p q r"}, {"truncate", true},
                        {"truncation_direction", "Left"}});
  EXPECT_EQ(r->status, 200) << r->body;
  // Huge payload -> 413 with TEI's body.
  r = s.post_raw("/embed", std::string("{\"inputs\": \"").append(20000, 'a').append("\"}"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  json body = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r->body;
  EXPECT_TRUE(checker().check(body, checker().resolve(json{{"$ref", "#/components/schemas/ErrorResponse"}})).empty());
  EXPECT_TRUE(s.alive());
}

TEST(ServerHttp, AutoTruncate) {
  ServerOptions o;
  o.auto_truncate = true;
  Running s(o);
  auto r = s.post("/embed", {{"inputs", "a b c d e f g h i j k l m n o p q r"}});
  EXPECT_EQ(r->status, 200);
  r = s.post("/embed", {{"inputs", "a b c d e f g h i j k l m n o p q r"}, {"truncate", false}});
  EXPECT_EQ(r->status, 422);
}

TEST(ServerHttp, ApiKey) {
  ServerOptions o;
  o.api_key = "s3cret";
  Running s(o);
  auto r = s.post("/embed", {{"inputs", "a"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  json body = json::parse(r->body);
  EXPECT_TRUE(body.contains("error") && body.contains("error_type"));
  httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
  r = s.client->Post("/embed", wrong, json{{"inputs", "a"}}.dump(), "application/json");
  EXPECT_EQ(r->status, 401);
  r = s.client->Get("/info");
  EXPECT_EQ(r->status, 401);
  r = s.client->Get("/health");
  EXPECT_EQ(r->status, 200);
  s.client->set_bearer_token_auth("s3cret");
  r = s.post("/embed", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 200);
}

TEST(ServerHttp, OverloadIs429Immediately) {
  ServerOptions o;
  o.max_concurrent_requests = 4;
  Running s(o);
  s.backend.block();
  auto first = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", s.port);
    c.set_read_timeout(30, 0);
    return c.Post("/embed", json{{"inputs", {"a", "b", "c"}}}.dump(), "application/json");
  });
  s.backend.wait_until_running();  // 3 permits held, forward pass blocked
  const auto t0 = std::chrono::steady_clock::now();
  auto r = s.post("/embed", {{"inputs", {"d", "e"}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  json body = valid("/embed", r);
  EXPECT_EQ(body["error_type"], "Overloaded");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // not queued behind the block
  s.backend.unblock();
  auto f = first.get();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 200);
  EXPECT_TRUE(s.alive());
}

TEST(ServerHttp, BackendFailureIs424AndServerRecovers) {
  Running s;
  s.backend.set_fail(true);
  auto r = s.post("/embed", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  json body = valid("/embed", r);
  EXPECT_NE(body["error"].get<std::string>().find("injected failure"), std::string::npos);
  s.backend.set_fail(false);
  EXPECT_TRUE(s.alive());
}

TEST(ServerHttp, SlowClientDoesNotBlockOthers) {
  ServerOptions o;
  o.read_timeout_sec = 1;
  Running s(o);
  const int fd = raw_connect(s.port);
  ASSERT_GE(fd, 0);
  const std::string half = "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inp";
  ASSERT_EQ(::send(fd, half.data(), half.size(), 0), static_cast<ssize_t>(half.size()));
  // Others are served while it stalls.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.alive());
  // The server gives up on it after the read timeout: the socket is closed (recv returns 0 or error).
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  EXPECT_LE(n, static_cast<ssize_t>(sizeof buf));  // returned (closed or an error status) instead of hanging
  ::close(fd);
  EXPECT_TRUE(s.alive());
}

TEST(ServerHttp, AbandonedClientDoesNotWedge) {
  Running s;
  s.backend.block();
  const int fd = raw_connect(s.port);
  ASSERT_GE(fd, 0);
  const std::string body = "{\"inputs\": \"abandoned\"}";
  std::string req = "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ";
  req.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  s.backend.wait_until_running();
  ::close(fd);  // gone before its answer
  // Also a client that disconnects halfway through its body.
  const int fd2 = raw_connect(s.port);
  const std::string partial = "POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"inputs\"";
  ASSERT_EQ(::send(fd2, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  ::close(fd2);
  s.backend.unblock();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(s.alive());
}

TEST(ServerHttp, ConcurrentRequestsAreBatched) {
  Running s;
  s.backend.block();
  const auto send = [&](int i) {
    return std::async(std::launch::async, [&, i] {
      httplib::Client c("127.0.0.1", s.port);
      c.set_read_timeout(30, 0);
      return c.Post("/embed", json{{"inputs", std::string("text ").append(std::to_string(i))}}.dump(),
                    "application/json");
    });
  };
  std::vector<std::future<httplib::Result>> futures;
  futures.push_back(send(0));
  s.backend.wait_until_running();  // the first request's batch holds the scheduler
  for (int i = 1; i < 8; ++i) futures.push_back(send(i));
  for (int i = 0; i < 2000 && s.server->queue_size() < 7; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(s.server->queue_size(), 7u);
  s.backend.unblock();
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(s.backend.max_batch(), 7u);  // the 7 that queued behind the first ran as one batch
  EXPECT_EQ(s.backend.batches(), 2u);
}

TEST(ServerHttp, GracefulShutdownFinishesInFlight) {
  fake::FakeBackend backend;
  ServerOptions o;
  o.port = 0;
  o.quiet = true;
  o.http_threads = 8;
  HttpServer server(backend, o);
  const int port = server.start();
  backend.block();
  auto inflight = std::async(std::launch::async, [&] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c.Post("/embed", json{{"inputs", "in flight"}}.dump(), "application/json");
  });
  backend.wait_until_running();
  auto stopper = std::async(std::launch::async, [&] { server.stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  backend.unblock();
  stopper.get();
  server.join();
  auto r = inflight.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  httplib::Client late("127.0.0.1", port);
  late.set_connection_timeout(1, 0);
  EXPECT_FALSE(late.Get("/health"));  // no longer accepting
}

TEST(ServerBatcher, RespectsRealTokenBudgetAndRequestCap) {
  fake::FakeBackend backend;
  backend.block();
  Batcher batcher(backend, {20, 3});
  std::vector<std::future<TaskOutput>> futures;
  futures.push_back(batcher.submit({{1, 2}, {0, 0}}, Task::Pooled));
  backend.wait_until_running();
  for (int i = 0; i < 10; ++i)
    futures.push_back(batcher.submit({std::vector<int64_t>(static_cast<size_t>(i < 5 ? 5 : 9), 7), {}}, Task::Pooled));
  backend.unblock();
  for (auto& f : futures) EXPECT_EQ(f.get().values.size(), 4u);
  // One batch at a time in arrival order, by real tokens (budget 20) and the cap 3:
  // [5,5,5] [5,5,9] (19 tokens) [9,9] [9,9]. Plus the first: 5 batches (a padded budget made 6).
  EXPECT_EQ(backend.batches(), 5u);
  EXPECT_EQ(backend.max_batch(), 3u);
}

TEST(ServerSchema, CheckerRejectsWrongShapes) {
  const auto& c = checker();
  EXPECT_FALSE(c.check(json::parse("[[1, \"x\"]]"), c.response_schema("/embed", "post", 200)).empty());
  EXPECT_FALSE(c.check(json::parse("{\"error\": \"x\"}"), c.response_schema("/embed", "post", 422)).empty());
  EXPECT_FALSE(c.check(json::parse("{\"error\": \"x\", \"error_type\": \"Nope\"}"),
                       c.response_schema("/embed", "post", 422)).empty());
  EXPECT_FALSE(c.check(json::parse("[{\"index\": -1, \"score\": 1}]"), c.response_schema("/rerank", "post", 200)).empty());
  EXPECT_TRUE(c.check(json::parse("[[0.5, 1]]"), c.response_schema("/embed", "post", 200)).empty());
}

// A known path with another method is 405 with the methods it has (schemathesis'
// unsupported_method check); an unknown path stays 404.
TEST(ServerHttp, WrongMethodIs405WithAllow) {
  Running s;
  auto r = s.client->Delete("/embed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  r = s.client->Get("/embed");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  r = s.client->Put("/", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD, POST");
  r = s.client->Post("/info", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET, HEAD");
  r = s.client->Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = s.client->Get("/api-doc/openapi.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json doc = json::parse(r->body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_TRUE(doc["paths"].contains("/embed"));
  EXPECT_FALSE(doc["paths"].contains("/predict"));  // the fake embedding model cannot serve it
}
