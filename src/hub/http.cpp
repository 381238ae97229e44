#include "hub/http.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "bertcpp/error.h"

namespace bertcpp::hub {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw Error(ErrorKind::Network, "libcurl initialisation failed");
  });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

struct Handle {
  CURL* h;
  curl_slist* list = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};
  Handle() : h(curl_easy_init()) {
    if (!h) throw Error(ErrorKind::Network, "libcurl: cannot create a transfer handle");
  }
  ~Handle() {
    if (list) curl_slist_free_all(list);
    curl_easy_cleanup(h);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

// Parses header lines; a new status line ("HTTP/...") starts a new response (after redirects).
size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    resp->headers.clear();
    return size * n;
  }
  std::size_t colon = line.find(':');
  if (colon != std::string::npos) resp->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return size * n;
}

void common_setup(Handle& c, const std::string& url, const std::vector<std::string>& headers, const HttpTimeouts& t,
                  HttpResponse* resp) {
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, c.errbuf);
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT, t.connect_s);
  curl_easy_setopt(c.h, CURLOPT_USERAGENT, "bertcpp/0.1.0");
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, resp);
  for (const auto& hd : headers) c.list = curl_slist_append(c.list, hd.c_str());
  c.list = curl_slist_append(c.list, "Accept-Encoding: identity");
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.list);
}

void finish(Handle& c, CURLcode rc, HttpResponse& resp) {
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &resp.status);
  char* eff = nullptr;
  if (curl_easy_getinfo(c.h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) resp.effective_url = eff;
  if (rc != CURLE_OK) {
    resp.transfer_ok = false;
    resp.transfer_error = c.errbuf[0] ? std::string(c.errbuf) : std::string(curl_easy_strerror(rc));
  }
}

struct GetState {
  CURL* h = nullptr;
  std::FILE* out = nullptr;
  std::uint64_t resume_from = 0;
  HttpResponse* resp = nullptr;
  const ProgressFn* progress = nullptr;
  bool started = false;
  bool to_file = false;
  std::uint64_t base = 0;  // bytes in the file before this response's body
  std::string abort_reason;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* st = static_cast<GetState*>(user);
  size_t len = size * n;
  if (!st->started) {
    st->started = true;
    long status = 0;
    curl_easy_getinfo(st->h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 206 && st->resume_from > 0) {
      // Content-Range must start where our partial file ends.
      std::string cr = st->resp->header("content-range").value_or("");
      std::string expect = "bytes " + std::to_string(st->resume_from) + "-";
      if (cr.rfind(expect, 0) != 0) {
        st->abort_reason = "server answered the range request with Content-Range '" + cr + "'";
        return 0;
      }
      st->to_file = true;
      st->base = st->resume_from;
    } else if (status >= 200 && status < 300) {
      if (st->resume_from > 0) {  // range ignored: start over
        if (std::fflush(st->out) != 0 || ::ftruncate(::fileno(st->out), 0) != 0 || std::fseek(st->out, 0, SEEK_SET) != 0) {
          st->abort_reason = "cannot truncate the partial download";
          return 0;
        }
      }
      st->to_file = true;
      st->base = 0;
    }
  }
  if (st->to_file) {
    if (std::fwrite(data, 1, len, st->out) != len) {
      st->abort_reason = "cannot write to disk (disk full?)";
      return 0;
    }
    st->resp->bytes_written += len;
  } else if (st->resp->body.size() < 1024) {
    st->resp->body.append(data, std::min(len, 1024 - st->resp->body.size()));
  }
  return len;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* st = static_cast<GetState*>(user);
  if (st->to_file && st->progress && *st->progress) {
    std::uint64_t total = dltotal > 0 ? st->base + static_cast<std::uint64_t>(dltotal) : 0;
    (*st->progress)(st->base + static_cast<std::uint64_t>(dlnow), total);
  }
  return 0;
}

}  // namespace

std::optional<std::string> HttpResponse::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

HttpResponse http_head(const std::string& url, const std::vector<std::string>& headers, const HttpTimeouts& t) {
  global_init();
  Handle c;
  HttpResponse resp;
  common_setup(c, url, headers, t, &resp);
  curl_easy_setopt(c.h, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT, t.head_s);
  CURLcode rc = curl_easy_perform(c.h);
  finish(c, rc, resp);
  return resp;
}

HttpResponse http_get_to_file(const std::string& url, const std::vector<std::string>& headers, std::FILE* out,
                              std::uint64_t resume_from, const HttpTimeouts& t, const ProgressFn& progress) {
  global_init();
  Handle c;
  HttpResponse resp;
  std::vector<std::string> all = headers;
  if (resume_from > 0) all.push_back("Range: bytes=" + std::to_string(resume_from) + "-");
  common_setup(c, url, all, t, &resp);
  GetState st;
  st.h = c.h;
  st.out = out;
  st.resume_from = resume_from;
  st.resp = &resp;
  st.progress = &progress;
  curl_easy_setopt(c.h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c.h, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, t.stall_s);
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &st);
  CURLcode rc = curl_easy_perform(c.h);
  finish(c, rc, resp);
  if (!st.abort_reason.empty()) {
    resp.transfer_ok = false;
    resp.transfer_error = st.abort_reason;
  }
  if (std::fflush(out) != 0 && resp.transfer_ok) {
    resp.transfer_ok = false;
    resp.transfer_error = "cannot write to disk (disk full?)";
  }
  return resp;
}

std::string url_origin(const std::string& url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  std::size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  return lower(url.substr(0, host_end));
}

std::string url_quote(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace bertcpp::hub
