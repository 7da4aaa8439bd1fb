#pragma once
// Named constituents of aggregate jobs, resolved as Hydra resolves them once every job is known:
// exact job names or (with _hydraGlobConstituents) fnmatch patterns, constituents that failed
// or do not exist, and dependency cycles between aggregates, each an error of the aggregate
// worded as Hydra words it.

#include "evaluator/eval_workers.hh"
#include "evaluator/job_source.hh"

#include <map>
#include <stop_token>
#include <string>
#include <vector>

namespace hydra::evaluator {

/// What the named constituents of an evaluation's aggregates come to.
struct AggregatePlan {
    /// Aggregate job -> Hydra's error for it, e.g. "x: does not exist" or
    /// "Dependency cycle: a <-> b".
    std::map<std::string, std::string> errors;
    /// Aggregate job -> the jobs it names (patterns expanded), for those without an error.
    std::map<std::string, std::vector<std::string>> constituents;
    /// The aggregates of `constituents`, each after the aggregates it names.
    std::vector<std::string> order;
};

/// Resolves the named constituents of `result`'s aggregates. Pure: logs what Hydra logs.
AggregatePlan planAggregates(const JobsEvaluation& result);

/// Resolves the named constituents of `result`'s aggregates and rewrites those aggregates'
/// derivations (one more worker process) so that their named constituents are inputs. Every
/// constituent is then given in constituentDrvs; an aggregate that cannot be resolved or
/// rewritten becomes the error "aggregate job ‘X’ failed with the error: ...".
void resolveAggregates(JobsEvaluation& result, const JobSource& src, const EvalWorkerOptions& opts,
                       const std::stop_token& stop);

} // namespace hydra::evaluator
