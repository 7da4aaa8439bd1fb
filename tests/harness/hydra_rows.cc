#include "harness/hydra_rows.hh"

namespace hydra::test {

int HydraRows::jobset(const std::string& name, int shares)
{
    pqxx::work t(c_);
    t.exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('root', '', '!') ON CONFLICT DO "
           "NOTHING");
    t.exec(
        "INSERT INTO Projects (name, displayName, owner) VALUES ('p', 'P', 'root') ON CONFLICT DO NOTHING");
    auto r = t.exec_params1("INSERT INTO Jobsets (project, name, nixExprInput, nixExprPath, emailOverride, "
                            "schedulingShares) VALUES ('p', $1, 'src', 'release.nix', '', $2) RETURNING id",
                            name, shares);
    t.commit();
    return r[0].as<int>();
}

long long HydraRows::queueBuild(int jobsetId, const std::string& job, const std::string& drvPath,
                                const std::string& outPath, int globalPriority, int timeout)
{
    pqxx::work t(c_);
    auto r =
        t.exec_params1("INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system, "
                       "priority, globalPriority, maxsilent, timeout) "
                       "VALUES (0, extract(epoch from now())::bigint, $1, $2, $2, $3, 'x86_64-linux', 0, $4, "
                       "3600, $5) RETURNING id",
                       jobsetId, job, drvPath, globalPriority, timeout);
    auto id = r[0].as<long long>();
    t.exec_params("INSERT INTO BuildOutputs (build, name, path) VALUES ($1, 'out', $2)", id, outPath);
    t.commit();
    return id;
}

void HydraRows::announceAdded(long long lowestId)
{
    pqxx::work t(c_);
    t.exec_params("SELECT pg_notify('builds_added', $1)", std::to_string(lowestId));
    t.commit();
}

} // namespace hydra::test
