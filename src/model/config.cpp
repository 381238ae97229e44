// config.json -> EncoderConfig: the shared fields, then the family's own (model/families/).
#include "model/config.h"

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "model/family.h"

namespace bertcpp::model {

using Json = nlohmann::json;

ops::Activation parse_activation(const std::string& a, const std::string& source) {
  if (a == "gelu") return ops::Activation::GeluErf;
  if (a == "gelu_new" || a == "gelu_pytorch_tanh") return ops::Activation::GeluTanh;
  if (a == "relu") return ops::Activation::Relu;
  if (a == "silu" || a == "swish") return ops::Activation::Silu;  // transformers: both SiLU
  if (a == "tanh") return ops::Activation::Tanh;
  throw unsupported(source + ": activation \"" + a +
                    "\" is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh)");
}

void read_bert_style_sizes(const io::ConfigReader& r, EncoderConfig& c) {
  const int64_t kMax = io::kMaxConfigDim;
  r.int_field("vocab_size", c.vocab_size, 1, kMax);
  r.int_field("hidden_size", c.hidden_size, 1, kMax);
  r.int_field("num_hidden_layers", c.num_hidden_layers, 1, 4096);
  r.int_field("num_attention_heads", c.num_attention_heads, 1, kMax);
  r.int_field("intermediate_size", c.intermediate_size, 1, kMax);
  r.int_field("max_position_embeddings", c.max_position_embeddings, 1, kMax);
  r.int_field("pad_token_id", c.pad_token_id, -kMax, kMax, /*null_keeps_default=*/true);
}

void read_bert_style_fields(const io::ConfigReader& r, EncoderConfig& c, const std::string& position_type) {
  read_bert_style_sizes(r, c);
  r.int_field("type_vocab_size", c.type_vocab_size, 1, io::kMaxConfigDim);
  r.float_field("layer_norm_eps", c.layer_norm_eps, 0, 1, /*lo_exclusive=*/true);
  r.string_field("hidden_act", c.hidden_act_name);
  c.hidden_act = parse_activation(c.hidden_act_name, r.source());
  r.string_field("position_embedding_type", c.position_embedding_type, /*nullable=*/true);
  if (c.position_embedding_type != position_type)
    throw unsupported(r.source() + ": position_embedding_type \"" + c.position_embedding_type +
                      "\" is not supported (only \"" + position_type + "\")");
}

void read_bert_style_config(const io::ConfigReader& r, EncoderConfig& c) { read_bert_style_fields(r, c, "absolute"); }

EncoderConfig parse_config(const std::string& json_text, const std::string& source_name) {
  const Json j = io::parse_config_json(json_text, source_name);
  const io::ConfigReader r(j, source_name);
  EncoderConfig c;
  c.model_type = "bert";  // transformers' BertConfig when config.json names no model_type
  io::read_common_config(r, c);
  // JinaBERT's remote code keeps BertConfig's model_type; ALiBi positions are what mark it.
  if (c.model_type == "bert")
    if (const Json* p = r.field("position_embedding_type"); p && p->is_string() && *p == "alibi") c.model_type = "jina_bert";
  const Family* family = find_family(c.model_type);
  if (!family) {
    std::string known;
    for (const Family* f : registered_families())
      for (const auto& t : f->model_types) known += (known.empty() ? "" : ", ") + t;
    throw unsupported(source_name + ": model_type \"" + c.model_type + "\" is not supported (supported: " + known + ")");
  }
  family->read_config(r, c);

  if (c.hidden_size % c.num_attention_heads != 0)
    throw invalid_file(source_name, "hidden_size " + std::to_string(c.hidden_size) +
                                        " is not a multiple of num_attention_heads " +
                                        std::to_string(c.num_attention_heads));
  if (c.positions_from_padding && (c.pad_token_id < 0 || c.position_offset() >= c.max_position_embeddings))
    throw invalid_file(source_name, "pad_token_id " + std::to_string(c.pad_token_id) +
                                        " leaves no positions: position ids start at pad_token_id + 1 and "
                                        "max_position_embeddings is " + std::to_string(c.max_position_embeddings));
  return c;
}

EncoderConfig load_config(const std::filesystem::path& config_json) {
  return parse_config(io::read_small_file(config_json.string(), 16u << 20), config_json.string());
}

}  // namespace bertcpp::model
