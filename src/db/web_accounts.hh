#pragma once
// Accounts as hydra-server's pages and `hydra token` manage them: users and their roles
// changed by administrators or by the users themselves, and the names accounts and tokens may
// have.

#include "db/web_records.hh"

#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::db {

/// A user as the account pages show it, with how the user logs in.
struct Account {
    web::User user;
    std::string type; ///< hydra, google or github: only "hydra" users have a password here
};

/// The user with roles, if it exists.
std::optional<Account> findAccount(pqxx::transaction_base& t, const std::string& userName);

/// Every user with roles, by name (for /admin/users).
std::vector<web::User> listAccounts(pqxx::transaction_base& t);

/// What an account form changes: unset fields stay as they are.
struct AccountChange {
    std::string userName;
    std::optional<std::string> fullName;
    std::optional<std::string> emailAddress;
    std::optional<std::string> passwordHash;
    std::optional<std::vector<std::string>> roles; ///< replaces all roles when set
};

/// Creates a "hydra" user (no password: '!' until one is set); false when the name is taken.
/// Roles must be known ones (checkRoles).
bool createAccount(pqxx::transaction_base& t, const AccountChange& c);

/// Changes the fields that are set; false when there is no such user.
bool updateAccount(pqxx::transaction_base& t, const AccountChange& c);

/// Why deleteAccount did not delete.
enum class DeleteRefusal { None, NoSuchUser, OwnsProject };

/// Deletes the user with roles, memberships, sessions and API tokens, unless it owns a
/// project (Projects.owner must name a user); `ownedProject` then names one.
DeleteRefusal deleteAccount(pqxx::transaction_base& t, const std::string& userName,
                            std::string* ownedProject = nullptr);

/// True when the users holding the role "admin" are `userName` alone: taking it away (or
/// deleting the user) would leave nobody to administer the site. Locks the admins' rows until
/// the transaction ends, so that two admins cannot demote each other at once.
bool isLastAdmin(pqxx::transaction_base& t, const std::string& userName);

/// Ends the user's sessions but the one whose hash is `keepSessionHash` ("" for none), as after
/// a password change; returns how many.
int endSessions(pqxx::transaction_base& t, const std::string& userName, const std::string& keepSessionHash);

/// hydra::Error naming the role unless every one of `roles` is one Hydra knows.
void checkRoles(const std::vector<std::string>& roles);

/// hydra::Error naming `name` unless it may name a new user: as Hydra, a lower-case letter,
/// then lower-case letters, digits, dots or underscores; at most 64 characters.
void checkNewUserName(std::string_view name);

/// hydra::Error naming `name` unless it may name an API token: 1 to 64 letters, digits, dots,
/// dashes or underscores, not starting with a dot (it is a segment of the token's URL).
void checkTokenName(std::string_view name);

} // namespace hydra::db
