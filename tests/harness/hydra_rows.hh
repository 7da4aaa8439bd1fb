#pragma once
// HydraRows: inserts what an evaluator would (user, project, jobset, queued builds) by plain SQL.

#include <pqxx/pqxx>
#include <string>

namespace hydra::test {

/// Writes Hydra rows for tests of the daemons that read them.
class HydraRows {
public:
    explicit HydraRows(pqxx::connection& c) : c_(c) {}

    /// A project "p" owned by user "root" with one jobset; returns the jobset id.
    int jobset(const std::string& name = "js", int shares = 100);
    /// A queued build of `drvPath` with one output "out" at `outPath`; returns its id.
    long long queueBuild(int jobsetId, const std::string& job, const std::string& drvPath,
                         const std::string& outPath, int globalPriority = 0, int timeout = 36000);
    /// NOTIFY builds_added with the given (lowest new) build id, as an evaluator does.
    void announceAdded(long long lowestId);

private:
    pqxx::connection& c_;
};

} // namespace hydra::test
