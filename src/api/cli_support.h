// Helpers shared by the user-facing CLI commands (embed, fill-mask, classify, rerank, bench):
// model loading with a clear "no model given" error, reading texts from stdin, JSON number
// formatting, .npy output, progress on stderr. No CLI11 here (see cli_options.h).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"

namespace bertcpp::api::cli {

// --model's value, else $BERTCPP_MODEL; else InvalidArgument explaining how to pass one.
std::string model_or_default(const std::string& model_option);
// Loads `model` (id or folder) with the CLI's --threads / --dtype values.
Model load_model(const std::string& model_option, int threads, const std::string& dtype);

ComputeType parse_compute(const std::string& s);    // f32 | bf16 | int8
const char* compute_name(ComputeType c);

// Upper bound of --threads: far above any core count, far below what exhausts thread stacks.
inline constexpr int kMaxThreads = 1024;
// InvalidArgument naming the flag and the value unless 0 <= threads <= kMaxThreads.
void check_threads(int threads, const char* flag = "--threads");

// How stdin lines are read (--input-format).
enum class InputFormat {
  Text,   // every line is one text, as it is (a blank line is the empty text: its row stays aligned)
  Jsonl,  // every non-blank line is a JSON object with a string "text"; blank lines are not records
};
InputFormat parse_input_format(const std::string& s);  // "text" | "jsonl"

// Texts from a stream, one per line ("\r\n" endings accepted). `source` names the stream in errors.
std::vector<std::string> read_texts(std::istream& in, const std::string& source, InputFormat format = InputFormat::Text);

// The shortest decimal that reads back as the same float (null for NaN/inf: JSON has neither).
void append_json_float(std::string& out, float v);
void append_json_floats(std::string& out, const float* v, size_t n);  // "[a,b,...]"
std::string json_string(const std::string& s);                        // quoted and escaped

// A float32 C-order .npy (format 1.0) of a tensor.
std::string npy_bytes(const Tensor& t);

// Writes to `path`, or to stdout when path is empty or "-". Throws InvalidArgument when the file
// cannot be written.
void write_output(const std::string& path, const std::string& data);

bool stdout_is_terminal();
bool stderr_is_terminal();

// How a long command reports progress on stderr: a bar redrawn in place on a terminal, plain
// lines every few seconds (--progress when stderr is a file or pipe), or nothing.
enum class ProgressMode { Off, Bar, Lines };
// Bar when stderr is a terminal, else Lines when `lines_requested`, else Off.
ProgressMode progress_mode(bool lines_requested);

// done/total (when known), texts/s, tokens/s and ETA while running; the throughput at the end.
class Progress {
 public:
  // `already` records were done before this run (--resume): counted in done, not in the rates.
  Progress(std::string command, std::optional<uint64_t> total, ProgressMode mode, double interval_s = 10,
           uint64_t already = 0);
  // Cumulative counts of this run.
  void update(uint64_t done, uint64_t tokens);
  // "bertcpp <command>: N texts, T tokens in S s (X texts/s, Y tokens/s)" unless Off.
  void finish(uint64_t done, uint64_t tokens);

 private:
  std::string line(uint64_t done, uint64_t tokens, double elapsed) const;
  std::string command_;
  std::optional<uint64_t> total_;
  ProgressMode mode_;
  double interval_;
  uint64_t already_;
  double start_, last_ = -1;
};

}  // namespace bertcpp::api::cli
