#include "db/projects.hh"

#include <optional>
#include <pqxx/pqxx>

namespace hydra::db {

namespace {

void ensureProject(pqxx::transaction_base& t, const JobsetSpec& s)
{
    // '!' never matches a password: the owner exists for the foreign key, not to log in.
    t.exec_params("insert into Users (userName, fullName, emailAddress, password) values ($1, $1, '', '!') "
                  "on conflict do nothing",
                  s.owner);
    t.exec_params(
        "insert into Projects (name, displayName, owner) values ($1, $1, $2) on conflict do nothing",
        s.project, s.owner);
}

} // namespace

std::pair<int, bool> createJobsetIfMissing(pqxx::transaction_base& t, const JobsetSpec& s)
{
    ensureProject(t, s);
    auto existing =
        t.exec_params("select id from Jobsets where project = $1 and name = $2", s.project, s.jobset);
    if (!existing.empty()) return {existing[0][0].as<int>(), false};
    auto opt = [](const std::string& v) {
        return v.empty() ? std::optional<std::string>() : std::optional(v);
    };
    auto row =
        t.exec_params1("insert into Jobsets (project, name, description, type, nixExprInput, nixExprPath, "
                       "flake, checkInterval, "
                       "enabled, emailOverride) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, '') returning id",
                       s.project, s.jobset, s.description, s.type, opt(s.nixExprInput), opt(s.nixExprPath),
                       opt(s.flake), s.checkInterval, s.enabled);
    for (const auto& in : s.inputs) addJobsetInputIfMissing(t, s.project, s.jobset, in);
    return {row[0].as<int>(), true};
}

bool addJobsetInputIfMissing(pqxx::transaction_base& t, const std::string& project, const std::string& jobset,
                             const JobsetSpec::Input& in)
{
    auto added =
        t.exec_params("insert into JobsetInputs (project, jobset, name, type) values ($1, $2, $3, $4) "
                      "on conflict do nothing",
                      project, jobset, in.name, in.type);
    if (added.affected_rows() == 0) return false;
    t.exec_params(
        "insert into JobsetInputAlts (project, jobset, input, altnr, value) values ($1, $2, $3, 0, $4)",
        project, jobset, in.name, in.value);
    return true;
}

} // namespace hydra::db
