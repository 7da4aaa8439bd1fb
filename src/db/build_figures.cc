#include "db/build_figures.hh"

#include <pqxx/pqxx>

namespace hydra::db {

std::optional<BuildFigures> loadBuildFigures(pqxx::transaction_base& t, BuildId id)
{
    auto rows =
        t.exec_params("SELECT COALESCE(isCachedBuild, 0), COALESCE(size, 0), COALESCE(closureSize, 0) "
                      "FROM Builds WHERE id = $1",
                      id);
    if (rows.empty()) return std::nullopt;
    auto row = rows[0];
    return BuildFigures{row[0].as<int>() != 0, row[1].as<int64_t>(), row[2].as<int64_t>()};
}

std::optional<int> previousBuildStatus(pqxx::transaction_base& t, const BuildDescription& build)
{
    auto rows =
        t.exec_params("SELECT buildStatus FROM Builds "
                      "WHERE jobset_id = $1 AND job = $2 AND system = $3 AND finished = 1 AND id < $4 "
                      "AND buildStatus IS NOT NULL AND buildStatus NOT IN (3, 4) "
                      "ORDER BY id DESC LIMIT 1",
                      build.jobsetId, build.job, build.system, build.id);
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<int>();
}

} // namespace hydra::db
