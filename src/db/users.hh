#pragma once
// Users and UserRoles: the SQL behind `hydra create-user`, `hydra init`'s password upgrade
// and the login check.

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db {

/// What `hydra create-user` asks for: unset fields of an existing user stay as they are.
struct UserUpdate {
    std::string name;
    std::optional<std::string> renameFrom; ///< an existing user to rename to `name` first
    std::optional<std::string> fullName;   ///< "" clears it
    std::optional<std::string> emailAddress;
    std::optional<std::string> passwordHash;
    std::optional<std::string> type; ///< hydra, google or github
    std::vector<std::string> roles;  ///< added to the user's roles
    bool wipeRoles = false;          ///< remove all roles before adding `roles`
};

/// The roles Hydra knows; others are refused so that a typo does not grant nothing silently.
const std::vector<std::string>& knownRoles();

/// Creates the user, or renames and updates the fields that are set; one transaction. Google
/// and GitHub users (named by their e-mail address) get no password, as in Hydra. True if
/// created.
bool upsertUser(pqxx::connection& c, const UserUpdate& u);

/// The user's roles, sorted; empty when the user does not exist.
std::vector<std::string> userRoles(pqxx::connection& c, const std::string& name);

/// A row of Users, as the CLI and the web interface show it.
struct UserRecord {
    std::string name;
    std::optional<std::string> fullName;
    std::string emailAddress;
    std::string passwordHash;
    std::string type;
};

/// The user, if it exists.
std::optional<UserRecord> findUser(pqxx::connection& c, const std::string& name);

/// Some user has a password of their own (not Google, GitHub or the "!" of a user created
/// without one), so someone can log in to the web pages.
bool anyUserCanLogIn(pqxx::connection& c);

/// The stored password hash, if the user exists.
std::optional<std::string> userPasswordHash(pqxx::connection& c, const std::string& name);

/// The stored password hash, if the user exists, read in `t`.
std::optional<std::string> userPasswordHash(pqxx::transaction_base& t, const std::string& name);

/// Stores `newHash` unless the password changed since `oldHash` was read (a new password must
/// not be undone by a login that upgrades the old one's hash).
void replacePasswordHash(pqxx::transaction_base& t, const std::string& name, const std::string& oldHash,
                         const std::string& newHash);

/// Replaces every unsalted SHA-1 password hash with Argon2id of that hash, so the old password
/// keeps working (see checkPassword); returns how many. A second run finds none.
int upgradeLegacyPasswordHashes(pqxx::connection& c);

/// The login check: true if `password` is the user's; a legacy or weak stored hash is then
/// replaced by a fresh hash of the password, as Hydra does at login.
bool checkUserPassword(pqxx::connection& c, const std::string& name, const std::string& password);

} // namespace hydra::db
