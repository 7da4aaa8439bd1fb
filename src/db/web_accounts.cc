#include "db/web_accounts.hh"

#include "db/sql_values.hh"
#include "db/users.hh"
#include "util/error.hh"

#include <algorithm>
#include <cctype>
#include <pqxx/pqxx>

namespace hydra::db {

namespace {

// Columns: userName, fullName, emailAddress, roles (then anything else).
constexpr const char* accountColumns =
    "u.userName, COALESCE(u.fullName, ''), u.emailAddress, "
    "ARRAY(SELECT role FROM UserRoles r WHERE r.userName = u.userName ORDER BY role), u.type";

web::User userOf(const pqxx::row& row)
{
    return web::User{.userName = row[0].as<std::string>(),
                     .fullName = row[1].as<std::string>(),
                     .emailAddress = row[2].as<std::string>(),
                     .roles = sql::readTextArray(row[3])};
}

void replaceRoles(pqxx::transaction_base& t, const std::string& userName,
                  const std::vector<std::string>& roles)
{
    checkRoles(roles);
    t.exec_params("DELETE FROM UserRoles WHERE userName = $1", userName);
    for (const auto& role : roles)
        t.exec_params("INSERT INTO UserRoles (userName, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                      userName, role);
}

const char* orNull(const std::optional<std::string>& s)
{
    return s ? s->c_str() : nullptr;
}

} // namespace

std::optional<Account> findAccount(pqxx::transaction_base& t, const std::string& userName)
{
    auto r = t.exec_params(std::string("SELECT ") + accountColumns + " FROM Users u WHERE u.userName = $1",
                           userName);
    if (r.empty()) return std::nullopt;
    return Account{.user = userOf(r[0]), .type = r[0][4].as<std::string>()};
}

std::vector<web::User> listAccounts(pqxx::transaction_base& t)
{
    std::vector<web::User> out;
    for (auto row : t.exec(std::string("SELECT ") + accountColumns + " FROM Users u ORDER BY u.userName"))
        out.push_back(userOf(row));
    return out;
}

bool createAccount(pqxx::transaction_base& t, const AccountChange& c)
{
    checkNewUserName(c.userName);
    if (c.roles) checkRoles(*c.roles);
    // '!' never matches a hash: the user cannot log in until a password is set.
    auto r = t.exec_params("INSERT INTO Users (userName, fullName, emailAddress, password, type) "
                           "VALUES ($1, NULLIF($2, ''), COALESCE($3, ''), COALESCE($4, '!'), 'hydra') "
                           "ON CONFLICT (userName) DO NOTHING",
                           c.userName, orNull(c.fullName), orNull(c.emailAddress), orNull(c.passwordHash));
    if (r.affected_rows() == 0) return false;
    if (c.roles) replaceRoles(t, c.userName, *c.roles);
    return true;
}

bool updateAccount(pqxx::transaction_base& t, const AccountChange& c)
{
    auto r = t.exec_params("UPDATE Users SET "
                           "  fullName = CASE WHEN $2::text IS NULL THEN fullName ELSE NULLIF($2, '') END, "
                           "  emailAddress = COALESCE($3, emailAddress), "
                           "  password = COALESCE($4, password) "
                           "WHERE userName = $1",
                           c.userName, orNull(c.fullName), orNull(c.emailAddress), orNull(c.passwordHash));
    if (r.affected_rows() == 0) return false;
    if (c.roles) replaceRoles(t, c.userName, *c.roles);
    return true;
}

DeleteRefusal deleteAccount(pqxx::transaction_base& t, const std::string& userName, std::string* ownedProject)
{
    auto owned = t.exec_params("SELECT name FROM Projects WHERE owner = $1 ORDER BY name LIMIT 1", userName);
    if (!owned.empty()) {
        if (ownedProject) *ownedProject = owned[0][0].as<std::string>();
        return DeleteRefusal::OwnsProject;
    }
    // Roles, memberships, starred jobs, sessions and tokens go with it (ON DELETE CASCADE).
    if (t.exec_params("DELETE FROM Users WHERE userName = $1", userName).affected_rows() == 0)
        return DeleteRefusal::NoSuchUser;
    return DeleteRefusal::None;
}

bool isLastAdmin(pqxx::transaction_base& t, const std::string& userName)
{
    auto admins = t.exec("SELECT userName FROM UserRoles WHERE role = 'admin' ORDER BY userName FOR UPDATE");
    return admins.size() == 1 && admins[0][0].as<std::string>() == userName;
}

int endSessions(pqxx::transaction_base& t, const std::string& userName, const std::string& keepSessionHash)
{
    return static_cast<int>(
        t.exec_params("DELETE FROM hydra_web.Sessions WHERE userName = $1 AND tokenHash <> $2", userName,
                      keepSessionHash)
            .affected_rows());
}

void checkRoles(const std::vector<std::string>& roles)
{
    const auto& known = knownRoles();
    for (const auto& role : roles)
        if (std::ranges::find(known, role) == known.end())
            throw Error("unknown role '{}' (known: admin, create-projects, restart-jobs, cancel-build, "
                        "bump-to-front, eval-jobset)",
                        role);
}

void checkNewUserName(std::string_view name)
{
    auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'; };
    if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z' || !std::ranges::all_of(name, ok))
        throw Error("the user name '{}' is invalid: it must start with a lower-case letter followed by "
                    "lower-case letters, digits, dots or underscores (at most 64 characters)",
                    name);
}

void checkTokenName(std::string_view name)
{
    auto ok = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
    };
    if (name.empty() || name.size() > 64 || name[0] == '.' || !std::ranges::all_of(name, ok))
        throw Error("the token name '{}' is invalid: use 1 to 64 letters, digits, dots, dashes or "
                    "underscores, not starting with a dot",
                    name);
}

} // namespace hydra::db
