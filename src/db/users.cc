#include "db/users.hh"

#include "util/error.hh"

#include <algorithm>

namespace hydra::db {

namespace {

const char* orNull(const std::optional<std::string>& s)
{
    return s ? s->c_str() : nullptr;
}

} // namespace

const std::vector<std::string>& knownRoles()
{
    static const std::vector<std::string> roles{"admin",        "create-projects", "restart-jobs",
                                                "cancel-build", "bump-to-front",   "eval-jobset"};
    return roles;
}

bool upsertUser(pqxx::connection& c, const UserUpdate& u)
{
    if (u.name.empty()) throw Error("a user name must not be empty");
    for (auto& r : u.roles)
        if (std::find(knownRoles().begin(), knownRoles().end(), r) == knownRoles().end())
            throw Error("unknown role '{}' (known: admin, create-projects, restart-jobs, cancel-build, "
                        "bump-to-front, eval-jobset)",
                        r);
    pqxx::work w(c);
    // '!' can never match a hash, so a user created without a password cannot log in.
    auto r = w.exec_params("INSERT INTO Users (userName, fullName, emailAddress, password, type) "
                           "VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, '!'), COALESCE($5, 'hydra')) "
                           "ON CONFLICT (userName) DO UPDATE SET "
                           "  fullName = COALESCE($2, Users.fullName), "
                           "  emailAddress = COALESCE($3, Users.emailAddress), "
                           "  password = COALESCE($4, Users.password), "
                           "  type = COALESCE($5, Users.type) "
                           "RETURNING (xmax = 0) AS created",
                           u.name, orNull(u.fullName), orNull(u.emailAddress), orNull(u.passwordHash),
                           orNull(u.type));
    bool created = r[0][0].as<bool>();
    if (u.wipeRoles) w.exec_params("DELETE FROM UserRoles WHERE userName = $1", u.name);
    for (auto& role : u.roles)
        w.exec_params("INSERT INTO UserRoles (userName, role) VALUES ($1, $2) ON CONFLICT DO NOTHING", u.name,
                      role);
    w.commit();
    return created;
}

std::vector<std::string> userRoles(pqxx::connection& c, const std::string& name)
{
    pqxx::read_transaction t(c);
    std::vector<std::string> out;
    for (auto row : t.exec_params("SELECT role FROM UserRoles WHERE userName = $1 ORDER BY role", name))
        out.push_back(row[0].as<std::string>());
    return out;
}

std::optional<std::string> userPasswordHash(pqxx::connection& c, const std::string& name)
{
    pqxx::read_transaction t(c);
    auto r = t.exec_params("SELECT password FROM Users WHERE userName = $1", name);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
}

} // namespace hydra::db
