// Test-only builders for hostile inputs: safetensors images, zip archives (written by hand so
// that sizes and names can lie), and pickles (opcode by opcode). Nothing here runs a pickle.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace iotest {

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

// safetensors: 8-byte little-endian header length + header + data.
inline std::string safetensors(const std::string& header, const std::string& data, std::optional<uint64_t> len = {}) {
  return le(len ? *len : header.size(), 8) + header + data;
}

inline uint32_t crc32(const std::string& s) {
  uint32_t c = 0xffffffffu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

struct ZipEntry {
  std::string name;
  std::string data;                     // bytes as stored in the archive
  uint16_t method = 0;                  // 0 store, 8 deflate
  std::optional<uint64_t> declared_size;  // uncompressed size to claim (default: data.size())
  std::optional<uint32_t> crc;            // default: crc32(data)
  ZipEntry(std::string n, std::string d, uint16_t m = 0, std::optional<uint64_t> size = {},
           std::optional<uint32_t> c = {})
      : name(std::move(n)), data(std::move(d)), method(m), declared_size(size), crc(c) {}
};

inline std::string make_zip(const std::vector<ZipEntry>& entries) {
  std::string out, central;
  for (const auto& e : entries) {
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t crc = e.crc ? *e.crc : crc32(e.data);
    const uint64_t usize = e.declared_size ? *e.declared_size : e.data.size();
    const uint32_t usize32 = usize > 0xfffffffeu ? 0xfffffffeu : static_cast<uint32_t>(usize);
    std::string common = le(20, 2) + le(0, 2) + le(e.method, 2) + le(0, 2) + le(0x21, 2) + le(crc, 4) +
                         le(e.data.size(), 4) + le(usize32, 4) + le(e.name.size(), 2) + le(0, 2);
    out += le(0x04034b50, 4) + common + e.name + e.data;
    central += le(0x02014b50, 4) + le(20, 2) + common + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(offset, 4) + e.name;
  }
  const uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out += central;
  out += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) + le(entries.size(), 2) +
         le(central.size(), 4) + le(cd_offset, 4) + le(0, 2);
  return out;
}

// A pickle, opcode by opcode.
struct Pickle {
  std::string b;
  Pickle& proto(int v = 2) { b += "\x80"; b.push_back(static_cast<char>(v)); return *this; }
  Pickle& global(const std::string& m, const std::string& n) {
    b.push_back('c'); b += m; b.push_back('\n'); b += n; b.push_back('\n');
    return *this;
  }
  Pickle& stack_global() { b += "\x93"; return *this; }
  Pickle& mark() { b += "("; return *this; }
  Pickle& str(const std::string& s) { b.push_back('X'); b += le(s.size(), 4); b += s; return *this; }
  Pickle& short_str(const std::string& s) { b += "\x8c"; b.push_back(static_cast<char>(s.size())); b += s; return *this; }
  Pickle& integer(int64_t v) {
    if (v >= 0 && v < 256) { b += "K"; b.push_back(static_cast<char>(v)); }
    else if (v >= INT32_MIN && v <= INT32_MAX) { b.push_back('J'); b += le(static_cast<uint32_t>(v), 4); }
    else { b.push_back('\x8a'); b.push_back('\x08'); b += le(static_cast<uint64_t>(v), 8); }
    return *this;
  }
  Pickle& tuple() { b += "t"; return *this; }
  Pickle& tuple1() { b += "\x85"; return *this; }
  Pickle& tuple2() { b += "\x86"; return *this; }
  Pickle& empty_tuple() { b += ")"; return *this; }
  Pickle& empty_dict() { b += "}"; return *this; }
  Pickle& empty_list() { b += "]"; return *this; }
  Pickle& ints(const std::vector<int64_t>& v) { mark(); for (auto x : v) integer(x); return tuple(); }
  Pickle& reduce() { b += "R"; return *this; }
  Pickle& build() { b += "b"; return *this; }
  Pickle& setitem() { b += "s"; return *this; }
  Pickle& setitems() { b += "u"; return *this; }
  Pickle& append() { b += "a"; return *this; }
  Pickle& persid() { b += "Q"; return *this; }
  Pickle& newfalse() { b += "\x89"; return *this; }
  Pickle& none() { b += "N"; return *this; }
  Pickle& dup() { b += "2"; return *this; }
  Pickle& put(uint8_t i) { b += "q"; b.push_back(static_cast<char>(i)); return *this; }
  Pickle& get(uint8_t i) { b += "h"; b.push_back(static_cast<char>(i)); return *this; }
  Pickle& stop() { b += "."; return *this; }
  Pickle& raw(const std::string& s) { b += s; return *this; }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").empty_tuple().reduce(); }
};

struct TensorSpec {
  std::string name;
  std::string storage_type;  // "FloatStorage", ...
  std::string key;
  int64_t storage_numel;
  int64_t offset;
  std::vector<int64_t> size, stride;
  bool as_parameter = false;
  TensorSpec(std::string n, std::string type, std::string k, int64_t numel, int64_t off, std::vector<int64_t> sz,
             std::vector<int64_t> st, bool param = false)
      : name(std::move(n)), storage_type(std::move(type)), key(std::move(k)), storage_numel(numel), offset(off),
        size(std::move(sz)), stride(std::move(st)), as_parameter(param) {}
};

// The pickle torch.save writes for an OrderedDict state dict (protocol 2, without memo).
inline std::string state_dict_pickle(const std::vector<TensorSpec>& tensors) {
  Pickle p;
  p.proto().ordered_dict().mark();
  for (const auto& t : tensors) {
    p.str(t.name);
    if (t.as_parameter) p.global("torch._utils", "_rebuild_parameter").mark();
    p.global("torch._utils", "_rebuild_tensor_v2").mark();
    p.mark().str("storage").global("torch", t.storage_type).str(t.key).str("cpu").integer(t.storage_numel).tuple().persid();
    p.integer(t.offset).ints(t.size).ints(t.stride).newfalse().ordered_dict().tuple().reduce();
    if (t.as_parameter) p.newfalse().ordered_dict().tuple().reduce();
  }
  p.setitems().stop();
  return p.b;
}

// A torch.save-style zip: archive/data.pkl, archive/data/<key>..., archive/version.
inline std::string torch_zip(const std::string& pickle, const std::vector<std::pair<std::string, std::string>>& storages,
                             const std::string& prefix = "archive") {
  std::vector<ZipEntry> e{{prefix + "/data.pkl", pickle}};
  for (const auto& [k, v] : storages) e.push_back({prefix + "/data/" + k, v});
  e.push_back({prefix + "/version", "3\n"});
  return make_zip(e);
}

}  // namespace iotest
