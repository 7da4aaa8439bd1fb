// Succeeded builds and reuse of a previous build's result (failures: build_failures.cc).

#include "db/build_results.hh"

#include <pqxx/pqxx>

#include "db/queue_notify.hh"
#include "db/sql_values.hh"

namespace hydra::db {

namespace {

void replaceProducts(pqxx::transaction_base& t, BuildId id, const std::vector<BuildProduct>& products)
{
    t.exec_params("DELETE FROM BuildProducts WHERE build = $1", id);
    int productNr = 1;
    for (auto& p : products)
        t.exec_params(
            "INSERT INTO BuildProducts (build, productnr, type, subtype, fileSize, sha256hash, path, "
            "  name, defaultPath) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            id, productNr++, p.type, p.subtype, sql::orNull(sql::text(p.fileSize)), sql::orNull(p.sha256hash),
            p.path, p.name, p.defaultPath);
}

void replaceMetrics(pqxx::transaction_base& t, BuildId id, const std::vector<BuildMetric>& metrics)
{
    t.exec_params("DELETE FROM BuildMetrics WHERE build = $1", id);
    for (auto& m : metrics)
        t.exec_params("INSERT INTO BuildMetrics (build, name, unit, value, project, jobset, job, timestamp) "
                      "SELECT b.id, $2, $3, $4, j.project, j.name, b.job, b.timestamp "
                      "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.id = $1",
                      id, m.name, sql::emptyAsNull(m.unit), m.value);
}

} // namespace

bool markSucceededBuild(pqxx::transaction_base& t, const SucceededBuild& b)
{
    auto status = b.failedWithOutput ? BuildStatus::FailedWithOutput : BuildStatus::Success;
    auto r = t.exec_params(
        "UPDATE Builds SET finished = 1, buildStatus = $2, startTime = $3::integer, stopTime = $4::integer, "
        "  size = $5, closureSize = $6, releaseName = $7, isCachedBuild = $8, "
        "  notificationPendingSince = $4::integer "
        "WHERE id = $1 AND finished = 0",
        b.id, static_cast<int>(status), b.startTime, b.stopTime, b.size, b.closureSize,
        sql::emptyAsNull(b.releaseName), b.isCachedBuild ? 1 : 0);
    if (r.affected_rows() != 1) return false;
    for (auto& o : b.outputs)
        t.exec_params("UPDATE BuildOutputs SET path = $3 WHERE build = $1 AND name = $2", b.id, o.name,
                      o.path);
    replaceProducts(t, b.id, b.products);
    replaceMetrics(t, b.id, b.metrics);
    notifyBuildFinished(t, b.id, {});
    return true;
}

std::optional<PreviousResult> previousBuildResult(pqxx::transaction_base& t,
                                                  std::span<const std::string> outputPaths)
{
    if (outputPaths.empty()) return std::nullopt;
    auto r = t.exec_params("SELECT b.id, b.buildStatus, b.releaseName, b.size, b.closureSize "
                           "FROM Builds b JOIN BuildOutputs o ON o.build = b.id "
                           "WHERE b.finished = 1 AND b.buildStatus IN (0, 6) AND o.path = ANY($1::text[]) "
                           "ORDER BY b.id DESC LIMIT 1",
                           sql::textArray(outputPaths));
    if (r.empty()) return std::nullopt;
    PreviousResult p;
    p.build = r[0][0].as<BuildId>();
    p.failedWithOutput = r[0][1].as<int>() == static_cast<int>(BuildStatus::FailedWithOutput);
    p.releaseName = sql::get<std::string>(r[0][2]).value_or("");
    p.size = sql::get<int64_t>(r[0][3]).value_or(0);
    p.closureSize = sql::get<int64_t>(r[0][4]).value_or(0);
    for (auto row : t.exec_params("SELECT type, subtype, fileSize, sha256hash, path, name, defaultPath "
                                  "FROM BuildProducts WHERE build = $1 ORDER BY productnr",
                                  p.build))
        p.products.push_back({row[0].as<std::string>(), row[1].as<std::string>(), sql::get<int64_t>(row[2]),
                              sql::get<std::string>(row[3]), sql::get<std::string>(row[4]).value_or(""),
                              row[5].as<std::string>(), sql::get<std::string>(row[6]).value_or("")});
    for (auto row :
         t.exec_params("SELECT name, unit, value FROM BuildMetrics WHERE build = $1 ORDER BY name", p.build))
        p.metrics.push_back(
            {row[0].as<std::string>(), sql::get<std::string>(row[1]).value_or(""), row[2].as<double>()});
    return p;
}

} // namespace hydra::db
