// What the api runs: a loaded model of any family. The encoder (model/encoder.h) is the graph
// of every post-norm BERT-style family; a family whose graph differs (pre-norm, rotary, GLU)
// implements Network in its own graph file and sets Family::load.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "model/config.h"
#include "model/family.h"
#include "model/types.h"

namespace bertcpp::model {

class Network {
 public:
  virtual ~Network() = default;
  virtual const EncoderConfig& config() const = 0;
  virtual const Family& family() const = 0;
  virtual HeadKind head() const = 0;
  // Empty when the head's weights loaded; else why the head cannot run.
  virtual const std::string& head_missing() const = 0;
  virtual bool has_pooler() const = 0;
  // transformers' forward on a padded batch. Thread-safe (const; no shared mutable state).
  virtual Output forward(const Input& input, const Request& request) const = 0;
};

// Reads config.json of a LOCAL model folder, picks the family by model_type and loads it with
// the family's graph (Family::load, or the encoder).
std::unique_ptr<Network> load_network(const std::filesystem::path& dir, const Options& options);

}  // namespace bertcpp::model
