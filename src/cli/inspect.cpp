// bertcpp inspect: what is in a model folder (or weights file), read safely and without running
// anything: the config (every field), the tensors (name, dtype, shape, bytes, file) and totals,
// and whether the weights fit the config.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "bertcpp/error.h"
#include "cli/command.h"
#include "io/checkpoint.h"
#include "io/json_util.h"
#include "model/config.h"
#include "model/family.h"
#include "model/network.h"
#include "model/weights.h"

namespace bertcpp::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct InspectArgs {
  std::string path;
  bool json = false;
  bool no_check = false;
};

// The config as the engine reads it (the family's own field names mapped onto the encoder's).
Json config_json(const model::EncoderConfig& c, const model::Family& family) {
  Json j;
  j["model_type"] = c.model_type;
  j["family"] = family.name;
  j["architectures"] = c.architectures;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["embedding_size"] = c.embedding_width();
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["hidden_act"] = c.hidden_act_name;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["max_sequence_length"] = c.max_sequence_length();
  j["type_vocab_size"] = c.type_vocab_size;
  j["layer_norm_eps"] = c.layer_norm_eps;
  j["pad_token_id"] = c.pad_token_id;
  j["position_ids"] = c.positions_from_padding ? "from padding_idx + 1" : "from 0";
  j["relative_attention_num_buckets"] = c.relative_attention_num_buckets;
  j["position_embedding_type"] = c.position_embedding_type;
  j["classifier_dropout"] = c.classifier_dropout ? Json(*c.classifier_dropout) : Json(nullptr);
  Json id2label = Json::object();
  for (const auto& [i, l] : c.id2label) id2label[std::to_string(i)] = l;
  j["id2label"] = id2label;
  Json label2id = Json::object();
  for (const auto& [l, i] : c.label2id) label2id[l] = i;
  j["label2id"] = label2id;
  j["num_labels"] = c.num_labels;
  j["torch_dtype"] = c.torch_dtype.empty() ? Json(nullptr) : Json(c.torch_dtype);
  j["problem_type"] = c.problem_type ? Json(*c.problem_type) : Json(nullptr);
  return j;
}

std::string with_commas(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s.push_back(',');
    s.push_back(digits[i]);
  }
  return s;
}

int run_inspect(const InspectArgs& a) {
  const fs::path path = a.path;
  io::Checkpoint ck = io::Checkpoint::open(path);  // throws for anything malformed or hostile
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? path : path.parent_path();
  std::optional<model::EncoderConfig> config;
  if (fs::exists(dir / "config.json", ec)) config = model::load_config(dir / "config.json");
  const model::Family* family = config ? model::find_family(config->model_type) : nullptr;
  std::optional<model::HeadKind> head;
  std::string check = "not checked (no config.json)";
  if (config) {
    head = model::head_from_architectures(*family, config->architectures);
    if (a.no_check) {
      check = "not checked (--no-check)";
    } else if (family->load) {
      // A family with its own graph (ModernBERT) names its weights itself: check them by loading that graph.
      const auto net = family->load(dir, *config, *family, model::Options{});  // throws listing every problem
      check = "ok (" + family->name + " graph" + (net->head_missing().empty() ? "" : "; " + net->head_missing()) + ")";
    } else {
      const model::Weights w = model::load_weights(ck, *config, *family, *head);  // throws listing every problem
      check = "ok (" + std::to_string(w.tensors.size()) + " weights" +
              (w.has("pooler.dense.weight") ? ", with pooler" : ", no pooler") +
              (w.head_missing.empty() ? "" : "; " + w.head_missing) + ")";
    }
  }

  uint64_t params = 0, bytes = 0;
  for (const auto& t : ck.tensors()) {
    params += static_cast<uint64_t>(shape_numel(t.shape));
    bytes += t.nbytes;
  }

  if (a.json) {
    Json out;
    out["path"] = a.path;
    out["format"] = ck.format();
    out["config"] = config ? config_json(*config, *family) : Json(nullptr);
    out["head"] = head ? Json(model::head_name(*head)) : Json(nullptr);
    out["weights_check"] = check;
    Json tensors = Json::array();
    for (const auto& t : ck.tensors())
      tensors.push_back({{"name", t.name}, {"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape},
                         {"bytes", t.nbytes}, {"file", t.file}});
    out["tensors"] = tensors;
    out["totals"] = {{"tensors", ck.tensors().size()}, {"parameters", params}, {"bytes", bytes}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }

  std::printf("path:    %s\nformat:  %s\n", io::printable(a.path).c_str(), ck.format().c_str());
  if (config) {
    std::printf("head:    %s\nweights: %s\n\nconfig.json:\n", model::head_name(*head).c_str(), io::printable(check).c_str());
    const Json cj = config_json(*config, *family);
    for (const auto& [k, v] : cj.items())
      std::printf("  %-30s %s\n", k.c_str(), io::printable(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)).c_str());
  } else {
    std::printf("config:  %s\n", check.c_str());
  }
  size_t wname = 4, wshape = 5, wfile = 4;
  for (const auto& t : ck.tensors()) {
    wname = std::max(wname, io::printable(t.name).size());
    wshape = std::max(wshape, shape_to_string(t.shape).size());
    wfile = std::max(wfile, t.file.size());
  }
  std::printf("\n%-*s  %-5s  %-*s  %14s  %s\n", static_cast<int>(wname), "name", "dtype", static_cast<int>(wshape),
              "shape", "bytes", "file");
  for (const auto& t : ck.tensors())
    std::printf("%-*s  %-5s  %-*s  %14s  %s\n", static_cast<int>(wname), io::printable(t.name).c_str(),
                std::string(dtype_name(t.dtype)).c_str(), static_cast<int>(wshape), shape_to_string(t.shape).c_str(),
                with_commas(t.nbytes).c_str(), io::printable(t.file).c_str());
  std::printf("\ntotal: %zu tensors, %s parameters, %s bytes\n", ck.tensors().size(), with_commas(params).c_str(),
              with_commas(bytes).c_str());
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  app.footer(
      "Reads model.safetensors (or its sharded index) in preference to pytorch_model.bin; a .bin is read by a\n"
      "restricted unpickler that never executes code (see docs/security.md). Exit code 3 = malformed or\n"
      "hostile file, 4 = no weights found, 6 = unsupported config.\n"
      "Example: bertcpp inspect ./bert-base-uncased --json");
  app.add_option("path", a->path, "Model folder, or a .safetensors / .bin / *.index.json file")->required();
  app.add_flag("--json", a->json, "Machine-readable JSON output");
  app.add_flag("--no-check", a->no_check, "Do not check the weights against config.json");
  return [a] { return run_inspect(*a); };
}

const bool registered =
    register_command({"inspect", "Show a checkpoint's config and tensors (safe: never runs pickle code)", 80, setup});

}  // namespace
}  // namespace bertcpp::cli
