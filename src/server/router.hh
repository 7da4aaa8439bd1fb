#pragma once
// Router: matches a method and path against the routing table and extracts its parameters.

#include "server/http.hh"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::server {

class Site;

/// Who may use a route, as the dispatcher checks it before the handler runs.
enum class Access {
    /// Reads (GET): anyone, or only logged-in users when `private = 1`.
    Public,
    /// Changes state: a logged-in user or token; with a session cookie also a same-origin
    /// request and, for a form, its anti-forgery token. The handler checks the role
    /// (permissions.hh), which may depend on the project.
    Action,
    /// Authenticates itself (login, logout): no user needed, but a same-origin request.
    Open,
    /// Forge webhooks: authenticated by the handler (an HMAC of the body), from anywhere.
    Webhook,
};

/// A handler: parses and checks its parameters, reads through db, returns the answer.
using Handler = std::function<Response(const Site&, const Request&)>;

/// One line of the routing table. Pattern segments: literal, ":name" (one segment, decoded)
/// or "*name" (last: the rest of the path, possibly empty, decoded segment by segment).
struct Route {
    std::string_view method;
    std::string_view pattern;
    Access access;
    Handler handler;
};

/// The outcome of matching a request path.
struct Match {
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    bool pathKnown = false; ///< some route has this path (with another method): 405, not 404
};

/// Matches `path` (percent-encoded, no query) against `routes`, first match wins. Throws
/// HttpError 400 for a segment that decodes to "..", ".", or contains '/' or NUL, or a
/// malformed escape: no parameter can leave the directory a handler reads from.
Match matchRoute(const std::vector<Route>& routes, std::string_view method, std::string_view path);

} // namespace hydra::server
