// `bertcpp serve`: a drop-in for Hugging Face text-embeddings-inference (TEI) and the OpenAI
// embeddings API, on 127.0.0.1:3000 by default. See docs/server.md.
#include <atomic>
#include <csignal>
#include <unistd.h>
#include <cstdio>
#include <memory>
#include <optional>
#include <pthread.h>
#include <string>
#include <thread>

#include "api/cli_support.h"
#include "cli/command.h"
#include "server/backend.hpp"
#include "server/http_server.hpp"

namespace bertcpp::cli {
namespace {

struct ServeArgs {
  std::string model;             // -m/--model/--model-id
  std::string model_positional;  // `bertcpp serve MODEL`
  std::string pooling;
  int threads = 0;
  std::string dtype = "f32";
  server::ServerOptions options;
  int64_t max_batch_requests = 0;
  std::string api_key;
  std::string default_prompt_name, default_prompt;  // used when given (an empty --default-prompt is no prompt)
};

std::function<int()> setup(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto& o = args->options;
  // Neither is required by itself: one of them, else $BERTCPP_MODEL (checked when the command runs).
  app.add_option("-m,--model,--model-id", args->model,
                 "Model id (hub) or local folder in Hugging Face layout (or the positional MODEL; default $BERTCPP_MODEL)");
  app.add_option("model", args->model_positional, "Same as --model");
  app.add_option("--hostname", o.hostname, "Address to listen on (default 127.0.0.1: this machine only; "
                                           "0.0.0.0 exposes the server to the network)")
      ->capture_default_str();
  app.add_option("-p,--port", o.port, "TCP port (TEI's default 3000; 0 = any free port, printed at start)")
      ->capture_default_str();
  app.add_option("--pooling", args->pooling,
                 "Pooling for /embed: cls, mean, max, mean_sqrt_len, weightedmean, lasttoken or splade (default: the "
                 "sentence-transformers config, else mean)")
      ->check(CLI::IsMember({"cls", "mean", "max", "mean_sqrt_len", "weightedmean", "lasttoken", "splade"}));
  app.add_option("--max-concurrent-requests", o.max_concurrent_requests,
                 "Inputs in flight at once; more are refused at once with 429")
      ->capture_default_str();
  app.add_option("--max-batch-tokens", o.max_batch_tokens, "Real (unpadded) tokens per forward batch")
      ->capture_default_str();
  app.add_option("--max-batch-requests", args->max_batch_requests, "Inputs per forward batch (default: no cap)");
  app.add_option("--max-client-batch-size", o.max_client_batch_size, "Inputs per request; more -> 422")
      ->capture_default_str();
  app.add_option("--payload-limit", o.payload_limit, "Request body limit in bytes; larger -> 413")
      ->capture_default_str();
  app.add_flag("--auto-truncate", o.auto_truncate,
               "Truncate over-long inputs to the model's maximum length instead of answering 422");
  app.add_option("--api-key", args->api_key,
                 "Require 'Authorization: Bearer <key>' on every route but /health, /ping and /metrics "
                 "(also read from BERTCPP_API_KEY)")
      ->envname("BERTCPP_API_KEY");
  app.add_option("--served-model-name", o.served_model_name, "Model name reported by /info and /v1/embeddings");
  app.add_flag("--json-output", o.json_output, "Logs as one JSON object per line on stderr");
  app.add_flag("--log-inputs", o.log_inputs, "Also log request bodies (input text is never logged otherwise)");
  auto* dpn = app.add_option("--default-prompt-name", args->default_prompt_name,
                             "Prompt of config_sentence_transformers.json used when a request gives no prompt_name "
                             "(default: the model's default_prompt_name)");
  auto* dp = app.add_option("--default-prompt", args->default_prompt,
                 "Text prepended to each input when a request gives no prompt_name")
      ->excludes(dpn);
  app.add_option("-t,--threads", args->threads,
                 "Compute threads (0 = all cores, at most " + std::to_string(api::cli::kMaxThreads) + ")")
      ->capture_default_str()
      ->check(CLI::Range(0, api::cli::kMaxThreads));
  app.add_option("--dtype", args->dtype, "Compute type: f32 (reference parity), bf16 or int8")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
  app.add_option("--http-threads", o.http_threads,
                 "HTTP worker threads (default max-concurrent-requests + 32)");
  app.add_option("--tokenization-workers", o.tokenization_workers,
                 "Threads that tokenize and decode (default 0 = the number of cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, api::cli::kMaxThreads));
  app.add_option("--read-timeout", o.read_timeout_sec, "Seconds to receive one whole request (headers and body); then 408")
      ->capture_default_str();
  app.add_option("--write-timeout", o.write_timeout_sec, "Seconds a client may stall while reading a response")
      ->capture_default_str();

  return [args, dpn, dp]() -> int {
    auto o = args->options;
    if (!args->model.empty() && !args->model_positional.empty() && args->model != args->model_positional)
      throw invalid_argument("two models given: --model " + args->model + " and MODEL " + args->model_positional);
    const std::string model =
        api::cli::model_or_default(args->model.empty() ? args->model_positional : args->model);
    api::cli::check_threads(args->threads);
    const ComputeType compute = api::cli::parse_compute(args->dtype);
    if (args->max_batch_requests > 0) o.max_batch_requests = args->max_batch_requests;
    if (!args->api_key.empty()) o.api_key = args->api_key;

    // SIGINT/SIGTERM are handled by one thread (sigwait): block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    server::DefaultPrompt default_prompt;
    if (dpn->count() > 0) default_prompt.name = args->default_prompt_name;
    if (dp->count() > 0) default_prompt.text = args->default_prompt;
    auto backend = server::make_model_backend(model, args->pooling, args->threads, compute, default_prompt);
    server::HttpServer http(*backend, o);
    const int port = http.bind();
    std::printf("bertcpp serve: listening on http://%s:%d (model %s)\n", o.hostname.c_str(), port, model.c_str());
    std::fflush(stdout);

    std::atomic<bool> signalled{false};
    std::thread waiter([&http, &signalled, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      signalled = true;
      http.logger().info("Signal received, shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      http.stop();
    });
    http.listen();
    // listen() returned: either a signal stopped it (waiter done) or it failed; wake the waiter.
    if (!signalled) kill(getpid(), SIGTERM);  // pending (blocked everywhere) until the waiter takes it
    waiter.join();
    return 0;
  };
}

const bool registered = register_command({"serve",
                                          "Serve a model over HTTP: text-embeddings-inference (TEI) routes and "
                                          "OpenAI /v1/embeddings (127.0.0.1:3000 by default)",
                                          60, setup});

}  // namespace
}  // namespace bertcpp::cli
