#pragma once
// AccountFields: the fields of an account form or JSON body (PUT /user/NAME, /register), as
// Hydra names them, each checked with a message naming it.

#include "server/http.hh"

#include <optional>
#include <string>
#include <vector>

namespace hydra::server {

/// What the sender asked to change; an absent field stays as it is.
struct AccountFields {
    std::optional<std::string> userName; ///< "username": only when creating a user
    std::optional<std::string> fullName; ///< "fullname", trimmed, not empty
    std::optional<std::string> emailAddress;
    std::optional<std::string> password; ///< "password", equal to "password2"; empty means unchanged
    /// "roles": a list (JSON) or repeated fields; a form sets them only with "setroles" present,
    /// so that a form without any box ticked takes every role away.
    std::optional<std::vector<std::string>> roles;
};

/// Parses a JSON object (a JSON Content-Type) or a url-encoded form; HttpError 400 naming the
/// field that is malformed, too long, or (passwords) too short or not repeated alike.
AccountFields accountFields(const Request& req);

/// The shortest password the account pages accept.
inline constexpr std::size_t minPasswordLength = 8;

} // namespace hydra::server
