#include "db/web_jobs.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

#include <algorithm>

namespace hydra::db::web {

namespace {

// Each scope has statements of its own, prepared once per connection, so that each gets a
// plan for its indexes (a shared '$1 IS NULL OR ...' would share one generic plan). The two
// parameters are always bound; one a scope does not use is compared with itself, a constant
// test PostgreSQL evaluates once.
struct ScopeSql {
    std::string name;      ///< distinguishes the statements of each scope
    std::string condition; ///< on Builds b and Jobsets j, with $1 and $2
    std::string p1, p2;
};

ScopeSql scopeSql(const BuildScope& s)
{
    if (s.jobsetId && s.job)
        return {"job", "b.jobset_id = $1::integer AND b.job = $2", std::to_string(*s.jobsetId), *s.job};
    if (s.jobsetId)
        return {"jobset", "b.jobset_id = $1::integer AND $2::text = $2", std::to_string(*s.jobsetId), ""};
    if (s.project) return {"project", "j.project = $1 AND $2::text = $2", *s.project, ""};
    return {"farm", "$1::text = $1 AND $2::text = $2", "", ""};
}

std::string scopeFrom(const ScopeSql& s)
{
    return " FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE " + s.condition + " ";
}

std::vector<int64_t> ids(const pqxx::result& rows)
{
    std::vector<int64_t> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(r[0].as<int64_t>());
    return out;
}

constexpr const char* channelColumns =
    "SELECT b.id, b.job, b.system, b.nixName, b.releaseName, b.description, b.license, b.maintainers, "
    "o.name, o.path FROM Builds b JOIN BuildOutputs o ON o.build = b.id ";
constexpr const char* channelConditions =
    "AND o.path IS NOT NULL AND EXISTS (SELECT 1 FROM BuildProducts p WHERE p.build = b.id AND p.type = "
    "'nix-build') ORDER BY b.id, o.name";

std::optional<std::string> optionalText(const pqxx::field& f)
{
    if (f.is_null()) return std::nullopt;
    return f.as<std::string>();
}

// Rows of (build, output) in build order into builds; of one job and system, the newest wins.
std::vector<ChannelBuild> channelBuildsOf(const pqxx::result& rows)
{
    std::vector<ChannelBuild> out;
    for (const auto& r : rows) {
        auto id = r[0].as<int64_t>();
        if (out.empty() || out.back().id != id)
            out.push_back({.id = id,
                           .job = r[1].as<std::string>(),
                           .system = r[2].as<std::string>(),
                           .nixName = r[3].as<std::string>(),
                           .releaseName = optionalText(r[4]),
                           .description = optionalText(r[5]),
                           .license = optionalText(r[6]),
                           .maintainers = optionalText(r[7]),
                           .outputs = {}});
        out.back().outputs.emplace_back(r[8].as<std::string>(), r[9].as<std::string>());
    }
    std::ranges::stable_sort(
        out, [](auto& a, auto& b) { return std::tie(a.job, a.system) < std::tie(b.job, b.system); });
    std::vector<ChannelBuild> unique;
    for (auto& b : out) {
        if (!unique.empty() && unique.back().job == b.job && unique.back().system == b.system) {
            if (b.id > unique.back().id) unique.back() = std::move(b);
        } else {
            unique.push_back(std::move(b));
        }
    }
    return unique;
}

} // namespace

std::vector<ChannelBuild> latestChannelBuilds(pqxx::transaction_base& t, const BuildScope& scope)
{
    auto s = scopeSql(scope);
    std::string q = std::string(channelColumns) + "WHERE b.id IN (SELECT max(b.id)" + scopeFrom(s) +
                    "AND b.finished = 1 AND b.buildStatus = 0 GROUP BY b.jobset_id, b.job, b.system) " +
                    channelConditions;
    return channelBuildsOf(sql::execPrepared(t, "web_channel_latest_" + s.name, q, s.p1, s.p2));
}

std::vector<ChannelBuild> evalChannelBuilds(pqxx::transaction_base& t, int64_t evalId)
{
    std::string q = std::string(channelColumns) +
                    "JOIN JobsetEvalMembers m ON m.build = b.id WHERE m.eval = $1 AND b.finished = 1 AND "
                    "b.buildStatus = 0 " +
                    channelConditions;
    return channelBuildsOf(sql::execPrepared(t, "web_channel_eval", q, evalId));
}

std::optional<int64_t> latestSuccessful(pqxx::transaction_base& t, const BuildScope& scope,
                                        const std::optional<std::string>& system, bool inFinishedEval)
{
    auto s = scopeSql(scope);
    std::string q = "SELECT b.id" + scopeFrom(s) + "AND b.finished = 1 AND b.buildStatus = 0 " +
                    (system ? "AND b.system = $3 " : "AND $3::text = $3 ");
    if (inFinishedEval)
        q += "AND EXISTS (SELECT 1 FROM JobsetEvalMembers m WHERE m.build = b.id AND NOT EXISTS ("
             "  SELECT 1 FROM JobsetEvalMembers m2 JOIN Builds b2 ON b2.id = m2.build "
             "  WHERE m2.eval = m.eval AND b2.finished = 0)) ";
    q += "ORDER BY b.id DESC LIMIT 1";
    auto name = "web_jobs_latest_" + s.name + (system ? "_system" : "") + (inFinishedEval ? "_finished" : "");
    auto rows = sql::execPrepared(t, name, q, s.p1, s.p2, system.value_or(""));
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<int64_t>();
}

FinishedPage finishedBuilds(pqxx::transaction_base& t, const BuildScope& scope, int64_t offset, int64_t limit)
{
    FinishedPage page;
    auto s = scopeSql(scope);
    if (s.name == "farm")
        page.total = sql::execPrepared(t, "web_jobs_all_count_farm",
                                       "SELECT count FROM NrBuilds WHERE what = 'finished'")[0][0]
                         .as<int64_t>();
    else
        page.total = sql::execPrepared(t, "web_jobs_all_count_" + s.name,
                                       "SELECT count(*) FROM (SELECT 1" + scopeFrom(s) +
                                           "AND b.finished = 1 LIMIT $3) c",
                                       s.p1, s.p2, finishedCountCap)[0][0]
                         .as<int64_t>();
    if (offset >= page.total) return page;
    // A job's builds come newest first by id (its index); the others by the time they
    // finished, as Hydra lists them (IndexBuildsOnFinishedStopTime serves the farm).
    std::string order = scope.job ? "ORDER BY b.id DESC " : "ORDER BY b.stopTime DESC, b.id DESC ";
    page.ids = ids(
        sql::execPrepared(t, "web_jobs_all_" + s.name,
                          "SELECT b.id" + scopeFrom(s) + "AND b.finished = 1 " + order + "OFFSET $3 LIMIT $4",
                          s.p1, s.p2, offset, limit));
    return page;
}

JobBuilds jobBuilds(pqxx::transaction_base& t, int jobsetId, const std::string& job, int64_t limit,
                    int64_t queueLimit)
{
    JobBuilds out;
    out.finished =
        ids(sql::execPrepared(t, "web_jobs_last",
                              "SELECT id FROM Builds WHERE jobset_id = $1 AND job = $2 AND finished = 1 "
                              "ORDER BY id DESC LIMIT $3",
                              jobsetId, job, limit));
    out.queued =
        ids(sql::execPrepared(t, "web_jobs_queued",
                              "SELECT id FROM Builds WHERE jobset_id = $1 AND job = $2 AND finished = 0 "
                              "ORDER BY priority DESC, id LIMIT $3",
                              jobsetId, job, queueLimit));
    return out;
}

std::optional<int> lastFinishedStatus(pqxx::transaction_base& t, int jobsetId, const std::string& job)
{
    auto rows =
        sql::execPrepared(t, "web_jobs_shield",
                          "SELECT buildStatus FROM Builds WHERE jobset_id = $1 AND job = $2 AND finished = 1 "
                          "ORDER BY id DESC LIMIT 1",
                          jobsetId, job);
    if (rows.empty()) return std::nullopt;
    return sql::get<int>(rows[0][0]).value_or(1);
}

namespace {

// The value column of each series, as Hydra computes it: a build's time is that of the step
// that built its own derivation, and builds that produced nothing (closureSize 0: cached
// or substituted) are left out of the times too.
const char* seriesQuery(Series what)
{
    switch (what) {
    case Series::BuildTime:
        return "SELECT b.id, b.timestamp, s.stopTime - s.startTime FROM Builds b "
               "JOIN LATERAL (SELECT startTime, stopTime FROM BuildSteps st WHERE st.build = b.id "
               "  AND st.drvPath = b.drvPath AND st.startTime IS NOT NULL AND st.stopTime IS NOT NULL "
               "  ORDER BY st.stepnr DESC LIMIT 1) s ON true "
               "WHERE b.jobset_id = $1 AND b.job = $2 AND b.finished = 1 AND b.buildStatus = 0 "
               "AND b.closureSize != 0 ORDER BY b.id DESC LIMIT $3";
    case Series::ClosureSize:
        return "SELECT id, timestamp, closureSize FROM Builds WHERE jobset_id = $1 AND job = $2 AND finished "
               "= 1 "
               "AND buildStatus = 0 AND closureSize != 0 ORDER BY id DESC LIMIT $3";
    case Series::OutputSize:
        return "SELECT id, timestamp, size FROM Builds WHERE jobset_id = $1 AND job = $2 AND finished = 1 "
               "AND buildStatus = 0 AND size != 0 ORDER BY id DESC LIMIT $3";
    }
    return "";
}

std::vector<SeriesPoint> readSeries(const pqxx::result& rows, bool withUnit)
{
    std::vector<SeriesPoint> out;
    out.reserve(rows.size());
    for (const auto& r : rows)
        out.push_back({r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<double>(),
                       withUnit ? sql::get<std::string>(r[3]) : std::nullopt});
    std::reverse(out.begin(), out.end());
    return out;
}

} // namespace

std::vector<SeriesPoint> jobSeries(pqxx::transaction_base& t, int jobsetId, const std::string& job,
                                   Series what, int64_t limit)
{
    return readSeries(sql::execPrepared(t, "web_jobs_series_" + std::to_string(static_cast<int>(what)),
                                        seriesQuery(what), jobsetId, job, limit),
                      false);
}

std::vector<SeriesPoint> jobMetric(pqxx::transaction_base& t, const std::string& project,
                                   const std::string& jobset, const std::string& job, const std::string& name,
                                   int64_t limit)
{
    return readSeries(
        sql::execPrepared(t, "web_jobs_metric",
                          "SELECT build, timestamp, value, unit FROM BuildMetrics WHERE project = $1 "
                          "AND jobset = $2 AND job = $3 AND name = $4 "
                          "ORDER BY timestamp DESC, build DESC LIMIT $5",
                          project, jobset, job, name, limit),
        true);
}

} // namespace hydra::db::web
