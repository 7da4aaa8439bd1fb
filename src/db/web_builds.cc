#include "db/web_builds.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

#include <unordered_map>

namespace hydra::db::web {

namespace {

constexpr const char* buildColumns =
    "b.id, b.finished, b.timestamp, b.startTime, b.stopTime, p.name AS project, j.name AS jobset, b.job, "
    "b.nixName, b.system, b.drvPath, b.description, b.license, b.homepage, b.maintainers, b.jobset_id, "
    "b.priority, b.globalPriority, b.buildStatus, b.releaseName, b.isCurrent, b.isChannel, "
    "b.isCachedBuild, b.keep, b.size, b.closureSize";

// The build of a row read by a later statement; null when it was not among the builds read
// first (the web server reads without one snapshot: a build may come or go in between).
Build* buildOf(std::unordered_map<int64_t, Build*>& byId, const pqxx::field& id)
{
    auto it = byId.find(id.as<int64_t>());
    return it == byId.end() ? nullptr : it->second;
}

std::string orEmpty(const pqxx::field& f)
{
    return f.is_null() ? std::string() : f.as<std::string>();
}

Build readBuild(const pqxx::row& r)
{
    Build b;
    b.id = r["id"].as<int64_t>();
    b.finished = r["finished"].as<int>() != 0;
    b.timestamp = r["timestamp"].as<int64_t>();
    b.startTime = sql::get<int64_t>(r["starttime"]);
    b.stopTime = sql::get<int64_t>(r["stoptime"]);
    b.project = r["project"].as<std::string>();
    b.jobset = r["jobset"].as<std::string>();
    b.job = r["job"].as<std::string>();
    b.nixName = orEmpty(r["nixname"]);
    b.system = r["system"].as<std::string>();
    b.drvPath = r["drvpath"].as<std::string>();
    b.description = orEmpty(r["description"]);
    b.license = orEmpty(r["license"]);
    b.homepage = orEmpty(r["homepage"]);
    b.maintainers = orEmpty(r["maintainers"]);
    b.jobsetId = r["jobset_id"].as<int>();
    b.priority = r["priority"].as<int>();
    b.globalPriority = r["globalpriority"].as<int>();
    b.buildStatus = sql::get<int>(r["buildstatus"]);
    b.releaseName = sql::get<std::string>(r["releasename"]);
    b.isCurrent = sql::get<int>(r["iscurrent"]).value_or(0) != 0;
    b.isChannel = r["ischannel"].as<int>() != 0;
    b.isCachedBuild = sql::get<int>(r["iscachedbuild"]).value_or(0) != 0;
    b.keep = r["keep"].as<int>() != 0;
    b.size = sql::get<int64_t>(r["size"]);
    b.closureSize = sql::get<int64_t>(r["closuresize"]);
    return b;
}

void readOutputs(pqxx::transaction_base& t, const std::string& ids, std::unordered_map<int64_t, Build*>& byId)
{
    auto rows =
        sql::execPrepared(t, "web_builds_1",
                          "SELECT build, name, path FROM BuildOutputs WHERE build = ANY($1::integer[])", ids);
    for (const auto& r : rows)
        if (auto* b = buildOf(byId, r[0])) b->outputs[r[1].as<std::string>()] = sql::get<std::string>(r[2]);
}

void readProducts(pqxx::transaction_base& t, const std::string& ids,
                  std::unordered_map<int64_t, Build*>& byId)
{
    auto rows = sql::execPrepared(
        t, "web_builds_2",
        "SELECT build, productnr, type, subtype, name, path, defaultPath, fileSize, sha256hash "
        "FROM BuildProducts WHERE build = ANY($1::integer[]) ORDER BY build, productnr",
        ids);
    for (const auto& r : rows) {
        BuildProduct p;
        p.productNr = r[1].as<int>();
        p.type = r[2].as<std::string>();
        p.subtype = r[3].as<std::string>();
        p.name = r[4].as<std::string>();
        p.path = orEmpty(r[5]);
        p.defaultPath = orEmpty(r[6]);
        p.fileSize = sql::get<int64_t>(r[7]);
        p.sha256hash = sql::get<std::string>(r[8]);
        if (auto* b = buildOf(byId, r[0])) b->products.push_back(std::move(p));
    }
}

void readMetrics(pqxx::transaction_base& t, const std::string& ids, std::unordered_map<int64_t, Build*>& byId)
{
    auto rows = sql::execPrepared(t, "web_builds_3",
                                  "SELECT build, name, unit, value FROM BuildMetrics WHERE build = "
                                  "ANY($1::integer[]) ORDER BY build, name",
                                  ids);
    for (const auto& r : rows)
        if (auto* b = buildOf(byId, r[0]))
            b->metrics.push_back({r[1].as<std::string>(), orEmpty(r[2]), r[3].as<double>()});
}

void readEvals(pqxx::transaction_base& t, const std::string& ids, std::unordered_map<int64_t, Build*>& byId)
{
    auto rows = sql::execPrepared(
        t, "web_builds_4",
        "SELECT build, eval FROM JobsetEvalMembers WHERE build = ANY($1::integer[]) ORDER BY build, eval",
        ids);
    for (const auto& r : rows)
        if (auto* b = buildOf(byId, r[0])) b->evals.push_back(r[1].as<int64_t>());
}

} // namespace

std::vector<Build> loadBuilds(pqxx::transaction_base& t, std::span<const int64_t> ids, BuildDetail detail)
{
    std::vector<Build> builds;
    if (ids.empty()) return builds;
    auto idArray = sql::intArray(ids);
    auto rows = sql::execPrepared(t, "web_builds_5",
                                  std::string("SELECT ") + buildColumns +
                                      " FROM unnest($1::integer[]) WITH ORDINALITY AS want(id, ord) "
                                      "JOIN Builds b ON b.id = want.id JOIN Jobsets j ON j.id = b.jobset_id "
                                      "JOIN Projects p ON p.name = j.project ORDER BY want.ord",
                                  idArray);
    builds.reserve(rows.size());
    for (const auto& r : rows) builds.push_back(readBuild(r));
    if (detail == BuildDetail::Summary) return builds;
    std::unordered_map<int64_t, Build*> byId;
    for (auto& b : builds) byId.emplace(b.id, &b);
    readOutputs(t, idArray, byId);
    readProducts(t, idArray, byId);
    readMetrics(t, idArray, byId);
    readEvals(t, idArray, byId);
    return builds;
}

std::optional<Build> findBuild(pqxx::transaction_base& t, int64_t id)
{
    auto builds = loadBuilds(t, std::span<const int64_t>(&id, 1));
    if (builds.empty()) return std::nullopt;
    return std::move(builds.front());
}

std::vector<BuildStep> buildSteps(pqxx::transaction_base& t, int64_t buildId)
{
    std::vector<BuildStep> steps;
    auto rows =
        sql::execPrepared(t, "web_builds_6",
                          "SELECT stepnr, type, busy, drvPath, machine, system, errorMsg, status, startTime, "
                          "stopTime, propagatedFrom FROM BuildSteps WHERE build = $1 ORDER BY stepnr",
                          buildId);
    for (const auto& r : rows) {
        BuildStep s;
        s.build = buildId;
        s.stepNr = r[0].as<int>();
        s.type = r[1].as<int>();
        s.busy = r[2].as<int>();
        s.drvPath = r[3].as<std::string>();
        s.machine = orEmpty(r[4]);
        s.system = orEmpty(r[5]);
        s.errorMsg = orEmpty(r[6]);
        s.status = sql::get<int>(r[7]);
        s.startTime = sql::get<int64_t>(r[8]);
        s.stopTime = sql::get<int64_t>(r[9]);
        s.propagatedFrom = sql::get<int64_t>(r[10]);
        steps.push_back(std::move(s));
    }
    auto outs = sql::execPrepared(
        t, "web_builds_7", "SELECT stepnr, name, path FROM BuildStepOutputs WHERE build = $1", buildId);
    std::unordered_map<int, BuildStep*> byNr;
    for (auto& s : steps) byNr.emplace(s.stepNr, &s);
    for (const auto& r : outs)
        if (auto it = byNr.find(r[0].as<int>()); it != byNr.end())
            it->second->outputs[r[1].as<std::string>()] = sql::get<std::string>(r[2]);
    return steps;
}

std::vector<int64_t> constituentIds(pqxx::transaction_base& t, int64_t aggregateId)
{
    std::vector<int64_t> ids;
    for (const auto& r : sql::execPrepared(
             t, "web_builds_8",
             "SELECT constituent FROM AggregateConstituents WHERE aggregate = $1 ORDER BY constituent",
             aggregateId))
        ids.push_back(r[0].as<int64_t>());
    return ids;
}

std::vector<int64_t> inputBuildIds(pqxx::transaction_base& t, int64_t buildId)
{
    std::vector<int64_t> ids;
    for (const auto& r : sql::execPrepared(
             t, "web_builds_9",
             "SELECT DISTINCT dependency FROM BuildInputs WHERE build = $1 AND dependency IS NOT NULL "
             "ORDER BY dependency",
             buildId))
        ids.push_back(r[0].as<int64_t>());
    return ids;
}

} // namespace hydra::db::web
