#pragma once
// httpPost: the one way the notification plugins talk HTTP(S), with bounded waits and errors
// that name the URL, so a failed delivery is retried by the daemon.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace hydra::notify {

/// Request headers, in the order they are sent.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// How long one request may wait for each phase.
struct HttpTimeouts {
    std::chrono::seconds connect{10};
    std::chrono::seconds read{30};
    std::chrono::seconds write{30};
};

/// A URL split for the HTTP client: "http://host:port" and "/path?query".
struct UrlParts {
    std::string origin;
    std::string target;
};

/// Splits an http:// or https:// URL; throws Error naming the URL otherwise.
UrlParts splitUrl(const std::string& url);

/// POSTs `body` to `url` and returns the reply's body. Throws Error naming the URL and the
/// status and reason for a reply that is not 2xx, or naming the URL and the cause when no
/// reply came (connection refused, timeout, TLS failure).
std::string httpPost(const std::string& url, const HttpHeaders& headers, const std::string& body,
                     const std::string& contentType, const HttpTimeouts& timeouts = {});

} // namespace hydra::notify
