#pragma once
// ProjectConfig and JobsetConfig: what a user sets on a project or jobset (web, CLI or a
// declarative specification), parsed from Hydra's JSON and checked field by field.

#include "util/error.hh"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::db {

/// A field of a project or jobset configuration is missing or malformed; the message names it.
class ConfigError : public Error {
public:
    ConfigError(std::string field, const std::string& msg) : Error(msg), field_(std::move(field)) {}
    const std::string& field() const { return field_; }

private:
    std::string field_;
};

/// The settable columns of a Projects row.
struct ProjectConfig {
    std::string name, displayName, description, homepage;
    std::string owner; ///< empty: keep the current owner (or the creator's name on creation)
    bool enabled = true, hidden = false, enableDynamicRunCommand = false;
    std::string declFile, declType, declValue; ///< all empty unless declarative
};

/// One input of a jobset with its single value (alternative 0).
struct JobsetInputConfig {
    std::string name, type, value;
    bool emailResponsible = false;
};

/// The settable columns of a Jobsets row and its inputs. Defaults are the schema's.
struct JobsetConfig {
    std::string name, description;
    int type = 0; ///< 0: nixExprInput/nixExprPath and inputs, 1: flake
    std::string nixExprInput, nixExprPath, flake;
    int enabled = 1; ///< 0 disabled, 1 enabled, 2 one-shot, 3 one-at-a-time
    bool hidden = false, enableEmail = true, enableDynamicRunCommand = false;
    int keepNr = 3, checkInterval = 300, schedulingShares = 100;
    std::string emailOverride;
    std::vector<JobsetInputConfig> inputs; ///< by name; only for type 0
};

/// Hydra's allowed characters (CatalystUtils): project and jobset names, input names,
/// relative Nix expression paths (no "." or ".." component) and user names.
bool isProjectName(std::string_view s);
bool isJobsetName(std::string_view s);
bool isInputName(std::string_view s);
bool isRelativePath(std::string_view s);
bool isUserName(std::string_view s);

/// The input types the evaluator can fetch.
const std::vector<std::string>& knownInputTypes();

/// A project from the body of `PUT /project/P` (Hydra's fields: name, displayname,
/// description, homepage, owner, enabled, visible, enable_dynamic_run_command, declarative
/// {file, type, value}). A flag that is absent is off, as with Hydra's check boxes.
/// `urlName` is the name unless the body renames it. Throws ConfigError.
ProjectConfig parseProjectConfig(const nlohmann::json& body, const std::string& urlName);

/// A jobset from the body of `PUT /jobset/P/J` (Hydra's fields: name, description, type,
/// nixexprinput, nixexprpath, flake, enabled, visible, keepnr, checkinterval,
/// schedulingshares, enableemail, emailoverride, enable_dynamic_run_command, inputs {name:
/// {type, value, emailresponsible}}). Absent flags are off and absent numbers 0, as in Hydra
/// (schedulingshares: 1). Throws ConfigError.
JobsetConfig parseJobsetConfig(const nlohmann::json& body, const std::string& urlName);

/// One jobset of a declarative specification file (`{"NAME": {...}}`): Hydra's declarative
/// keys (hidden instead of visible); absent keys take the schema's defaults; unknown keys are
/// refused. Throws ConfigError.
JobsetConfig parseDeclarativeJobset(const std::string& name, const nlohmann::json& spec);

/// Checks what every source shares: names, type, path or flake, ranges, inputs. Throws.
void validate(const JobsetConfig& c);
void validate(const ProjectConfig& c);

/// The Hydra JSON body that parses back to `c` (CLI updates and the edit forms start from it).
nlohmann::json toBody(const ProjectConfig& c);
nlohmann::json toBody(const JobsetConfig& c);

/// A JSON value as a flag: true, 1, "1", "true", "on" are true; false, 0, "", "0", "false",
/// "off" and null false; anything else is a ConfigError naming `field`.
bool flagValue(const nlohmann::json& v, const std::string& field);
/// A JSON number or numeric string as an integer; ConfigError naming `field` otherwise.
int intValue(const nlohmann::json& v, const std::string& field);

} // namespace hydra::db
