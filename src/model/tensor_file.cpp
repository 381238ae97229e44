#include "model/tensor_file.h"

#include <cstdio>
#include <fstream>
#include <memory>

#include "bertcpp/error.h"

namespace bertcpp::model {

namespace {
std::string json_escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o;
}
}  // namespace

void safetensors_write(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors) {
  std::string header = "{";
  size_t offset = 0;
  bool first = true;
  for (const auto& [name, t] : tensors) {
    if (!t.defined()) throw invalid_argument("safetensors_write: tensor '" + name + "' is undefined");
    if (!first) header += ",";
    first = false;
    header.append("\"").append(json_escape(name)).append("\":{\"dtype\":\"").append(dtype_name(t.dtype()));
    header.append("\",\"shape\":[");
    for (size_t i = 0; i < t.shape().size(); ++i) {
      if (i) header.append(",");
      header.append(std::to_string(t.shape()[i]));
    }
    header.append("],\"data_offsets\":[").append(std::to_string(offset)).append(",");
    header.append(std::to_string(offset + t.nbytes())).append("]}");
    offset += t.nbytes();
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';

  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw invalid_argument(path.string() + ": cannot open for writing");
  unsigned char len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  f.write(reinterpret_cast<const char*>(len), 8);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& [name, t] : tensors) f.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  f.flush();
  if (!f) throw invalid_argument(path.string() + ": write failed");
}

}  // namespace bertcpp::model
