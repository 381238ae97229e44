// Helpers of the api tests: golden models, their expected.safetensors and texts, comparisons.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"
#include "io/checkpoint.h"
#include "support/compare.h"

namespace bertcpp::apitest {

inline const std::vector<std::string>& golden_models() {
  static const std::vector<std::string> names{"tiny-bert", "tiny-bert-classifier-bf16", "tiny-bert-pretraining-f16"};
  return names;
}

inline std::filesystem::path model_path(const std::string& name) {
  return std::filesystem::path(BERTCPP_TEST_DATA) / "models" / name;
}

// One model per name for the whole test binary (loading is the slow part).
inline const Model& load(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, Model::from_pretrained(model_path(name).string())).first;
  return it->second;
}

struct Golden {
  io::Checkpoint file;
  nlohmann::json meta;
  explicit Golden(const std::string& name) : file(io::Checkpoint::open(model_path(name) / "expected.safetensors")) {
    std::ifstream in(model_path(name) / "expected.json");
    std::stringstream ss;
    ss << in.rdbuf();
    meta = nlohmann::json::parse(ss.str());
  }
  bool has(const std::string& key) const { return file.contains(key); }
  Tensor get(const std::string& key) const { return file.get(key).to_f32(); }
  Tensor ids(const std::string& key) const { return file.get(key); }  // I64 as stored
  std::vector<std::string> texts(const std::string& c) const {
    std::vector<std::string> out;
    for (const auto& t : meta["texts"][c]) out.push_back(t.get<std::string>());
    return out;
  }
  std::pair<std::string, std::string> pair() const {
    const auto& p = meta["texts"]["pair"][0];
    return {p[0].get<std::string>(), p[1].get<std::string>()};
  }
};

using bertcpp::testing::max_abs_diff;  // from support/compare.h

inline std::vector<float> softmax(std::vector<double> x) {
  double mx = x[0];
  for (double v : x) mx = std::max(mx, v);
  double sum = 0;
  for (double& v : x) sum += (v = std::exp(v - mx));
  std::vector<float> out;
  for (double v : x) out.push_back(static_cast<float>(v / sum));
  return out;
}

// Throws-with-kind matcher: runs f, expects a bertcpp::Error of `kind` whose message contains `needle`.
template <class F>
void expect_error(F&& f, ErrorKind kind, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error thrown; expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace bertcpp::apitest
