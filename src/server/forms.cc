#include "server/forms.hh"

#include "server/auth.hh"
#include "server/site.hh"

#include <algorithm>

namespace hydra::server {

void csrfField(Html& h, const Request& req)
{
    h.raw("<input type=\"hidden\" name=\"csrf\" value=\"")
        .text(req.user ? req.user->csrfToken : std::string())
        .raw("\">");
}

void actionButton(Html& h, const Request& req, std::string_view action, std::string_view label)
{
    h.raw("<form class=\"action\" method=\"post\" action=\"").text(action).raw("\">");
    csrfField(h, req);
    h.raw("<button type=\"submit\">").text(label).raw("</button></form>");
}

std::multimap<std::string, std::string> formFields(const Request& req)
{
    std::multimap<std::string, std::string> out;
    auto type = req.header("content-type");
    std::string lower(type);
    std::ranges::transform(lower, lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!lower.starts_with("application/x-www-form-urlencoded")) return out;
    std::string_view body = req.body;
    auto decode = [](std::string_view s) {
        std::string spaced(s);
        std::ranges::replace(spaced, '+', ' ');
        auto d = percentDecode(spaced);
        if (!d) throw HttpError(400, "the form's body has a malformed %-escape");
        return *d;
    };
    while (!body.empty()) {
        auto amp = body.find('&');
        auto pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        out.emplace(decode(pair.substr(0, eq)),
                    eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
    }
    return out;
}

std::optional<std::string> formField(const std::multimap<std::string, std::string>& fields,
                                     std::string_view name)
{
    auto it = fields.find(std::string(name));
    if (it == fields.end()) return std::nullopt;
    return it->second;
}

Response redirectBack(const Site& site, const Request& req, std::string_view fallbackPath)
{
    auto referer = req.header("referer");
    if (!referer.empty() && isSameOrigin(site, req, referer)) return Response::redirect(302, referer);
    return Response::redirect(302, site.absoluteUrl(fallbackPath));
}

} // namespace hydra::server
