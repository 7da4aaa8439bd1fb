#include "harness/web_rows.hh"

#include <fmt/format.h>

namespace hydra::test {

void WebRows::project(const std::string& name, bool hidden)
{
    pqxx::work t(c_);
    t.exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('root', '', '!') ON CONFLICT DO "
           "NOTHING");
    t.exec_params("INSERT INTO Projects (name, displayName, owner, hidden, description) "
                  "VALUES ($1, $1, 'root', $2, 'the project ' || $1) ON CONFLICT DO NOTHING",
                  name, hidden ? 1 : 0);
    t.commit();
}

int WebRows::jobset(const std::string& project, const std::string& name)
{
    this->project(project);
    pqxx::work t(c_);
    auto r =
        t.exec_params1("INSERT INTO Jobsets (project, name, nixExprInput, nixExprPath, emailOverride, "
                       "description) VALUES ($1, $2, 'src', 'release.nix', '', 'jobset ' || $2) RETURNING id",
                       project, name);
    t.exec_params("INSERT INTO JobsetInputs (project, jobset, name, type) VALUES ($1, $2, 'src', 'path')",
                  project, name);
    t.exec_params(
        "INSERT INTO JobsetInputAlts (project, jobset, input, altnr, value) VALUES ($1, $2, 'src', 0, "
        "'/srv/src')",
        project, name);
    t.commit();
    return r[0].as<int>();
}

int64_t WebRows::build(int jobsetId, const BuildSpec& s)
{
    auto n = ++counter_;
    auto hash = fmt::format("{:032d}", n);
    for (auto& c : hash) c = "0123456789abcdfghijklmnpqrsvwxyz"[(c - '0') + 10];
    auto drv = s.drvPath.empty() ? fmt::format("/nix/store/{}-{}.drv", hash, s.nixName) : s.drvPath;
    auto out = s.outPath.empty() ? fmt::format("/nix/store/{}-{}", hash, s.nixName) : s.outPath;
    pqxx::work t(c_);
    auto r = t.exec_params1(
        "INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system, isCurrent, "
        "startTime, stopTime, buildStatus) VALUES ($1::integer, $2, $3, $4, $5, $6, $7, $8, "
        "CASE WHEN $1 = 1 THEN $9::integer END, CASE WHEN $1 = 1 THEN $10::integer END, "
        "CASE WHEN $1 = 1 THEN $11::integer END) RETURNING id",
        s.finished ? 1 : 0, s.timestamp, jobsetId, s.job, s.nixName, drv, s.system, s.isCurrent, s.startTime,
        s.stopTime, s.buildStatus);
    auto id = r[0].as<int64_t>();
    t.exec_params("INSERT INTO BuildOutputs (build, name, path) VALUES ($1, 'out', $2)", id, out);
    t.commit();
    return id;
}

int64_t WebRows::eval(int jobsetId, const std::vector<int64_t>& builds, int64_t timestamp)
{
    pqxx::work t(c_);
    auto r =
        t.exec_params1("INSERT INTO JobsetEvals (jobset_id, timestamp, checkoutTime, evalTime, hasNewBuilds, "
                       "hash, nrBuilds) VALUES ($1, $2, 1, 2, 1, md5(random()::text), $3) RETURNING id",
                       jobsetId, timestamp, static_cast<int>(builds.size()));
    auto id = r[0].as<int64_t>();
    for (auto b : builds)
        t.exec_params("INSERT INTO JobsetEvalMembers (eval, build, isNew) VALUES ($1, $2, 1)", id, b);
    t.exec_params("INSERT INTO JobsetEvalInputs (eval, name, altNr, type, uri, revision, value) "
                  "VALUES ($1, 'src', 0, 'git', 'https://example.org/src.git', 'abcdef0123456789', NULL)",
                  id);
    t.commit();
    return id;
}

void WebRows::step(int64_t build, int stepNr, const std::string& drvPath, int status,
                   const std::string& machine, int64_t start, int64_t stop)
{
    pqxx::work t(c_);
    t.exec_params(
        "INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, status, startTime, stopTime, machine, "
        "system) VALUES ($1, $2, 0, $3, 0, $4, $5, $6, $7, 'x86_64-linux')",
        build, stepNr, drvPath, status, start, stop, machine);
    t.commit();
}

} // namespace hydra::test
