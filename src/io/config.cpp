// config.json -> BertConfig. Defaults are those of transformers' BertConfig / PretrainedConfig.
#include "io/config.h"

#include <cmath>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::io {

namespace {

using Json = nlohmann::json;

struct Reader {
  const Json& j;
  const std::string& src;

  const Json* field(const char* name) const {
    auto it = j.find(name);
    return it == j.end() ? nullptr : &*it;
  }
  [[noreturn]] void type_error(const char* name, const Json& v, const char* want) const {
    throw invalid_file(src, std::string("field \"") + name + "\" must be " + want + ", got " + json_type_name(v) +
                                " " + json_brief(v));
  }
  [[noreturn]] void range_error(const char* name, const Json& v, const char* want) const {
    throw invalid_file(src, std::string("field \"") + name + "\" = " + json_brief(v) + " is out of range (" + want + ")");
  }
  void int_field(const char* name, int64_t& out, int64_t lo, int64_t hi, bool null_keeps_default = false) const {
    const Json* v = field(name);
    if (!v) return;
    if (v->is_null() && null_keeps_default) return;
    auto i = json_int64(*v);
    if (!i) {
      if (v->is_number_unsigned()) range_error(name, *v, "too large");
      type_error(name, *v, "an integer");
    }
    if (*i < lo || *i > hi)
      range_error(name, *v, (std::to_string(lo) + ".." + std::to_string(hi)).c_str());
    out = *i;
  }
  void float_field(const char* name, double& out, double lo, double hi, bool lo_exclusive = false) const {
    const Json* v = field(name);
    if (!v) return;
    if (!v->is_number()) type_error(name, *v, "a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi || (lo_exclusive && d == lo))
      range_error(name, *v, lo_exclusive ? "must be > 0" : "0..1");
    out = d;
  }
  void string_field(const char* name, std::string& out, bool nullable = false) const {
    const Json* v = field(name);
    if (!v) return;
    if (v->is_null() && nullable) return;
    if (!v->is_string()) type_error(name, *v, "a string");
    out = v->get<std::string>();
  }
};

constexpr int64_t kMaxDim = int64_t{1} << 31;

}  // namespace

BertConfig parse_bert_config(const std::string& json_text, const std::string& source_name) {
  const Json j = parse_json_strict(json_text, source_name);
  if (!j.is_object()) throw invalid_file(source_name, "expected a JSON object, got " + json_type_name(j));
  Reader r{j, source_name};
  BertConfig c;

  r.string_field("model_type", c.model_type);
  if (c.model_type != "bert")
    throw unsupported(source_name + ": model_type \"" + c.model_type + "\" is not supported (only \"bert\")");

  r.int_field("vocab_size", c.vocab_size, 1, kMaxDim);
  r.int_field("hidden_size", c.hidden_size, 1, kMaxDim);
  r.int_field("num_hidden_layers", c.num_hidden_layers, 1, 4096);
  r.int_field("num_attention_heads", c.num_attention_heads, 1, kMaxDim);
  r.int_field("intermediate_size", c.intermediate_size, 1, kMaxDim);
  r.int_field("max_position_embeddings", c.max_position_embeddings, 1, kMaxDim);
  r.int_field("type_vocab_size", c.type_vocab_size, 1, kMaxDim);
  r.int_field("pad_token_id", c.pad_token_id, -kMaxDim, kMaxDim, /*null_keeps_default=*/true);
  r.float_field("hidden_dropout_prob", c.hidden_dropout_prob, 0, 1);
  r.float_field("attention_probs_dropout_prob", c.attention_probs_dropout_prob, 0, 1);
  r.float_field("initializer_range", c.initializer_range, 0, 1e9);
  r.float_field("layer_norm_eps", c.layer_norm_eps, 0, 1, /*lo_exclusive=*/true);

  if (c.hidden_size % c.num_attention_heads != 0)
    throw invalid_file(source_name, "hidden_size " + std::to_string(c.hidden_size) +
                                        " is not a multiple of num_attention_heads " +
                                        std::to_string(c.num_attention_heads));

  if (const Json* v = r.field("hidden_act")) {
    if (!v->is_string()) r.type_error("hidden_act", *v, "a string");
    const std::string a = v->get<std::string>();
    if (a == "gelu") c.hidden_act = Activation::Gelu;
    else if (a == "gelu_new") c.hidden_act = Activation::GeluNew;
    else if (a == "gelu_pytorch_tanh") c.hidden_act = Activation::GeluPytorchTanh;
    else if (a == "relu") c.hidden_act = Activation::Relu;
    else if (a == "silu" || a == "swish") c.hidden_act = Activation::Silu;  // transformers: both SiLU
    else
      throw unsupported(source_name + ": hidden_act \"" + a +
                        "\" is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish)");
    c.hidden_act_name = a;
  }

  r.string_field("position_embedding_type", c.position_embedding_type, /*nullable=*/true);
  if (c.position_embedding_type != "absolute")
    throw unsupported(source_name + ": position_embedding_type \"" + c.position_embedding_type +
                      "\" is not supported (only \"absolute\")");

  if (const Json* v = r.field("use_cache")) {
    if (!v->is_boolean()) r.type_error("use_cache", *v, "a boolean");
    c.use_cache = v->get<bool>();
  }
  if (const Json* v = r.field("classifier_dropout"); v && !v->is_null()) {
    if (!v->is_number()) r.type_error("classifier_dropout", *v, "a number or null");
    const double d = v->get<double>();
    if (!(d >= 0 && d <= 1)) r.range_error("classifier_dropout", *v, "0..1");
    c.classifier_dropout = d;
  }
  if (const Json* v = r.field("architectures"); v && !v->is_null()) {
    if (!v->is_array()) r.type_error("architectures", *v, "an array of strings");
    for (const auto& a : *v) {
      if (!a.is_string()) r.type_error("architectures", a, "an array of strings");
      c.architectures.push_back(a.get<std::string>());
    }
  }
  r.string_field("torch_dtype", c.torch_dtype, /*nullable=*/true);
  if (const Json* v = r.field("problem_type"); v && !v->is_null()) {
    if (!v->is_string()) r.type_error("problem_type", *v, "a string or null");
    c.problem_type = v->get<std::string>();
  }

  // Labels, as PretrainedConfig does it: id2label wins (num_labels = its size); otherwise
  // num_labels (default 2) makes LABEL_0..LABEL_{n-1}.
  const Json* id2label = r.field("id2label");
  if (id2label && !id2label->is_null()) {
    if (!id2label->is_object()) r.type_error("id2label", *id2label, "an object");
    for (const auto& [k, val] : id2label->items()) {
      int64_t id = 0;
      size_t pos = 0;
      try {
        id = std::stoll(k, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos == 0 || pos != k.size())
        throw invalid_file(source_name, "field \"id2label\" has key \"" + k + "\", expected an integer");
      if (!val.is_string()) r.type_error("id2label", val, "an object of strings");
      if (!c.id2label.emplace(id, val.get<std::string>()).second)
        throw invalid_file(source_name, "field \"id2label\" has id " + std::to_string(id) + " twice");
    }
    c.num_labels = static_cast<int64_t>(c.id2label.size());
  } else {
    int64_t n = 2;
    r.int_field("num_labels", n, 0, 1 << 20);
    c.num_labels = n;
    for (int64_t i = 0; i < n; ++i) c.id2label[i] = "LABEL_" + std::to_string(i);
  }
  const Json* label2id = r.field("label2id");
  if (label2id && !label2id->is_null()) {
    if (!label2id->is_object()) r.type_error("label2id", *label2id, "an object");
    for (const auto& [k, val] : label2id->items()) {
      auto id = json_int64(val);
      if (!id) r.type_error("label2id", val, "an object of integers");
      c.label2id[k] = *id;
    }
  } else {  // transformers leaves it None next to an explicit id2label; the inverse is more useful
    for (const auto& [i, name] : c.id2label) c.label2id[name] = i;
  }
  return c;
}

BertConfig load_bert_config(const std::filesystem::path& config_json) {
  const std::string text = read_small_file(config_json.string(), 16u << 20);
  return parse_bert_config(text, config_json.string());
}

}  // namespace bertcpp::io
