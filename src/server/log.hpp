// Server logs on stderr: plain lines, or one JSON object per line with --json-output.
// Input text is never logged unless the caller passes it explicitly (--log-inputs).
#pragma once
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace bertcpp::server {

class Logger {
 public:
  explicit Logger(bool json = false, bool quiet = false) : json_(json), quiet_(quiet) {}
  // `fields` must be a JSON object (may be null).
  void log(const std::string& level, const std::string& message, const nlohmann::json& fields = nullptr);
  void info(const std::string& m, const nlohmann::json& f = nullptr) { log("INFO", m, f); }
  void warn(const std::string& m, const nlohmann::json& f = nullptr) { log("WARN", m, f); }
  void error(const std::string& m, const nlohmann::json& f = nullptr) { log("ERROR", m, f); }

 private:
  bool json_;
  bool quiet_;
  std::mutex mutex_;
};

}  // namespace bertcpp::server
