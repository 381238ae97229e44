// The one streaming engine of `embed`, `tokenize` and `classify`: records are read from TEXT
// arguments, files, globs or stdin in bounded windows; a second thread reads and prepares
// (tokenizes) window k+1 while the main thread runs the model on window k; results are written in
// input order to JSON Lines, .npy or a directory of shards, and a run cut short (Ctrl-C, SIGKILL,
// a full disk) continues with --resume from the last complete record. See docs/scale.md.
#pragma once
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/cli_options.h"
#include "bertcpp/model.hpp"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp::cli::stream {

// ---------------------------------------------------------------------------------------------
// Input

struct InputOptions {
  std::vector<std::string> texts;   // TEXT arguments; when non-empty, the only input
  std::vector<std::string> inputs;  // -i FILE|GLOB|- (stdin); none = stdin
  api::cli::InputFormat format = api::cli::InputFormat::Text;
  bool json_objects_in_text = false;  // tokenize: a text line starting with '{' is a JSON object
  std::string text_field = "text";
  std::string id_field;    // jsonl: carried to the output as "id"
  std::string pair_field;  // jsonl: the second text of a pair (classify, tokenize)
};

struct Record {
  uint64_t index = 0;  // 0-based position in the whole input
  std::string text;
  std::optional<std::string> pair;
  std::string id;          // the id field's value as JSON text ("" without --id-field)
  nlohmann::json object;   // the line's JSON object (null for plain text)
  std::string where;       // "FILE line N", for errors
};

class RecordReader {
 public:
  explicit RecordReader(InputOptions options);  // expands globs; throws NotFound for a missing file
  ~RecordReader();
  // The next record; false at the end. Throws InvalidArgument naming the file and line.
  bool next(Record& r);
  // How many records there are, when every input is a regular file or an argument (one pass over
  // the files); nullopt for stdin.
  std::optional<uint64_t> count() const;
  // What identifies the input for --resume: the paths with their sizes and modification times.
  nlohmann::json fingerprint() const;
  bool reads_stdin() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Adds -i/--input, --input-format, --text-field, --id-field to a command.
void add_input_flags(CLI::App& app, InputOptions& in, std::string& input_format);
// Checks the combination (--id-field needs jsonl, ...) and parses the format.
void finish_input_options(InputOptions& in, const std::string& input_format);

// ---------------------------------------------------------------------------------------------
// Windows and results

struct Window {
  uint64_t first = 0;  // index of records[0]
  std::vector<Record> records;
  std::vector<Encoding> encodings;  // when the command tokenizes (prepare)
  std::vector<std::string> lines;   // output lines made while preparing (tokenize)
  uint64_t tokens = 0;              // real tokens of the window, for tokens/s
  std::exception_ptr error;         // a bad record: every record before it is still written
};

// One window's results in input order: one JSON text per record (jsonl/json outputs) or, for npy,
// `dim` floats per record.
struct Results {
  std::vector<std::string> lines;
  std::vector<float> rows;
};

// ---------------------------------------------------------------------------------------------
// Output

enum class OutputFormat { Json, Jsonl, Npy };

struct OutputOptions {
  OutputFormat format = OutputFormat::Jsonl;
  std::string out;           // file, or a directory with shard_size; "" or "-" = stdout
  uint64_t shard_size = 0;   // > 0: `out` is a directory of part-NNNNN files of that many records
  int64_t dim = 0;           // npy: floats per record
  bool ids = false;          // npy: write the ids beside the array (OUT.ids.jsonl)
  // Json: the text before the first record, between records and after the last. With
  // unwrap_single, one record alone is written bare (classify's historical output).
  std::string json_prefix = "[", json_separator = ",", json_suffix = "]\n";
  bool unwrap_single = false;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual bool wants_rows() const = 0;
  // Records already complete in the output when it was opened to resume (0 otherwise).
  virtual uint64_t resumed() const { return 0; }
  // Writes records [begin, end) of a window's results.
  virtual void write(const Window& w, const Results& r, size_t begin, size_t end) = 0;
  // Everything written: final headers, manifests, flush. `records` = all records of the output.
  virtual void finish(uint64_t records) = 0;
};

// ---------------------------------------------------------------------------------------------
// The run

struct Job {
  std::string command;        // "embed": names the progress lines and the resume state
  size_t window = 2048;       // records read, tokenized and length-sorted together
  // Second thread, one window ahead: tokenize (and anything else not needing the model).
  std::function<void(Window&)> prepare;
  // Main thread: the model on a window; fills `out` (lines or rows, as the sink wants).
  std::function<void(Window&, Results& out, bool rows)> compute;
};

struct RunOptions {
  OutputOptions output;
  bool resume = false;
  bool progress = false;          // --progress: plain lines on stderr when it is not a terminal
  double progress_interval = 10;  // seconds between plain lines
  nlohmann::json fingerprint;     // options + model (+ the input's, added by run) for --resume
  size_t window = 0;              // --window (0 = the job's default)
};

// Adds -o/--out, --shard-size, --resume, --progress, --progress-interval, --window.
void add_run_flags(CLI::App& app, RunOptions& run);

// Reads, prepares, computes and writes everything; returns the number of records in the output.
// Throws InvalidArgument when there is nothing to read (no texts).
uint64_t run(RecordReader& reader, const Job& job, RunOptions options);

// What identifies a loaded model for --resume: its name, folder and the folder's files (sizes and
// modification times), and the compute type.
nlohmann::json model_fingerprint(const Model& model, const std::string& dtype);
// The files of a folder with their sizes and modification times (null when `path` is no folder).
nlohmann::json folder_fingerprint(const std::string& path);

// A record's "index" (and "id") as the start of its JSON line: {"index":i,"id":...,
std::string json_line_start(const Record& r);

}  // namespace bertcpp::cli::stream
