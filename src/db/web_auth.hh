#pragma once
// hydra-server's sessions and API tokens (schema hydra_web) and the facts access checks need:
// a user's roles and whether they own or belong to a project.

#include "db/web_records.hh"

#include <cstdint>
#include <optional>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace hydra::db {

/// Who a session or token belongs to, with the roles to check against.
struct AuthenticatedUser {
    std::string userName;
    std::vector<std::string> roles; ///< sorted
    std::string csrfToken;          ///< a session's anti-forgery token; "" for API tokens
};

/// Records a session: `tokenHash` is the SHA-256 of the cookie's token.
void createSession(pqxx::transaction_base& t, const std::string& tokenHash, const std::string& userName,
                   const std::string& csrfToken, int64_t now, int64_t expires);

/// The session's user while it has not expired, with roles; one statement.
std::optional<AuthenticatedUser> findSession(pqxx::transaction_base& t, const std::string& tokenHash,
                                             int64_t now);

/// Ends a session (logout); true if it existed.
bool deleteSession(pqxx::transaction_base& t, const std::string& tokenHash);

/// Deletes expired sessions; returns how many.
int purgeExpiredSessions(pqxx::transaction_base& t, int64_t now);

/// One API token as its owner sees it (never the token itself).
struct ApiTokenInfo {
    std::string name;
    int64_t created = 0;
    std::optional<int64_t> lastUsed;
};

/// Records a token; HttpError-free: throws hydra::Error naming the token when the user already
/// has one of that name or does not exist.
void createApiToken(pqxx::transaction_base& t, const std::string& userName, const std::string& name,
                    const std::string& tokenHash, int64_t now);

/// The user's tokens by name.
std::vector<ApiTokenInfo> listApiTokens(pqxx::transaction_base& t, const std::string& userName);

/// Deletes the user's token `name`; true if it existed.
bool revokeApiToken(pqxx::transaction_base& t, const std::string& userName, const std::string& name);

/// The token's user with roles (its lastUsed updated, at most once a minute); one statement.
std::optional<AuthenticatedUser> findApiToken(pqxx::transaction_base& t, const std::string& tokenHash,
                                              int64_t now);

/// The user as /current-user and /user/NAME show it, with roles; one statement.
std::optional<web::User> findWebUser(pqxx::transaction_base& t, const std::string& userName);

/// The user is the project's owner or one of its members.
bool hasProjectRights(pqxx::transaction_base& t, const std::string& project, const std::string& userName);

} // namespace hydra::db
