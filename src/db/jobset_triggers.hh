#pragma once
// Asking the evaluator for an evaluation now: Jobsets.triggerTime set (the schema's trigger then
// sends jobset_scheduling_changed, which the evaluator listens to) and, when forced, forceEval,
// so that unchanged inputs still give a new evaluation. Also which jobsets a pushed repository
// belongs to, as Hydra's /api/push and forge webhooks match them.

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// A jobset by its names, shown as "project:jobset".
struct JobsetRef {
    std::string project, jobset;
    std::string str() const { return project + ":" + jobset; }
    bool operator==(const JobsetRef&) const = default;
};

/// A jobset as a trigger needs to know it.
struct JobsetTriggerInfo {
    JobsetRef ref;
    bool enabled = false; ///< the jobset (enabled != 0) and its project are enabled
};

/// The jobset, if it exists.
std::optional<JobsetTriggerInfo> findJobsetForTrigger(pqxx::transaction_base& t, const JobsetRef& ref);

/// Sets triggerTime = now, and forceEval when `force`; false when there is no such jobset.
bool triggerJobset(pqxx::transaction_base& t, const JobsetRef& ref, int64_t now, bool force);

/// Enabled jobsets of enabled projects with an input whose value is exactly `value` (Hydra's
/// `/api/push?repos=`), newest jobset first.
std::vector<JobsetRef> jobsetsWithInputValue(pqxx::transaction_base& t, const std::string& value);

/// Enabled jobsets of enabled projects whose flake URI mentions `github` and then `owner/repo`,
/// or with an input value mentioning `github.com` and then `owner/repo` (Hydra's push-github).
std::vector<JobsetRef> jobsetsOfGithubRepo(pqxx::transaction_base& t, const std::string& owner,
                                           const std::string& repo);

/// Enabled jobsets of enabled projects whose flake URI or an input value contains `url`
/// (Hydra's push-gitea, given the clone URL without ".git").
std::vector<JobsetRef> jobsetsMentioningUrl(pqxx::transaction_base& t, const std::string& url);

} // namespace hydra::db
