#pragma once
// The HTTP request and response as the web server's handlers see them, independent of the
// library that speaks HTTP on the socket (http_server.cc is the only place that knows it).

#include "server/identity.hh"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::server {

/// One request: method, path below the base URI, decoded route parameters, query and headers.
struct Request {
    std::string method;
    std::string path;                          ///< below base_uri, still percent-encoded
    std::map<std::string, std::string> params; ///< route parameters, percent-decoded and checked
    std::multimap<std::string, std::string> query;
    std::multimap<std::string, std::string> headers; ///< names in lower case
    std::string body;
    std::string remoteAddr;
    std::optional<Identity> user; ///< set by the dispatcher from a session cookie or bearer token

    /// The first value of a query parameter, if given.
    std::optional<std::string> queryValue(std::string_view name) const;
    /// The first value of a header (name in any case), or "".
    std::string header(std::string_view name) const;
    /// A route parameter; throws std::out_of_range for a name the route does not have.
    const std::string& param(const std::string& name) const { return params.at(name); }
};

/// Writes one chunk of a streamed body; false when the client has gone.
using BodyWriter = std::function<bool(std::string_view)>;

/// One response. A streamed body (logs, downloads) is produced by `stream` while it is sent,
/// so its size never has to fit in memory.
struct Response {
    int status = 200;
    std::string contentType = "text/html; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set, called once to write the body chunk by chunk; `body` is then unused. A stream
    /// that cannot finish throws: the connection is then cut, so that the client sees a body
    /// that ended early instead of one that looks complete.
    std::function<void(const BodyWriter&)> stream;
    /// The streamed body's exact size when known beforehand (sent as Content-Length).
    std::optional<uint64_t> contentLength;
    /// A stream that lasts as long as something on the farm does (a log being written): each
    /// chunk goes out as it is written, never held back to be compressed.
    bool live = false;

    static Response redirect(int status, std::string location);
};

/// Thrown by handlers for an answer other than success: 400 (malformed input), 403, 404...
/// The message is shown to the client, as text or as JSON {"error": ...}.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

/// Thrown where a page has moved (a renamed jobset): answered with `status` and Location.
class HttpRedirect : public HttpError {
public:
    HttpRedirect(int status, std::string location)
        : HttpError(status, "moved to " + location), location_(std::move(location))
    {}
    const std::string& location() const { return location_; }

private:
    std::string location_;
};

/// Percent-decodes `s` ('+' stays '+': it only means a space in forms). Returns nullopt for a
/// malformed escape.
std::optional<std::string> percentDecode(std::string_view s);

/// Percent-encodes everything but unreserved characters, for one path segment or query value.
std::string percentEncode(std::string_view s);

/// The route's "*rest" parameter as a path suffix ("/a/b", each segment encoded again), or "".
std::string restOfPath(const Request& req);

} // namespace hydra::server
