// config.json of any family: model::parse_config. Only bertcpp::Error may come out.
#include <string>

#include "bertcpp/error.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)bertcpp::model::parse_config(std::string(reinterpret_cast<const char*>(data), size), "config.json");
  } catch (const bertcpp::Error&) {
  }
  return 0;
}
