#pragma once
// The builds that 'build' inputs of jobsets refer to: the latest successful build of a job.

#include "db/eval_records.hh"

#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace hydra::db {

/// The highest-id build of project:jobset:job that finished successfully (finished = 1,
/// buildStatus = 0), with its "out" output (else its first output by name); nullopt if none.
std::optional<BuildInputSource> latestSuccessfulBuild(pqxx::transaction_base& t, const std::string& project,
                                                      const std::string& jobset, const std::string& job);

} // namespace hydra::db
