#pragma once
// Projects and jobsets as `hydra up` defines its example (and tests define theirs): the
// project, its owner, the jobset and its inputs in one go.

#include <pqxx/transaction_base>
#include <string>
#include <utility>
#include <vector>

namespace hydra::db {

/// A jobset with everything needed to evaluate it.
struct JobsetSpec {
    /// One input with a single value (alternative 0).
    struct Input {
        std::string name;
        std::string type;
        std::string value;
    };
    std::string project;
    std::string jobset;
    std::string description;
    std::string owner = "admin"; ///< created, unable to log in, if it does not exist
    int type = 0;                ///< 0: nixExprInput/nixExprPath, 1: flake
    std::string nixExprInput;
    std::string nixExprPath;
    std::string flake;
    int checkInterval = 300;
    int enabled = 1;
    std::vector<Input> inputs;
};

/// Creates the jobset (and its project and owner when missing); a jobset that exists is left
/// as it is. Returns its id and whether it was created now.
std::pair<int, bool> createJobsetIfMissing(pqxx::transaction_base& t, const JobsetSpec& spec);

/// Gives the existing jobset `project`:`jobset` the input unless it has one of that name (whose
/// value is then left alone). Returns whether it was added.
bool addJobsetInputIfMissing(pqxx::transaction_base& t, const std::string& project, const std::string& jobset,
                             const JobsetSpec::Input& input);

} // namespace hydra::db
