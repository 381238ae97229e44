#include "io/safetensors_reader.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::io {

static_assert(std::endian::native == std::endian::little, "bertcpp reads little-endian data in place");

using Json = nlohmann::json;

std::vector<SafetensorsEntry> parse_safetensors(const uint8_t* data, size_t size, const std::string& src,
                                                std::map<std::string, std::string>* metadata) {
  if (size < 8)
    throw invalid_file(src, "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > size - 8)
    throw invalid_file(src, "header length " + std::to_string(n) + " runs past the end of the file (" +
                                std::to_string(size) + " bytes)");
  if (n > kMaxSafetensorsHeader)
    throw invalid_file(src, "header length " + std::to_string(n) + " exceeds the " +
                                std::to_string(kMaxSafetensorsHeader) + "-byte limit");
  if (n < 2) throw invalid_file(src, "header of " + std::to_string(n) + " bytes cannot hold a JSON object");
  const std::string_view text(reinterpret_cast<const char*>(data + 8), static_cast<size_t>(n));
  const Json header = parse_json_strict(text, src + ": header");
  if (!header.is_object()) throw invalid_file(src, "header: expected a JSON object, got " + json_type_name(header));

  const uint64_t data_start = 8 + n;
  const uint64_t data_size = size - data_start;
  std::vector<SafetensorsEntry> entries;
  entries.reserve(header.size());
  for (const auto& [name, v] : header.items()) {
    const std::string where = src + ": header: \"" + name + "\"";
    if (name == "__metadata__") {
      if (!v.is_object()) throw Error(ErrorKind::InvalidFile, where + " must be an object of strings, got " + json_type_name(v));
      for (const auto& [k, mv] : v.items()) {
        if (!mv.is_string())
          throw Error(ErrorKind::InvalidFile, where + ": \"" + k + "\" must be a string, got " + json_type_name(mv));
        if (metadata) (*metadata)[k] = mv.get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) throw Error(ErrorKind::InvalidFile, where + " must be an object, got " + json_type_name(v));
    for (const auto& [k, unused] : v.items()) {
      (void)unused;
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        throw Error(ErrorKind::InvalidFile, where + " has unknown field \"" + k + "\"");
    }
    auto dt = v.find("dtype"), sh = v.find("shape"), off = v.find("data_offsets");
    if (dt == v.end() || sh == v.end() || off == v.end())
      throw Error(ErrorKind::InvalidFile, where + " needs \"dtype\", \"shape\" and \"data_offsets\"");
    if (!dt->is_string()) throw Error(ErrorKind::InvalidFile, where + ": dtype must be a string, got " + json_type_name(*dt));
    const auto dtype = dtype_from_name(dt->get<std::string>());
    if (!dtype) throw Error(ErrorKind::InvalidFile, where + ": unknown dtype " + json_brief(*dt));
    if (!sh->is_array()) throw Error(ErrorKind::InvalidFile, where + ": shape must be an array, got " + json_type_name(*sh));
    if (sh->size() > 64) throw Error(ErrorKind::InvalidFile, where + ": shape has " + std::to_string(sh->size()) + " dimensions");
    SafetensorsEntry e{name, *dtype, {}, 0, 0};
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : *sh) {
      const auto dim = json_int64(d);
      if (!dim || *dim < 0)
        throw Error(ErrorKind::InvalidFile, where + ": shape entries must be non-negative integers, got " + json_brief(d));
      e.shape.push_back(*dim);
      if (*dim != 0 && numel > static_cast<uint64_t>(INT64_MAX) / static_cast<uint64_t>(*dim)) overflow = true;
      else numel *= static_cast<uint64_t>(*dim);
    }
    if (overflow && std::find(e.shape.begin(), e.shape.end(), 0) == e.shape.end())
      throw Error(ErrorKind::InvalidFile, where + ": element count of shape " + shape_to_string(e.shape) + " overflows");
    if (overflow) numel = 0;
    if (!off->is_array() || off->size() != 2)
      throw Error(ErrorKind::InvalidFile, where + ": data_offsets must be an array of two integers, got " + json_brief(*off));
    const auto b = json_int64((*off)[0]), en = json_int64((*off)[1]);
    if (!b || !en || *b < 0 || *en < 0)
      throw Error(ErrorKind::InvalidFile, where + ": data_offsets must be non-negative integers, got " + json_brief(*off));
    if (*b > *en) throw Error(ErrorKind::InvalidFile, where + ": data_offsets " + json_brief(*off) + " end before they begin");
    if (static_cast<uint64_t>(*en) > data_size)
      throw Error(ErrorKind::InvalidFile, where + ": data_offsets " + json_brief(*off) + " run past the end of the data (" +
                                              std::to_string(data_size) + " bytes)");
    const uint64_t es = dtype_size(*dtype);
    if (numel > UINT64_MAX / es)
      throw Error(ErrorKind::InvalidFile, where + ": byte size of shape " + shape_to_string(e.shape) + " overflows");
    const uint64_t want = numel * es, have = static_cast<uint64_t>(*en - *b);
    if (want != have)
      throw Error(ErrorKind::InvalidFile, where + ": shape " + shape_to_string(e.shape) + " of " +
                                              std::string(dtype_name(*dtype)) + " needs " + std::to_string(want) +
                                              " bytes but data_offsets " + json_brief(*off) + " span " + std::to_string(have));
    e.begin = data_start + static_cast<uint64_t>(*b);
    e.end = data_start + static_cast<uint64_t>(*en);
    entries.push_back(std::move(e));
  }
  std::stable_sort(entries.begin(), entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < entries.size(); ++i) {
    const auto& p = entries[i - 1];
    const auto& c = entries[i];
    // Empty tensors occupy no bytes and cannot overlap anything.
    if (p.end > c.begin && p.begin != p.end && c.begin != c.end)
      throw invalid_file(src, "header: data of \"" + p.name + "\" and \"" + c.name + "\" overlap");
  }
  return entries;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  SafetensorsFile f;
  f.map = MappedFile::open(path.string());
  f.entries = parse_safetensors(f.map->data(), f.map->size(), path.string(), &f.metadata);
  return f;
}

Tensor SafetensorsFile::tensor(const SafetensorsEntry& e) const {
  const uint8_t* p = map->data() + e.begin;
  const size_t es = dtype_size(e.dtype);
  if (reinterpret_cast<uintptr_t>(p) % es == 0 && e.end > e.begin)
    return Tensor::borrow(e.dtype, e.shape, p, std::shared_ptr<const void>(map, map->data()));
  Tensor t = Tensor::empty(e.dtype, e.shape);  // unaligned (or empty): copy
  if (e.end > e.begin) std::memcpy(t.raw(), p, e.end - e.begin);
  return t;
}

}  // namespace bertcpp::io
