// The server over real golden models (tests/data/models): results equal the library's own
// Model::embed / classify / forward for the same texts, and every response fits TEI's OpenAPI schema.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <fstream>
#include <map>

#include "bertcpp/model.hpp"
#include "schema.hpp"
#include "server/backend.hpp"
#include "server/http_server.hpp"
#include "support/st_folders.h"

using namespace bertcpp;
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

json valid(const std::string& route, const httplib::Result& res, const std::string& method = "post") {
  EXPECT_TRUE(res) << route;
  if (!res) return nullptr;
  json body = json::parse(res->body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << res->body.substr(0, 200);
  if (body.is_discarded() || !checker().has_response(route, method, res->status)) {
    ADD_FAILURE() << route << " status " << res->status << " not in spec: " << res->body.substr(0, 300);
    return body;
  }
  const auto errors = checker().check(body, checker().response_schema(route, method, res->status));
  EXPECT_TRUE(errors.empty()) << route << ": " << (errors.empty() ? "" : errors.front());
  return body;
}

std::string model_dir(const char* name) { return std::string(BERTCPP_TEST_DATA) + "/models/" + name; }

struct Served {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<httplib::Client> client;
  explicit Served(const std::string& dir, const std::string& pooling = "", const DefaultPrompt& prompt = {}) {
    backend = make_model_backend(dir, pooling, 1, ComputeType::F32, prompt);
    ServerOptions o;
    o.port = 0;
    o.quiet = true;
    o.http_threads = 8;
    server = std::make_unique<HttpServer>(*backend, o);
    const int port = server->start();
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_read_timeout(60, 0);
  }
  ~Served() {
    server->stop();
    server->join();
  }
  httplib::Result post(const std::string& path, const json& body) {
    return client->Post(path.c_str(), body.dump(), "application/json");
  }
};

const std::vector<std::string> kTexts = {"Hello world!", "The quick brown fox jumps over the lazy dog.",
                                         "bertcpp serves embeddings", "a"};

}  // namespace

TEST(ServerModel, EmbedEqualsModelEmbed) {
  Served s(model_dir("tiny-bert"));
  const Model model = Model::from_pretrained(model_dir("tiny-bert"));
  for (bool normalize : {true, false}) {
    const Tensor want = model.embed(kTexts, std::nullopt, normalize).to_f32();
    json body = valid("/embed", s.post("/embed", {{"inputs", kTexts}, {"normalize", normalize}}));
    ASSERT_EQ(body.size(), kTexts.size());
    const int64_t h = want.dim(1);
    for (size_t i = 0; i < kTexts.size(); ++i) {
      ASSERT_EQ(body[i].size(), static_cast<size_t>(h));
      for (int64_t k = 0; k < h; ++k)
        EXPECT_NEAR(body[i][k].get<float>(), want.data<float>()[static_cast<int64_t>(i) * h + k], 1e-5)
            << "text " << i << " dim " << k << " normalize " << normalize;
    }
  }
  // OpenAI route: normalized, same numbers.
  const Tensor want = model.embed(kTexts, std::nullopt, true).to_f32();
  json body = valid("/v1/embeddings", s.post("/v1/embeddings", {{"input", kTexts}}));
  ASSERT_EQ(body["data"].size(), kTexts.size());
  for (size_t i = 0; i < kTexts.size(); ++i)
    for (int64_t k = 0; k < want.dim(1); ++k)
      EXPECT_NEAR(body["data"][i]["embedding"][k].get<float>(), want.data<float>()[static_cast<int64_t>(i) * want.dim(1) + k], 1e-5);
  int64_t tokens = 0;
  for (const auto& t : kTexts) tokens += static_cast<int64_t>(model.tokenizer().encode(t).size());
  EXPECT_EQ(body["usage"]["prompt_tokens"], tokens);
}

TEST(ServerModel, EmbedAllTokenizeInfoAndLimits) {
  Served s(model_dir("tiny-bert"));
  const Model model = Model::from_pretrained(model_dir("tiny-bert"));
  const Encoding enc = model.tokenizer().encode(kTexts[1]);
  json body = valid("/embed_all", s.post("/embed_all", {{"inputs", kTexts[1]}}));
  ASSERT_EQ(body.size(), 1u);
  ASSERT_EQ(body[0].size(), enc.size());
  const Tensor hidden = model.forward(Batch::from_encodings(std::span(&enc, 1))).last_hidden_state.to_f32();
  const int64_t h = hidden.dim(2);
  for (size_t t = 0; t < enc.size(); ++t)
    for (int64_t k = 0; k < h; ++k)
      EXPECT_NEAR(body[0][t][k].get<float>(), hidden.data<float>()[static_cast<int64_t>(t) * h + k], 1e-5);

  body = valid("/tokenize", s.post("/tokenize", {{"inputs", kTexts[1]}}));
  ASSERT_EQ(body[0].size(), enc.size());
  for (size_t t = 0; t < enc.size(); ++t) EXPECT_EQ(body[0][t]["id"], enc.input_ids[t]);

  body = valid("/decode", s.post("/decode", {{"ids", enc.input_ids}}));
  EXPECT_EQ(body[0], model.tokenizer().decode(enc.input_ids, true));

  json info = valid("/info", s.client->Get("/info"), "get");
  EXPECT_EQ(info["model_type"]["embedding"]["pooling"], "mean");
  EXPECT_EQ(info["max_input_length"], model.max_seq_length());
  EXPECT_EQ(info["model_architecture"], "bert");
  EXPECT_EQ(info["model_family"], "bert");

  // Over-long: 422 unless truncated.
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  auto r = s.post("/embed", {{"inputs", long_text}});
  EXPECT_EQ(r->status, 422);
  valid("/embed", r);
  r = s.post("/embed", {{"inputs", long_text}, {"truncate", true}});
  EXPECT_EQ(r->status, 200);
  // Not a classifier / no MLM head: 424.
  r = s.post("/predict", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  valid("/predict", r);
  r = s.post("/embed_sparse", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  valid("/embed_sparse", r);
}

TEST(ServerModel, PredictAndRerankEqualClassify) {
  const std::string dir = model_dir("tiny-bert-classifier-bf16");
  Served s(dir);
  const Model model = Model::from_pretrained(dir);
  json body = valid("/predict", s.post("/predict", {{"inputs", kTexts[1]}}));
  const auto want = model.classify(kTexts[1]);
  ASSERT_EQ(body.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(body[i]["label"], want[i].label);
    EXPECT_NEAR(body[i]["score"].get<float>(), want[i].score, 1e-5);
  }
  body = valid("/predict", s.post("/predict", {{"inputs", {{kTexts[0], kTexts[1]}, {kTexts[2]}}}}));
  ASSERT_EQ(body.size(), 2u);
  const auto pair = model.classify(kTexts[0], kTexts[1]);
  EXPECT_EQ(body[0][0]["label"], pair[0].label);
  EXPECT_NEAR(body[0][0]["score"].get<float>(), pair[0].score, 1e-5);

  json info = valid("/info", s.client->Get("/info"), "get");
  EXPECT_EQ(info["model_type"]["classifier"]["id2label"]["2"], "positive");

  // /rerank on a multi-label classifier: the last label's probability (Model::rerank's rule), sorted.
  body = valid("/rerank", s.post("/rerank", {{"query", kTexts[0]}, {"texts", {kTexts[1], kTexts[2], kTexts[3]}},
                                             {"return_text", true}}));
  ASSERT_EQ(body.size(), 3u);
  const size_t last = model.config().labels.size() - 1;
  for (size_t i = 0; i < body.size(); ++i) {
    const size_t idx = body[i]["index"].get<size_t>();
    EXPECT_EQ(body[i]["text"], kTexts[idx + 1]);
    float want_last = 0;
    for (const auto& ls : model.classify(kTexts[0], kTexts[idx + 1]))
      if (ls.id == static_cast<int64_t>(last)) want_last = ls.score;
    EXPECT_NEAR(body[i]["score"].get<float>(), want_last, 1e-5);
    if (i) {
      EXPECT_GE(body[i - 1]["score"].get<float>(), body[i]["score"].get<float>());
    }
  }
  auto r = s.post("/embed", {{"inputs", "a"}});
  EXPECT_EQ(r->status, 424);
  valid("/embed", r);
}

// One rule everywhere: the server's /rerank ranks (and scores) as Model::rerank, which the CLI
// prints, on one-label rerankers and on a multi-label classifier.
TEST(ServerModel, RerankRanksAsModelRerank) {
  const std::vector<std::string> docs = {kTexts[1], kTexts[2], kTexts[3], kTexts[0]};
  for (const char* name : {"tiny-roberta-reranker", "tiny-xlm-roberta-reranker", "tiny-bert-classifier-bf16",
                           "tiny-distilbert-classifier"}) {
    SCOPED_TRACE(name);
    const std::string dir = model_dir(name);
    Served s(dir);
    const Model model = Model::from_pretrained(dir);
    const std::vector<float> want = model.rerank(kTexts[0], docs);
    std::vector<size_t> order(docs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return want[a] > want[b]; });
    const bool one_label = model.config().labels.size() <= 1;
    // One label: Model::rerank gives the raw logit, as the server's raw_scores; several: the last
    // label's probability, as the server's default scores.
    json body = valid("/rerank", s.post("/rerank", {{"query", kTexts[0]}, {"texts", docs}, {"raw_scores", one_label}}));
    ASSERT_EQ(body.size(), docs.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      EXPECT_EQ(body[i]["index"].get<size_t>(), order[i]) << "rank " << i;
      EXPECT_NEAR(body[i]["score"].get<float>(), want[order[i]], 1e-5) << "rank " << i;
    }
  }
}

TEST(ServerModel, EmbedSparseIsSpladeOfMlmLogits) {
  const std::string dir = model_dir("tiny-bert-pretraining-f16");
  Served s(dir);
  const Model model = Model::from_pretrained(dir);
  json body = valid("/embed_sparse", s.post("/embed_sparse", {{"inputs", {kTexts[0], kTexts[2]}}}));
  ASSERT_EQ(body.size(), 2u);
  for (size_t n = 0; n < 2; ++n) {
    const std::string& text = n == 0 ? kTexts[0] : kTexts[2];
    const Encoding enc = model.tokenizer().encode(text);
    const Tensor logits = model.forward(Batch::from_encodings(std::span(&enc, 1))).prediction_logits.to_f32();
    const int64_t v = logits.dim(2);
    std::vector<float> want(static_cast<size_t>(v), 0.0f);
    for (size_t t = 0; t < enc.size(); ++t)
      for (int64_t k = 0; k < v; ++k) {
        const float x = logits.data<float>()[static_cast<int64_t>(t) * v + k];
        if (x > 0) want[static_cast<size_t>(k)] = std::max(want[static_cast<size_t>(k)], std::log1p(x));
      }
    std::map<int64_t, float> got;
    for (const auto& e : body[n]) got[e["index"].get<int64_t>()] = e["value"].get<float>();
    size_t nonzero = 0;
    for (int64_t k = 0; k < v; ++k) {
      if (want[static_cast<size_t>(k)] == 0.0f) continue;
      ++nonzero;
      ASSERT_TRUE(got.count(k)) << "index " << k;
      EXPECT_NEAR(got[k], want[static_cast<size_t>(k)], 1e-4);
    }
    EXPECT_EQ(got.size(), nonzero);
  }
}

// The families through the server: /embed of an MPNet sentence-transformers folder and of a
// RoBERTa base model and of the rotary and ALiBi families (ModernBERT, NomicBERT, GTE, GTE-v1.5's remote code, JinaBERT) equal Model::embed; /predict on a DistilBERT classifier equals classify,
// pairs included (it has no token types); /rerank on an XLM-R reranker ranks as Model::rerank.
TEST(ServerModel, FamiliesEqualTheModelApi) {
  for (const char* name : {"tiny-mpnet-st", "tiny-roberta", "tiny-modernbert", "tiny-nomic-bert", "tiny-gte", "tiny-gte-new",
                           "tiny-jina-bert"}) {
    SCOPED_TRACE(name);
    Served s(model_dir(name));
    const Model model = Model::from_pretrained(model_dir(name));
    const Tensor want = model.embed(kTexts).to_f32();
    json body = valid("/embed", s.post("/embed", {{"inputs", kTexts}, {"normalize", model.default_normalize()}}));
    ASSERT_EQ(body.size(), kTexts.size());
    const int64_t h = want.dim(1);
    for (size_t i = 0; i < kTexts.size(); ++i)
      for (int64_t k = 0; k < h; ++k)
        EXPECT_NEAR(body[i][k].get<float>(), want.data<float>()[static_cast<int64_t>(i) * h + k], 1e-5);
  }
  {
    Served s(model_dir("tiny-distilbert-classifier"));
    const Model model = Model::from_pretrained(model_dir("tiny-distilbert-classifier"));
    json body = valid("/predict", s.post("/predict", {{"inputs", {{kTexts[0], kTexts[1]}, {kTexts[2]}}}}));
    ASSERT_EQ(body.size(), 2u);
    const auto pair = model.classify(kTexts[0], kTexts[1]);
    EXPECT_EQ(body[0][0]["label"], pair[0].label);
    EXPECT_NEAR(body[0][0]["score"].get<float>(), pair[0].score, 1e-5);
  }
  {
    Served s(model_dir("tiny-xlm-roberta-reranker"));
    const Model model = Model::from_pretrained(model_dir("tiny-xlm-roberta-reranker"));
    const std::vector<std::string> docs{kTexts[1], kTexts[2], kTexts[3]};
    const std::vector<float> scores = model.rerank(kTexts[0], docs);
    json body = valid("/rerank", s.post("/rerank", {{"query", kTexts[0]}, {"texts", docs}, {"raw_scores", true}}));
    ASSERT_EQ(body.size(), 3u);
    for (const auto& r : body)
      EXPECT_NEAR(r["score"].get<float>(), scores[r["index"].get<size_t>()], 1e-5);
  }
}

// A Dense module, prompts and include_prompt false through /embed: TEI's `prompt_name` gives
// sentence-transformers' encode(prompt_name=...) (tests/data/st_dense/expected.json); an unknown
// name is TEI's 422; the OpenAPI document lists the names.
TEST(ServerModel, EmbedRunsDenseModulesAndPromptsAsSentenceTransformers) {
  const json& st = bertcpp::testsupport::st_dense_expected();
  const auto root = std::filesystem::temp_directory_path() / ("bertcpp_server_st_" + std::to_string(::getpid()));
  const std::string variant = "exclude-prompt-mean-dense";
  Served s(bertcpp::testsupport::build_st_folder(variant, root).string());
  const auto texts = st["texts"].get<std::vector<std::string>>();
  auto check = [&](const json& body, const std::string& key) {
    json got = valid("/embed", s.post("/embed", body));
    const auto want = st["cases"][key]["data"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), texts.size());
    const size_t d = want.size() / texts.size();
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(got[i / d][i % d].get<double>() - want[i]));
    EXPECT_LE(worst, 1e-5) << body.dump();
  };
  check({{"inputs", texts}}, variant);  // the folder ends with Normalize; TEI normalizes by default
  check({{"inputs", texts}, {"prompt_name", "query"}}, variant + "/prompt_name_query");
  check({{"inputs", texts}, {"prompt_name", "long"}}, variant + "/prompt_name_long");
  auto bad = s.post("/embed", {{"inputs", texts}, {"prompt_name", "nope"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 422);
  const json err = json::parse(bad->body);
  EXPECT_EQ(err["error_type"], "Validation");
  EXPECT_NE(err["error"].get<std::string>().find("`nope` but it was not found in the Sentence Transformers prompts"),
            std::string::npos) << bad->body;
  EXPECT_NE(err["error"].get<std::string>().find("\"long\", \"query\""), std::string::npos) << bad->body;
  // The OpenAI route: unchanged shape, Dense applied (16 numbers), no prompt.
  const json oa = json::parse(s.post("/v1/embeddings", {{"input", texts}})->body);
  ASSERT_EQ(oa["data"].size(), texts.size());
  EXPECT_EQ(oa["data"][0]["embedding"].size(), 16u);
  const json doc = json::parse(s.client->Get("/api-doc/openapi.json")->body);
  EXPECT_EQ(doc["components"]["schemas"]["PromptName"]["anyOf"][0]["enum"], json::array({"long", "query"}));
  std::filesystem::remove_all(root);
}

// TEI's --default-prompt-name / --default-prompt: used when a request names no prompt (a request's
// prompt_name still wins); both, or a name the model lacks, fail at startup naming the flag.
TEST(ServerModel, DefaultPromptFlagsAsTei) {
  const json& st = bertcpp::testsupport::st_dense_expected();
  const auto root = std::filesystem::temp_directory_path() / ("bertcpp_server_dp_" + std::to_string(::getpid()));
  const std::string variant = "exclude-prompt-mean-dense";
  const std::string dir = bertcpp::testsupport::build_st_folder(variant, root).string();
  const auto texts = st["texts"].get<std::vector<std::string>>();
  auto worst = [&](Served& s, const json& body, const std::string& key) {
    json got = valid("/embed", s.post("/embed", body));
    const auto want = st["cases"][key]["data"].get<std::vector<double>>();
    EXPECT_EQ(got.size(), texts.size());
    if (got.size() != texts.size()) return 1.0;
    const size_t d = want.size() / texts.size();
    double w = 0;
    for (size_t i = 0; i < want.size(); ++i) w = std::max(w, std::abs(got[i / d][i % d].get<double>() - want[i]));
    return w;
  };
  {
    Served s(dir, "", DefaultPrompt{"query", std::nullopt});
    EXPECT_LE(worst(s, {{"inputs", texts}}, variant + "/prompt_name_query"), 1e-5);
    EXPECT_LE(worst(s, {{"inputs", texts}, {"prompt_name", "long"}}, variant + "/prompt_name_long"), 1e-5);
  }
  {
    std::ifstream cfg(std::filesystem::path(dir) / "config_sentence_transformers.json");
    const json prompts = json::parse(cfg)["prompts"];
    Served s(dir, "", DefaultPrompt{std::nullopt, prompts["query"].get<std::string>()});
    EXPECT_LE(worst(s, {{"inputs", texts}}, variant + "/prompt_name_query"), 1e-5);
  }
  try {
    make_model_backend(dir, "", 1, ComputeType::F32, DefaultPrompt{"nope", std::nullopt});
    ADD_FAILURE() << "an unknown --default-prompt-name loaded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("--default-prompt-name nope"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("long, query"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_model_backend(dir, "", 1, ComputeType::F32, DefaultPrompt{"query", "x"}), std::exception);
  std::filesystem::remove_all(root);
}

// A model without prompts: a prompt_name is TEI's 422 "no prompts were found".
TEST(ServerModel, PromptNameWithoutPromptsIs422) {
  Served s(model_dir("tiny-bert"));
  auto r = s.post("/embed", {{"inputs", "x"}, {"prompt_name", "query"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422);
  EXPECT_NE(r->body.find("no prompts were found in the Sentence Transformers configuration"), std::string::npos) << r->body;
}
