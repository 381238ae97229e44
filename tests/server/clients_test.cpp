// Real, unmodified npm clients (openai, @huggingface/inference) against `bertcpp serve`, compared
// with `bertcpp embed` for the same texts. Needs `npm ci --prefix tests/server/clients`.
// Also checks the CLI's graceful shutdown: SIGTERM -> exit code 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using nlohmann::json;

namespace {

const std::string kClients = std::string(BERTCPP_SOURCE_DIR) + "/tests/server/clients";
const std::string kModel = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert";

// Runs argv, returns stdout (and the exit status).
std::string run(const std::vector<std::string>& argv, int* status) {
  int out[2];
  if (pipe(out) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  std::string s;
  char buf[65536];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  close(out[0]);
  waitpid(pid, status, 0);
  return s;
}

struct ServeProcess {
  pid_t pid = -1;
  int port = -1;
  FILE* out = nullptr;
  ServeProcess() {
    int p[2];
    if (pipe(p) != 0) return;
    pid = fork();
    if (pid == 0) {
      dup2(p[1], 1);
      close(p[0]);
      close(p[1]);
      execl(BERTCPP_CLI, BERTCPP_CLI, "serve", "--model", kModel.c_str(), "--port", "0", "--threads", "1",
            "--http-threads", "16", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(p[1]);
    out = fdopen(p[0], "r");
    char line[512];
    if (fgets(line, sizeof line, out)) {
      const std::string s(line);
      const auto colon = s.rfind(':', s.find(" (model"));
      if (colon != std::string::npos) port = std::atoi(s.c_str() + colon + 1);
    }
  }
  int stop() {
    int status = -1;
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, &status, 0);
      pid = -1;
    }
    if (out) fclose(out);
    out = nullptr;
    return status;
  }
  ~ServeProcess() { stop(); }
};

}  // namespace

TEST(ServerClients, OpenAIAndHuggingFaceJsClientsMatchBertcppEmbed) {
  if (!std::filesystem::exists(kClients + "/node_modules/openai") ||
      !std::filesystem::exists(kClients + "/node_modules/@huggingface/inference"))
    GTEST_SKIP() << "npm clients not installed: run `npm ci --prefix tests/server/clients` (needs node + the npm registry)";

  const std::vector<std::string> texts = {"Hello world!", "bertcpp serves TEI clients", "a"};
  ServeProcess serve;
  ASSERT_GT(serve.port, 0) << "bertcpp serve did not print its port";
  const std::string base = "http://127.0.0.1:" + std::to_string(serve.port);

  std::vector<std::string> node = {"node", kClients + "/run.mjs", base};
  node.insert(node.end(), texts.begin(), texts.end());
  int status = 0;
  const std::string out = run(node, &status);
  ASSERT_EQ(status, 0) << "node client failed: " << out;
  const json got = json::parse(out);

  std::vector<std::string> embed = {BERTCPP_CLI, "embed", "-m", kModel, "--normalize", "-f", "json"};
  embed.insert(embed.end(), texts.begin(), texts.end());
  const json want = json::parse(run(embed, &status));
  ASSERT_EQ(status, 0);
  const json& expected = want["embeddings"];
  ASSERT_EQ(expected.size(), texts.size());

  for (const char* key : {"openai", "openai_base64", "hf"}) {
    const json& e = got[key];
    ASSERT_EQ(e.size(), texts.size()) << key;
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_EQ(e[i].size(), expected[i].size()) << key;
      for (size_t k = 0; k < e[i].size(); ++k)
        EXPECT_NEAR(e[i][k].get<double>(), expected[i][k].get<double>(), 1e-5) << key << " text " << i << " dim " << k;
    }
  }
  EXPECT_GT(got["usage"]["prompt_tokens"].get<int>(), 0);

  const int exit_status = serve.stop();
  ASSERT_TRUE(WIFEXITED(exit_status)) << "bertcpp serve did not exit on SIGTERM";
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
}
