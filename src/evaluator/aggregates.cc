#include "evaluator/aggregates.hh"

#include "evaluator/job_json.hh"
#include "evaluator/worker_batch.hh"
#include "nix/gc_roots.hh"
#include "util/logging.hh"

#include <algorithm>
#include <fmt/format.h>
#include <fnmatch.h>
#include <optional>
#include <set>
#include <utility>

namespace hydra::evaluator {

namespace {

/// One aggregate with named constituents while they are resolved.
struct Aggregate {
    std::set<std::string> deps;                ///< the jobs it names that evaluated
    std::map<std::string, std::string> broken; ///< named constituent -> why it is none
};

using Cycle = std::pair<std::string, std::string>;

class Planner {
public:
    explicit Planner(const JobsEvaluation& r)
    {
        for (const auto& j : r.jobs) jobs_.insert(j.job);
        for (const auto& e : r.errors) failed_.emplace(e.job, e.message);
        for (const auto& j : r.jobs)
            if (j.isAggregate && !j.constituentJobs.empty()) aggregates_.emplace(j.job, resolve(j));
    }

    AggregatePlan plan()
    {
        AggregatePlan p;
        auto order = orderBreakingCycles(p.errors);
        for (const auto& name : order) {
            auto& a = aggregates_.at(name);
            // An aggregate naming one that failed cannot be built either.
            for (const auto& d : a.deps)
                if (auto it = p.errors.find(d); it != p.errors.end()) a.broken[d] = it->second;
            if (!a.broken.empty()) {
                std::string text;
                for (const auto& [job, why] : a.broken) text += (text.empty() ? "" : "\n") + job + ": " + why;
                p.errors[name] = text;
                continue;
            }
            p.constituents[name] = {a.deps.begin(), a.deps.end()};
            p.order.push_back(name);
        }
        return p;
    }

private:
    Aggregate resolve(const db::EvalJob& j) const
    {
        Aggregate a;
        for (const auto& name : j.constituentJobs) {
            if (jobs_.contains(name)) {
                a.deps.insert(name);
            } else if (auto f = failed_.find(name); f != failed_.end()) {
                brokenReference(j.job, name, f->second, a);
            } else if (!j.globConstituents) {
                log::warn("aggregate job '{}' references non-existent job '{}'", j.job, name);
                a.broken[name] = "does not exist";
            } else if (!matchPattern(j.job, name, a)) {
                log::warn("aggregate job '{}' references constituent glob pattern '{}' with no matches",
                          j.job, name);
                a.broken[name] = "constituent glob pattern had no matches";
            }
        }
        return a;
    }

    // A pattern never selects the aggregate itself, or "*" would always be a cycle.
    bool matchPattern(const std::string& self, const std::string& pattern, Aggregate& a) const
    {
        bool found = false;
        auto matches = [&](const std::string& job) {
            return job != self && ::fnmatch(pattern.c_str(), job.c_str(), 0) == 0;
        };
        for (const auto& job : jobs_) {
            if (!matches(job)) continue;
            a.deps.insert(job);
            found = true;
        }
        for (const auto& [job, error] : failed_) {
            if (!matches(job)) continue;
            brokenReference(self, job, error, a);
            found = true;
        }
        return found;
    }

    static void brokenReference(const std::string& self, const std::string& job, const std::string& error,
                                Aggregate& a)
    {
        log::warn("aggregate job '{}' references broken job '{}': {}", self, job, error);
        a.broken[job] = error;
    }

    /// The aggregates in dependency order; the two ends of each cycle found on the way get
    /// Hydra's cycle error in `errors` and are left out.
    std::vector<std::string> orderBreakingCycles(std::map<std::string, std::string>& errors)
    {
        for (;;) {
            std::vector<std::string> order;
            std::set<std::string> done, onPath;
            std::optional<Cycle> cycle;
            for (const auto& [name, a] : aggregates_)
                if ((cycle = visit(name, nullptr, done, onPath, order))) break;
            if (!cycle) return order;
            auto [a, b] = *cycle;
            log::warn("Found dependency cycle between jobs '{}' and '{}'", a, b);
            errors[a] = errors[b] = fmt::format("Dependency cycle: {} <-> {}", a, b);
            aggregates_.erase(a);
            aggregates_.erase(b);
        }
    }

    std::optional<Cycle> visit(const std::string& name, const std::string* parent,
                               std::set<std::string>& done, std::set<std::string>& onPath,
                               std::vector<std::string>& order) const
    {
        if (onPath.contains(name)) return Cycle{name, parent ? *parent : name};
        if (!done.insert(name).second) return std::nullopt;
        onPath.insert(name);
        for (const auto& d : aggregates_.at(name).deps)
            if (aggregates_.contains(d))
                if (auto c = visit(d, &name, done, onPath, order)) return c;
        onPath.erase(name);
        order.push_back(name);
        return std::nullopt;
    }

    std::set<std::string> jobs_;
    std::map<std::string, std::string> failed_;
    std::map<std::string, Aggregate> aggregates_;
};

AttrPath splitJobName(const std::string& job)
{
    // Attributes whose names hold a dot are never jobs, so the dots separate the path.
    AttrPath path;
    size_t start = 0;
    for (size_t dot; (dot = job.find('.', start)) != std::string::npos; start = dot + 1)
        path.push_back(job.substr(start, dot - start));
    path.push_back(job.substr(start));
    return path;
}

/// The rewritten aggregates of `plan` as the workers report them; those that could not be
/// rewritten (not made by `derivation`, ...) get Nix's error in `errors`.
std::map<std::string, db::EvalJob> rewrite(const AggregatePlan& plan, const JobSource& src,
                                           const EvalWorkerOptions& opts, const std::stop_token& stop,
                                           std::map<std::string, std::string>& errors)
{
    Rewrites rewrites;
    for (const auto& [job, named] : plan.constituents)
        for (const auto& n : named) rewrites[job].push_back(splitJobName(n));
    std::vector<AttrPath> todo;
    for (const auto& job : plan.order) todo.push_back(splitJobName(job));
    std::map<std::string, db::EvalJob> out;
    for (size_t done = 0; done < todo.size();) {
        std::vector<AttrPath> rest(todo.begin() + static_cast<std::ptrdiff_t>(done), todo.end());
        auto o = runBatch(src, opts, rest, false, stop, rewrites);
        for (size_t i = 0; i < o.results.size() && i < rest.size(); ++i) {
            auto name = jobName(rest[i]);
            try {
                out.emplace(name, parseJobJson(name, o.results[i]));
            } catch (const Error& e) {
                errors[name] = e.what();
            }
        }
        done += o.results.size();
        if (o.end == BatchOutcome::End::Complete || done >= todo.size()) break;
        // Without tryEval the worker stops at the first aggregate that fails: that one's error.
        errors[jobName(todo[done++])] =
            o.end == BatchOutcome::End::OutOfMemory
                ? fmt::format("evaluation used more than {} MiB (evaluator_max_memory_size)",
                              opts.maxMemoryMiB)
                : o.error;
    }
    return out;
}

/// Gives every aggregate its rewritten derivation and its named constituents as derivations.
void applyRewrites(JobsEvaluation& r, const AggregatePlan& plan,
                   const std::map<std::string, db::EvalJob>& rewritten, const EvalWorkerOptions& opts)
{
    std::optional<nix::GcRoots> roots;
    if (opts.gcRootsDir && !rewritten.empty()) roots.emplace(*opts.gcRootsDir);
    std::map<std::string, std::string> newDrv, drvOf;
    for (auto& j : r.jobs) {
        if (auto it = rewritten.find(j.job); it != rewritten.end()) {
            newDrv[j.drvPath] = it->second.drvPath;
            j.drvPath = it->second.drvPath;
            j.outputs = it->second.outputs;
            if (roots) roots->add(j.drvPath);
        }
        drvOf[j.job] = j.drvPath;
    }
    for (auto& j : r.jobs) {
        if (!j.isAggregate) continue;
        // A constituent given as an aggregate's derivation means that aggregate as rewritten.
        for (auto& d : j.constituentDrvs)
            if (auto it = newDrv.find(d); it != newDrv.end()) d = it->second;
        if (auto it = plan.constituents.find(j.job); it != plan.constituents.end())
            for (const auto& named : it->second) j.constituentDrvs.push_back(drvOf.at(named));
        j.constituentJobs.clear();
    }
}

} // namespace

AggregatePlan planAggregates(const JobsEvaluation& result)
{
    return Planner(result).plan();
}

void resolveAggregates(JobsEvaluation& result, const JobSource& src, const EvalWorkerOptions& opts,
                       const std::stop_token& stop)
{
    auto plan = planAggregates(result);
    if (plan.errors.empty() && plan.order.empty()) return;
    auto errors = plan.errors;
    auto rewritten = rewrite(plan, src, opts, stop, errors);
    applyRewrites(result, plan, rewritten, opts);
    std::erase_if(result.jobs, [&](const db::EvalJob& j) { return errors.contains(j.job); });
    for (const auto& [job, error] : errors)
        result.errors.push_back(
            {job, fmt::format("aggregate job ‘{}’ failed with the error: {}", job, error)});
    std::sort(result.errors.begin(), result.errors.end(), [](auto& a, auto& b) { return a.job < b.job; });
}

} // namespace hydra::evaluator
