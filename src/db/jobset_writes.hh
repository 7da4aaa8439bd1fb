#pragma once
// Creating, changing, renaming and deleting Jobsets rows with their JobsetInputs and
// JobsetInputAlts, each inside the caller's transaction.

#include "db/jobset_config.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// Whether a write sets triggerTime as Hydra's web forms do (an enabled jobset with a check
/// interval is due at once; a disabled one is not), or leaves it (declarative updates, which
/// repeat at every check of the specification and must not re-trigger the jobsets each time).
enum class Trigger { AsHydraWeb, Keep };

/// The jobset's settings and inputs, or nullopt.
std::optional<JobsetConfig> loadJobsetConfig(pqxx::transaction_base& t, const std::string& project,
                                             const std::string& name);

/// Creates the jobset `c.name` in `project` (NotFoundError without the project, ConflictError
/// when the name is taken); returns its id. An enabled jobset with a check interval is
/// triggered now, as in Hydra.
int createJobset(pqxx::transaction_base& t, const std::string& project, const JobsetConfig& c, int64_t now,
                 Trigger trigger = Trigger::AsHydraWeb);

/// Replaces the settings and inputs of jobset `current`. A rename to `c.name` (ConflictError
/// when taken) is recorded in JobsetRenames so that old links still lead to it.
void updateJobset(pqxx::transaction_base& t, const std::string& project, const std::string& current,
                  const JobsetConfig& c, int64_t now, Trigger trigger = Trigger::AsHydraWeb);

/// Creates `c` or, when a jobset of that name exists, updates it; true if created.
bool upsertJobset(pqxx::transaction_base& t, const std::string& project, const JobsetConfig& c, int64_t now,
                  Trigger trigger = Trigger::AsHydraWeb);

/// Deletes the jobset with its evaluations and builds; false if it did not exist.
bool deleteJobset(pqxx::transaction_base& t, const std::string& project, const std::string& name);

/// Disables and hides every jobset of `project` not named in `keep` (declarative jobsets that
/// left the specification); returns their names.
std::vector<std::string> disableJobsetsExcept(pqxx::transaction_base& t, const std::string& project,
                                              const std::vector<std::string>& keep);

/// The jobset a former name `from` of `project` was renamed to, if any.
std::optional<std::string> renamedJobset(pqxx::transaction_base& t, const std::string& project,
                                         const std::string& from);

/// The output path of the newest successful build of job `job` in jobset `jobsetId` (the
/// `jobsets` job of a generated declarative specification), if any.
std::optional<std::string> newestSuccessfulOutput(pqxx::transaction_base& t, int jobsetId,
                                                  const std::string& job);

/// The jobset names of a project, by name (hidden ones too).
std::vector<std::string> jobsetNames(pqxx::transaction_base& t, const std::string& project);

} // namespace hydra::db
