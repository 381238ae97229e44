#include "server/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace bertcpp::server {

static std::string timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void Logger::log(const std::string& level, const std::string& message, const nlohmann::json& fields) {
  if (quiet_) return;
  std::string line;
  if (json_) {
    nlohmann::json j = {{"timestamp", timestamp()}, {"level", level}, {"message", message}};
    if (fields.is_object())
      for (auto it = fields.begin(); it != fields.end(); ++it) j[it.key()] = it.value();
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = timestamp() + " " + level + " " + message;
    if (fields.is_object())
      for (auto it = fields.begin(); it != fields.end(); ++it)
        line += " " + it.key() + "=" + it.value().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  line += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace bertcpp::server
