#pragma once
// Users and UserRoles: the SQL behind `hydra create-user`.

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db {

/// What `hydra create-user` asks for: unset fields of an existing user stay as they are.
struct UserUpdate {
    std::string name;
    std::optional<std::string> fullName;
    std::optional<std::string> emailAddress;
    std::optional<std::string> passwordHash;
    std::optional<std::string> type;
    std::vector<std::string> roles; ///< added to the user's roles
    bool wipeRoles = false;         ///< remove all roles before adding `roles`
};

/// The roles Hydra knows; others are refused so that a typo does not grant nothing silently.
const std::vector<std::string>& knownRoles();

/// Creates the user, or updates the fields that are set; one transaction. True if created.
bool upsertUser(pqxx::connection& c, const UserUpdate& u);

/// The user's roles, sorted; empty when the user does not exist.
std::vector<std::string> userRoles(pqxx::connection& c, const std::string& name);

/// The stored password hash, if the user exists.
std::optional<std::string> userPasswordHash(pqxx::connection& c, const std::string& name);

} // namespace hydra::db
