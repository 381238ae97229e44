// Minimal libcurl wrapper for the hub layer: HEAD without following redirects (to read the hub's
// metadata headers), GET into a file with resume and redirects (the LFS CDN). Timeouts on every
// transfer so nothing hangs forever; honours http_proxy/https_proxy like any libcurl program.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bertcpp::hub {

struct HttpTimeouts {
  long connect_s = 10;  // TCP/TLS connect
  long head_s = 30;     // whole HEAD request
  long stall_s = 30;    // GET aborted when less than 1 byte/s arrives for this long
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names; the final response's headers
  std::string body;                            // HEAD: empty; GET error responses: first KiB
  std::string effective_url;
  std::uint64_t bytes_written = 0;             // GET: body bytes appended to the file
  bool transfer_ok = true;                     // false: connection failed or broke mid-transfer
  std::string transfer_error;                  // libcurl's message when !transfer_ok

  std::optional<std::string> header(const std::string& lowercase_name) const;
};

// HEAD `url` (redirects NOT followed). Connection failures come back as !transfer_ok.
HttpResponse http_head(const std::string& url, const std::vector<std::string>& headers, const HttpTimeouts& t);

// Called with (bytes of the file we have, total size or 0 if unknown).
using ProgressFn = std::function<void(std::uint64_t have, std::uint64_t total)>;

// GET `url` following redirects, appending the body to `out` which already holds `resume_from`
// bytes (sends "Range: bytes=<resume_from>-" when > 0). If the server ignores the range (200),
// the file is truncated and written from the start. Non-2xx bodies are not written to `out`.
// libcurl does not forward the Authorization header to another host on redirect.
HttpResponse http_get_to_file(const std::string& url, const std::vector<std::string>& headers, std::FILE* out,
                              std::uint64_t resume_from, const HttpTimeouts& t, const ProgressFn& progress);

// "https://host:port/path?q" → "https://host:port" (lowercased scheme and host).
std::string url_origin(const std::string& url);
// Percent-encodes everything except unreserved characters (and '/' when keep_slash).
std::string url_quote(const std::string& s, bool keep_slash);

}  // namespace bertcpp::hub
