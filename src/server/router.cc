#include "server/router.hh"

#include <map>

namespace hydra::server {

namespace {

std::vector<std::string_view> splitPath(std::string_view path)
{
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        auto end = path.find('/', i);
        if (end == std::string_view::npos) end = path.size();
        parts.push_back(path.substr(i, end - i));
        i = end;
    }
    return parts;
}

std::string decodeSegment(std::string_view raw)
{
    auto decoded = percentDecode(raw);
    if (!decoded) throw HttpError(400, "malformed percent-encoding in the path");
    if (*decoded == ".." || *decoded == "." || decoded->find('/') != std::string::npos ||
        decoded->find('\0') != std::string::npos)
        throw HttpError(400, "invalid path segment ‘" + *decoded + "’");
    return *decoded;
}

bool matchPattern(std::string_view pattern, const std::vector<std::string>& segments,
                  std::map<std::string, std::string>& params)
{
    auto want = splitPath(pattern);
    size_t i = 0;
    for (; i < want.size(); ++i) {
        auto w = want[i];
        if (w.front() == '*') {
            std::string rest;
            for (size_t k = i; k < segments.size(); ++k) rest += (k > i ? "/" : "") + segments[k];
            params[std::string(w.substr(1))] = rest;
            return true;
        }
        if (i >= segments.size()) return false;
        if (w.front() == ':')
            params[std::string(w.substr(1))] = segments[i];
        else if (w != segments[i])
            return false;
    }
    return i == segments.size();
}

} // namespace

Match matchRoute(const std::vector<Route>& routes, std::string_view method, std::string_view path)
{
    std::vector<std::string> segments;
    for (auto raw : splitPath(path)) segments.push_back(decodeSegment(raw));
    Match m;
    for (const auto& route : routes) {
        std::map<std::string, std::string> params;
        if (!matchPattern(route.pattern, segments, params)) continue;
        if (route.method != method && !(method == "HEAD" && route.method == "GET")) {
            m.pathKnown = true;
            continue;
        }
        m.route = &route;
        m.params = std::move(params);
        return m;
    }
    return m;
}

} // namespace hydra::server
