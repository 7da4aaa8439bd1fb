#include "server/auth.hh"

#include "db/web_auth.hh"
#include "nix/signing.hh"
#include "server/forms.hh"
#include "server/site.hh"
#include "util/secrets.hh"
#include "util/strings.hh"

#include <algorithm>
#include <cctype>

namespace hydra::server {

namespace {

bool isHexToken(std::string_view s)
{
    return s.size() == 64 &&
           std::ranges::all_of(s, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string lowerCase(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "scheme://host[:port]" of a URL, lower-cased; "" when it has none.
std::string originOf(std::string_view url)
{
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return "";
    auto end = url.find_first_of("/?#", scheme + 3);
    return lowerCase(url.substr(0, end));
}

Identity identityOf(db::AuthenticatedUser u, Identity::Via via, std::string sessionHash)
{
    return Identity{.username = std::move(u.userName),
                    .roles = std::move(u.roles),
                    .via = via,
                    .csrfToken = std::move(u.csrfToken),
                    .sessionHash = std::move(sessionHash)};
}

bool changesState(const Request& req)
{
    return req.method != "GET" && req.method != "HEAD";
}

// `Authorization: Bearer TOKEN`, or `Basic` with an API token as the password: how Nix (whose
// netrc-file knows only user names and passwords) reaches the binary cache of a private site.
std::optional<std::string> apiTokenOf(std::string_view authorization, std::string& basicUser)
{
    auto scheme = lowerCase(authorization.substr(0, authorization.find(' ')));
    auto credentials = std::string(trim(authorization.substr(std::min(authorization.size(), scheme.size()))));
    if (scheme == "bearer") return credentials;
    if (scheme != "basic") return std::nullopt;
    std::string decoded;
    try {
        decoded = nix::base64Decode(credentials, "the Authorization header");
    } catch (const std::exception&) {
        throw HttpError(401, "the Authorization header is not valid base64");
    }
    auto colon = decoded.find(':');
    if (colon == std::string::npos) throw HttpError(401, "Basic credentials need USER:API-TOKEN");
    basicUser = decoded.substr(0, colon);
    return decoded.substr(colon + 1);
}

} // namespace

std::optional<std::string> sessionToken(const Request& req)
{
    // Cookie: a=b; hydra_session=TOKEN; c=d
    auto header = req.header("cookie");
    std::string_view cookies = header;
    while (!cookies.empty()) {
        auto semi = cookies.find(';');
        auto pair = trim(cookies.substr(0, semi));
        cookies = semi == std::string_view::npos ? std::string_view{} : cookies.substr(semi + 1);
        auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == sessionCookieName)
            return std::string(pair.substr(eq + 1));
    }
    return std::nullopt;
}

void authenticate(const Site& site, Request& req)
{
    auto authorization = req.header("authorization");
    std::string basicUser;
    if (auto token = apiTokenOf(authorization, basicUser)) {
        auto user =
            isHexToken(*token)
                ? site.read([&](auto& t) { return db::findApiToken(t, sha256Hex(*token), site.now()); })
                : std::nullopt;
        if (!user || (!basicUser.empty() && basicUser != user->userName))
            throw HttpError(401, "the API token is not valid (revoked, or never issued)");
        req.user =
            identityOf(std::move(*user), basicUser.empty() ? Identity::Via::Token : Identity::Via::Basic, "");
        return;
    }
    auto token = sessionToken(req);
    if (!token || !isHexToken(*token)) return;
    auto hash = sha256Hex(*token);
    auto user = site.read([&](auto& t) { return db::findSession(t, hash, site.now()); });
    if (user) req.user = identityOf(std::move(*user), Identity::Via::Session, hash);
}

bool isHttps(const Site& site, const Request& req)
{
    if (lowerCase(req.header("x-forwarded-proto")) == "https") return true;
    return site.config().baseUri.starts_with("https://");
}

bool isSameOrigin(const Site& site, const Request& req, std::string_view url)
{
    auto origin = originOf(url);
    if (origin.empty()) return false;
    // Behind a reverse proxy the browser's origin is the proxy's: base_uri, or the forwarded host.
    if (!site.config().baseUri.empty() && origin == originOf(site.config().baseUri)) return true;
    std::string scheme = isHttps(site, req) ? "https://" : "http://";
    for (const auto& host : {req.header("x-forwarded-host"), req.header("host")})
        if (!host.empty() && origin == lowerCase(scheme + std::string(trim(host)))) return true;
    return false;
}

void checkSameSite(const Site& site, const Request& req, Access access)
{
    if (!changesState(req) || access == Access::Public || access == Access::Webhook) return;
    bool byBrowser = req.user && req.user->via != Identity::Via::Token;
    if (access == Access::Action && !byBrowser) return; // a bearer token: no page can attach one
    auto origin = req.header("origin");
    if (!origin.empty() && origin != "null") {
        if (!isSameOrigin(site, req, origin))
            throw HttpError(403, "refused: the request comes from another site (Origin " + origin + ")");
    } else {
        auto referer = req.header("referer");
        if (referer.empty())
            throw HttpError(403, "refused: a request that changes something must say where it comes "
                                 "from (an Origin or Referer header of this site)");
        if (!isSameOrigin(site, req, referer))
            throw HttpError(403, "refused: the request comes from another site (Referer " + referer + ")");
    }
    if (access != Access::Action) return;
    auto type = lowerCase(req.header("content-type"));
    if (type.starts_with("multipart/form-data") || type.starts_with("text/plain"))
        throw HttpError(415, "forms are accepted as application/x-www-form-urlencoded only");
    if (type.starts_with("application/x-www-form-urlencoded")) {
        auto fields = formFields(req);
        auto it = fields.find("csrf");
        // Basic credentials have no session, hence no token: their forms are refused.
        if (it == fields.end() || req.user->csrfToken.empty() ||
            !constantTimeEquals(it->second, req.user->csrfToken))
            throw HttpError(403, "refused: the form lacks this session's anti-forgery token; reload the "
                                 "page and submit it again");
    }
}

std::string sessionCookie(const Site& site, const Request& req, std::string_view token, int64_t maxAge)
{
    std::string path = site.config().basePath.empty() ? "/" : site.config().basePath;
    std::string c = std::string(sessionCookieName) + "=" + std::string(token) + "; Path=" + path +
                    "; Max-Age=" + std::to_string(maxAge) + "; HttpOnly; SameSite=Lax";
    if (isHttps(site, req)) c += "; Secure";
    return c;
}

} // namespace hydra::server
