// Helpers shared by the user-facing CLI commands (embed, fill-mask, classify, rerank, bench):
// model loading with a clear "no model given" error, reading texts from stdin, JSON number
// formatting, .npy output, progress on a terminal. No CLI11 here (see cli_options.h).
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

// "\r<label> done/total" on stderr, only when stderr is a terminal.
class Progress {
 public:
  Progress(std::string label, size_t total);
  void update(size_t done);
  void finish();

 private:
  std::string label_;
  size_t total_;
  bool enabled_;
};

}  // namespace bertcpp::api::cli
