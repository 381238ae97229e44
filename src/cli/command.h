// How a subcommand joins the `bertcpp` CLI: each src/cli/<name>.cpp defines a setup function and
// registers it with a static `const bool registered = register_command({...});`. The setup
// function adds the subcommand's options to `app` and returns the function that runs it; that
// function returns the process exit code (0 = success). Errors are thrown as bertcpp::Error and
// turned into "bertcpp: error: <message>" plus the error's exit code by main.cpp.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace bertcpp::cli {

struct Command {
  std::string name;
  std::string description;
  // Lower `order` is listed first in --help.
  int order = 100;
  std::function<std::function<int()>(CLI::App& app)> setup;
};

bool register_command(Command command);
const std::vector<Command>& registered_commands();

}  // namespace bertcpp::cli
