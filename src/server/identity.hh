#pragma once
// Identity: who sent a request (a logged-in user or a script with an API token) and the roles
// access checks go by.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::server {

/// The authenticated sender of a request.
struct Identity {
    /// How the request proved who sent it: a session cookie, and Basic credentials (which a
    /// browser may have cached and attach by itself), need same-origin checks; a bearer token,
    /// which no foreign page can attach, does not.
    enum class Via { Session, Token, Basic };

    std::string username;
    std::vector<std::string> roles; ///< sorted
    Via via = Via::Session;
    std::string csrfToken;   ///< the session's anti-forgery token; "" for tokens
    std::string sessionHash; ///< the session's stored key (logout deletes it); "" for tokens

    bool hasRole(std::string_view role) const { return std::ranges::binary_search(roles, role); }
    bool isAdmin() const { return hasRole("admin"); }
};

} // namespace hydra::server
