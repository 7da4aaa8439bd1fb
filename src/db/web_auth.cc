#include "db/web_auth.hh"

#include "db/prepared.hh"
#include "db/sql_values.hh"
#include "util/error.hh"

#include <pqxx/pqxx>

namespace hydra::db {

namespace {

// The user and roles in the statement's first row (userName, csrfToken, roles).
std::optional<AuthenticatedUser> userOf(const pqxx::result& r)
{
    if (r.empty()) return std::nullopt;
    return AuthenticatedUser{.userName = r[0][0].as<std::string>(),
                             .roles = sql::readTextArray(r[0][2]),
                             .csrfToken = r[0][1].as<std::string>()};
}

constexpr const char* rolesOf = "ARRAY(SELECT role FROM UserRoles WHERE userName = {} ORDER BY role)";

} // namespace

void createSession(pqxx::transaction_base& t, const std::string& tokenHash, const std::string& userName,
                   const std::string& csrfToken, int64_t now, int64_t expires)
{
    t.exec_params("INSERT INTO hydra_web.Sessions (tokenHash, userName, csrfToken, created, expires) "
                  "VALUES ($1, $2, $3, $4, $5)",
                  tokenHash, userName, csrfToken, now, expires);
}

std::optional<AuthenticatedUser> findSession(pqxx::transaction_base& t, const std::string& tokenHash,
                                             int64_t now)
{
    static const std::string q = "SELECT s.userName, s.csrfToken, " + fmt::format(rolesOf, "s.userName") +
                                 " FROM hydra_web.Sessions s WHERE s.tokenHash = $1 AND s.expires > $2";
    return userOf(sql::execPrepared(t, "web_find_session", q, tokenHash, now));
}

bool deleteSession(pqxx::transaction_base& t, const std::string& tokenHash)
{
    return t.exec_params("DELETE FROM hydra_web.Sessions WHERE tokenHash = $1", tokenHash).affected_rows() >
           0;
}

int purgeExpiredSessions(pqxx::transaction_base& t, int64_t now)
{
    return static_cast<int>(
        t.exec_params("DELETE FROM hydra_web.Sessions WHERE expires <= $1", now).affected_rows());
}

void createApiToken(pqxx::transaction_base& t, const std::string& userName, const std::string& name,
                    const std::string& tokenHash, int64_t now)
{
    if (t.exec_params("SELECT 1 FROM Users WHERE userName = $1", userName).empty())
        throw Error("there is no user '{}'", userName);
    if (!t.exec_params("SELECT 1 FROM hydra_web.ApiTokens WHERE userName = $1 AND name = $2", userName, name)
             .empty())
        throw Error("user '{}' already has a token named '{}'", userName, name);
    t.exec_params(
        "INSERT INTO hydra_web.ApiTokens (userName, name, tokenHash, created) VALUES ($1, $2, $3, $4)",
        userName, name, tokenHash, now);
}

std::vector<ApiTokenInfo> listApiTokens(pqxx::transaction_base& t, const std::string& userName)
{
    std::vector<ApiTokenInfo> out;
    for (auto row : t.exec_params(
             "SELECT name, created, lastUsed FROM hydra_web.ApiTokens WHERE userName = $1 ORDER BY name",
             userName))
        out.push_back({row[0].as<std::string>(), row[1].as<int64_t>(),
                       row[2].is_null() ? std::nullopt : std::optional(row[2].as<int64_t>())});
    return out;
}

bool revokeApiToken(pqxx::transaction_base& t, const std::string& userName, const std::string& name)
{
    return t.exec_params("DELETE FROM hydra_web.ApiTokens WHERE userName = $1 AND name = $2", userName, name)
               .affected_rows() > 0;
}

std::optional<AuthenticatedUser> findApiToken(pqxx::transaction_base& t, const std::string& tokenHash,
                                              int64_t now)
{
    // Updating lastUsed at most once a minute keeps a busy script from writing a row per request.
    static const std::string q =
        "WITH tok AS (SELECT id, userName, lastUsed FROM hydra_web.ApiTokens WHERE tokenHash = $1), "
        "touched AS (UPDATE hydra_web.ApiTokens a SET lastUsed = $2 FROM tok "
        "  WHERE a.id = tok.id AND (tok.lastUsed IS NULL OR tok.lastUsed < $2 - 60)) "
        "SELECT tok.userName, '', " +
        fmt::format(rolesOf, "tok.userName") + " FROM tok";
    return userOf(sql::execPrepared(t, "web_find_api_token", q, tokenHash, now));
}

std::optional<web::User> findWebUser(pqxx::transaction_base& t, const std::string& userName)
{
    static const std::string q = "SELECT userName, COALESCE(fullName, ''), emailAddress, " +
                                 fmt::format(rolesOf, "userName") + " FROM Users WHERE userName = $1";
    auto r = sql::execPrepared(t, "web_find_user", q, userName);
    if (r.empty()) return std::nullopt;
    return web::User{.userName = r[0][0].as<std::string>(),
                     .fullName = r[0][1].as<std::string>(),
                     .emailAddress = r[0][2].as<std::string>(),
                     .roles = sql::readTextArray(r[0][3])};
}

bool hasProjectRights(pqxx::transaction_base& t, const std::string& project, const std::string& userName)
{
    static const std::string q =
        "SELECT EXISTS (SELECT 1 FROM Projects WHERE name = $1 AND owner = $2) "
        "OR EXISTS (SELECT 1 FROM ProjectMembers WHERE project = $1 AND userName = $2)";
    return sql::execPrepared(t, "web_project_rights", q, project, userName)[0][0].as<bool>();
}

} // namespace hydra::db
