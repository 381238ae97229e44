#include "cli/stream.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "bertcpp/error.h"

namespace bertcpp::cli::stream {
namespace fs = std::filesystem;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Input

namespace {

struct Source {
  std::string name;  // as given (or matched by a glob), "stdin" for "-"
  bool is_stdin = false;
};

bool has_glob_chars(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<Source> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<Source> out;
  if (inputs.empty()) return {{"stdin", true}};
  for (const std::string& in : inputs) {
    if (in == "-") {
      out.push_back({"stdin", true});
      continue;
    }
    if (has_glob_chars(in) && !fs::exists(in)) {
      glob_t g{};
      const int rc = ::glob(in.c_str(), 0, nullptr, &g);
      if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        ::globfree(&g);
        throw not_found("--input " + in + ": no file matches");
      }
      if (rc != 0) {
        ::globfree(&g);
        throw invalid_argument("--input " + in + ": cannot expand the pattern");
      }
      for (size_t i = 0; i < g.gl_pathc; ++i)  // glob() sorts its matches
        if (!fs::is_directory(g.gl_pathv[i])) out.push_back({g.gl_pathv[i], false});
      ::globfree(&g);
      continue;
    }
    std::error_code ec;
    if (!fs::exists(in, ec)) throw not_found("--input " + in + ": no such file");
    if (fs::is_directory(in, ec)) throw invalid_argument("--input " + in + ": is a directory (pass a file or a glob like DIR/*.txt)");
    out.push_back({in, false});
  }
  return out;
}

bool blank(const std::string& line) { return line.find_first_not_of(" \t") == std::string::npos; }

// 64-bit FNV-1a: identifies TEXT arguments in the resume fingerprint.
uint64_t fnv1a(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

}  // namespace

struct RecordReader::Impl {
  InputOptions o;
  std::vector<Source> sources;
  size_t current = 0;
  std::ifstream file;
  std::istream* in = nullptr;
  size_t lineno = 0;
  uint64_t index = 0;
  std::string line;

  void parse_json(Record& r) {
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw invalid_argument(r.where + ": not valid JSON (" + e.what() + ")" +
                             (o.json_objects_in_text ? "" : "; for plain text lines pass --input-format text"));
    }
    if (!j.is_object()) throw invalid_argument(r.where + ": expected a JSON object");
    const auto t = j.find(o.text_field);
    if (t == j.end() || !t->is_string())
      throw invalid_argument(r.where + ": JSON line without a string \"" + o.text_field + "\" field");
    r.text = t->get<std::string>();
    if (!o.id_field.empty()) {
      const auto id = j.find(o.id_field);
      if (id == j.end()) throw invalid_argument(r.where + ": no \"" + o.id_field + "\" field (--id-field)");
      if (!id->is_string() && !id->is_number()) throw invalid_argument(r.where + ": \"" + o.id_field + "\" must be a string or a number");
      r.id = id->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (!o.pair_field.empty()) {
      const auto p = j.find(o.pair_field);
      if (p != j.end() && !p->is_null()) {
        if (!p->is_string()) throw invalid_argument(r.where + ": \"" + o.pair_field + "\" must be a string");
        r.pair = p->get<std::string>();
      }
    }
    r.object = std::move(j);
  }
};

RecordReader::RecordReader(InputOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
  if (impl_->o.texts.empty()) impl_->sources = expand_inputs(impl_->o.inputs);
}
RecordReader::~RecordReader() = default;

bool RecordReader::reads_stdin() const {
  return std::any_of(impl_->sources.begin(), impl_->sources.end(), [](const Source& s) { return s.is_stdin; });
}

bool RecordReader::next(Record& r) {
  Impl& m = *impl_;
  r = Record();
  if (!m.o.texts.empty()) {
    if (m.index >= m.o.texts.size()) return false;
    r.index = m.index;
    r.text = m.o.texts[m.index];
    r.where = "argument " + std::to_string(m.index + 1);
    ++m.index;
    return true;
  }
  for (;;) {
    if (!m.in) {
      if (m.current >= m.sources.size()) return false;
      const Source& s = m.sources[m.current];
      if (s.is_stdin) {
        m.in = &std::cin;
      } else {
        m.file = std::ifstream(s.name, std::ios::binary);
        if (!m.file) throw not_found("--input " + s.name + ": cannot open (" + std::strerror(errno) + ")");
        m.in = &m.file;
      }
      m.lineno = 0;
    }
    if (!std::getline(*m.in, m.line)) {
      if (m.in->bad()) throw invalid_argument(m.sources[m.current].name + ": read error");
      if (m.in == &m.file) m.file.close();
      m.in = nullptr;
      ++m.current;
      continue;
    }
    ++m.lineno;
    if (!m.line.empty() && m.line.back() == '\r') m.line.pop_back();
    r.where = m.sources[m.current].name + " line " + std::to_string(m.lineno);
    bool is_json = m.o.format == api::cli::InputFormat::Jsonl;
    if (!is_json && m.o.json_objects_in_text) {
      const size_t first = m.line.find_first_not_of(" \t");
      is_json = first != std::string::npos && m.line[first] == '{';
    }
    if (is_json) {
      if (blank(m.line)) continue;  // not a record in JSON Lines
      m.parse_json(r);
    } else {
      r.text = m.line;
      if (!m.o.id_field.empty()) r.id = "null";
    }
    r.index = m.index++;
    return true;
  }
}

std::optional<uint64_t> RecordReader::count() const {
  const Impl& m = *impl_;
  if (!m.o.texts.empty()) return m.o.texts.size();
  if (reads_stdin()) return std::nullopt;
  uint64_t n = 0;
  std::string line;
  for (const Source& s : m.sources) {
    std::ifstream f(s.name, std::ios::binary);
    while (std::getline(f, line)) {
      if (m.o.format == api::cli::InputFormat::Jsonl || m.o.json_objects_in_text) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t first = line.find_first_not_of(" \t");
        const bool json_line = m.o.format == api::cli::InputFormat::Jsonl || (first != std::string::npos && line[first] == '{');
        if (json_line && first == std::string::npos) continue;
      }
      ++n;
    }
  }
  return n;
}

json RecordReader::fingerprint() const {
  const Impl& m = *impl_;
  json fp = json::object();
  fp["format"] = m.o.format == api::cli::InputFormat::Jsonl ? "jsonl" : (m.o.json_objects_in_text ? "auto" : "text");
  fp["text_field"] = m.o.text_field;
  fp["id_field"] = m.o.id_field;
  fp["pair_field"] = m.o.pair_field;
  if (!m.o.texts.empty()) {
    uint64_t h = 14695981039346656037ull;
    for (const auto& t : m.o.texts) h = fnv1a(h, t);
    fp["arguments"] = {{"count", m.o.texts.size()}, {"fnv1a", std::to_string(h)}};
    return fp;
  }
  json files = json::array();
  for (const Source& s : m.sources) {
    if (s.is_stdin) {
      files.push_back("stdin");
      continue;
    }
    struct stat st{};
    if (::stat(s.name.c_str(), &st) != 0) throw not_found("--input " + s.name + ": " + std::strerror(errno));
    std::error_code ec;
    const fs::path abs = fs::absolute(s.name, ec);
    files.push_back({{"path", ec ? s.name : abs.lexically_normal().string()},
                     {"size", static_cast<uint64_t>(st.st_size)},
                     {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec}});
  }
  fp["files"] = files;
  return fp;
}

void add_input_flags(CLI::App& app, InputOptions& in, std::string& input_format) {
  (void)input_format;
  app.add_option("-i,--input", in.inputs,
                 "Read texts from FILE (repeatable; a glob like 'corpus/*.jsonl' is expanded and sorted; - = stdin) "
                 "instead of stdin");
  app.add_option("--text-field", in.text_field, "jsonl: the field holding the text")->default_val("text");
  app.add_option("--id-field", in.id_field, "jsonl: a field (string or number) carried to the output as \"id\"");
}

void finish_input_options(InputOptions& in, const std::string& input_format) {
  if (input_format == "auto") {
    in.format = api::cli::InputFormat::Text;
    in.json_objects_in_text = true;
  } else {
    in.format = api::cli::parse_input_format(input_format);
  }
  if (!in.texts.empty() && !in.inputs.empty()) throw invalid_argument("pass TEXT arguments or --input files, not both");
  const bool jsonl = in.format == api::cli::InputFormat::Jsonl || in.json_objects_in_text;
  if (!jsonl && !in.id_field.empty()) throw invalid_argument("--id-field " + in.id_field + " needs --input-format jsonl");
  if (!jsonl && in.text_field != "text") throw invalid_argument("--text-field " + in.text_field + " needs --input-format jsonl");
  if (!jsonl && !in.pair_field.empty()) throw invalid_argument("--pair-field " + in.pair_field + " needs --input-format jsonl");
  if (in.text_field.empty()) throw invalid_argument("--text-field must not be empty");
}

json folder_fingerprint(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return nullptr;
  json files = json::object();
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;  // follows the symlinks of a Hugging Face cache snapshot
    struct stat st{};
    if (::stat(it->path().c_str(), &st) != 0) continue;
    files[fs::relative(it->path(), path, ec).string()] = {
        {"size", static_cast<uint64_t>(st.st_size)},
        {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec}};
  }
  return files;
}

json model_fingerprint(const Model& model, const std::string& dtype) {
  return {{"name", model.name()}, {"directory", model.directory()}, {"files", folder_fingerprint(model.directory())}, {"dtype", dtype}};
}

std::string json_line_start(const Record& r) {
  std::string s = "{\"index\":" + std::to_string(r.index);
  if (!r.id.empty()) s += ",\"id\":" + r.id;
  return s + ",";
}

// ---------------------------------------------------------------------------------------------
// Output files

namespace {

Error write_error(const std::string& path, int err) {
  return Error(ErrorKind::InvalidFile, path + ": write failed (" + std::strerror(err) +
                                           "); the complete records are kept: fix the cause and rerun with --resume");
}

// A FILE* we own (or stdout), whose every write is checked.
class File {
 public:
  File() = default;
  File(const std::string& path, const char* mode) : path_(path) {
    if (path.empty()) {
      f_ = stdout;
      path_ = "stdout";
      return;
    }
    f_ = std::fopen(path.c_str(), mode);
    if (!f_) throw invalid_argument("cannot write " + path + " (" + std::strerror(errno) + ")");
    own_ = true;
    buffer_.resize(1 << 20);
    std::setvbuf(f_, buffer_.data(), _IOFBF, buffer_.size());
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (own_ && f_) std::fclose(f_);
  }
  void put(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) throw write_error(path_, errno ? errno : EIO);
  }
  void put(const std::string& s) { put(s.data(), s.size()); }
  void flush() {
    if (std::fflush(f_) != 0) throw write_error(path_, errno);
  }
  void seek(long off) {
    flush();
    if (std::fseek(f_, off, SEEK_SET) != 0) throw write_error(path_, errno);
  }
  void close() {
    flush();
    if (own_) {
      const int rc = std::fclose(f_);
      f_ = nullptr;
      own_ = false;
      if (rc != 0) throw write_error(path_, errno);
    }
  }
  const std::string& path() const { return path_; }

 private:
  FILE* f_ = nullptr;
  bool own_ = false;
  std::string path_;
  std::vector<char> buffer_;
};

// Byte offset just after the n-th '\n' of a file (n = SIZE_MAX: after the last one), and the
// number of newlines before that offset.
std::pair<uint64_t, uint64_t> newline_prefix(const std::string& path, uint64_t n) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw invalid_argument("--resume: cannot read " + path);
  std::vector<char> buf(1 << 20);
  uint64_t pos = 0, end = 0, lines = 0;
  while (lines < n && f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<size_t>(f.gcount());
    for (size_t i = 0; i < got && lines < n; ++i)
      if (buf[i] == '\n') {
        ++lines;
        end = pos + i + 1;
      }
    pos += got;
    if (got == 0) break;
  }
  return {end, lines};
}

void truncate_file(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
    throw Error(ErrorKind::InvalidFile, "--resume: cannot cut " + path + " to its complete records (" + std::strerror(errno) + ")");
}

// Cuts a JSON Lines file after its last complete line (a record cut short by the interruption is
// dropped) and returns how many lines remain; keeps at most `max` lines.
uint64_t cut_lines(const std::string& path, uint64_t max = UINT64_MAX) {
  const auto [end, lines] = newline_prefix(path, max);
  truncate_file(path, end);
  return lines;
}

// JSON Lines (one line per record) or one JSON document (prefix, records, suffix).
class LinesSink : public Sink {
 public:
  LinesSink(const std::string& path, const OutputOptions& o, bool resume) : o_(o) {
    if (resume && !path.empty() && fs::exists(path)) {
      resumed_ = written_ = cut_lines(path);
      file_ = std::make_unique<File>(path, "ab");
    } else {
      file_ = std::make_unique<File>(path, "wb");
    }
  }
  bool wants_rows() const override { return false; }
  uint64_t resumed() const override { return resumed_; }
  void write(const Window&, const Results& r, size_t begin, size_t end) override {
    for (size_t i = begin; i < end; ++i) {
      const std::string& line = r.lines[i];
      if (o_.format == OutputFormat::Jsonl) {
        file_->put(line);
        file_->put("\n", 1);
      } else if (written_ == 0 && o_.unwrap_single) {
        held_ = line;  // alone it is written bare; a second record makes an array of both
      } else {
        if (written_ == 0) {
          file_->put(o_.json_prefix);
        } else if (held_) {
          file_->put(o_.json_prefix);
          file_->put(*held_);
          held_.reset();
          file_->put(o_.json_separator);
        } else {
          file_->put(o_.json_separator);
        }
        file_->put(line);
      }
      ++written_;
    }
    file_->flush();
  }
  void finish(uint64_t) override {
    if (o_.format == OutputFormat::Json) {
      if (held_)
        file_->put(*held_ + "\n");
      else if (written_ > 0)
        file_->put(o_.json_suffix);
    }
    file_->close();
  }

 private:
  OutputOptions o_;
  std::unique_ptr<File> file_;
  uint64_t resumed_ = 0, written_ = 0;
  std::optional<std::string> held_;
};

// .npy header of a fixed 128 bytes, so the final shape can be written over the first one.
constexpr size_t kNpyHeader = 128;
std::string npy_header(uint64_t rows, int64_t dim) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " + std::to_string(dim) + "), }";
  dict.append(kNpyHeader - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string h("\x93NUMPY\x01\x00", 8);
  h += static_cast<char>(dict.size() & 0xff);
  h += static_cast<char>(dict.size() >> 8);
  return h + dict;
}

std::string ids_path_for(const std::string& npy) {
  const fs::path p(npy);
  return p.extension() == ".npy" ? (p.parent_path() / p.stem()).string() + ".ids.jsonl" : npy + ".ids.jsonl";
}

// A float32 [records, dim] .npy written row by row; the header's shape is rewritten at the end.
// To stdout: the header needs the count first, so rows are held until the end when it is unknown.
class NpySink : public Sink {
 public:
  NpySink(const std::string& path, const std::string& ids_path, int64_t dim, bool resume, std::optional<uint64_t> total)
      : path_(path), ids_path_(ids_path), dim_(dim), total_(total) {
    static_assert(std::endian::native == std::endian::little, "npy output assumes a little-endian host");
    const uint64_t row_bytes = static_cast<uint64_t>(dim) * sizeof(float);
    if (path.empty()) {
      file_ = std::make_unique<File>("", "wb");
      if (total_) file_->put(npy_header(*total_, dim_));
      return;
    }
    std::error_code ec;
    const uint64_t size = resume && fs::exists(path) ? fs::file_size(path, ec) : 0;
    if (resume && size >= kNpyHeader) {
      std::ifstream f(path, std::ios::binary);
      std::string head(kNpyHeader, '\0');
      f.read(head.data(), kNpyHeader);
      if (head.compare(0, 10, npy_header(0, dim).substr(0, 10)) != 0 ||
          head.find("'shape': (") == std::string::npos || head.find(", " + std::to_string(dim) + "), }") == std::string::npos)
        throw invalid_argument("--resume: " + path + " is not a float32 [n, " + std::to_string(dim) + "] .npy written by bertcpp");
      uint64_t rows = (size - kNpyHeader) / row_bytes;
      if (!ids_path_.empty()) rows = std::min(rows, fs::exists(ids_path_) ? cut_lines(ids_path_, rows) : 0);
      if (!ids_path_.empty()) cut_lines(ids_path_, rows);
      truncate_file(path, kNpyHeader + rows * row_bytes);
      resumed_ = rows;
      file_ = std::make_unique<File>(path, "r+b");
      file_->seek(static_cast<long>(kNpyHeader + rows * row_bytes));
      if (!ids_path_.empty()) ids_ = std::make_unique<File>(ids_path_, rows ? "ab" : "wb");
    } else {
      file_ = std::make_unique<File>(path, "wb");
      file_->put(npy_header(0, dim_));
      if (!ids_path_.empty()) ids_ = std::make_unique<File>(ids_path_, "wb");
    }
  }
  bool wants_rows() const override { return true; }
  uint64_t resumed() const override { return resumed_; }
  void write(const Window& w, const Results& r, size_t begin, size_t end) override {
    const float* p = r.rows.data() + begin * static_cast<size_t>(dim_);
    const size_t n = (end - begin) * static_cast<size_t>(dim_);
    if (path_.empty() && !total_) {
      held_.insert(held_.end(), p, p + n);
      return;
    }
    file_->put(p, n * sizeof(float));
    file_->flush();
    if (ids_) {
      std::string s;
      for (size_t i = begin; i < end; ++i) s += (w.records[i].id.empty() ? "null" : w.records[i].id) + "\n";
      ids_->put(s);
      ids_->flush();
    }
  }
  void finish(uint64_t records) override {
    if (path_.empty()) {
      if (!total_) {
        file_->put(npy_header(records, dim_));
        file_->put(held_.data(), held_.size() * sizeof(float));
      } else if (records != *total_) {
        throw invalid_argument("the input changed while it was read: " + std::to_string(*total_) + " records counted, " +
                               std::to_string(records) + " read (the .npy header on stdout is wrong)");
      }
      file_->close();
      return;
    }
    file_->seek(0);
    file_->put(npy_header(records, dim_));
    file_->close();
    if (ids_) ids_->close();
  }

 private:
  std::string path_, ids_path_;
  int64_t dim_;
  std::optional<uint64_t> total_;
  std::unique_ptr<File> file_, ids_;
  uint64_t resumed_ = 0;
  std::vector<float> held_;
};

// The atomic write of a small file: a reader (or a resumed run) sees the old or the new one.
void write_atomically(const fs::path& path, const std::string& data) {
  const fs::path tmp = path.string() + ".tmp";
  {
    File f(tmp.string(), "wb");
    f.put(data);
    f.close();
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw write_error(path.string(), ec.value());
}

// A directory of part-NNNNN.{jsonl,npy} of shard_size records each and a manifest.json listing
// the complete ones; the shard being written is part-NNNNN.*.partial.
class ShardSink : public Sink {
 public:
  ShardSink(const OutputOptions& o, bool resume) : o_(o), dir_(o.out) {
    std::error_code ec;
    const fs::path manifest = dir_ / "manifest.json";
    if (resume && fs::exists(manifest)) {
      json m;
      try {
        m = json::parse(std::ifstream(manifest));
      } catch (const json::exception& e) {
        throw Error(ErrorKind::InvalidFile, manifest.string() + ": not valid JSON (" + e.what() + ")");
      }
      for (const auto& s : m.at("shards")) {
        shards_.push_back(s);
        resumed_ += s.at("records").get<uint64_t>();
      }
      if (fs::exists(partial(name(shards_.size())))) {
        open_shard(true);
        shard_records_ = child_->resumed();
        resumed_ += shard_records_;
      }
      return;
    }
    fs::create_directories(dir_, ec);
    if (ec) throw invalid_argument("cannot create the shard directory " + dir_.string() + " (" + ec.message() + ")");
    // A fresh run replaces a previous one's shards, never anything else in the directory.
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string f = e.path().filename().string();
      if (f.rfind("part-", 0) == 0 || f == "manifest.json") fs::remove(e.path(), ec);
    }
    write_manifest(false, 0);
  }
  bool wants_rows() const override { return o_.format == OutputFormat::Npy; }
  uint64_t resumed() const override { return resumed_; }
  void write(const Window& w, const Results& r, size_t begin, size_t end) override {
    while (begin < end) {
      if (!child_) open_shard(false);
      const size_t n = static_cast<size_t>(std::min<uint64_t>(end - begin, o_.shard_size - shard_records_));
      child_->write(w, r, begin, begin + n);
      shard_records_ += n;
      begin += n;
      if (shard_records_ == o_.shard_size) close_shard();
    }
  }
  void finish(uint64_t records) override {
    if (child_ && shard_records_ > 0) close_shard();
    write_manifest(true, records);
  }

 private:
  std::string name(size_t i) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "part-%05zu", i);
    return buf;
  }
  std::string ext() const { return o_.format == OutputFormat::Npy ? ".npy" : ".jsonl"; }
  std::string partial(const std::string& n) const { return (dir_ / (n + ext() + ".partial")).string(); }
  std::string partial_ids(const std::string& n) const { return (dir_ / (n + ".ids.jsonl.partial")).string(); }
  void open_shard(bool resume) {
    const std::string n = name(shards_.size());
    if (o_.format == OutputFormat::Npy)
      child_ = std::make_unique<NpySink>(partial(n), o_.ids ? partial_ids(n) : "", o_.dim, resume, std::nullopt);
    else
      child_ = std::make_unique<LinesSink>(partial(n), o_, resume);
    if (!resume) shard_records_ = 0;
  }
  void close_shard() {
    child_->finish(shard_records_);
    child_.reset();
    const std::string n = name(shards_.size());
    std::error_code ec;
    fs::rename(partial(n), dir_ / (n + ext()), ec);
    if (ec) throw write_error((dir_ / (n + ext())).string(), ec.value());
    json s = {{"file", n + ext()}, {"records", shard_records_}};
    if (o_.format == OutputFormat::Npy && o_.ids) {
      fs::rename(partial_ids(n), dir_ / (n + ".ids.jsonl"), ec);
      if (ec) throw write_error((dir_ / (n + ".ids.jsonl")).string(), ec.value());
      s["ids"] = n + ".ids.jsonl";
    }
    shards_.push_back(s);
    shard_records_ = 0;
    write_manifest(false, 0);
  }
  void write_manifest(bool complete, uint64_t records) {
    uint64_t n = 0;
    for (const auto& s : shards_) n += s["records"].get<uint64_t>();
    json m = {{"format", o_.format == OutputFormat::Npy ? "npy" : "jsonl"},
              {"shard_size", o_.shard_size},
              {"complete", complete},
              {"records", complete ? records : n},
              {"shards", shards_}};
    if (o_.format == OutputFormat::Npy) m["dimensions"] = o_.dim;
    write_atomically(dir_ / "manifest.json", m.dump(1) + "\n");
  }

  OutputOptions o_;
  fs::path dir_;
  std::vector<json> shards_;
  std::unique_ptr<Sink> child_;
  uint64_t shard_records_ = 0, resumed_ = 0;
};

bool to_stdout(const std::string& out) { return out.empty() || out == "-"; }

std::unique_ptr<Sink> make_sink(const OutputOptions& o, bool resume, std::optional<uint64_t> total) {
  const std::string path = to_stdout(o.out) ? "" : o.out;
  if (o.shard_size > 0) return std::make_unique<ShardSink>(o, resume);
  if (o.format == OutputFormat::Npy) return std::make_unique<NpySink>(path, o.ids && !path.empty() ? ids_path_for(path) : "", o.dim, resume, total);
  return std::make_unique<LinesSink>(path, o, resume);
}

std::string short_dump(const json& j) {
  std::string s = j.is_null() ? "(none)" : j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

// The first setting that differs between the run being resumed and this one, "" when none.
std::string difference(const json& before, const json& now, const std::string& prefix = "") {
  if (before.is_object() && now.is_object()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : before.items()) keys.push_back(k);
    for (const auto& [k, v] : now.items())
      if (!before.contains(k)) keys.push_back(k);
    for (const auto& k : keys) {
      const json a = before.contains(k) ? before[k] : json();
      const json b = now.contains(k) ? now[k] : json();
      if (a != b) {
        const std::string d = difference(a, b, prefix + k + ".");
        return d.empty() ? prefix + k + ": " + short_dump(a) + " then, " + short_dump(b) + " now" : d;
      }
    }
    return "";
  }
  return before == now ? "" : prefix.substr(0, prefix.empty() ? 0 : prefix.size() - 1) + ": " + short_dump(before) + " then, " + short_dump(now) + " now";
}

}  // namespace

void add_run_flags(CLI::App& app, RunOptions& run) {
  app.add_option("-o,--out", run.output.out, "Write to FILE (a directory with --shard-size) instead of stdout");
  app.add_option("--shard-size", run.output.shard_size,
                 "With --out DIR: write DIR/part-00000.<format>, ... of N records each and DIR/manifest.json");
  app.add_flag("--resume", run.resume,
               "Continue an interrupted run into the same --out from its last complete record (refused when the "
               "model, options or input differ)");
  app.add_flag("--progress", run.progress,
               "Print progress lines on stderr when it is not a terminal (on a terminal a progress bar is always shown)");
  app.add_option("--progress-interval", run.progress_interval, "Seconds between --progress lines")->default_val(10)->check(CLI::PositiveNumber);
  app.add_option("--window", run.window,
                 "Records read, tokenized and sorted by length together (bounds memory; default 2048)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
}

// ---------------------------------------------------------------------------------------------
// The run

namespace {

// The hand-over between the preparing thread and the main thread: at most one window waits.
class Handoff {
 public:
  bool put(Window w) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !slot_ || stop_; });
    if (stop_) return false;
    slot_ = std::move(w);
    cv_.notify_all();
    return true;
  }
  Window take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return slot_.has_value(); });
    Window w = std::move(*slot_);
    slot_.reset();
    cv_.notify_all();
    return w;
  }
  void stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Window> slot_;
  bool stop_ = false;
};

}  // namespace

uint64_t run(RecordReader& reader, const Job& job, RunOptions o) {
  const size_t window = o.window ? o.window : job.window;
  const bool stdout_out = to_stdout(o.output.out);
  const std::string out = o.output.out;
  if (o.output.shard_size > 0 && stdout_out) throw invalid_argument("--shard-size needs --out DIR");
  if (o.output.shard_size > 0 && o.output.format == OutputFormat::Json)
    throw invalid_argument("--shard-size needs --format jsonl or npy");
  if (o.resume && stdout_out) throw invalid_argument("--resume needs --out FILE: the output to continue");
  if (o.resume && o.output.format == OutputFormat::Json)
    throw invalid_argument("--resume needs --format jsonl or npy (a json document cannot be continued)");
  if (o.output.ids && o.output.format == OutputFormat::Npy && stdout_out)
    throw invalid_argument("--id-field with --format npy needs --out FILE (the ids go to FILE.ids.jsonl)");

  json fp = o.fingerprint;
  fp["command"] = job.command;
  fp["input"] = reader.fingerprint();
  fp["output"] = {{"format", o.output.format == OutputFormat::Npy ? "npy" : o.output.format == OutputFormat::Jsonl ? "jsonl" : "json"},
                  {"shard_size", o.output.shard_size}};
  const fs::path state = o.output.shard_size > 0 ? fs::path(out) / "resume.json" : fs::path(out + ".resume.json");
  bool resuming = false;
  std::optional<uint64_t> complete_records;  // the run being resumed had finished
  if (o.resume) {
    if (fs::exists(state)) {
      json before;
      try {
        before = json::parse(std::ifstream(state));
      } catch (const json::exception& e) {
        throw Error(ErrorKind::InvalidFile, state.string() + ": not valid JSON (" + e.what() + ")");
      }
      const std::string diff = difference(before.value("fingerprint", json::object()), fp);
      if (!diff.empty())
        throw invalid_argument("--resume: " + out + " was written by a different run (" + diff +
                               "); rerun with the same model, options and input, or without --resume to start over");
      if (before.value("complete", false)) complete_records = before.value("records", uint64_t{0});
      resuming = true;
    } else if (fs::exists(out)) {
      throw invalid_argument("--resume: " + out + " has no resume state " + state.string() +
                             " (not written by a streaming bertcpp run); remove it or run without --resume");
    }
  }

  const api::cli::ProgressMode mode = api::cli::progress_mode(o.progress);
  std::optional<uint64_t> total;
  if (mode != api::cli::ProgressMode::Off || (stdout_out && o.output.format == OutputFormat::Npy)) total = reader.count();
  std::unique_ptr<Sink> sink = make_sink(o.output, resuming, total);
  const uint64_t skip = sink->resumed();
  if (complete_records && *complete_records == skip) {
    std::fprintf(stderr, "bertcpp %s: %s is already complete (%llu records); nothing to do\n", job.command.c_str(), out.c_str(),
                 static_cast<unsigned long long>(skip));
    return skip;
  }
  auto write_state = [&](bool complete, uint64_t records) {
    if (stdout_out) return;
    write_atomically(state, json{{"fingerprint", fp}, {"complete", complete}, {"records", records}}.dump(1) + "\n");
  };
  write_state(false, 0);

  Record r;
  for (uint64_t i = 0; i < skip; ++i)
    if (!reader.next(r))
      throw invalid_argument("--resume: the input has fewer records (" + std::to_string(i) + ") than " + out + " (" +
                             std::to_string(skip) + ")");

  api::cli::Progress progress(job.command, total, mode, o.progress_interval, skip);
  Handoff handoff;
  std::thread preparer([&] {
    uint64_t next = skip;
    for (;;) {
      Window w;
      w.first = next;
      bool last = false;
      try {
        Record rec;
        while (w.records.size() < window) {
          if (!reader.next(rec)) {
            last = true;
            break;
          }
          w.records.push_back(std::move(rec));
        }
      } catch (...) {
        w.error = std::current_exception();
      }
      if (!w.records.empty() && job.prepare) {
        try {
          job.prepare(w);
        } catch (...) {
          w.records.clear();
          if (!w.error) w.error = std::current_exception();
        }
      }
      next += w.records.size();
      const bool marker_follows = last && !w.error && !w.records.empty();
      const bool stop = last || w.error;
      if (!handoff.put(std::move(w))) return;
      if (marker_follows) handoff.put(Window{});  // the end: a window without records
      if (stop) return;
    }
  });
  struct Joiner {
    Handoff& h;
    std::thread& t;
    ~Joiner() {
      h.stop();
      if (t.joinable()) t.join();
    }
  } joiner{handoff, preparer};

  uint64_t done = 0, tokens = 0;
  for (;;) {
    Window w = handoff.take();
    const bool end = w.records.empty() && !w.error;
    if (!w.records.empty()) {
      Results res;
      job.compute(w, res, sink->wants_rows());
      sink->write(w, res, 0, w.records.size());
      done += w.records.size();
      tokens += w.tokens;
      progress.update(done, tokens);
    }
    if (w.error) std::rethrow_exception(w.error);
    if (end) break;
  }
  const uint64_t records = skip + done;
  if (records == 0) throw invalid_argument("no texts: pass TEXT arguments, --input FILE or lines on stdin");
  sink->finish(records);
  write_state(true, records);
  progress.finish(done, tokens);
  return records;
}

}  // namespace bertcpp::cli::stream
