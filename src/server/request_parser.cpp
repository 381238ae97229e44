#include "server/request_parser.hpp"

#include <algorithm>
#include <cstring>

namespace bertcpp::server::http {

namespace {

constexpr size_t kMaxChunkLine = 1024;  // "<hex size>[;extensions]\r\n"

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return a == lower(b); }))
      return v;
  return "";
}

// Parses the request line and headers in in_[0, end). Throws Refusal.
void RequestParser::parse_head(size_t end) {
  std::string_view head(in_.data(), end);
  size_t pos = head.find("\r\n");
  const std::string_view line = head.substr(0, pos);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    throw Refusal{400, "malformed request line"};
  Request& r = req_;
  r.method = std::string(line.substr(0, sp1));
  r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = line.substr(sp2 + 1);
  for (char ch : r.method)
    if (!is_token_char(ch)) throw Refusal{400, "malformed request line"};
  if (r.target.empty() || r.target[0] != '/') throw Refusal{400, "malformed request target"};
  if (version != "HTTP/1.1" && version != "HTTP/1.0") throw Refusal{400, "unsupported HTTP version"};
  r.path = r.target.substr(0, r.target.find('?'));
  while (pos != std::string_view::npos && pos + 2 <= head.size()) {
    const size_t start = pos + 2;
    pos = head.find("\r\n", start);
    const std::string_view h = head.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    if (h.empty()) continue;
    if (r.headers.size() >= limits_.max_headers)
      throw Refusal{431, "more than " + std::to_string(limits_.max_headers) + " header fields"};
    const size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos) throw Refusal{400, "malformed header field"};
    for (size_t i = 0; i < colon; ++i)
      if (!is_token_char(h[i])) throw Refusal{400, "malformed header field"};
    r.headers.emplace_back(to_lower(h.substr(0, colon)), std::string(trim(h.substr(colon + 1))));
  }
  keep_alive_ = version == "HTTP/1.1";
  const std::string connection = to_lower(r.header("connection"));
  if (connection.find("close") != std::string::npos) keep_alive_ = false;
  else if (connection.find("keep-alive") != std::string::npos) keep_alive_ = true;

  const std::string te = to_lower(trim(r.header("transfer-encoding")));
  const bool has_length = std::any_of(r.headers.begin(), r.headers.end(), [](const auto& kv) { return kv.first == "content-length"; });
  chunked_ = false;
  body_left_ = 0;
  if (!te.empty()) {
    if (te != "chunked") throw Refusal{501, "Transfer-Encoding '" + te.substr(0, 64) + "' is not supported"};
    if (has_length) throw Refusal{400, "both Content-Length and Transfer-Encoding"};
    chunked_ = true;
    chunk_ = Chunk::Size;
    trailer_bytes_ = 0;
  } else if (has_length) {
    size_t n = 0;
    int seen = 0;
    for (const auto& [k, v] : r.headers) {
      if (k != "content-length") continue;
      if (++seen > 1) throw Refusal{400, "more than one Content-Length"};
      if (v.empty() || v.size() > 19) throw Refusal{400, "invalid Content-Length"};
      for (char ch : v) {
        if (ch < '0' || ch > '9') throw Refusal{400, "invalid Content-Length"};
        n = n * 10 + static_cast<size_t>(ch - '0');
      }
    }
    if (n > limits_.max_body_bytes) throw Refusal{413, ""};
    body_left_ = n;
  }
}

bool RequestParser::advance() {
  if (!in_body_) {
    while (in_.size() >= 2 && in_[0] == '\r' && in_[1] == '\n') in_.erase(0, 2);  // RFC 9112 2.2
    const size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in_.size() > limits_.max_header_bytes)
        throw Refusal{431, "request headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes"};
      return false;
    }
    if (end + 4 > limits_.max_header_bytes)
      throw Refusal{431, "request headers exceed " + std::to_string(limits_.max_header_bytes) + " bytes"};
    req_ = Request{};
    parse_head(end + 2);
    in_.erase(0, end + 4);
    in_body_ = true;
    continue_ = !chunked_ && body_left_ > 0 && in_.size() < body_left_ && to_lower(req_.header("expect")) == "100-continue";
  }
  if (chunked_) return advance_chunked();
  const size_t take = std::min(body_left_, in_.size());
  req_.body.append(in_, 0, take);
  in_.erase(0, take);
  body_left_ -= take;
  return body_left_ == 0;
}

bool RequestParser::advance_chunked() {
  for (;;) {
    switch (chunk_) {
      case Chunk::Size: {
        const size_t eol = in_.find("\r\n");
        if (eol == std::string::npos) {
          if (in_.size() > kMaxChunkLine) throw Refusal{400, "malformed chunk size"};
          return false;
        }
        size_t n = 0, i = 0;
        for (; i < eol; ++i) {
          const char ch = in_[i];
          int d = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                                                       : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
          if (d < 0) break;
          if (n > (limits_.max_body_bytes >> 4) + 1) throw Refusal{413, ""};
          n = n * 16 + static_cast<size_t>(d);
        }
        if (i == 0 || (i < eol && in_[i] != ';' && in_[i] != ' ' && in_[i] != '\t'))
          throw Refusal{400, "malformed chunk size"};
        if (req_.body.size() + n > limits_.max_body_bytes) throw Refusal{413, ""};
        in_.erase(0, eol + 2);
        chunk_left_ = n;
        chunk_ = n == 0 ? Chunk::Trailer : Chunk::Data;
        break;
      }
      case Chunk::Data: {
        const size_t take = std::min(chunk_left_, in_.size());
        req_.body.append(in_, 0, take);
        in_.erase(0, take);
        chunk_left_ -= take;
        if (chunk_left_ > 0) return false;
        chunk_ = Chunk::DataEnd;
        break;
      }
      case Chunk::DataEnd:
        if (in_.size() < 2) return false;
        if (in_[0] != '\r' || in_[1] != '\n') throw Refusal{400, "malformed chunk"};
        in_.erase(0, 2);
        chunk_ = Chunk::Size;
        break;
      case Chunk::Trailer: {
        const size_t eol = in_.find("\r\n");
        if (eol == std::string::npos) {
          if (trailer_bytes_ + in_.size() > limits_.max_header_bytes) throw Refusal{431, "trailer fields too large"};
          return false;
        }
        trailer_bytes_ += eol + 2;
        if (trailer_bytes_ > limits_.max_header_bytes) throw Refusal{431, "trailer fields too large"};
        in_.erase(0, eol + 2);
        if (eol == 0) return true;  // trailers are read and dropped
        break;
      }
    }
  }
}

Request RequestParser::take() {
  in_body_ = false;
  continue_ = false;
  return std::exchange(req_, Request{});
}

}  // namespace bertcpp::server::http
