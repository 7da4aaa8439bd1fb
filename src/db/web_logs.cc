#include "db/web_logs.hh"

#include "db/prepared.hh"

#include "db/sql_values.hh"

namespace hydra::db::web {

namespace {

// Build steps (type 0); substitution steps (type 1) have no log.
constexpr const char* stepColumns = "stepnr, drvPath, busy";

LogStep readStep(const pqxx::row& r)
{
    return {.stepNr = r[0].as<int>(), .drvPath = r[1].as<std::string>(), .running = r[2].as<int>() != 0};
}

std::optional<LogStep> firstStep(const pqxx::result& rows)
{
    if (rows.empty()) return std::nullopt;
    return readStep(rows[0]);
}

BuildProduct readProduct(const pqxx::row& r)
{
    BuildProduct p;
    p.productNr = r["productnr"].as<int>();
    p.type = r["type"].as<std::string>();
    p.subtype = r["subtype"].as<std::string>();
    p.name = r["name"].as<std::string>();
    p.path = sql::get<std::string>(r["path"]).value_or("");
    p.defaultPath = sql::get<std::string>(r["defaultpath"]).value_or("");
    p.fileSize = sql::get<int64_t>(r["filesize"]);
    p.sha256hash = sql::get<std::string>(r["sha256hash"]);
    return p;
}

constexpr const char* productColumns =
    "productnr, type, subtype, name, path, defaultPath, fileSize, sha256hash";

} // namespace

std::optional<BuildLogTarget> buildLogTarget(pqxx::transaction_base& t, int64_t buildId)
{
    auto b = sql::execPrepared(t, "web_logs_1", "SELECT drvPath FROM Builds WHERE id = $1", buildId);
    if (b.empty()) return std::nullopt;
    BuildLogTarget target{.drvPath = b[0][0].as<std::string>(), .step = std::nullopt};
    target.step =
        firstStep(sql::execPrepared(t, "web_logs_2",
                                    std::string("SELECT ") + stepColumns +
                                        " FROM BuildSteps WHERE build = $1 AND type = 0 AND drvPath = $2 "
                                        "ORDER BY stepnr DESC LIMIT 1",
                                    buildId, target.drvPath));
    if (!target.step) {
        target.step = firstStep(
            sql::execPrepared(t, "web_logs_3",
                              std::string("SELECT ") + stepColumns +
                                  " FROM BuildSteps WHERE build = $1 AND type = 0 AND busy = 0 "
                                  "AND status IS NOT NULL AND status <> 0 ORDER BY stepnr DESC LIMIT 1",
                              buildId));
        if (target.step) target.drvPath = target.step->drvPath;
    }
    return target;
}

bool buildExists(pqxx::transaction_base& t, int64_t buildId)
{
    return !sql::execPrepared(t, "web_logs_4", "SELECT 1 FROM Builds WHERE id = $1", buildId).empty();
}

std::optional<FollowedStep> followedStep(pqxx::transaction_base& t, int64_t buildId)
{
    auto r = sql::execPrepared(
        t, "web_logs_follow",
        "SELECT b.finished, s.stepnr, s.drvPath, s.busy FROM Builds b "
        "LEFT JOIN LATERAL (SELECT stepnr, drvPath, busy FROM BuildSteps "
        "  WHERE build = b.id AND type = 0 ORDER BY (busy <> 0) DESC, stepnr DESC LIMIT 1) s "
        "ON true WHERE b.id = $1",
        buildId);
    if (r.empty()) return std::nullopt;
    FollowedStep f{.buildFinished = r[0][0].as<int>() != 0, .step = std::nullopt};
    if (!r[0][1].is_null())
        f.step = LogStep{.stepNr = r[0][1].as<int>(),
                         .drvPath = r[0][2].as<std::string>(),
                         .running = r[0][3].as<int>() != 0};
    return f;
}

std::optional<LogStep> buildStepForLog(pqxx::transaction_base& t, int64_t buildId, int stepNr)
{
    return firstStep(sql::execPrepared(t, "web_logs_5",
                                       std::string("SELECT ") + stepColumns +
                                           " FROM BuildSteps WHERE build = $1 AND stepnr = $2",
                                       buildId, stepNr));
}

std::optional<LogStep> stepOfDerivation(pqxx::transaction_base& t, const std::string& drvPath)
{
    return firstStep(sql::execPrepared(t, "web_logs_6",
                                       std::string("SELECT ") + stepColumns +
                                           " FROM BuildSteps WHERE drvPath = $1 AND type = 0 "
                                           "ORDER BY build DESC, stepnr DESC LIMIT 1",
                                       drvPath));
}

std::optional<BuildProduct> buildProduct(pqxx::transaction_base& t, int64_t buildId, int productNr)
{
    auto r = sql::execPrepared(t, "web_logs_7",
                               std::string("SELECT ") + productColumns +
                                   " FROM BuildProducts WHERE build = $1 AND productnr = $2",
                               buildId, productNr);
    if (r.empty()) return std::nullopt;
    return readProduct(r[0]);
}

std::optional<BuildProduct> buildProductNamed(pqxx::transaction_base& t, int64_t buildId,
                                              const std::string& name)
{
    auto r =
        sql::execPrepared(t, "web_logs_8",
                          std::string("SELECT ") + productColumns +
                              " FROM BuildProducts WHERE build = $1 AND name = $2 ORDER BY productnr LIMIT 1",
                          buildId, name);
    if (r.empty()) return std::nullopt;
    return readProduct(r[0]);
}

} // namespace hydra::db::web
