// Loading a build as the notification plugins see it (BuildDescription).

#include "db/build_description.hh"

#include <pqxx/pqxx>

#include "db/sql_values.hh"

namespace hydra::db {

namespace {

void loadOutputs(pqxx::transaction_base& t, BuildDescription& d)
{
    for (auto row : t.exec_params("SELECT name, path FROM BuildOutputs WHERE build = $1 ORDER BY name", d.id))
        d.outputs.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
}

void loadProducts(pqxx::transaction_base& t, BuildDescription& d)
{
    for (auto row : t.exec_params("SELECT type, subtype, fileSize, sha256hash, path, name, defaultPath "
                                  "FROM BuildProducts WHERE build = $1 ORDER BY productnr",
                                  d.id))
        d.products.push_back({row[0].as<std::string>(), row[1].as<std::string>(), sql::get<int64_t>(row[2]),
                              sql::get<std::string>(row[3]), sql::get<std::string>(row[4]).value_or(""),
                              row[5].as<std::string>(), sql::get<std::string>(row[6]).value_or("")});
}

void loadMetrics(pqxx::transaction_base& t, BuildDescription& d)
{
    for (auto row :
         t.exec_params("SELECT name, unit, value FROM BuildMetrics WHERE build = $1 ORDER BY name", d.id))
        d.metrics.push_back(
            {row[0].as<std::string>(), sql::get<std::string>(row[1]).value_or(""), row[2].as<double>()});
}

} // namespace

std::optional<BuildDescription> loadBuildDescription(pqxx::transaction_base& t, BuildId id)
{
    // The names come from the jobset (not the copies in Builds) so a renamed jobset shows its
    // current name, as Hydra's $build->jobset->name does.
    auto r =
        t.exec_params("SELECT b.finished, b.timestamp, j.project, j.name, b.jobset_id, b.job, b.drvPath, "
                      "  b.startTime, b.stopTime, b.buildStatus, b.nixName, b.system, b.homepage, "
                      "  b.description, b.license, b.releaseName "
                      "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.id = $1",
                      id);
    if (r.empty()) return std::nullopt;
    auto row = r[0];
    BuildDescription d;
    d.id = id;
    d.finished = row[0].as<int>() != 0;
    d.timestamp = row[1].as<int64_t>();
    d.project = row[2].as<std::string>();
    d.jobset = row[3].as<std::string>();
    d.jobsetId = row[4].as<int>();
    d.job = row[5].as<std::string>();
    d.drvPath = row[6].as<std::string>();
    d.startTime = sql::get<int64_t>(row[7]);
    d.stopTime = sql::get<int64_t>(row[8]);
    d.buildStatus = sql::get<int>(row[9]);
    d.nixName = sql::get<std::string>(row[10]).value_or("");
    d.system = row[11].as<std::string>();
    d.homepage = sql::get<std::string>(row[12]);
    d.description = sql::get<std::string>(row[13]);
    d.license = sql::get<std::string>(row[14]);
    d.releaseName = sql::get<std::string>(row[15]);
    loadOutputs(t, d);
    loadProducts(t, d);
    loadMetrics(t, d);
    return d;
}

} // namespace hydra::db
