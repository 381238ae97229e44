#include "api/cli_support.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace bertcpp::api::cli {

std::string model_or_default(const std::string& model_option) {
  if (!model_option.empty()) return model_option;
  if (const char* env = std::getenv("BERTCPP_MODEL"); env && *env) return env;
  throw invalid_argument(
      "no model given: pass --model <hub id or local folder> (e.g. --model BAAI/bge-small-en-v1.5 or "
      "--model ./my-model), or set BERTCPP_MODEL");
}

void check_threads(int threads, const char* flag) {
  if (threads < 0 || threads > kMaxThreads)
    throw invalid_argument(std::string(flag) + " must be between 0 (all cores) and " + std::to_string(kMaxThreads) +
                           ", got " + std::to_string(threads));
}

Model load_model(const std::string& model_option, int threads, const std::string& dtype) {
  ModelOptions o;
  check_threads(threads);
  o.threads = threads;
  o.compute = parse_compute(dtype);
  return Model::from_pretrained(model_or_default(model_option), o);
}

ComputeType parse_compute(const std::string& s) {
  if (s == "f32" || s.empty()) return ComputeType::F32;
  if (s == "bf16") return ComputeType::BF16;
  if (s == "int8") return ComputeType::Int8;
  throw invalid_argument("unknown dtype '" + s + "' (expected f32, bf16 or int8)");
}


const char* compute_name(ComputeType c) {
  switch (c) {
    case ComputeType::F32: return "f32";
    case ComputeType::BF16: return "bf16";
    case ComputeType::Int8: return "int8";
  }
  return "f32";
}

InputFormat parse_input_format(const std::string& s) {
  if (s == "text") return InputFormat::Text;
  if (s == "jsonl") return InputFormat::Jsonl;
  throw invalid_argument("unknown input format '" + s + "' (expected text or jsonl)");
}

std::vector<std::string> read_texts(std::istream& in, const std::string& source, InputFormat format) {
  std::vector<std::string> texts;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (format == InputFormat::Text) {
      texts.push_back(line);
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw invalid_argument(source + " line " + std::to_string(lineno) + ": not valid JSON (" + e.what() +
                             "); for plain text lines pass --input-format text");
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw invalid_argument(source + " line " + std::to_string(lineno) + ": JSON line without a string \"text\" field");
    texts.push_back(j["text"].get<std::string>());
  }
  if (in.bad()) throw invalid_argument(source + ": read error");
  return texts;
}

void append_json_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_json_floats(std::string& out, const float* v, size_t n) {
  out += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_json_float(out, v[i]);
  }
  out += ']';
}

std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string npy_bytes(const Tensor& t) {
  const Tensor f = t.to_f32();
  std::string shape = "(";  // a Python tuple: "()", "(n,)", "(n, h)"
  for (int i = 0; i < f.rank(); ++i) shape += (i ? ", " : "") + std::to_string(f.dim(i));
  shape += f.rank() == 1 ? ",)" : ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces to 64 bytes, '\n' last.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  static_assert(std::endian::native == std::endian::little, "npy output assumes a little-endian host");
  out.append(static_cast<const char*>(f.raw()), f.nbytes());
  return out;
}

void write_output(const std::string& path, const std::string& data) {
  if (path.empty() || path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::fflush(stdout);
    return;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw invalid_argument("cannot write " + path);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw invalid_argument("error writing " + path);
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }
bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressMode progress_mode(bool lines_requested) {
  if (stderr_is_terminal()) return ProgressMode::Bar;
  return lines_requested ? ProgressMode::Lines : ProgressMode::Off;
}

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string duration_text(double s) {
  const auto t = static_cast<uint64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(t / 3600), static_cast<unsigned long long>(t / 60 % 60));
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(t / 60), static_cast<unsigned long long>(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(t));
  return buf;
}

std::string rate_text(double r) {
  char buf[32];
  if (r >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", r / 1e6);
  else if (r >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", r / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", r);
  return buf;
}

}  // namespace

Progress::Progress(std::string command, std::optional<uint64_t> total, ProgressMode mode, double interval_s, uint64_t already)
    : command_(std::move(command)), total_(total), mode_(mode), interval_(interval_s), already_(already), start_(now_s()) {}

std::string Progress::line(uint64_t done, uint64_t tokens, double elapsed) const {
  const double texts_s = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double tokens_s = elapsed > 0 ? static_cast<double>(tokens) / elapsed : 0;
  const uint64_t all = already_ + done;
  std::string s;
  if (total_) {
    const double frac = *total_ ? std::min(1.0, static_cast<double>(all) / static_cast<double>(*total_)) : 1.0;
    char pct[16];
    std::snprintf(pct, sizeof pct, "%5.1f%%", 100 * frac);
    if (mode_ == ProgressMode::Bar) {
      constexpr int kWidth = 24;
      const int fill = static_cast<int>(frac * kWidth);
      s += '[';
      s.append(static_cast<size_t>(fill), '#');
      s.append(static_cast<size_t>(kWidth - fill), '-');
      s += "] ";
    }
    s += std::string(pct) + " " + std::to_string(all) + "/" + std::to_string(*total_) + " texts";
  } else {
    s += std::to_string(all) + " texts";
  }
  s += ", " + rate_text(texts_s) + " texts/s";
  if (tokens) s += ", " + rate_text(tokens_s) + " tokens/s";  // 0: the command does not count tokens
  if (total_ && texts_s > 0 && all < *total_) s += ", ETA " + duration_text(static_cast<double>(*total_ - all) / texts_s);
  return s;
}

void Progress::update(uint64_t done, uint64_t tokens) {
  if (mode_ == ProgressMode::Off) return;
  const double t = now_s();
  // The bar redraws at most 10 times a second; plain lines every interval.
  const double every = mode_ == ProgressMode::Bar ? 0.1 : interval_;
  if (last_ >= 0 ? t - last_ < every : t - start_ < every) return;
  last_ = t;
  const std::string s = line(done, tokens, t - start_);
  if (mode_ == ProgressMode::Bar)
    std::fprintf(stderr, "\r%s %s\x1b[K", command_.c_str(), s.c_str());
  else
    std::fprintf(stderr, "bertcpp %s: %s\n", command_.c_str(), s.c_str());
  std::fflush(stderr);
}

void Progress::finish(uint64_t done, uint64_t tokens) {
  if (mode_ == ProgressMode::Off) return;
  const double elapsed = now_s() - start_;
  if (mode_ == ProgressMode::Bar && last_ >= 0) std::fprintf(stderr, "\r\x1b[K");
  char buf[160];
  const std::string texts_s = rate_text(elapsed > 0 ? static_cast<double>(done) / elapsed : 0);
  if (tokens)
    std::snprintf(buf, sizeof buf, "%llu texts, %llu tokens in %.1f s (%s texts/s, %s tokens/s)",
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(tokens), elapsed, texts_s.c_str(),
                  rate_text(elapsed > 0 ? static_cast<double>(tokens) / elapsed : 0).c_str());
  else
    std::snprintf(buf, sizeof buf, "%llu texts in %.1f s (%s texts/s)", static_cast<unsigned long long>(done), elapsed,
                  texts_s.c_str());
  std::fprintf(stderr, "bertcpp %s: %s%s\n", command_.c_str(), buf,
               already_ ? (", after " + std::to_string(already_) + " resumed").c_str() : "");
  std::fflush(stderr);
}

}  // namespace bertcpp::api::cli
