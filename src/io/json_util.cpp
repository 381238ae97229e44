#include "io/json_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <set>
#include <vector>

#include "bertcpp/error.h"

namespace bertcpp::io {

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

namespace {

// First pass: a SAX walk that bounds nesting depth and looks for duplicate keys (nlohmann's DOM
// parser keeps the last duplicate silently, and its callback parser is quadratic in the size of an
// object). Nothing is built, so a hostile depth stops here before any recursive code sees it.
struct StrictChecker : nlohmann::json::json_sax_t {
  std::vector<std::set<std::string>> keys;
  size_t depth = 0;
  std::string problem;  // empty while the text is acceptable
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool enter() {
    if (++depth <= kMaxJsonDepth) return true;
    problem = "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return false;  // stop parsing
  }
  bool start_object(std::size_t) override {
    if (!enter()) return false;
    keys.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    if (!keys.back().insert(k).second) {
      problem = "duplicate JSON key \"" + k + "\"";
      return false;
    }
    return true;
  }
  bool end_object() override { keys.pop_back(); --depth; return true; }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { --depth; return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) override {
    problem = "invalid JSON: " + json_error_text(e);
    return false;
  }
};

void brief(const nlohmann::json& j, std::string& out, int depth) {
  constexpr size_t kBudget = 64;
  if (out.size() > kBudget) return;
  if (j.is_array() || j.is_object()) {
    const bool obj = j.is_object();
    out += obj ? '{' : '[';
    if (depth >= 3 && !j.empty()) {
      out += "...";
    } else {
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (out.size() > kBudget) { out += "..."; break; }
        if (!first) out += ',';
        first = false;
        if (obj) out += nlohmann::json(it.key()).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + ":";
        brief(it.value(), out, depth + 1);
      }
    }
    out += obj ? '}' : ']';
    return;
  }
  if (j.is_string()) {
    const auto& str = j.get_ref<const std::string&>();
    const nlohmann::json cut = str.size() > kBudget ? str.substr(0, kBudget) : str;
    out += cut.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string json_error_text(const nlohmann::json::exception& e) {
  std::string msg = e.what();
  // nlohmann prefixes "[json.exception.parse_error.101] "; keep the human part.
  if (auto pos = msg.find("] "); pos != std::string::npos) msg = msg.substr(pos + 2);
  if (auto pos = msg.find("; last read: "); pos != std::string::npos) msg.resize(pos);
  return msg;
}

nlohmann::json parse_json_strict(std::string_view text, const std::string& source) {
  if (!is_valid_utf8(text)) throw invalid_file(source, "JSON is not valid UTF-8");
  StrictChecker checker;
  nlohmann::json::sax_parse(text.begin(), text.end(), &checker);
  if (!checker.problem.empty()) throw invalid_file(source, checker.problem);
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw invalid_file(source, "invalid JSON: " + json_error_text(e));
  }
}

std::string json_type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    default: return "binary";
  }
}

std::optional<int64_t> json_int64(const nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    const uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

std::string json_brief(const nlohmann::json& j) {
  std::string s;
  brief(j, s, 0);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

void check_link_stays_inside(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (!fs::is_symlink(p, ec)) return;
  const fs::path target = fs::weakly_canonical(p, ec);
  if (ec) return;  // unresolvable: the open fails with its own message
  const fs::path dir = fs::weakly_canonical(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec);
  if (ec) return;
  const auto under = [](const fs::path& t, const fs::path& root) {
    auto r = std::mismatch(root.begin(), root.end(), t.begin(), t.end());
    return r.first == root.end();
  };
  if (under(target, dir)) return;
  for (fs::path a = dir; a.has_parent_path() && a != a.parent_path(); a = a.parent_path())
    if (a.parent_path().filename() == "snapshots" && under(target, a.parent_path().parent_path() / "blobs")) return;
  throw invalid_file(path, "is a symbolic link to " + target.string() + ", outside the model folder");
}

std::string printable(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto escape = [&](unsigned char c) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  };
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      escape(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    const std::string_view cp = s.substr(i, n);
    if (n == 1 || cp.size() < n || !is_valid_utf8(cp)) {
      escape(c);
      ++i;
      continue;
    }
    // C1 controls (U+0080..U+009F: 0xC2 0x80..0x9F) act as terminal escapes too.
    if (n == 2 && c == 0xc2 && static_cast<unsigned char>(cp[1]) < 0xa0) {
      escape(c);
      escape(static_cast<unsigned char>(cp[1]));
    } else {
      out += cp;
    }
    i += n;
  }
  return out;
}

std::string read_small_file(const std::string& path, size_t max_bytes) {
  check_link_stays_inside(path);
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw not_found(path + ": no such file");
    throw not_found(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  struct Closer { int fd; ~Closer() { ::close(fd); } } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw invalid_file(path, "cannot stat");
  if (S_ISDIR(st.st_mode)) throw invalid_file(path, "is a directory, expected a file");
  if (!S_ISREG(st.st_mode)) throw invalid_file(path, "is not a regular file (a FIFO, device or socket)");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes)
    throw invalid_file(path, "file is " + std::to_string(size) + " bytes, more than the " +
                                 std::to_string(max_bytes) + " bytes allowed for this kind of file");
  std::string data(static_cast<size_t>(size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t r = ::read(fd, data.data() + got, data.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw invalid_file(path, "read error");
    got += static_cast<size_t>(r);
  }
  return data;
}

}  // namespace bertcpp::io
