#pragma once
// Creating, changing and deleting Projects rows (and a declarative project's `.jobsets`
// jobset), each inside the caller's transaction.

#include "db/jobset_config.hh"
#include "util/error.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>

namespace hydra::db {

/// The project or jobset an action names does not exist.
class NotFoundError : public Error {
public:
    using Error::Error;
};

/// The action would take a name that another project or jobset holds.
class ConflictError : public Error {
public:
    using Error::Error;
};

/// The name of the hidden jobset that evaluates a declarative project's specification.
inline constexpr const char* declarativeJobsetName = ".jobsets";

/// The project's settings, or nullopt.
std::optional<ProjectConfig> loadProjectConfig(pqxx::transaction_base& t, const std::string& name);

/// Creates the project owned by `c.owner` (which must be a user: ConfigError "owner"
/// otherwise); ConflictError when the name is taken.
void createProject(pqxx::transaction_base& t, const ProjectConfig& c, int64_t now);

/// Replaces the settings of project `current`, renaming it to `c.name` (ConflictError when
/// taken; its jobsets, builds' metrics and members follow). An empty `c.owner` keeps the owner.
void updateProject(pqxx::transaction_base& t, const std::string& current, const ProjectConfig& c,
                   int64_t now);

/// Deletes the project with its jobsets, evaluations and builds; false if it did not exist.
bool deleteProject(pqxx::transaction_base& t, const std::string& name);

/// The project has a specification file (its jobsets are defined by `.jobsets`).
bool isDeclarativeProject(pqxx::transaction_base& t, const std::string& name);

} // namespace hydra::db
