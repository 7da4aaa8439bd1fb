#include "db/web_api.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"

namespace hydra::db::web {

namespace {

constexpr const char* apiColumns = "SELECT b.id, b.timestamp, j.project, j.name, b.job, b.system, b.nixName, "
                                   "b.finished, b.buildStatus, b.priority "
                                   "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id ";

std::vector<ApiBuild> readApiBuilds(const pqxx::result& rows)
{
    std::vector<ApiBuild> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
        ApiBuild b;
        b.id = r[0].as<int64_t>();
        b.timestamp = r[1].as<int64_t>();
        b.project = r[2].as<std::string>();
        b.jobset = r[3].as<std::string>();
        b.job = r[4].as<std::string>();
        b.system = r[5].as<std::string>();
        b.nixName = r[6].is_null() ? std::string() : r[6].as<std::string>();
        b.finished = r[7].as<int>() != 0;
        b.buildStatus = sql::get<int>(r[8]);
        b.priority = r[9].as<int>();
        out.push_back(std::move(b));
    }
    return out;
}

// One condition of /api/latestbuilds. Hydra treats an empty parameter as an absent one; an
// absent one is compared with itself, a constant test, so that the statement of each set of
// filters has a plan of its own.
std::string filterCondition(const std::optional<std::string>& v, const char* column, int n, std::string& name)
{
    auto param = "$" + std::to_string(n);
    bool used = v && !v->empty();
    name += used ? '1' : '0';
    return used ? std::string(" AND ") + column + " = " + param : " AND " + param + "::text = " + param;
}

} // namespace

std::vector<ApiBuild> latestFinishedBuilds(pqxx::transaction_base& t, const ApiBuildFilter& f, int64_t nr)
{
    std::string name = "web_api_latest_";
    std::string q = std::string(apiColumns) + "WHERE b.finished = 1";
    q += filterCondition(f.project, "j.project", 1, name);
    q += filterCondition(f.jobset, "j.name", 2, name);
    q += filterCondition(f.job, "b.job", 3, name);
    q += filterCondition(f.system, "b.system", 4, name);
    q += " ORDER BY b.id DESC LIMIT $5";
    return readApiBuilds(sql::execPrepared(t, name, q, f.project.value_or(""), f.jobset.value_or(""),
                                           f.job.value_or(""), f.system.value_or(""), nr));
}

std::vector<ApiBuild> queuedBuilds(pqxx::transaction_base& t, int64_t nr)
{
    return readApiBuilds(sql::execPrepared(
        t, "web_api_queue",
        std::string(apiColumns) + "WHERE b.finished = 0 ORDER BY b.priority DESC, b.id LIMIT $1", nr));
}

int64_t queuedBuildCount(pqxx::transaction_base& t)
{
    return sql::execPrepared(t, "web_api_nrqueue", "SELECT count(*) FROM Builds WHERE finished = 0")[0][0]
        .as<int64_t>();
}

} // namespace hydra::db::web
