#include "server/openapi.hpp"

namespace bertcpp::server {

using json = nlohmann::json;

namespace {

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json nullable(json schema) {
  if (schema.contains("type") && schema["type"].is_string()) {
    schema["type"] = json::array({schema["type"], "null"});
    return schema;
  }
  return {{"anyOf", json::array({std::move(schema), {{"type", "null"}}})}};
}
json array_of(json items, std::optional<int64_t> min = std::nullopt, std::optional<int64_t> max = std::nullopt) {
  json a = {{"type", "array"}, {"items", std::move(items)}};
  if (min) a["minItems"] = *min;
  if (max) a["maxItems"] = *max;
  return a;
}
json object(json properties, std::vector<std::string> required = {}) {
  json o = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) o["required"] = required;
  return o;
}
json json_content(json schema) { return {{"application/json", {{"schema", std::move(schema)}}}}; }

// {"type": ["integer", "null"], "minimum": 1} -> {"anyOf": [{"type": "integer", "minimum": 1},
// {"type": "null"}]}: the same schema, in the form every OpenAPI tool reads (schemathesis 4.32's
// resource analysis fails on a list of types inside a composition).
void split_type_lists(json& j) {
  if (j.is_array()) {
    for (auto& e : j) split_type_lists(e);
    return;
  }
  if (!j.is_object()) return;
  for (auto& [k, v] : j.items())
    if (k != "enum" && k != "required" && k != "const") split_type_lists(v);
  auto t = j.find("type");
  if (t == j.end() || !t->is_array()) return;
  const json types = *t;
  json rest = j;
  rest.erase("type");
  json alternatives = json::array();
  for (const auto& ty : types) {
    if (ty == "null") {
      alternatives.push_back({{"type", "null"}});
      continue;
    }
    json one = rest;
    one["type"] = ty;
    alternatives.push_back(std::move(one));
  }
  json out = {{"anyOf", std::move(alternatives)}};
  if (rest.contains("description")) out["description"] = rest["description"];
  j = std::move(out);
}

struct Builder {
  const BackendInfo& info;
  const OpenApiLimits& lim;
  json paths = json::object();

  json errors(bool openai) const {
    const json e = json_content(ref(openai ? "OpenAIErrorResponse" : "ErrorResponse"));
    json r = {
        {"400", {{"description", "Empty input (`\"\"`, `[]`), or malformed HTTP"}, {"content", e}}},
        {"408", {{"description", "The request was not received within --read-timeout"}, {"content", e}}},
        {"413", {{"description", "Body larger than --payload-limit"}, {"content", e}}},
        {"422", {{"description", "Malformed JSON, wrong type, too many inputs, too long an input, unknown token id"},
                 {"content", e}}},
        {"424", {{"description", "The forward pass failed"}, {"content", e}}},
        {"429", {{"description", "More than --max-concurrent-requests inputs in flight"}, {"content", e}}},
        {"431", {{"description", "Request line and headers too large"}, {"content", e}}},
    };
    if (lim.api_key) r["401"] = {{"description", "Missing or wrong API key"}, {"content", e}};
    return r;
  }

  void post(const std::string& path, const std::string& id, const std::string& summary, json request, json ok,
            bool openai = false) {
    json responses = errors(openai);
    responses["200"] = {{"description", summary}, {"content", json_content(std::move(ok))}};
    json op = {{"operationId", id},
               {"summary", summary},
               {"requestBody", {{"required", true}, {"content", json_content(std::move(request))}}},
               {"responses", std::move(responses)}};
    if (lim.api_key) op["security"] = json::array({{{"bearer", json::array()}}});
    paths[path]["post"] = std::move(op);
  }

  void get(const std::string& path, const std::string& id, const std::string& summary, std::optional<json> content,
           bool open = false) {
    json ok = {{"description", summary}};
    if (content) ok["content"] = *content;
    json op = {{"operationId", id}, {"summary", summary}, {"responses", {{"200", ok}}}};
    if (lim.api_key && !open) {
      op["security"] = json::array({{{"bearer", json::array()}}});
      op["responses"]["401"] = {{"description", "Missing or wrong API key"},
                                {"content", json_content(ref("ErrorResponse"))}};
    }
    paths[path]["get"] = std::move(op);
  }
};

}  // namespace

json openapi_document(const BackendInfo& info, const OpenApiLimits& lim) {
  Builder b{info, lim};
  const int64_t batch = lim.max_client_batch_size;
  const int64_t vocab_max = std::max<int64_t>(info.vocab_size - 1, 0);

  json s = json::object();  // components.schemas
  // No maxLength: the character cap depends on truncation (cut to it with, 422 without), which a
  // JSON Schema of the text cannot say; the description does.
  s["Text"] = {{"type", "string"},
               {"minLength", 1},
               {"description", "Without truncation at most " + std::to_string(lim.max_input_chars) +
                               " characters and " + std::to_string(lim.max_input_length) +
                               " tokens (special tokens included), else 422; with truncation the first " +
                               std::to_string(lim.max_input_chars) + " characters (the last with "
                               "truncation_direction Left) are tokenized and the tokens truncated"}};
  s["TokenIds"] = array_of({{"type", "integer"}, {"minimum", 0}, {"maximum", vocab_max}}, 1, std::nullopt);
  s["TokenIds"]["description"] = "Token ids below the vocabulary size; more than " +
                                 std::to_string(lim.max_input_length) + " get 422 unless truncated";
  s["InputType"] = {{"anyOf", json::array({ref("Text"), ref("TokenIds")})}};
  s["Input"] = {{"anyOf", json::array({ref("Text"), ref("TokenIds"), array_of(ref("InputType"), 1, batch)})}};
  s["TruncationDirection"] = {{"type", "string"}, {"enum", {"Left", "Right", "left", "right"}}};
  if (info.prompts.empty()) {
    s["PromptName"] = {{"type", "null"}, {"description", "the model has no sentence-transformers prompts: a string gets 422"}};
  } else {
    json names = json::array();
    for (const auto& [name, text] : info.prompts) names.push_back(name);
    s["PromptName"] = {{"anyOf", json::array({{{"type", "string"}, {"enum", names}}, {{"type", "null"}}})},
                       {"description", "a key of config_sentence_transformers.json's prompts: its text is prepended to each input"}};
  }
  s["Embeddings"] = array_of(array_of({{"type", json::array({"number", "null"})}}), 1);
  s["ErrorResponse"] = object({{"error", {{"type", "string"}}},
                               {"error_type", {{"type", "string"},
                                               {"enum", {"Unhealthy", "Backend", "Overloaded", "Validation",
                                                         "Tokenizer", "Empty"}}}}},
                              {"error", "error_type"});
  s["OpenAIErrorResponse"] = object(
      {{"error", object({{"message", {{"type", "string"}}},
                         {"type", {{"type", "string"}}},
                         {"param", {{"type", json::array({"string", "null"})}}},
                         {"code", {{"type", json::array({"string", "null"})}}}},
                        {"message", "type", "param", "code"})}},
      {"error"});
  const json truncate = {{"type", json::array({"boolean", "null"})},
                         {"description", std::string("default ") + (lim.auto_truncate ? "true" : "false") +
                                             " (--auto-truncate)"}};
  const json boolean = {{"type", json::array({"boolean", "null"})}};
  const json direction = nullable(ref("TruncationDirection"));
  const json dimensions = {{"type", json::array({"integer", "null"})}, {"minimum", 1}, {"maximum", info.embedding_dimension}};

  const bool embedding = info.kind == ModelKind::Embedding && info.has_hidden_states && info.pooling != "splade";
  const bool splade = info.pooling == "splade";

  json embed_req = object({{"inputs", ref("Input")}, {"normalize", boolean}, {"truncate", truncate},
                           {"truncation_direction", direction}, {"dimensions", dimensions},
                           {"prompt_name", ref("PromptName")}},
                          {"inputs"});
  json sparse_req = object({{"inputs", ref("Input")}, {"truncate", truncate}, {"truncation_direction", direction},
                            {"prompt_name", ref("PromptName")}},
                           {"inputs"});
  json sparse_ok = array_of(array_of(object({{"index", {{"type", "integer"}, {"minimum", 0}}},
                                             {"value", {{"type", json::array({"number", "null"})}}}},
                                            {"index", "value"})),
                            1);
  // /predict: a text, a pair [a, b] (or [a]), or a batch of those.
  json pair = array_of(ref("Text"), 1, 2);
  json predict_req = object({{"inputs", {{"anyOf", json::array({ref("Text"), pair, array_of(pair, 1, batch)})}}},
                             {"raw_scores", boolean}, {"truncate", truncate}, {"truncation_direction", direction}},
                            {"inputs"});
  json prediction = array_of(object({{"score", {{"type", "number"}}}, {"label", {{"type", "string"}}}}, {"score", "label"}), 1);
  json predict_ok = {{"anyOf", json::array({prediction, array_of(prediction, 1)})}};
  json rerank_req = object({{"query", ref("Text")}, {"texts", array_of(ref("Text"), 1, batch)},
                            {"raw_scores", boolean}, {"return_text", boolean}, {"truncate", truncate},
                            {"truncation_direction", direction}},
                           {"query", "texts"});
  json rerank_ok = array_of(object({{"index", {{"type", "integer"}, {"minimum", 0}}}, {"score", {{"type", "number"}}},
                                    {"text", {{"type", "string"}}}},
                                   {"index", "score"}),
                            1);

  if (embedding) {
    b.post("/embed", "embed", "Pooled embeddings, one per input", embed_req, ref("Embeddings"));
    b.post("/embed_all", "embed_all", "Every token's last hidden state, per input",
           object({{"inputs", ref("Input")}, {"truncate", truncate}, {"truncation_direction", direction},
                   {"prompt_name", ref("PromptName")}},
                  {"inputs"}),
           array_of(array_of(array_of({{"type", json::array({"number", "null"})}})), 1));
    b.post("/similarity", "similarity", "Cosine similarity of source_sentence with each sentence",
           object({{"inputs", object({{"source_sentence", ref("Text")},
                                      {"sentences", array_of(ref("Text"), 1, batch - 1)}},
                                     {"source_sentence", "sentences"})},
                   {"parameters", nullable(object({{"truncate", truncate}, {"truncation_direction", direction},
                                                   {"prompt_name", ref("PromptName")}}))}},
                  {"inputs"}),
           array_of({{"type", json::array({"number", "null"})}}, 1));
    json openai_req = object({{"input", ref("Input")},
                              {"model", {{"type", json::array({"string", "null"})}}},
                              {"user", {{"type", json::array({"string", "null"})}}},
                              {"encoding_format", nullable({{"type", "string"}, {"enum", {"float", "base64"}}})},
                              {"dimensions", dimensions}},
                             {"input"});
    json openai_ok = object(
        {{"object", {{"type", "string"}, {"const", "list"}}},
         {"data", array_of(object({{"object", {{"type", "string"}, {"const", "embedding"}}},
                                   {"index", {{"type", "integer"}, {"minimum", 0}}},
                                   {"embedding", {{"anyOf", json::array({array_of({{"type", json::array({"number", "null"})}}),
                                                                         {{"type", "string"}, {"contentEncoding", "base64"}}})}}}},
                                  {"object", "index", "embedding"}),
                           1)},
         {"model", {{"type", "string"}}},
         {"usage", object({{"prompt_tokens", {{"type", "integer"}}}, {"total_tokens", {{"type", "integer"}}}},
                          {"prompt_tokens", "total_tokens"})}},
        {"object", "data", "model", "usage"});
    b.post("/v1/embeddings", "openai_embed", "OpenAI-compatible embeddings (always normalized)", openai_req, openai_ok,
           true);
    b.post("/embeddings", "openai_embed_alias", "Same as /v1/embeddings", openai_req, openai_ok, true);
  }
  if (info.has_mlm_head)
    b.post("/embed_sparse", "embed_sparse", "SPLADE sparse embeddings (zeros omitted)", sparse_req, sparse_ok);
  if (info.has_classifier) {
    b.post("/predict", "predict", "Sequence classification scores, best first", predict_req, predict_ok);
    b.post("/rerank", "rerank", "query + each text scored as a pair, best first", rerank_req, rerank_ok);
  }
  if (info.has_token_classifier) {
    // aggregation_strategy none: one per token (entity, index); otherwise one per group (entity_group).
    json token = object({{"entity", {{"type", "string"}}},
                         {"score", {{"type", "number"}}},
                         {"index", {{"type", "integer"}, {"minimum", 0}}},
                         {"word", {{"type", "string"}}},
                         {"start", {{"type", "integer"}, {"minimum", 0}}},
                         {"end", {{"type", "integer"}, {"minimum", 0}}}},
                        {"entity", "score", "index", "word", "start", "end"});
    json group = object({{"entity_group", {{"type", "string"}}},
                         {"score", {{"type", "number"}}},
                         {"word", {{"type", "string"}}},
                         {"start", {{"type", "integer"}, {"minimum", 0}}},
                         {"end", {{"type", "integer"}, {"minimum", 0}}}},
                        {"entity_group", "score", "word", "start", "end"});
    json entity = {{"anyOf", json::array({token, group})}};
    b.post("/predict_tokens", "predict_tokens",
           "Token classification (NER), as transformers' token-classification pipeline (aggregation_strategy "
           "none, simple, first, average or max)",
           object({{"inputs", {{"anyOf", json::array({ref("Text"), array_of(ref("Text"), 1, batch)})}}},
                   {"ignore_labels", nullable(array_of({{"type", "string"}}))},
                   {"aggregation_strategy",
                    nullable({{"type", "string"}, {"enum", {"none", "simple", "first", "average", "max"}}})},
                   {"truncate", truncate}, {"truncation_direction", direction}},
                  {"inputs"}),
           {{"anyOf", json::array({array_of(entity), array_of(array_of(entity), 1)})}});
  }
  b.post("/tokenize", "tokenize", "Tokens with ids, text and UTF-8 byte offsets",
         object({{"inputs", {{"anyOf", json::array({ref("Text"), array_of(ref("Text"), 1, batch)})}}},
                 {"add_special_tokens", boolean}, {"prompt_name", ref("PromptName")}},
                {"inputs"}),
         array_of(array_of(object({{"id", {{"type", "integer"}, {"minimum", 0}}},
                                   {"text", {{"type", "string"}}},
                                   {"special", {{"type", "boolean"}}},
                                   {"start", {{"type", json::array({"integer", "null"})}, {"minimum", 0}}},
                                   {"stop", {{"type", json::array({"integer", "null"})}, {"minimum", 0}}}},
                                  {"id", "text", "special", "start", "stop"})),
                  1));
  json ids = array_of({{"type", "integer"}, {"minimum", 0}, {"maximum", vocab_max}});
  b.post("/decode", "decode", "Token ids to text",
         object({{"ids", {{"anyOf", json::array({ids, array_of(ids, 1, batch)})}}},
                 {"skip_special_tokens", boolean}},
                {"ids"}),
         array_of({{"type", "string"}}, 1));
  // The model type's main task, as TEI's `/` and SageMaker's `/invocations`.
  json main_req, main_ok;
  if (info.kind == ModelKind::Classifier) main_req = predict_req, main_ok = predict_ok;
  else if (info.kind == ModelKind::Reranker) main_req = rerank_req, main_ok = rerank_ok;
  else if (splade) main_req = sparse_req, main_ok = sparse_ok;
  else main_req = embed_req, main_ok = ref("Embeddings");
  b.post("/", "main_task", "The model's main task (embed, predict, rerank or embed_sparse)", main_req, main_ok);
  b.post("/invocations", "invocations", "Same as POST /", main_req, main_ok);

  b.get("/health", "health", "Serving", std::nullopt, true);
  b.get("/ping", "ping", "Serving", std::nullopt, true);
  b.get("/", "root", "Serving (as /health)", std::nullopt, true);
  b.get("/info", "info", "Model and limits (TEI's Info)",
        json_content(object({{"model_id", {{"type", "string"}}},
                             {"model_type", {{"type", "object"}}},
                             {"max_input_length", {{"type", "integer"}}},
                             {"max_client_batch_size", {{"type", "integer"}}},
                             {"max_concurrent_requests", {{"type", "integer"}}},
                             {"max_batch_tokens", {{"type", "integer"}}},
                             {"tokenization_workers", {{"type", "integer"}}},
                             {"auto_truncate", {{"type", "boolean"}}},
                             {"version", {{"type", "string"}}}},
                            {"model_id", "model_type", "max_input_length", "max_client_batch_size",
                             "max_concurrent_requests", "max_batch_tokens", "tokenization_workers", "auto_truncate",
                             "version"})));
  b.get("/metrics", "metrics", "Prometheus metrics", json{{"text/plain", {{"schema", {{"type", "string"}}}}}}, true);
  b.get("/api-doc/openapi.json", "openapi", "This document", json_content({{"type", "object"}}));

  json doc = {{"openapi", "3.1.0"},
              {"info", {{"title", "bertcpp serve"},
                        {"description", "TEI-compatible embeddings server (" + info.model_id + ")"},
                        {"version", lim.version}}},
              {"paths", std::move(b.paths)},
              {"components", {{"schemas", std::move(s)}}}};
  split_type_lists(doc["paths"]);
  split_type_lists(doc["components"]["schemas"]);
  if (lim.api_key)
    doc["components"]["securitySchemes"] = {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};
  return doc;
}

}  // namespace bertcpp::server
