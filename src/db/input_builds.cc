#include "db/input_builds.hh"

namespace hydra::db {

std::optional<BuildInputSource> latestSuccessfulBuild(pqxx::transaction_base& t, const std::string& project,
                                                      const std::string& jobset, const std::string& job)
{
    auto rows = t.exec_params("SELECT b.id, b.drvPath, "
                              "(SELECT o.path FROM BuildOutputs o WHERE o.build = b.id "
                              " ORDER BY o.name <> 'out', o.name LIMIT 1) "
                              "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id "
                              "WHERE j.project = $1 AND j.name = $2 AND b.job = $3 "
                              "AND b.finished = 1 AND b.buildStatus = 0 "
                              "ORDER BY b.id DESC LIMIT 1",
                              project, jobset, job);
    if (rows.empty()) return std::nullopt;
    auto row = rows[0];
    BuildInputSource src;
    src.buildId = row[0].as<int64_t>();
    src.drvPath = row[1].as<std::string>();
    src.outPath = row[2].is_null() ? "" : row[2].as<std::string>();
    return src;
}

} // namespace hydra::db
