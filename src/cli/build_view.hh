#pragma once
// How the shell verbs show builds: one line of text each, or Hydra's JSON field names.

#include "db/web_records.hh"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::cli {

/// "12  p:js:hello  x86_64-linux  queued|success|failed..." for tables of builds.
std::string buildLine(const db::web::Build& b);

/// The build's details, one "field: value" a line.
std::string buildDetails(const db::web::Build& b);

/// The build as the web answers it (Hydra's Build object), with globalpriority and keep.
nlohmann::json buildJson(const db::web::Build& b);

/// Build ids from the command line: each a positive number, else UsageError naming it.
std::vector<int64_t> parseBuildIds(const std::vector<std::string>& args);

/// Prints `json` (indented) and a newline on standard output.
void printJson(const nlohmann::json& json);

} // namespace hydra::cli
