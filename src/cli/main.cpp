// bertcpp: the command-line entry point. Subcommands live one per file in src/cli/.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>

#include "cli/command.h"
#include "io/json_util.h"
#include "bertcpp/error.h"

namespace bertcpp::cli {

static std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& registered_commands() { return registry(); }

}  // namespace bertcpp::cli

int main(int argc, char** argv) {
  using namespace bertcpp;
  CLI::App app{"bertcpp: run BERT-family models locally with the exact results of Hugging Face transformers.\n"
               "Exit codes: 0 ok, 1 internal error, 2 usage/invalid argument, 3 invalid file, 4 not found,\n"
               "5 network, 6 unsupported, 7 unauthorized.",
               "bertcpp"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "bertcpp 0.1.0");

  auto commands = cli::registered_commands();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const cli::Command& a, const cli::Command& b) { return a.order < b.order; });
  std::map<CLI::App*, std::function<int()>> runners;
  for (const auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners[sub] = c.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "bertcpp: error: %s\n", io::printable(e.what()).c_str());  // names come from files
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bertcpp: internal error: %s\n", io::printable(e.what()).c_str());
    return 1;
  }
}
