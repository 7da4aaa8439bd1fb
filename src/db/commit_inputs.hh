#pragma once
// The evaluations a build belongs to, with the inputs they used: where commit-status plugins
// find the repositories and revisions to report on.

#include "db/build_results.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::db {

/// One JobsetEvalInputs row (the first alternative of an input).
struct EvalInput {
    std::string name;
    std::string type;
    std::optional<std::string> uri;
    std::optional<std::string> revision;
    std::optional<std::string> value;
};

/// An evaluation that contains a build, with its flake (if any) and its inputs by name.
struct BuildEvaluation {
    int64_t id = 0;
    std::optional<std::string> flake;
    std::vector<EvalInput> inputs;

    /// The input called `name`, or nullptr.
    const EvalInput* input(std::string_view name) const;
};

/// Every evaluation that has `build` as a member (JobsetEvalMembers), by id, each with the
/// altNr 0 row of its inputs. `onlyEval` restricts the answer to that one evaluation.
std::vector<BuildEvaluation> evaluationsOfBuild(pqxx::transaction_base& t, BuildId build,
                                                std::optional<int64_t> onlyEval = std::nullopt);

} // namespace hydra::db
