#include "db/jobset_triggers.hh"

#include <pqxx/pqxx>

#include <string_view>

namespace hydra::db {

namespace {

// The pushed names are matched literally: a '%' or '_' in them is no wildcard (Hydra lets
// them match anything).
std::string likeLiteral(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// Hydra triggers only jobsets of enabled projects on a push; one-shot and one-at-a-time
// jobsets (enabled 2 and 3) are enabled too.
constexpr const char* enabledJobsets = "SELECT j.project, j.name FROM Jobsets j JOIN Projects p ON p.name = "
                                       "j.project WHERE p.enabled = 1 AND j.enabled <> 0 AND ";

std::vector<JobsetRef> refsOf(const pqxx::result& rows)
{
    std::vector<JobsetRef> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    return out;
}

} // namespace

std::optional<JobsetTriggerInfo> findJobsetForTrigger(pqxx::transaction_base& t, const JobsetRef& ref)
{
    auto rows = t.exec_params("SELECT j.enabled <> 0 AND p.enabled = 1 FROM Jobsets j JOIN Projects p ON "
                              "p.name = j.project WHERE j.project = $1 AND j.name = $2",
                              ref.project, ref.jobset);
    if (rows.empty()) return std::nullopt;
    return JobsetTriggerInfo{ref, rows[0][0].as<bool>()};
}

bool triggerJobset(pqxx::transaction_base& t, const JobsetRef& ref, int64_t now, bool force)
{
    return t.exec_params("UPDATE Jobsets SET triggerTime = $3, forceEval = (forceEval IS TRUE OR $4) "
                         "WHERE project = $1 AND name = $2",
                         ref.project, ref.jobset, now, force)
               .affected_rows() == 1;
}

std::vector<JobsetRef> jobsetsWithInputValue(pqxx::transaction_base& t, const std::string& value)
{
    return refsOf(t.exec_params(std::string(enabledJobsets) +
                                    "EXISTS (SELECT 1 FROM JobsetInputAlts a WHERE a.project = j.project AND "
                                    "a.jobset = j.name AND a.value = $1) ORDER BY j.id DESC",
                                value));
}

std::vector<JobsetRef> jobsetsOfGithubRepo(pqxx::transaction_base& t, const std::string& owner,
                                           const std::string& repo)
{
    auto path = likeLiteral(owner) + "/" + likeLiteral(repo);
    return refsOf(t.exec_params(std::string(enabledJobsets) +
                                    "(j.flake LIKE $1 OR EXISTS (SELECT 1 FROM JobsetInputAlts a WHERE "
                                    "a.project = j.project AND a.jobset = j.name AND a.value LIKE $2)) "
                                    "ORDER BY j.id DESC",
                                "%github%" + path + "%", "%github.com%" + path + "%"));
}

std::vector<JobsetRef> jobsetsMentioningUrl(pqxx::transaction_base& t, const std::string& url)
{
    auto pattern = "%" + likeLiteral(url) + "%";
    return refsOf(t.exec_params(std::string(enabledJobsets) +
                                    "(j.flake LIKE $1 OR EXISTS (SELECT 1 FROM JobsetInputAlts a WHERE "
                                    "a.project = j.project AND a.jobset = j.name AND a.value LIKE $1)) "
                                    "ORDER BY j.id DESC",
                                pattern));
}

} // namespace hydra::db
