#pragma once
// The Nix expression a worker process evaluates, and the nix-instantiate command that runs it.

#include "evaluator/eval_workers.hh"
#include "evaluator/job_source.hh"

#include <map>
#include <string>
#include <vector>

namespace hydra::evaluator {

/// An attribute path below the jobset's top level, e.g. {"tests", "foo"}; empty: the top level.
using AttrPath = std::vector<std::string>;

/// "tests.foo": how a job is named.
std::string jobName(const AttrPath& path);

/// Per aggregate job, the jobs its named constituents resolved to (see aggregates.hh).
using Rewrites = std::map<std::string, std::vector<AttrPath>>;

/// Marks a result line on the worker's stderr: "trace: @hydra-eval-result <json>".
inline constexpr const char* resultMarker = "trace: @hydra-eval-result ";

/// The expression (fed on stdin) that evaluates `paths` of the jobset in order, printing one
/// result line per path to stderr as soon as it is known: JSON with "i" (the path's index) and
/// "t": "job" (and the job's fields), "set" (and "names"), "skip" or, when `catchErrors` and
/// the path threw, "failed". An aggregate among `rewrites` is reported with the jobs listed
/// there added to its derivation's inputs.
std::string workerExpression(const JobSource& src, const std::vector<AttrPath>& paths, bool catchErrors,
                             const Rewrites& rewrites = {});

/// The expression that lists the jobset's jobs before the workers share them out: result 0 is
/// the top level as workerExpression gives it ("set" and its "names"; it throws when the top
/// level is no set), then result i (i >= 1) is "t": "paths" with "paths", the paths to evaluate
/// for the i-th name: sets that are not derivations opened `depth` levels deep, anything else
/// (or a value that throws) the path itself.
std::string listingExpression(const JobSource& src, unsigned depth);

/// The nix-instantiate command line: read-write mode (the .drv files are written), the
/// jobset's arguments and the options' Nix settings.
std::vector<std::string> workerCommand(const JobSource& src, const EvalWorkerOptions& opts);

} // namespace hydra::evaluator
