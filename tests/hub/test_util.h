// Shared fixture pieces for the hub tests: a fresh temp dir per test and explicit HubOptions
// (never the developer's real cache, token or HF_ENDPOINT).
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "hub/resolve.h"

namespace bertcpp::hub::testing {

inline std::filesystem::path make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bertcpp-hub-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { tmp_ = make_temp_dir(); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }
  HubOptions options(const std::string& endpoint) const {
    HubOptions o;
    o.endpoint = endpoint;
    o.cache_dir = tmp_ / "hub";
    o.token.reset();
    o.offline = false;
    o.progress = false;
    o.connect_timeout_s = 5;
    o.read_timeout_s = 10;
    return o;
  }
  std::filesystem::path tmp_;
};

// An endpoint where nothing listens (connection refused at once).
inline std::string unreachable_endpoint() { return "http://127.0.0.1:9"; }

}  // namespace bertcpp::hub::testing
