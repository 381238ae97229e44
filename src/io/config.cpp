// config.json: typed field reads and the PretrainedConfig fields every family shares.
#include "io/config.h"

#include <cmath>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::io {

using Json = nlohmann::json;

ConfigReader::ConfigReader(const Json& object, std::string source) : j_(object), src_(std::move(source)) {}

const Json* ConfigReader::field(const char* name) const {
  auto it = j_.find(name);
  return it == j_.end() ? nullptr : &*it;
}

void ConfigReader::type_error(const char* name, const Json& v, const char* want) const {
  throw invalid_file(src_, std::string("field \"") + name + "\" must be " + want + ", got " + json_type_name(v) + " " +
                               json_brief(v));
}

void ConfigReader::range_error(const char* name, const Json& v, const char* want) const {
  throw invalid_file(src_, std::string("field \"") + name + "\" = " + json_brief(v) + " is out of range (" + want + ")");
}

void ConfigReader::int_field(const char* name, int64_t& out, int64_t lo, int64_t hi, bool null_keeps_default) const {
  const Json* v = field(name);
  if (!v) return;
  if (v->is_null() && null_keeps_default) return;
  auto i = json_int64(*v);
  if (!i) {
    if (v->is_number_unsigned()) range_error(name, *v, "too large");
    type_error(name, *v, "an integer");
  }
  if (*i < lo || *i > hi) range_error(name, *v, (std::to_string(lo) + ".." + std::to_string(hi)).c_str());
  out = *i;
}

void ConfigReader::float_field(const char* name, double& out, double lo, double hi, bool lo_exclusive) const {
  const Json* v = field(name);
  if (!v) return;
  if (!v->is_number()) type_error(name, *v, "a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi || (lo_exclusive && d == lo))
    range_error(name, *v, lo_exclusive ? "must be > 0" : "0..1");
  out = d;
}

void ConfigReader::string_field(const char* name, std::string& out, bool nullable) const {
  const Json* v = field(name);
  if (!v) return;
  if (v->is_null() && nullable) return;
  if (!v->is_string()) type_error(name, *v, "a string");
  out = v->get<std::string>();
}

void ConfigReader::bool_field(const char* name, bool& out) const {
  const Json* v = field(name);
  if (!v) return;
  if (!v->is_boolean()) type_error(name, *v, "a boolean");
  out = v->get<bool>();
}

void read_common_config(const ConfigReader& r, CommonConfig& c) {
  r.string_field("model_type", c.model_type);
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
  if (c.torch_dtype.empty()) r.string_field("dtype", c.torch_dtype, /*nullable=*/true);  // transformers >= 5's name
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
        throw invalid_file(r.source(), "field \"id2label\" has key \"" + k + "\", expected an integer");
      if (!val.is_string()) r.type_error("id2label", val, "an object of strings");
      if (!c.id2label.emplace(id, val.get<std::string>()).second)
        throw invalid_file(r.source(), "field \"id2label\" has id " + std::to_string(id) + " twice");
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
}

Json parse_config_json(const std::string& json_text, const std::string& source_name) {
  Json j = parse_json_strict(json_text, source_name);
  if (!j.is_object()) throw invalid_file(source_name, "expected a JSON object, got " + json_type_name(j));
  return j;
}

Json load_config_json(const std::filesystem::path& config_json) {
  return parse_config_json(read_small_file(config_json.string(), 16u << 20), config_json.string());
}

}  // namespace bertcpp::io
