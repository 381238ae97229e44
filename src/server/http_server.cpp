// TEI-compatible HTTP routes. Behaviour follows TEI's router (router/src/http/server.rs) and core
// (core/src/infer.rs, tokenization.rs): error types map to statuses as TEI does
// (Empty 400, Validation/Tokenizer 422, Backend 424, Overloaded 429, Unhealthy 503).
#include "server/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "server/openapi.hpp"
#include "server/schema.hpp"
#include "server/queue/batcher.hpp"
#include "server/transport.hpp"
#include "server/inference.hpp"

namespace bertcpp::server {

using json = nlohmann::json;

using namespace schema;

namespace {

constexpr const char* kVersion = "0.1.0";

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

void normalize_l2(std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  if (s <= 0) return;
  const float scale = static_cast<float>(1.0 / std::sqrt(s));
  for (float& x : v) x *= scale;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct HttpServer::Impl {
  HttpServer& self;
  Backend& backend;
  const ServerOptions& opt;
  InferenceCore core;  // permits, tokenization pool, encode, enqueue and wait
  std::string served_name;
  int64_t max_input_length;

  Impl(HttpServer& s)
      : self(s),
        backend(s.backend_),
        opt(s.options_),
        core(s.backend_, *s.batcher_, s.metrics_,
             {s.options_.max_concurrent_requests, s.options_.max_client_batch_size,
              std::min<int64_t>(s.backend_.info().max_input_length, s.options_.max_batch_tokens),
              s.options_.tokenization_workers}),
        served_name(s.options_.served_model_name.empty() ? s.backend_.info().model_id : s.options_.served_model_name),
        max_input_length(std::min<int64_t>(s.backend_.info().max_input_length, s.options_.max_batch_tokens)) {}

  const BackendInfo& info() const { return backend.info(); }

  void require_embedding(const char* what) {
    if (info().kind != ModelKind::Embedding || !info().has_hidden_states) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error(std::string("Model is not an embedding model (") + what + ")");
    }
  }

  // ---- /embed, /v1/embeddings, /similarity share this ----
  struct PooledResult {
    std::vector<std::vector<float>> embeddings;
    size_t tokens = 0;
  };
  // TEI's prepare_pre_prompt: the request's prompt_name (422 when the model has no such prompt),
  // else the model's default prompt (config_sentence_transformers.json default_prompt_name).
  std::string request_prompt(const json& body) {
    const auto name = get_opt_string(body, "prompt_name");
    if (!name) return info().default_prompt.value_or("");
    const auto& prompts = info().prompts;
    if (prompts.empty())
      throw validation("`prompt_name` is set to `" + *name + "` but no prompts were found in the Sentence Transformers configuration");
    auto it = prompts.find(*name);
    if (it == prompts.end()) {
      std::string known;
      for (const auto& [k, v] : prompts) known += (known.empty() ? "\"" : ", \"") + k + "\"";
      throw validation("`prompt_name` is set to `" + *name +
                       "` but it was not found in the Sentence Transformers prompts. Available prompts: [" + known + "]");
    }
    return it->second;
  }

  // The prompt prepended to each input (token ids are decoded first, as TEI does).
  std::vector<InputItem> with_prompt(std::vector<InputItem> items, const std::string& prompt) {
    if (prompt.empty()) return items;
    for (auto& item : items) {
      if (item.is_ids ? item.ids.empty() : item.text.empty())  // as TEI: checked before the prompt is added
        throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
      if (item.is_ids) {
        item.text = core.tokenizers().run([&] { return backend.decode(item.ids, true); });
        item.is_ids = false;
      }
      item.text = prompt + item.text;
    }
    return items;
  }

  std::vector<TokenizedInput> encode_all(const std::vector<InputItem>& items, bool truncate, TruncationSide side,
                                         const std::string& prompt) {
    const int64_t prompt_tokens = prompt.empty() ? 0 : backend.prompt_length(prompt);
    std::vector<TokenizedInput> inputs;
    for (const auto& item : with_prompt(items, prompt)) {
      inputs.push_back(core.encode(item, std::nullopt, truncate, side));
      inputs.back().prompt_tokens = prompt_tokens;
    }
    return inputs;
  }

  PooledResult embed_pooled(const std::vector<InputItem>& items, bool truncate, TruncationSide side, bool normalize,
                            std::optional<int64_t> dimensions, const std::string& prompt) {
    require_embedding("/embed");
    if (info().pooling == "splade" && normalize)
      throw backend_error("`normalize` is not available for SPLADE models");
    if (dimensions && *dimensions == 0) throw validation("`dimensions` should be positive");
    auto permit = core.acquire(items.size());
    std::vector<TokenizedInput> inputs = encode_all(items, truncate, side, prompt);
    PooledResult r;
    auto outputs = core.infer(std::move(inputs), Task::Pooled, &r.tokens);
    for (auto& o : outputs) {
      if (dimensions) {
        if (*dimensions > static_cast<int64_t>(o.values.size()))
          throw validation("`dimensions` should be smaller than the maximum embedding dimension.");
        o.values.resize(static_cast<size_t>(*dimensions));
      }
      if (normalize) normalize_l2(o.values);
      r.embeddings.push_back(std::move(o.values));
    }
    return r;
  }

  std::string handle_embed(const json& body) {
    auto [items, single] = parse_input(require(body, "inputs"), "inputs");
    if (!single) core.check_batch(items.size());
    const std::string prompt = request_prompt(body);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    const bool normalize = get_bool(body, "normalize", true);
    const auto dims = get_opt_uint(body, "dimensions");
    auto r = embed_pooled(items, truncate, side, normalize, dims, prompt);
    std::string out = "[";
    for (size_t i = 0; i < r.embeddings.size(); ++i) {
      if (i) out += ',';
      append_floats(out, r.embeddings[i].data(), r.embeddings[i].size());
    }
    out += ']';
    return out;
  }

  std::string handle_openai(const json& body) {
    auto [items, single] = parse_input(require(body, "input"), "input");
    if (!single) core.check_batch(items.size());
    std::string format = "float";
    if (auto f = get_opt_string(body, "encoding_format")) format = *f;
    else if (body.contains("encoding_format") && !body["encoding_format"].is_null())
      throw type_error("encoding_format", "one of `float`, `base64`");
    if (format != "float" && format != "base64") throw type_error("encoding_format", "one of `float`, `base64`");
    (void)get_opt_string(body, "model");  // TEI serves one model: `model` is only checked for type
    (void)get_opt_string(body, "user");
    const auto dims = get_opt_uint(body, "dimensions");
    auto r = embed_pooled(items, opt.auto_truncate, TruncationSide::Right, true, dims, info().default_prompt.value_or(""));
    std::string out = "{\"object\":\"list\",\"data\":[";
    for (size_t i = 0; i < r.embeddings.size(); ++i) {
      if (i) out += ',';
      out += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
      if (format == "base64") out += "\"" + little_endian_base64(r.embeddings[i]) + "\"";
      else append_floats(out, r.embeddings[i].data(), r.embeddings[i].size());
      out += '}';
    }
    out += "],\"model\":" + json(served_name).dump(-1, ' ', false, json::error_handler_t::replace);
    out += ",\"usage\":{\"prompt_tokens\":" + std::to_string(r.tokens) +
           ",\"total_tokens\":" + std::to_string(r.tokens) + "}}";
    return out;
  }

  std::string handle_similarity(const json& body) {
    const json& inputs = require(body, "inputs");
    if (!inputs.is_object()) throw type_error("inputs", "an object with `source_sentence` and `sentences`");
    const json& src = require(inputs, "source_sentence");
    const json& sentences = require(inputs, "sentences");
    if (!src.is_string()) throw type_error("inputs.source_sentence", "a string");
    if (!sentences.is_array()) throw type_error("inputs.sentences", "a sequence of strings");
    for (const auto& s : sentences)
      if (!s.is_string()) throw type_error("inputs.sentences", "a sequence of strings");
    if (sentences.empty()) throw empty_error("`inputs.sentences` cannot be empty");
    const size_t batch = sentences.size() + 1;
    if (static_cast<int64_t>(batch) > opt.max_client_batch_size)
      throw ApiError(ErrorType::Validation, "batch size " + std::to_string(batch) + " > maximum allowed batch size " +
                                                std::to_string(opt.max_client_batch_size));
    json params = json::object();
    if (auto it = body.find("parameters"); it != body.end() && !it->is_null()) {
      if (!it->is_object()) throw type_error("parameters", "an object");
      params = *it;
    }
    const std::string prompt = request_prompt(params);
    const bool truncate = get_opt_bool(params, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(params);
    std::vector<InputItem> items;
    items.push_back({false, src.get<std::string>(), {}});
    for (const auto& s : sentences) items.push_back({false, s.get<std::string>(), {}});
    auto r = embed_pooled(items, truncate, side, false, std::nullopt, prompt);
    std::string out = "[";
    for (size_t i = 1; i < r.embeddings.size(); ++i) {
      if (i > 1) out += ',';
      append_float(out, static_cast<float>(cosine(r.embeddings[0], r.embeddings[i])));
    }
    out += ']';
    return out;
  }

  std::string handle_embed_all(const json& body) {
    auto [items, single] = parse_input(require(body, "inputs"), "inputs");
    if (!single) core.check_batch(items.size());
    const std::string prompt = request_prompt(body);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    require_embedding("/embed_all");
    if (info().pooling == "splade") throw backend_error("`embed_all` is not available for SPLADE models");
    auto permit = core.acquire(items.size());
    std::vector<TokenizedInput> inputs = encode_all(items, truncate, side, prompt);
    auto outputs = core.infer(std::move(inputs), Task::AllTokens, nullptr);
    std::string out = "[";
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (i) out += ',';
      out += '[';
      const auto& o = outputs[i];
      const size_t h = o.rows ? o.values.size() / static_cast<size_t>(o.rows) : 0;
      for (int64_t t = 0; t < o.rows; ++t) {
        if (t) out += ',';
        append_floats(out, o.values.data() + static_cast<size_t>(t) * h, h);
      }
      out += ']';
    }
    out += ']';
    return out;
  }

  std::string handle_embed_sparse(const json& body) {
    auto [items, single] = parse_input(require(body, "inputs"), "inputs");
    if (!single) core.check_batch(items.size());
    const std::string prompt = request_prompt(body);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    if (!info().has_mlm_head) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error("Model is not an embedding model with SPLADE pooling (it has no masked-LM head)");
    }
    auto permit = core.acquire(items.size());
    std::vector<TokenizedInput> inputs = encode_all(items, truncate, side, prompt);
    auto outputs = core.infer(std::move(inputs), Task::Sparse, nullptr);
    std::string out = "[";
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (i) out += ',';
      out += '[';
      bool first = true;
      const auto& v = outputs[i].values;
      for (size_t k = 0; k < v.size(); ++k) {
        if (v[k] == 0.0f) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"index\":" + std::to_string(k) + ",\"value\":";
        append_float(out, v[k]);
        out += '}';
      }
      out += ']';
    }
    out += ']';
    return out;
  }

  // Softmax (several labels) or sigmoid (one label) unless raw scores are asked for (TEI's predict).
  static void scores(std::vector<float>& v, bool raw) {
    if (raw || v.empty()) return;
    if (v.size() == 1) {
      v[0] = 1.0f / (1.0f + std::exp(-v[0]));
      return;
    }
    const float m = *std::max_element(v.begin(), v.end());
    double den = 0;
    for (float& x : v) {
      x = std::exp(x - m);
      den += x;
    }
    for (float& x : v) x = static_cast<float>(x / den);
  }

  void require_classifier(const char* what) {
    if (!info().has_classifier) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error(std::string("Model is not a classifier model (") + what + ")");
    }
  }

  std::string handle_predict(const json& body) {
    const json& in = require(body, "inputs");
    struct Seq {
      std::string a;
      std::optional<std::string> b;
    };
    std::vector<Seq> seqs;
    bool single = true;
    const auto bad = [] {
      return ApiError(ErrorType::Validation,
                      "Failed to deserialize the JSON body into the target type: inputs: expected a string, a pair "
                      "of strings [string, string] or a batch of mixed strings and pairs [[string], [string, string], ...]");
    };
    if (in.is_string()) {
      seqs.push_back({in.get<std::string>(), std::nullopt});
    } else if (in.is_array() && !in.empty() && in[0].is_string()) {
      if (in.size() > 2) throw bad();
      for (const auto& e : in)
        if (!e.is_string()) throw bad();
      seqs.push_back({in[0].get<std::string>(), in.size() == 2 ? std::optional(in[1].get<std::string>()) : std::nullopt});
    } else if (in.is_array() && !in.empty()) {
      single = false;
      for (const auto& e : in) {
        if (!e.is_array() || e.empty() || e.size() > 2) throw bad();
        for (const auto& s : e)
          if (!s.is_string()) throw bad();
        seqs.push_back({e[0].get<std::string>(), e.size() == 2 ? std::optional(e[1].get<std::string>()) : std::nullopt});
      }
    } else {
      throw bad();
    }
    if (!single) core.check_batch(seqs.size());
    const bool raw = get_bool(body, "raw_scores", false);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    require_classifier("/predict");
    auto permit = core.acquire(seqs.size());
    std::vector<TokenizedInput> inputs;
    for (const auto& s : seqs) inputs.push_back(core.encode({false, s.a, {}}, s.b, truncate, side));
    auto outputs = core.infer(std::move(inputs), Task::Classify, nullptr);
    json result = json::array();
    for (auto& o : outputs) {
      scores(o.values, raw);
      std::vector<std::pair<float, size_t>> order;
      for (size_t k = 0; k < o.values.size(); ++k) {
        if (std::isnan(o.values[k])) throw backend_error("score is NaN");
        order.push_back({o.values[k], k});
      }
      std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      json preds = json::array();
      for (const auto& [score, k] : order) {
        const std::string label = k < info().labels.size() ? info().labels[k] : "LABEL_" + std::to_string(k);
        preds.push_back({{"score", score}, {"label", label}});
      }
      result.push_back(std::move(preds));
    }
    if (single) return result[0].dump(-1, ' ', false, json::error_handler_t::replace);
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string handle_rerank(const json& body) {
    const json& query = require(body, "query");
    const json& texts = require(body, "texts");
    if (!query.is_string()) throw type_error("query", "a string");
    if (!texts.is_array()) throw type_error("texts", "a sequence of strings");
    for (const auto& t : texts)
      if (!t.is_string()) throw type_error("texts", "a sequence of strings");
    const bool raw = get_bool(body, "raw_scores", false);
    const bool return_text = get_bool(body, "return_text", false);
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    if (texts.empty()) throw empty_error("`texts` cannot be empty");
    require_classifier("/rerank");
    core.check_batch(texts.size(), "texts");
    auto permit = core.acquire(texts.size());
    const std::string q = query.get<std::string>();
    std::vector<TokenizedInput> inputs;
    for (const auto& t : texts) inputs.push_back(core.encode({false, q, {}}, t.get<std::string>(), truncate, side));
    auto outputs = core.infer(std::move(inputs), Task::Classify, nullptr);
    struct Rank {
      size_t index;
      float score;
    };
    std::vector<Rank> ranks;
    for (size_t i = 0; i < outputs.size(); ++i) {
      // The score is the last label's (Model::rerank's rule, and TEI's for its one-label rerankers):
      // the "relevant" class of two-label cross-encoders.
      scores(outputs[i].values, raw);
      const float s = outputs[i].values.empty() ? NAN : outputs[i].values.back();
      if (std::isnan(s)) throw backend_error("score is NaN");
      ranks.push_back({i, s});
    }
    std::stable_sort(ranks.begin(), ranks.end(), [](const Rank& a, const Rank& b) { return a.score > b.score; });
    json result = json::array();
    for (const auto& r : ranks) {
      json j = {{"index", r.index}, {"score", r.score}};
      if (return_text) j["text"] = texts[r.index];
      result.push_back(std::move(j));
    }
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  // Token classification (beyond TEI, which declines it): transformers' token-classification
  // pipeline (bertcpp::aggregate_tokens): per text the entities whose label is not in
  // `ignore_labels` (default ["O"]), per token with aggregation_strategy "none" (the default),
  // per word group otherwise.
  std::string handle_predict_tokens(const json& body) {
    auto [texts, single] = parse_texts(require(body, "inputs"), "inputs");
    if (!single) core.check_batch(texts.size());
    const bool truncate = get_opt_bool(body, "truncate").value_or(opt.auto_truncate);
    const auto side = get_direction(body);
    TokenClassificationOptions options;
    if (auto it = body.find("ignore_labels"); it != body.end() && !it->is_null()) {
      if (!it->is_array()) throw type_error("ignore_labels", "a sequence of strings");
      options.ignore_labels.clear();
      for (const auto& l : *it) {
        if (!l.is_string()) throw type_error("ignore_labels", "a sequence of strings");
        options.ignore_labels.push_back(l.get<std::string>());
      }
    }
    if (auto agg = get_opt_string(body, "aggregation_strategy")) {
      try {
        options.aggregation = parse_aggregation(*agg);
      } catch (const Error&) {
        throw type_error("aggregation_strategy", "one of `none`, `simple`, `first`, `average`, `max`");
      }
    }
    const Tokenizer* tokenizer = backend.tokenizer();
    if (!info().has_token_classifier || tokenizer == nullptr) {
      self.metrics_.counter_add("te_request_failure", {{"err", "model_type"}});
      throw backend_error("Model is not a token classifier (/predict_tokens)");
    }
    auto permit = core.acquire(texts.size());
    std::vector<Encoding> encs;
    std::vector<TokenizedInput> inputs;
    for (const auto& t : texts) {
      Encoding enc;
      inputs.push_back(core.encode({false, t, {}}, std::nullopt, truncate, side, &enc));
      encs.push_back(std::move(enc));
    }
    auto outputs = core.infer(std::move(inputs), Task::ClassifyTokens, nullptr);
    const bool grouped = options.aggregation != Aggregation::None;
    json result = json::array();
    for (size_t i = 0; i < outputs.size(); ++i) {
      const TaskOutput& o = outputs[i];
      const size_t rows = static_cast<size_t>(o.rows), labels = rows > 0 ? o.values.size() / rows : 0;
      if (labels == 0 || rows != encs[i].size()) throw backend_error("token classification gave no scores per token");
      std::vector<float> probs;
      probs.reserve(o.values.size());
      for (size_t k = 0; k < rows; ++k) {
        std::vector<float> p(o.values.begin() + static_cast<std::ptrdiff_t>(k * labels),
                             o.values.begin() + static_cast<std::ptrdiff_t>((k + 1) * labels));
        scores(p, false);
        for (float x : p)
          if (std::isnan(x)) throw backend_error("score is NaN");
        probs.insert(probs.end(), p.begin(), p.end());
      }
      json entities = json::array();
      for (auto& e : aggregate_tokens(*tokenizer, encs[i], texts[i], probs, info().labels, options)) {
        json j = {{grouped ? "entity_group" : "entity", e.label}, {"score", e.score}};
        if (e.index) j["index"] = *e.index;
        j["word"] = e.word;
        j["start"] = e.start;
        j["end"] = e.end;
        entities.push_back(std::move(j));
      }
      result.push_back(std::move(entities));
    }
    if (single) return result[0].dump(-1, ' ', false, json::error_handler_t::replace);
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string handle_tokenize(const json& body) {
    auto [texts, single] = parse_texts(require(body, "inputs"), "inputs");
    if (!single) core.check_batch(texts.size());
    const bool add_special = get_bool(body, "add_special_tokens", true);
    const std::string prompt = request_prompt(body);
    if (!prompt.empty())
      for (auto& t : texts) {
        if (t.empty()) throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
        t = prompt + t;
      }
    // Permits as the inference routes (one per input): tokenization is the same CPU and memory.
    auto permit = core.acquire(texts.size());
    // Written straight out: a JSON DOM of every token cost ~700 bytes a token (1.4 GB for one
    // 2 MB request). Keys in the DOM's (sorted) order, so the bytes are as before.
    std::string out = "[";
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string& text = texts[i];
      if (text.empty()) throw ApiError(ErrorType::Empty, "Input validation error: `inputs` cannot be empty");
      const size_t limit = static_cast<size_t>(max_input_length * InferenceCore::kMaxCharMultiplier);
      if (count_chars(text) > limit)
        throw validation("`inputs` must have less than " + std::to_string(limit) + " characters. Given: " +
                         std::to_string(count_chars(text)));
      Backend::EncodeRequest r;
      r.text = text;
      r.add_special_tokens = add_special;
      r.truncate = false;
      Encoding enc;
      try {
        enc = core.tokenizers().run([&] { return backend.encode(r); });
      } catch (const std::exception& e) {
        throw ApiError(ErrorType::Tokenizer, std::string("tokenizer error ") + e.what());
      }
      if (i) out += ',';
      out += '[';
      for (size_t k = 0; k < enc.input_ids.size(); ++k) {
        const bool special = k < enc.sequence_ids.size() ? enc.sequence_ids[k] < 0 : false;
        if (k) out += ',';
        out += "{\"id\":" + std::to_string(enc.input_ids[k]) + ",\"special\":" + (special ? "true" : "false");
        if (special) {
          out += ",\"start\":null,\"stop\":null,\"text\":";
          out += json(k < enc.tokens.size() ? enc.tokens[k] : "").dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
          const auto [b, e] = k < enc.byte_offsets.size() ? enc.byte_offsets[k] : std::pair<int64_t, int64_t>{0, 0};
          const size_t bb = static_cast<size_t>(std::clamp<int64_t>(b, 0, static_cast<int64_t>(text.size())));
          const size_t ee = static_cast<size_t>(std::clamp<int64_t>(e, static_cast<int64_t>(bb), static_cast<int64_t>(text.size())));
          out += ",\"start\":" + std::to_string(bb) + ",\"stop\":" + std::to_string(ee) + ",\"text\":";
          out += json(text.substr(bb, ee - bb)).dump(-1, ' ', false, json::error_handler_t::replace);
        }
        out += '}';
      }
      out += ']';
    }
    out += ']';
    return out;
  }

  std::string handle_decode(const json& body) {
    const json& in = require(body, "ids");
    std::vector<std::vector<int64_t>> batch;
    bool single = false;
    if (is_id_array(in)) {
      batch.push_back(to_ids(in));
      single = true;
    } else if (in.is_array()) {
      for (const auto& e : in) {
        if (!is_id_array(e)) throw type_error("ids", "a sequence of token ids or a sequence of sequences of token ids");
        batch.push_back(to_ids(e));
      }
    } else {
      throw type_error("ids", "a sequence of token ids or a sequence of sequences of token ids");
    }
    if (!single) core.check_batch(batch.size(), "ids");
    const bool skip = get_bool(body, "skip_special_tokens", true);
    auto permit = core.acquire(batch.size());  // decoding is work too: the same permits as the other routes
    json result = json::array();
    for (const auto& ids : batch) {
      for (int64_t id : ids)
        if (id >= info().vocab_size)
          throw ApiError(ErrorType::Tokenizer, "tokenizer error: token id " + std::to_string(id) +
                                                   " is out of the vocabulary (size " +
                                                   std::to_string(info().vocab_size) + ")");
      try {
        result.push_back(core.tokenizers().run([&] { return backend.decode(ids, skip); }));
      } catch (const std::exception& e) {
        throw ApiError(ErrorType::Tokenizer, std::string("tokenizer error ") + e.what());
      }
    }
    return result.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  std::string handle_info() const {
    json classifier = json::object();
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < info().labels.size(); ++i) {
      id2label[std::to_string(i)] = info().labels[i];
      label2id[info().labels[i]] = i;
    }
    json model_type;
    switch (info().kind) {
      case ModelKind::Embedding: model_type = {{"embedding", {{"pooling", info().pooling}}}}; break;
      case ModelKind::Classifier: model_type = {{"classifier", {{"id2label", id2label}, {"label2id", label2id}}}}; break;
      case ModelKind::Reranker: model_type = {{"reranker", {{"id2label", id2label}, {"label2id", label2id}}}}; break;
    }
    json j = {{"model_id", info().model_id},
              {"model_sha", nullptr},
              {"model_dtype", info().model_dtype},
              {"served_model_name", served_name},
              {"model_type", model_type},
              {"model_architecture", info().model_architecture},  // bertcpp: config.json's model_type
              {"model_family", info().model_family},              // bertcpp: the engine family
              {"max_concurrent_requests", opt.max_concurrent_requests},
              {"max_input_length", max_input_length},
              {"max_batch_tokens", opt.max_batch_tokens},
              {"max_batch_requests", opt.max_batch_requests ? json(*opt.max_batch_requests) : json(nullptr)},
              {"max_client_batch_size", opt.max_client_batch_size},
              {"auto_truncate", opt.auto_truncate},
              {"tokenization_workers", core.tokenization_workers()},
              {"version", kVersion},
              {"sha", nullptr},
              {"docker_label", nullptr}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
};

// ---------------------------------------------------------------------------------------------
HttpServer::HttpServer(Backend& backend, ServerOptions options)
    : backend_(backend), options_(std::move(options)), logger_(options_.json_output, options_.quiet) {
  if (options_.max_concurrent_requests <= 0) throw invalid_argument("--max-concurrent-requests must be positive");
  if (options_.max_batch_tokens <= 0) throw invalid_argument("--max-batch-tokens must be positive");
  if (options_.max_client_batch_size <= 0) throw invalid_argument("--max-client-batch-size must be positive");
  if (options_.max_batch_requests && *options_.max_batch_requests <= 0)
    throw invalid_argument("--max-batch-requests must be positive");
  http_threads_ = options_.http_threads > 0
                      ? options_.http_threads
                      : static_cast<int>(std::min<int64_t>(options_.max_concurrent_requests + 32, 2048));
  batcher_ = std::make_unique<Batcher>(backend_, BatcherOptions{options_.max_batch_tokens, options_.max_batch_requests},
                                       &metrics_);
  impl_ = std::make_unique<Impl>(*this);

  // Every model route: auth, JSON parsing, error mapping, metrics and one access-log line.
  const auto route = [this](const std::string& path, bool openai,
                            std::function<std::string(Impl&, const json&)> fn) {
    post_routes_[path] = [this, path, openai, fn](const http::Request& req, http::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      std::string error_message;
      try {
        const json body = parse_body(req);
        struct Scope {  // t_client_gone for this call only, whatever leaves it
          explicit Scope(std::shared_ptr<const std::atomic<bool>> g) { t_client_gone = std::move(g); }
          ~Scope() { t_client_gone.reset(); }
        } scope(req.client_gone);
        res.set_content(fn(*impl_, body), "application/json");
        res.status = 200;
      } catch (const ApiError& e) {
        res.status = e.status;
        res.set_content(openai ? openai_error_body(e) : error_body(e), "application/json");
        error_message = e.what();
      } catch (const std::exception& e) {
        const ApiError err(ErrorType::Backend, std::string("Backend error: ") + e.what());
        res.status = err.status;
        res.set_content(openai ? openai_error_body(err) : error_body(err), "application/json");
        error_message = err.what();
      } catch (...) {
        const ApiError err(ErrorType::Backend, "Backend error: unknown failure");
        res.status = err.status;
        res.set_content(openai ? openai_error_body(err) : error_body(err), "application/json");
        error_message = err.what();
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      metrics_.counter_add("te_request_count", {{"route", path}, {"status", std::to_string(res.status)}});
      metrics_.observe("te_request_duration", {{"route", path}}, seconds, Metrics::latency_buckets());
      if (res.status == 200) metrics_.counter_add("te_request_success", {{"route", path}});
      json fields = {{"method", "POST"}, {"path", path}, {"status", res.status},
                     {"duration_ms", std::round(seconds * 1e5) / 100}, {"body_bytes", req.body.size()}};
      if (!error_message.empty()) fields["error"] = error_message;
      if (options_.log_inputs) fields["body"] = req.body.substr(0, 4096);
      if (res.status == 200) logger_.info("request", fields);
      else logger_.warn("request", fields);
    };
  };
  route("/embed", false, [](Impl& i, const json& b) { return i.handle_embed(b); });
  route("/embed_all", false, [](Impl& i, const json& b) { return i.handle_embed_all(b); });
  route("/embed_sparse", false, [](Impl& i, const json& b) { return i.handle_embed_sparse(b); });
  route("/predict", false, [](Impl& i, const json& b) { return i.handle_predict(b); });
  route("/rerank", false, [](Impl& i, const json& b) { return i.handle_rerank(b); });
  route("/similarity", false, [](Impl& i, const json& b) { return i.handle_similarity(b); });
  route("/predict_tokens", false, [](Impl& i, const json& b) { return i.handle_predict_tokens(b); });
  route("/tokenize", false, [](Impl& i, const json& b) { return i.handle_tokenize(b); });
  route("/decode", false, [](Impl& i, const json& b) { return i.handle_decode(b); });
  route("/v1/embeddings", true, [](Impl& i, const json& b) { return i.handle_openai(b); });
  route("/embeddings", true, [](Impl& i, const json& b) { return i.handle_openai(b); });
  // TEI's default route (and SageMaker's /invocations): the model type's main task.
  const auto default_task = [](Impl& i, const json& b) {
    switch (i.info().kind) {
      case ModelKind::Classifier: return i.handle_predict(b);
      case ModelKind::Reranker: return i.handle_rerank(b);
      case ModelKind::Embedding: break;
    }
    if (i.info().pooling == "splade") return i.handle_embed_sparse(b);
    return i.handle_embed(b);
  };
  route("/", false, default_task);
  route("/invocations", false, default_task);

  const auto health = [this](const http::Request&, http::Response& res) {
    res.status = 200;
    metrics_.counter_add("te_request_count", {{"route", "/health"}, {"status", "200"}});
  };
  get_routes_["/health"] = health;
  get_routes_["/"] = health;
  get_routes_["/ping"] = health;
  get_routes_["/info"] = [this](const http::Request&, http::Response& res) {
    res.set_content(impl_->handle_info(), "application/json");
    metrics_.counter_add("te_request_count", {{"route", "/info"}, {"status", "200"}});
  };
  OpenApiLimits doc_limits;
  doc_limits.max_client_batch_size = options_.max_client_batch_size;
  doc_limits.max_input_length = impl_->max_input_length;
  doc_limits.max_input_chars = impl_->max_input_length * InferenceCore::kMaxCharMultiplier;
  doc_limits.payload_limit = options_.payload_limit;
  doc_limits.auto_truncate = options_.auto_truncate;
  doc_limits.api_key = options_.api_key.has_value();
  doc_limits.version = kVersion;
  get_routes_["/api-doc/openapi.json"] = [this, doc = openapi_document(backend_.info(), doc_limits).dump()](
                                             const http::Request&, http::Response& res) {
    res.set_content(doc, "application/json");
    metrics_.counter_add("te_request_count", {{"route", "/api-doc/openapi.json"}, {"status", "200"}});
  };
  get_routes_["/metrics"] = [this](const http::Request&, http::Response& res) {
    metrics_.gauge_set("te_queue_size", {}, static_cast<double>(batcher_->queue_size()));
    metrics_.gauge_set("te_inputs_in_flight", {},
                       static_cast<double>(options_.max_concurrent_requests - impl_->core.permits_available()));
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  };

  http::TransportOptions t;
  t.host = options_.hostname;
  t.port = options_.port;
  t.max_header_bytes = options_.max_header_bytes;
  t.max_headers = options_.max_headers;
  t.max_body_bytes = options_.payload_limit;
  t.request_timeout_ms = options_.read_timeout_sec * 1000;
  t.keep_alive_timeout_ms = options_.keep_alive_timeout_sec * 1000;
  t.write_timeout_ms = options_.write_timeout_sec * 1000;
  t.max_connections = options_.max_connections;
  t.workers = http_threads_;
  // GET routes do no model work: answered on the transport's own thread, even when every worker is busy.
  const auto quick = [](const http::Request& req) { return req.method == "GET" || req.method == "HEAD"; };
  http_ = std::make_unique<http::Transport>(
      t, [this](const http::Request& req, http::Response& res) { handle(req, res); }, quick,
      [this](int status, const std::string& message, const std::string& path, http::Response& res) {
        transport_error(status, message, path, res);
      });
}

void HttpServer::handle(const http::Request& req, http::Response& res) {
  try {
    dispatch(req, res);
  } catch (...) {
    res = http::Response{};
    transport_error(500, "internal failure", req.path, res);
  }
}

http::ParserLimits HttpServer::parser_limits() const {
  return {options_.max_header_bytes, options_.max_headers, options_.payload_limit};
}

// API key (Bearer) on every route except health and metrics, as TEI; then the route.
void HttpServer::dispatch(const http::Request& req, http::Response& res) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (options_.api_key) {
    const bool open = req.path == "/health" || req.path == "/ping" || req.path == "/metrics" ||
                      (req.path == "/" && get);
    if (!open && !constant_time_equal(req.header("Authorization"), "Bearer " + *options_.api_key)) {
      const ApiError err(ErrorType::Validation, "Unauthorized: missing or wrong API key (Authorization: Bearer <key>)",
                         401);
      res.status = 401;
      res.set_content(is_openai_path(req.path) ? openai_error_body(err) : error_body(err),
                      "application/json");
      metrics_.counter_add("te_request_count", {{"route", route_label(req.path)}, {"status", "401"}});
      logger_.warn("request", {{"method", req.method.substr(0, 16)}, {"path", req.path.substr(0, 256)}, {"status", 401}});
      return;
    }
  }
  const auto& routes = get ? get_routes_ : post_routes_;
  const auto it = req.method == "POST" || get ? routes.find(req.path) : routes.end();
  if (it == routes.end()) {
    // A known path with another method: 405 and the methods it has (RFC 9110 15.5.6).
    std::string allow;
    if (get_routes_.count(req.path)) allow = "GET, HEAD";
    if (post_routes_.count(req.path)) allow += allow.empty() ? "POST" : ", POST";
    if (!allow.empty()) {
      transport_error(405, "Method " + req.method.substr(0, 16) + " is not allowed on " + req.path + " (allowed: " + allow + ")",
                      req.path, res);
      res.headers.emplace_back("Allow", allow);
      return;
    }
    transport_error(404, "Not found: " + req.path.substr(0, 256), req.path, res);
    return;
  }
  it->second(req, res);
}

// Routes known by name; anything else is counted as "other" (bounded metric label cardinality).
std::string HttpServer::route_label(const std::string& path) const {
  return post_routes_.count(path) || get_routes_.count(path) ? path : "other";
}

// Transport-level errors (400, 404, 408, 413, 431, 500): TEI's body shape.
void HttpServer::transport_error(int status, const std::string& detail, const std::string& path, http::Response& res) {
  std::string message;
  switch (status) {
    case 413: message = "Payload too large: the body exceeds the limit of " + std::to_string(options_.payload_limit) + " bytes"; break;
    case 404: message = detail; break;
    case 405: message = detail; break;
    case 408: message = "Request timeout: " + detail; break;
    case 431: message = "Request header fields too large: " + detail; break;
    case 500: message = "Backend error: internal failure"; break;
    default: message = "Bad request: " + detail; break;
  }
  const ApiError err(status == 500 ? ErrorType::Backend : ErrorType::Validation, message, status);
  res.status = status;
  res.set_content(is_openai_path(path) ? openai_error_body(err) : error_body(err), "application/json");
  metrics_.counter_add("te_request_count", {{"route", "other"}, {"status", std::to_string(status)}});
}

HttpServer::~HttpServer() {
  stop();
  join();
  if (batcher_) batcher_->stop();
}

int HttpServer::bind() {
  const int port = http_->bind();
  if (port < 0)
    throw Error(ErrorKind::InvalidArgument,
                "cannot listen on " + options_.hostname + ":" + std::to_string(options_.port) +
                    " (address in use, or not an address of this machine)");
  port_ = port;
  return port;
}

void HttpServer::listen() {
  logger_.info("Ready", {{"hostname", options_.hostname}, {"port", port_}, {"model_id", backend_.info().model_id},
                         {"max_batch_tokens", options_.max_batch_tokens},
                         {"max_concurrent_requests", options_.max_concurrent_requests},
                         {"http_threads", http_threads_}});
  listening_ = true;
  if (!stopped_) http_->run();
  listening_ = false;
  // run() returns once stopped and every dispatched request has been answered.
  batcher_->stop();
  logger_.info("Shut down");
}

int HttpServer::start() {
  const int port = bind();
  thread_ = std::thread([this] { listen(); });
  while (!http_->running() && !stopped_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) return;
  if (http_) http_->stop();
}

size_t HttpServer::queue_size() const { return batcher_->queue_size(); }

void HttpServer::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace bertcpp::server
