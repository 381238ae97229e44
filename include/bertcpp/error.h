// bertcpp::Error: the one exception type the engine throws. Every message names the file, field
// or value at fault. The kind maps to the CLI's exit code (see exit_code()).
#pragma once
#include <stdexcept>
#include <string>

namespace bertcpp {

enum class ErrorKind {
  Internal = 1,        // a bug in bertcpp
  InvalidArgument = 2, // bad option or API argument (also CLI usage errors)
  InvalidFile = 3,     // a model/tokenizer/input file is malformed or hostile
  NotFound = 4,        // a file, tensor, model id or revision does not exist
  Network = 5,         // download failed, hub unreachable, HTTP error
  Unsupported = 6,     // valid but not supported (e.g. relative position embeddings)
  Unauthorized = 7,    // gated/private repo without a valid token
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  // Process exit code for this error: documented in README ("Exit codes").
  int exit_code() const noexcept { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

// Shorthands: throw invalid_file(path, "what is wrong").
inline Error invalid_file(const std::string& file, const std::string& what) {
  return Error(ErrorKind::InvalidFile, file + ": " + what);
}
inline Error invalid_argument(const std::string& what) { return Error(ErrorKind::InvalidArgument, what); }
inline Error not_found(const std::string& what) { return Error(ErrorKind::NotFound, what); }
inline Error unsupported(const std::string& what) { return Error(ErrorKind::Unsupported, what); }

}  // namespace bertcpp
