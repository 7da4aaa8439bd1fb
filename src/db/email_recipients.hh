#pragma once
// What the e-mail plugin reads about a finished build: its jobset's mail settings, the
// maintainers, and the status of the previous build of the same job.

#include "db/build_results.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>

namespace hydra::db {

/// One build as the e-mail plugin sees it (Hydra's EmailNotification fields).
struct EmailBuild {
    BuildId id = 0;
    bool finished = false;
    std::string project;
    std::string jobset;
    std::string job;
    std::string system;
    std::optional<int> buildStatus;
    bool enableEmail = false;  ///< Jobsets.enableEmail
    std::string emailOverride; ///< Jobsets.emailOverride: comma-separated; "" means the maintainers
    std::string maintainers;   ///< Builds.maintainers: comma-separated, from the job's meta
    /// Status of the previous finished build of the same job and system in the same jobset,
    /// not counting aborted (3) and cancelled (4) ones; nullopt when this is the first.
    std::optional<int> previousStatus;
};

/// The build with id `id`, or nullopt if it does not exist (deleted meanwhile).
std::optional<EmailBuild> loadEmailBuild(pqxx::transaction_base& t, BuildId id);

} // namespace hydra::db
