#include "db/users.hh"

#include "util/error.hh"
#include "util/password.hh"

#include <algorithm>

namespace hydra::db {

namespace {

const char* orNull(const std::optional<std::string>& s)
{
    return s ? s->c_str() : nullptr;
}

void checkFields(const UserUpdate& u)
{
    if (u.name.empty()) throw Error("a user name must not be empty");
    if (u.type && *u.type != "hydra" && *u.type != "google" && *u.type != "github")
        throw Error("unknown user type '{}' (known: hydra, google, github)", *u.type);
    for (auto& r : u.roles)
        if (std::find(knownRoles().begin(), knownRoles().end(), r) == knownRoles().end())
            throw Error("unknown role '{}' (known: admin, create-projects, restart-jobs, cancel-build, "
                        "bump-to-front, eval-jobset)",
                        r);
}

void rename(pqxx::work& w, const std::string& from, const std::string& to)
{
    if (from == to) return;
    if (!w.exec_params("SELECT 1 FROM Users WHERE userName = $1", to).empty())
        throw Error("cannot rename user '{}' to '{}': a user '{}' already exists", from, to, to);
    // UserRoles, ProjectMembers and the rest follow through their ON UPDATE CASCADE keys.
    if (w.exec_params("UPDATE Users SET userName = $2 WHERE userName = $1", from, to).affected_rows() == 0)
        throw Error("cannot rename user '{}': no such user", from);
}

// Google and GitHub users log in through that provider: their name is their e-mail address
// and they have no password of their own.
void applyExternalAccountRules(pqxx::work& w, const UserUpdate& u)
{
    auto type = w.exec_params1("SELECT type FROM Users WHERE userName = $1", u.name)[0].as<std::string>();
    if (type != "google" && type != "github") return;
    if (u.name.find('@') == std::string::npos)
        throw Error("the name of a Google or GitHub user must be its e-mail address, not '{}'", u.name);
    if (u.emailAddress) throw Error("Google and GitHub users have no e-mail address but their name");
    if (u.passwordHash) throw Error("Google and GitHub users have no password");
    w.exec_params("UPDATE Users SET emailAddress = userName, password = '!' WHERE userName = $1", u.name);
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
    checkFields(u);
    pqxx::work w(c);
    if (u.renameFrom) rename(w, *u.renameFrom, u.name);
    // '!' can never match a hash, so a user created without a password cannot log in.
    auto r = w.exec_params(
        "INSERT INTO Users (userName, fullName, emailAddress, password, type) "
        "VALUES ($1, NULLIF($2, ''), COALESCE($3, ''), COALESCE($4, '!'), "
        "        COALESCE($5, 'hydra')) "
        "ON CONFLICT (userName) DO UPDATE SET "
        "  fullName = CASE WHEN $2::text IS NULL THEN Users.fullName ELSE NULLIF($2, '') END, "
        "  emailAddress = COALESCE($3, Users.emailAddress), "
        "  password = COALESCE($4, Users.password), "
        "  type = COALESCE($5, Users.type) "
        "RETURNING (xmax = 0) AS created",
        u.name, orNull(u.fullName), orNull(u.emailAddress), orNull(u.passwordHash), orNull(u.type));
    bool created = r[0][0].as<bool>();
    applyExternalAccountRules(w, u);
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

std::optional<UserRecord> findUser(pqxx::connection& c, const std::string& name)
{
    pqxx::read_transaction t(c);
    auto r = t.exec_params(
        "SELECT userName, fullName, emailAddress, password, type FROM Users WHERE userName = $1", name);
    if (r.empty()) return std::nullopt;
    auto row = r[0];
    return UserRecord{.name = row[0].as<std::string>(),
                      .fullName = row[1].is_null() ? std::nullopt : std::optional(row[1].as<std::string>()),
                      .emailAddress = row[2].as<std::string>(),
                      .passwordHash = row[3].as<std::string>(),
                      .type = row[4].as<std::string>()};
}

bool anyUserCanLogIn(pqxx::connection& c)
{
    pqxx::read_transaction t(c);
    return t.exec1("SELECT EXISTS (SELECT 1 FROM Users WHERE type = 'hydra' AND password <> '!')")[0]
        .as<bool>();
}

std::optional<std::string> userPasswordHash(pqxx::transaction_base& t, const std::string& name)
{
    auto r = t.exec_params("SELECT password FROM Users WHERE userName = $1", name);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
}

std::optional<std::string> userPasswordHash(pqxx::connection& c, const std::string& name)
{
    pqxx::read_transaction t(c);
    return userPasswordHash(t, name);
}

void replacePasswordHash(pqxx::transaction_base& t, const std::string& name, const std::string& oldHash,
                         const std::string& newHash)
{
    t.exec_params("UPDATE Users SET password = $3 WHERE userName = $1 AND password = $2", name, oldHash,
                  newHash);
}

int upgradeLegacyPasswordHashes(pqxx::connection& c)
{
    pqxx::work w(c);
    auto legacy = w.exec("SELECT userName, password FROM Users WHERE password ~ '^[0-9a-f]{40}$' ORDER BY "
                         "userName FOR UPDATE");
    for (auto row : legacy)
        w.exec_params("UPDATE Users SET password = $2 WHERE userName = $1", row[0].as<std::string>(),
                      upgradeLegacySha1Hash(row[1].as<std::string>()));
    w.commit();
    return static_cast<int>(legacy.size());
}

bool checkUserPassword(pqxx::connection& c, const std::string& name, const std::string& password)
{
    auto stored = userPasswordHash(c, name);
    if (!stored) return false;
    auto check = checkPassword(password, *stored);
    if (check.valid && check.rehash) {
        pqxx::work w(c);
        replacePasswordHash(w, name, *stored, hashPassword(password));
        w.commit();
    }
    return check.valid;
}

} // namespace hydra::db
