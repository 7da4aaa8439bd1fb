#include "db/web_search.hh"

#include "db/prepared.hh"

namespace hydra::db::web {

namespace {

// The query as an ILIKE pattern that matches it literally anywhere.
std::string containsPattern(const std::string& query)
{
    std::string p = "%";
    for (char c : query) {
        if (c == '%' || c == '_' || c == '\\') p += '\\';
        p += c;
    }
    return p + "%";
}

std::vector<int64_t> readIds(const pqxx::result& rows)
{
    std::vector<int64_t> out;
    for (const auto& r : rows) out.push_back(r[0].as<int64_t>());
    return out;
}

} // namespace

SearchHits search(pqxx::transaction_base& t, const std::string& query, int64_t limit)
{
    // Projects and jobsets are few (thousands at most): a scan of them is cheap.
    SearchHits hits;
    auto pattern = containsPattern(query);
    for (const auto& r :
         sql::execPrepared(t, "web_search_projects",
                           "SELECT name FROM Projects WHERE hidden = 0 AND (name ILIKE $1 "
                           "OR displayName ILIKE $1 OR description ILIKE $1) ORDER BY name LIMIT $2",
                           pattern, limit))
        hits.projects.push_back(r[0].as<std::string>());
    hits.jobsets =
        readIds(sql::execPrepared(t, "web_search_jobsets",
                                  "SELECT j.id FROM Jobsets j JOIN Projects p ON p.name = j.project "
                                  "WHERE p.hidden = 0 AND j.hidden = 0 AND (j.name ILIKE $1 OR j.description "
                                  "ILIKE $1) ORDER BY j.project, j.name LIMIT $2",
                                  pattern, limit));
    hits.builds = readIds(sql::execPrepared(
        t, "web_search_outputs",
        "SELECT DISTINCT build FROM BuildOutputs WHERE path = $1 ORDER BY build DESC LIMIT $2", query,
        limit));
    hits.buildsDrv = readIds(sql::execPrepared(
        t, "web_search_drvs", "SELECT id FROM Builds WHERE drvPath = $1 ORDER BY id DESC LIMIT $2", query,
        limit));
    return hits;
}

} // namespace hydra::db::web
