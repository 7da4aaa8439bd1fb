#include "notify/http_post.hh"

#include "util/error.hh"
#include "util/strings.hh"

#include <httplib.h>

namespace hydra::notify {

namespace {

constexpr size_t maxReplyExcerpt = 200;

std::string excerpt(const std::string& body)
{
    auto line = oneLine(body);
    if (line.size() > maxReplyExcerpt) line = line.substr(0, maxReplyExcerpt) + "...";
    return line;
}

} // namespace

UrlParts splitUrl(const std::string& url)
{
    auto schemeEnd = url.find("://");
    if (schemeEnd == std::string::npos) throw Error("'{}' is not an http:// or https:// URL", url);
    auto scheme = url.substr(0, schemeEnd);
    if (scheme != "http" && scheme != "https")
        throw Error("'{}' is not an http:// or https:// URL (scheme '{}')", url, scheme);
    auto pathStart = url.find_first_of("/?", schemeEnd + 3);
    if (pathStart == schemeEnd + 3) throw Error("URL '{}' names no host", url);
    UrlParts parts;
    parts.origin = url.substr(0, pathStart);
    if (pathStart == std::string::npos)
        parts.target = "/";
    else if (url[pathStart] == '?')
        parts.target = "/" + url.substr(pathStart);
    else
        parts.target = url.substr(pathStart);
    return parts;
}

std::string httpPost(const std::string& url, const HttpHeaders& headers, const std::string& body,
                     const std::string& contentType, const HttpTimeouts& timeouts)
{
    auto parts = splitUrl(url);
    httplib::Client client(parts.origin);
    if (!client.is_valid()) throw Error("POST {}: cannot make an HTTP client for '{}'", url, parts.origin);
    client.set_connection_timeout(timeouts.connect);
    client.set_read_timeout(timeouts.read);
    client.set_write_timeout(timeouts.write);
    httplib::Headers h;
    for (auto& [name, value] : headers) h.emplace(name, value);
    auto res = client.Post(parts.target, h, body, contentType);
    if (!res) throw Error("POST {}: no reply: {}", url, httplib::to_string(res.error()));
    if (res->status < 200 || res->status > 299)
        throw Error("POST {}: HTTP {} {}: {}", url, res->status, res->reason, excerpt(res->body));
    return res->body;
}

} // namespace hydra::notify
