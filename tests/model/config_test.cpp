// config.json parsing: transformers EncoderConfig defaults, label handling, type/range errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bertcpp/error.h"
#include "model/config.h"
#include "model/family.h"

using namespace bertcpp;
using namespace bertcpp::model;
using bertcpp::ops::Activation;

namespace {
ErrorKind kind_of(const std::string& json, std::string* msg = nullptr) {
  try {
    parse_config(json, "config.json");
  } catch (const Error& e) {
    if (msg) *msg = e.what();
    return e.kind();
  }
  return ErrorKind::Internal;  // "did not throw"
}
}  // namespace

TEST(Config, DefaultsAreTransformersEncoderConfig) {
  const EncoderConfig c = parse_config("{}", "config.json");
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_hidden_layers, 12);
  EXPECT_EQ(c.num_attention_heads, 12);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.hidden_act, Activation::GeluErf);
  EXPECT_EQ(c.hidden_act_name, "gelu");
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.position_embedding_type, "absolute");
  EXPECT_FALSE(c.classifier_dropout.has_value());
  EXPECT_TRUE(c.architectures.empty());
  EXPECT_EQ(c.num_labels, 2);
  EXPECT_EQ(c.id2label, (std::map<int64_t, std::string>{{0, "LABEL_0"}, {1, "LABEL_1"}}));
  EXPECT_EQ(c.label2id, (std::map<std::string, int64_t>{{"LABEL_0", 0}, {"LABEL_1", 1}}));
  EXPECT_EQ(c.torch_dtype, "");
  EXPECT_FALSE(c.problem_type.has_value());
  EXPECT_EQ(c.head_dim(), 64);
}

TEST(Config, GoldenConfigs) {
  const std::string m = std::string(BERTCPP_TEST_DATA) + "/models/";
  EncoderConfig a = load_config(m + "tiny-bert/config.json");
  EXPECT_EQ(a.hidden_size, 32);
  EXPECT_EQ(a.num_hidden_layers, 2);
  EXPECT_EQ(a.num_attention_heads, 4);
  EXPECT_EQ(a.intermediate_size, 64);
  EXPECT_EQ(a.architectures, std::vector<std::string>{"BertModel"});
  EXPECT_EQ(a.torch_dtype, "float32");
  EncoderConfig b = load_config(m + "tiny-bert-pretraining-f16/config.json");
  EXPECT_EQ(b.hidden_act, Activation::GeluTanh);
  EXPECT_DOUBLE_EQ(b.layer_norm_eps, 1e-7);
  EXPECT_EQ(b.max_position_embeddings, 64);
  EXPECT_EQ(b.head_dim(), 16);
  EncoderConfig c = load_config(m + "tiny-bert-classifier-bf16/config.json");
  EXPECT_EQ(c.hidden_act, Activation::Relu);
  EXPECT_EQ(c.num_labels, 3);
  EXPECT_EQ(c.id2label.at(2), "positive");
  EXPECT_EQ(c.label2id.at("neutral"), 1);
  EncoderConfig d = load_config(std::string(BERTCPP_TEST_DATA) + "/vocabs/bert-base-uncased/config.json");
  EXPECT_EQ(d.hidden_size, 768);
  EXPECT_EQ(d.num_labels, 2);
}

TEST(Config, Labels) {
  EncoderConfig a = parse_config(R"({"num_labels": 5})", "c");
  EXPECT_EQ(a.num_labels, 5);
  EXPECT_EQ(a.id2label.at(4), "LABEL_4");
  // id2label wins over num_labels (as in PretrainedConfig).
  EncoderConfig b = parse_config(R"({"num_labels": 5, "id2label": {"0": "a", "1": "b", "2": "c"}})", "c");
  EXPECT_EQ(b.num_labels, 3);
  EXPECT_EQ(b.label2id.at("c"), 2);
  std::string msg;
  EXPECT_EQ(kind_of(R"({"id2label": {"x": "a"}})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("id2label"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"id2label": {"0": 1}})"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of(R"({"id2label": ["a"]})"), ErrorKind::InvalidFile);
}

TEST(Config, Activations) {
  EXPECT_EQ(parse_config(R"({"hidden_act": "gelu_pytorch_tanh"})", "c").hidden_act, Activation::GeluTanh);
  EXPECT_EQ(parse_config(R"({"hidden_act": "silu"})", "c").hidden_act, Activation::Silu);
  EXPECT_EQ(parse_config(R"({"hidden_act": "swish"})", "c").hidden_act, Activation::Silu);
  EXPECT_EQ(parse_config(R"({"hidden_act": "relu"})", "c").hidden_act, Activation::Relu);
  std::string msg;
  EXPECT_EQ(kind_of(R"({"hidden_act": "gelu_fast"})", &msg), ErrorKind::Unsupported);
  EXPECT_NE(msg.find("gelu_fast"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"hidden_act": 3})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("hidden_act"), std::string::npos);
}

TEST(Config, Errors) {
  std::string msg;
  EXPECT_EQ(kind_of(R"({"position_embedding_type": "relative_key"})", &msg), ErrorKind::Unsupported);
  EXPECT_NE(msg.find("position_embedding_type"), std::string::npos);
  EXPECT_NE(msg.find("relative_key"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"hidden_size": "768"})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("hidden_size"), std::string::npos);
  EXPECT_NE(msg.find("config.json"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"hidden_size": 768.5})"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of(R"({"hidden_size": -1})"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of(R"({"hidden_size": 100, "num_attention_heads": 12})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("num_attention_heads"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"layer_norm_eps": 0})"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of(R"({"architectures": "BertModel"})"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of(R"({"model_type": "gpt2"})", &msg), ErrorKind::Unsupported);
  EXPECT_NE(msg.find("gpt2"), std::string::npos);
  EXPECT_NE(msg.find("xlm-roberta"), std::string::npos);  // names the supported ones
  EXPECT_EQ(kind_of(R"([1, 2])"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of(R"({"hidden_size": 768,)"), ErrorKind::InvalidFile);
  EXPECT_EQ(kind_of("{\"a\": \"\xff\"}", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("UTF-8"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"hidden_size": 64, "hidden_size": 32})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("duplicate"), std::string::npos);
  EXPECT_EQ(kind_of(R"({"hidden_size": 99999999999999999999999})"), ErrorKind::InvalidFile);
  // nulls where transformers allows them
  EncoderConfig c = parse_config(R"({"classifier_dropout": null, "torch_dtype": null, "pad_token_id": null})", "c");
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_THROW(load_config("/nonexistent/config.json"), Error);
}

// Each family reads its own field names onto the encoder's, with transformers' defaults.
TEST(Config, FamiliesMapTheirFields) {
  const EncoderConfig r = parse_config(R"({"model_type": "xlm-roberta", "vocab_size": 250002, "max_position_embeddings": 514})", "c");
  EXPECT_EQ(find_family(r.model_type)->name, "roberta");
  EXPECT_TRUE(r.positions_from_padding);
  EXPECT_EQ(r.pad_token_id, 1);
  EXPECT_EQ(r.position_offset(), 2);
  EXPECT_EQ(r.max_sequence_length(), 512);
  EXPECT_EQ(r.type_vocab_size, 1);  // RobertaConfig's default
  const EncoderConfig d = parse_config(
      R"({"model_type": "distilbert", "dim": 64, "n_layers": 3, "n_heads": 4, "hidden_dim": 96, "activation": "relu"})", "c");
  EXPECT_EQ(d.hidden_size, 64);
  EXPECT_EQ(d.num_hidden_layers, 3);
  EXPECT_EQ(d.num_attention_heads, 4);
  EXPECT_EQ(d.intermediate_size, 96);
  EXPECT_EQ(d.hidden_act, Activation::Relu);
  EXPECT_EQ(d.type_vocab_size, 0);
  EXPECT_DOUBLE_EQ(d.layer_norm_eps, 1e-12);
  const EncoderConfig e = parse_config(R"({"model_type": "electra", "embedding_size": 24, "hidden_size": 32, "num_attention_heads": 4})", "c");
  EXPECT_EQ(e.embedding_width(), 24);
  const EncoderConfig m = parse_config(R"({"model_type": "mpnet"})", "c");
  EXPECT_EQ(m.relative_attention_num_buckets, 32);
  EXPECT_EQ(m.type_vocab_size, 0);
  EXPECT_EQ(m.max_sequence_length(), 512);
  std::string msg;
  EXPECT_EQ(kind_of(R"({"model_type": "roberta", "pad_token_id": 600, "max_position_embeddings": 514})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("pad_token_id"), std::string::npos);
}

// model_type "new" (GTE-v1.5's remote code, Alibaba-NLP/new-impl): NewConfig's defaults and fields.
TEST(Config, GteNewReadsNewConfig) {
  const EncoderConfig d = parse_config(R"({"model_type": "new"})", "c");
  EXPECT_EQ(find_family(d.model_type)->name, "gte_new");
  EXPECT_EQ(d.vocab_size, 30528);
  EXPECT_EQ(d.max_position_embeddings, 2048);
  EXPECT_EQ(d.type_vocab_size, 1);
  EXPECT_EQ(d.rotary_dim, 64);
  EXPECT_DOUBLE_EQ(d.rotary_theta, 10000.0);
  EXPECT_EQ(d.rotary_fixed_ntk_factor, 0.0);
  EXPECT_TRUE(d.qkv_fused);
  EXPECT_TRUE(d.glu_fused_up_gate);
  EXPECT_FALSE(d.layer_rms_norm);
  EXPECT_FALSE(d.logn_attention_scale);
  // gte-base-en-v1.5's config (numerically irrelevant xformers switches on).
  const EncoderConfig b = parse_config(R"({"model_type": "new", "hidden_size": 768, "num_attention_heads": 12,
      "max_position_embeddings": 8192, "type_vocab_size": 0, "rope_theta": 500000, "rope_scaling": {"factor": 2.0, "type": "ntk"},
      "pack_qkv": true, "unpad_inputs": true, "use_memory_efficient_attention": true, "layer_norm_type": "layer_norm"})", "c");
  EXPECT_EQ(b.type_vocab_size, 0);
  EXPECT_DOUBLE_EQ(b.rotary_theta, 500000.0);
  EXPECT_DOUBLE_EQ(b.rotary_fixed_ntk_factor, 2.0);
  EXPECT_FALSE(b.rotary_ntk_mixed_b.has_value());
  const EncoderConfig m = parse_config(R"({"model_type": "new", "rope_scaling": {"type": "ntk", "factor": 4, "mixed_b": 0.5},
      "layer_norm_type": "rms_norm", "pack_qkv": false, "logn_attention_scale": true})", "c");
  EXPECT_DOUBLE_EQ(m.rotary_ntk_mixed_b.value(), 0.5);
  EXPECT_TRUE(m.layer_rms_norm);
  EXPECT_FALSE(m.qkv_fused);
  EXPECT_TRUE(m.logn_attention_scale);
  // clip1: max(log n / log max_position_embeddings, 1) is 1 for inputs up to max_position_embeddings.
  EXPECT_FALSE(parse_config(R"({"model_type": "new", "logn_attention_scale": true, "logn_attention_clip1": true})", "c")
                   .logn_attention_scale);
  // factor <= 1: new-impl's cache is not longer than max_position_embeddings, nothing is rescaled.
  EXPECT_EQ(parse_config(R"({"model_type": "new", "rope_scaling": {"type": "ntk", "factor": 1.0}})", "c").rotary_fixed_ntk_factor, 0.0);
  const EncoderConfig a = parse_config(R"({"model_type": "new", "position_embedding_type": "absolute"})", "c");
  EXPECT_EQ(a.rotary_dim, 0);
  EXPECT_TRUE(a.has_position_table());
  const Family& f = *find_family("new");
  EXPECT_EQ(f.prefix, "new");
  EXPECT_TRUE(f.mlm_act_is_hidden_act);
  EXPECT_FALSE(find_family("gte")->mlm_act_is_hidden_act);
  EXPECT_EQ(head_from_architectures(f, {"NewForQuestionAnswering"}), HeadKind::QuestionAnswering);
  EXPECT_EQ(head_from_architectures(f, {"NewForTokenClassification"}), HeadKind::TokenClassification);
  EXPECT_EQ(head_from_architectures(f, {"NewForMaskedLM"}), HeadKind::MaskedLM);
  EXPECT_EQ(head_from_architectures(f, {"NewForSequenceClassification"}), HeadKind::SequenceClassification);
}

TEST(Config, GteNewRefusesWhatItCannotRunNamingTheField) {
  struct Case {
    const char* json;
    ErrorKind kind;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"model_type": "new", "position_embedding_type": "alibi"})", ErrorKind::Unsupported, "position_embedding_type \"alibi\""},
           {R"({"model_type": "new", "rope_scaling": {"type": "linear", "factor": 2}})", ErrorKind::Unsupported, "rope_scaling.type \"linear\""},
           {R"({"model_type": "new", "rope_scaling": {"type": "dynamic", "factor": 2}})", ErrorKind::Unsupported, "\"dynamic\""},
           {R"({"model_type": "new", "rope_scaling": {"type": "ntk"}})", ErrorKind::InvalidFile, "factor"},
           {R"({"model_type": "new", "rope_scaling": {"type": "ntk", "factor": 0}})", ErrorKind::InvalidFile, "factor"},
           {R"({"model_type": "new", "rope_scaling": 2})", ErrorKind::InvalidFile, "rope_scaling"},
           {R"({"model_type": "new", "rope_theta": 0})", ErrorKind::InvalidFile, "rope_theta"},
           {R"({"model_type": "new", "layer_norm_type": "scale_norm"})", ErrorKind::Unsupported, "layer_norm_type \"scale_norm\""},
           {R"({"model_type": "new", "pack_qkv": "yes"})", ErrorKind::InvalidFile, "pack_qkv"},
           {R"({"model_type": "new", "logn_attention_scale": 1})", ErrorKind::InvalidFile, "logn_attention_scale"},
           {R"({"model_type": "new", "type_vocab_size": -1})", ErrorKind::InvalidFile, "type_vocab_size"},
           {R"({"model_type": "new", "hidden_size": 36, "num_attention_heads": 4})", ErrorKind::InvalidFile, "rotary"},
       }) {
    std::string msg;
    EXPECT_EQ(kind_of(c.json, &msg), c.kind) << c.json << ": " << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.json << ": " << msg;
  }
}

// jina-embeddings-v2-base-code (remote code jinaai/jina-bert-v2-qk-post-norm) has Q/K LayerNorms this graph lacks:
// refused by its auto_map or name instead of running without them; the plain JinaBERT v2 config still loads.
TEST(Config, JinaBertQkPostNormVariantIsRefused) {
  const char* base = R"("model_type": "bert", "position_embedding_type": "alibi", "feed_forward_type": "geglu")";
  std::string msg;
  EXPECT_EQ(kind_of(std::string("{") + base + R"(, "auto_map": {"AutoModel": "jinaai/jina-bert-v2-qk-post-norm--modeling_bert.JinaBertModel"}})", &msg),
            ErrorKind::Unsupported);
  EXPECT_NE(msg.find("auto_map names jinaai/jina-bert-v2-qk-post-norm"), std::string::npos) << msg;
  EXPECT_EQ(kind_of(std::string("{") + base + R"(, "_name_or_path": "jinaai/jina-bert-v2-qk-post-norm"})", &msg),
            ErrorKind::Unsupported);
  EXPECT_EQ(parse_config(std::string("{") + base + R"(, "auto_map": {"AutoModel": "jinaai/jina-bert-implementation--modeling_bert.JinaBertModel"}})", "c")
                .alibi,
            true);
}

TEST(Config, HeadFromArchitecturesPerFamily) {
  const Family& bert = *find_family("bert");
  const Family& electra = *find_family("electra");
  const Family& roberta = *find_family("xlm-roberta");
  EXPECT_EQ(head_from_architectures(bert, {"BertModel"}), HeadKind::None);
  EXPECT_EQ(head_from_architectures(bert, {"BertForMaskedLM"}), HeadKind::MaskedLM);
  EXPECT_EQ(head_from_architectures(bert, {"BertForPreTraining"}), HeadKind::PreTraining);
  EXPECT_EQ(head_from_architectures(bert, {"BertForSequenceClassification"}), HeadKind::SequenceClassification);
  EXPECT_EQ(head_from_architectures(bert, {"BertForTokenClassification"}), HeadKind::TokenClassification);
  EXPECT_EQ(head_from_architectures(bert, {"BertForQuestionAnswering"}), HeadKind::QuestionAnswering);
  EXPECT_EQ(head_from_architectures(bert, {"SomethingElse"}), HeadKind::None);
  EXPECT_EQ(head_from_architectures(bert, {}), HeadKind::None);
  EXPECT_EQ(head_from_architectures(electra, {"ElectraForPreTraining"}), HeadKind::Discriminator);
  EXPECT_EQ(head_from_architectures(roberta, {"XLMRobertaForSequenceClassification"}), HeadKind::SequenceClassification);
}

// Values below are what transformers 5.24's ModernBertConfig gives for the same fields.
TEST(Config, ModernBertDefaultsAndBothConfigLayouts) {
  const EncoderConfig d = parse_config(R"({"model_type": "modernbert"})", "config.json");
  EXPECT_EQ(d.vocab_size, 50368);
  EXPECT_EQ(d.pad_token_id, 50283);
  EXPECT_EQ(d.num_hidden_layers, 22);
  EXPECT_EQ(d.intermediate_size, 1152);
  EXPECT_EQ(d.max_position_embeddings, 8192);
  EXPECT_EQ(d.classifier_pooling, "cls");
  EXPECT_DOUBLE_EQ(d.layer_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(d.global_rope_theta, 160000.0);
  EXPECT_DOUBLE_EQ(d.local_rope_theta, 10000.0);
  EXPECT_EQ(d.local_attention, 128);
  ASSERT_EQ(d.layer_is_local.size(), 22u);
  EXPECT_EQ(d.layer_is_local[0], false);
  EXPECT_EQ(d.layer_is_local[1], true);
  EXPECT_EQ(d.layer_is_local[2], true);
  EXPECT_EQ(d.layer_is_local[3], false);
  EXPECT_EQ(d.type_vocab_size, 0);
  // Hub layout (answerdotai/ModernBERT-base style names).
  const EncoderConfig h = parse_config(R"({"model_type": "modernbert", "num_hidden_layers": 5, "global_attn_every_n_layers": 2,
      "global_rope_theta": 500000.0, "local_rope_theta": 20000.0, "local_attention": 64})", "config.json");
  EXPECT_EQ(h.layer_is_local, (std::vector<bool>{false, true, false, true, false}));
  EXPECT_DOUBLE_EQ(h.global_rope_theta, 500000.0);
  EXPECT_DOUBLE_EQ(h.local_rope_theta, 20000.0);
  EXPECT_EQ(h.local_attention, 64);
  // transformers 5 layout: layer_types and rope_parameters win.
  const EncoderConfig t = parse_config(R"({"model_type": "modernbert", "num_hidden_layers": 2, "global_attn_every_n_layers": 3,
      "layer_types": ["sliding_attention", "full_attention"],
      "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 1000.0},
                          "sliding_attention": {"rope_type": "default", "rope_theta": 50.0}}})", "config.json");
  EXPECT_EQ(t.layer_is_local, (std::vector<bool>{true, false}));
  EXPECT_DOUBLE_EQ(t.global_rope_theta, 1000.0);
  EXPECT_DOUBLE_EQ(t.local_rope_theta, 50.0);
}

TEST(Config, ModernBertErrorsNameTheField) {
  std::string msg;
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "num_hidden_layers": 2, "layer_types": ["full_attention"]})", &msg),
            ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("layer_types"), std::string::npos) << msg;
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "num_hidden_layers": 1, "layer_types": ["chunked_attention"]})", &msg),
            ErrorKind::Unsupported);
  EXPECT_NE(msg.find("chunked_attention"), std::string::npos) << msg;
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "rope_parameters": {"full_attention": {"rope_type": "yarn"}}})", &msg),
            ErrorKind::Unsupported);
  EXPECT_NE(msg.find("yarn"), std::string::npos) << msg;
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "rope_scaling": {"type": "linear", "factor": 2.0}})", &msg),
            ErrorKind::Unsupported);
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "classifier_pooling": "max"})", &msg), ErrorKind::Unsupported);
  EXPECT_NE(msg.find("classifier_pooling"), std::string::npos) << msg;
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "global_rope_theta": 0})", &msg), ErrorKind::InvalidFile);
  EXPECT_NE(msg.find("global_rope_theta"), std::string::npos) << msg;
  EXPECT_EQ(kind_of(R"({"model_type": "modernbert", "hidden_size": 36, "num_attention_heads": 4})", &msg),
            ErrorKind::InvalidFile);  // head dim 9 is odd
  EXPECT_NE(msg.find("rotary"), std::string::npos) << msg;
}
