#pragma once
// runBatch: one nix-instantiate process evaluating a batch of attribute paths, watched for its
// memory use and for stop requests.

#include "evaluator/eval_workers.hh"
#include "evaluator/worker_expr.hh"

#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::evaluator {

/// What one worker process made of its batch: the results of the paths it finished, in order
/// (all of them, or those before the path it died on), and how it ended.
struct BatchOutcome {
    enum class End { Complete, Failed, OutOfMemory };
    std::vector<nlohmann::json> results;
    End end = End::Failed;
    std::string error; ///< Failed: Nix's message, about the path after the results
};

/// A stop request ended a worker process.
class EvalInterrupted : public Error {
public:
    using Error::Error;
};

/// Runs one worker process on `paths`; throws EvalInterrupted when `stop` is requested (the
/// process is killed within ~100 ms) and Error when nix-instantiate cannot be started.
BatchOutcome runBatch(const JobSource& src, const EvalWorkerOptions& opts, const std::vector<AttrPath>& paths,
                      bool catchErrors, const std::stop_token& stop, const Rewrites& rewrites = {});

/// Runs the listing process (listingExpression): results as there, Complete when every name
/// of the top level got its paths. Throws as runBatch does.
BatchOutcome runListing(const JobSource& src, const EvalWorkerOptions& opts, unsigned depth,
                        const std::stop_token& stop);

/// Nix's error from its stderr: colours removed, from the first "error:" line on, without
/// the --show-trace hint, at most ~4 KiB.
std::string nixErrorText(std::string_view stderrText);

} // namespace hydra::evaluator
