#pragma once
// Users and logged-in sessions for tests of hydra-server's actions, over real HTTP.

#include "harness/server_fixture.hh"

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::test {

/// Creates (or updates) a Hydra user with `password` and exactly `roles`.
void createUser(pqxx::connection& c, const std::string& name, const std::string& password,
                const std::vector<std::string>& roles = {});

/// A browser's login to hydra-server on 127.0.0.1:`port`.
struct WebSession {
    int port = 0;
    std::string cookie; ///< "hydra_session=TOKEN"
    std::string csrf;   ///< the anti-forgery token its pages' forms carry

    /// The headers a same-origin request of that browser carries: Cookie and Origin.
    std::multimap<std::string, std::string> headers() const;
    /// headers() plus Content-Type: application/x-www-form-urlencoded.
    std::multimap<std::string, std::string> formHeaders() const;
    /// "csrf=TOKEN&" followed by `fields` (already encoded): a form body as the pages post it.
    std::string form(const std::string& fields = "") const;
};

/// Logs in with POST /login (JSON body, same-origin Referer) and reads the session's
/// anti-forgery token from a page; fails the test when the login is refused.
WebSession logIn(int port, const std::string& user, const std::string& password);

/// The value of `name` in the Set-Cookie header of `reply` ("" when none).
std::string setCookieValue(const HttpReply& reply, const std::string& name);

} // namespace hydra::test
