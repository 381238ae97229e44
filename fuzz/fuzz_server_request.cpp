// Arbitrary bytes as HTTP/1.1 traffic through the server's own request parser, auth, routing, JSON
// schema and the model (tiny-bert, loaded once), with no socket: every complete request of the
// input (pipelined ones too) is handled as the transport's workers handle it.
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fuzz_util.h"
#include "server/backend.hpp"
#include "server/http_server.hpp"
#include "server/request_parser.hpp"
#include "server/transport.hpp"

using namespace bertcpp::server;

namespace {

struct Served {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<HttpServer> server;
};

Served& served() {
  static Served* s = [] {
    auto* p = new Served;
    p->backend = make_model_backend((bertcpp::fuzz::test_data() / "models/tiny-bert").string(), "", 1);
    ServerOptions o;
    o.quiet = true;
    o.max_concurrent_requests = 64;
    o.max_client_batch_size = 8;  // a few inputs per request: more requests per second
    p->server = std::make_unique<HttpServer>(*p->backend, o);
    return p;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Served& s = served();
  http::RequestParser parser(s.server->parser_limits());
  parser.append(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 4; ++i) {  // a few pipelined requests at most
    http::Response res;
    try {
      if (!parser.advance()) break;
    } catch (const http::Refusal& r) {
      s.server->refuse(r.status, r.message, parser.path(), res);
      break;
    }
    const http::Request req = parser.take();
    s.server->handle(req, res);
    if (res.status == 500) std::abort();  // a route threw past its own error handling
    if (!parser.keep_alive()) break;
  }
  return 0;
}
