#pragma once
// The options of `hydra project` and `hydra jobset`: `--FIELD VALUE` (or `--FIELD=VALUE`)
// with Hydra's JSON field names, applied to a JSON body that the web's parser then checks, so
// that the shell and the web accept and refuse exactly the same configurations.

#include "cli/args.hh"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace hydra::cli {

/// A subcommand's arguments split into positional ones and the options applied to a body.
struct ConfigOptions {
    std::vector<std::string> positional;
    nlohmann::json fields = nlohmann::json::object(); ///< --FIELD VALUE, by field name
    std::vector<std::string> inputs;                  ///< --input NAME=TYPE:VALUE, as given
    std::vector<std::string> removedInputs;           ///< --remove-input NAME
    bool json = false;                                ///< --json
};

/// Reads every remaining argument. `fields` are the accepted field options; `--input` and
/// `--remove-input` only when `withInputs`. Throws UsageError naming an unknown option or a
/// missing value.
ConfigOptions readConfigOptions(Args& args, const std::set<std::string>& fields, bool withInputs);

/// Applies the options to `body`: fields replace their value, inputs are added or replaced
/// (an input of type string keeps spaces in its value) and removed. UsageError names a
/// malformed --input.
void applyConfigOptions(const ConfigOptions& o, nlohmann::json& body);

/// Prints `value` as indented JSON on stdout.
void printConfigJson(const nlohmann::json& value);

} // namespace hydra::cli
