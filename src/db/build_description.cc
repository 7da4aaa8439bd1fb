// Loading a build as the notification plugins see it (BuildDescription).

#include "db/build_description.hh"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "db/prepared.hh"
#include "db/sql_values.hh"

namespace hydra::db {

namespace {

// One statement, one round trip: the outputs, products and metrics come as JSON arrays.
const char* const descriptionSql =
    "SELECT b.finished, b.timestamp, j.project, j.name, b.jobset_id, b.job, b.drvPath, "
    "  b.startTime, b.stopTime, b.buildStatus, b.nixName, b.system, b.homepage, "
    "  b.description, b.license, b.releaseName, b.notificationPendingSince, "
    "  p.enable_dynamic_run_command AND j.enable_dynamic_run_command, "
    "  (SELECT json_agg(json_build_array(name, path) ORDER BY name) FROM BuildOutputs WHERE build = b.id), "
    "  (SELECT json_agg(json_build_array(type, subtype, fileSize, sha256hash, path, name, defaultPath) "
    "     ORDER BY productnr) FROM BuildProducts WHERE build = b.id), "
    "  (SELECT json_agg(json_build_array(name, unit, value) ORDER BY name) FROM BuildMetrics "
    "     WHERE build = b.id) "
    "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id JOIN Projects p ON p.name = j.project "
    "WHERE b.id = $1";

std::string textOr(const nlohmann::json& v, const std::string& fallback = "")
{
    return v.is_null() ? fallback : v.get<std::string>();
}

template <class T> std::optional<T> optionalOf(const nlohmann::json& v)
{
    if (v.is_null()) return std::nullopt;
    return v.get<T>();
}

nlohmann::json arrayIn(const pqxx::field& f)
{
    return f.is_null() ? nlohmann::json::array() : nlohmann::json::parse(f.c_str());
}

void readCollections(const pqxx::row& row, BuildDescription& d)
{
    for (const auto& o : arrayIn(row[18])) d.outputs.push_back({o[0].get<std::string>(), textOr(o[1])});
    for (const auto& p : arrayIn(row[19]))
        d.products.push_back({p[0].get<std::string>(), p[1].get<std::string>(), optionalOf<int64_t>(p[2]),
                              optionalOf<std::string>(p[3]), textOr(p[4]), p[5].get<std::string>(),
                              textOr(p[6])});
    for (const auto& m : arrayIn(row[20]))
        d.metrics.push_back({m[0].get<std::string>(), textOr(m[1]), m[2].get<double>()});
}

} // namespace

std::optional<BuildDescription> loadBuildDescription(pqxx::transaction_base& t, BuildId id)
{
    // The names come from the jobset (not the copies in Builds) so a renamed jobset shows its
    // current name, as Hydra's $build->jobset->name does.
    auto r = sql::execPrepared(t, "hydra_build_description", descriptionSql, id);
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
    d.notificationPendingSince = sql::get<int64_t>(row[16]);
    d.dynamicRunCommandEnabled = row[17].as<bool>();
    readCollections(row, d);
    return d;
}

} // namespace hydra::db
