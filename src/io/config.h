// config.json, the part every family shares: typed, range-checked field reads (ConfigReader) and
// the PretrainedConfig fields (model_type, architectures, labels, torch_dtype). A family's own
// fields (sizes, activation, position scheme) are read by its entry in model/families/.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertcpp::io {

// Reads fields of one config.json object. Errors name the file, the field and the value.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& object, std::string source);
  const std::string& source() const { return src_; }
  const nlohmann::json* field(const char* name) const;
  // Leave `out` unchanged when the field is absent (or null when null_keeps_default).
  void int_field(const char* name, int64_t& out, int64_t lo, int64_t hi, bool null_keeps_default = false) const;
  void float_field(const char* name, double& out, double lo, double hi, bool lo_exclusive = false) const;
  void string_field(const char* name, std::string& out, bool nullable = false) const;
  void bool_field(const char* name, bool& out) const;
  [[noreturn]] void type_error(const char* name, const nlohmann::json& v, const char* want) const;
  [[noreturn]] void range_error(const char* name, const nlohmann::json& v, const char* want) const;

 private:
  const nlohmann::json& j_;
  std::string src_;
};

// transformers' PretrainedConfig fields that every family has.
struct CommonConfig {
  std::string model_type;
  std::vector<std::string> architectures;   // e.g. {"BertForSequenceClassification"}
  std::map<int64_t, std::string> id2label;  // default {0:"LABEL_0", 1:"LABEL_1"}
  std::map<std::string, int64_t> label2id;
  int64_t num_labels = 2;
  std::string torch_dtype;                  // "" when absent
  std::optional<std::string> problem_type;
  std::optional<double> classifier_dropout;
};

// Fills the shared fields (labels as PretrainedConfig does: id2label wins, else num_labels).
void read_common_config(const ConfigReader& r, CommonConfig& c);

// Largest accepted dimension in any config (sizes are multiplied together before allocation).
constexpr int64_t kMaxConfigDim = int64_t{1} << 31;

// config.json as a strictly parsed JSON object (InvalidFile naming the file otherwise).
nlohmann::json parse_config_json(const std::string& json_text, const std::string& source_name);
nlohmann::json load_config_json(const std::filesystem::path& config_json);

}  // namespace bertcpp::io
