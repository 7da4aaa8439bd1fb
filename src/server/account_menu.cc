#include "server/account_menu.hh"

#include "server/forms.hh"
#include "server/html.hh"
#include "server/site.hh"

#include <string_view>

namespace hydra::server {

namespace {

// The header comes first: the marker is within the page's first few hundred bytes.
constexpr std::size_t headerSearchLimit = 4096;

} // namespace

void fillAccountMenu(const Site& site, const Request& req, Response& res)
{
    if (res.stream || !res.contentType.starts_with("text/html")) return;
    // Only the head of the page is searched: a long page without the marker costs nothing more.
    auto at = std::string_view(res.body).substr(0, headerSearchLimit).find(accountMenuMarker);
    if (at == std::string_view::npos) return;
    Html h;
    if (req.user) {
        h.raw("<span class=\"account\">").link(site.link({"user", req.user->username}), req.user->username);
        h.raw(" <form class=\"action\" method=\"post\" action=\"").text(site.url("/logout")).raw("\">");
        csrfField(h, req);
        h.raw("<button type=\"submit\">Log out</button></form></span>");
    } else if (req.path != "/login") {
        h.raw("<span class=\"account\">")
            .link(site.url("/login") + "?next=" + percentEncode(site.url(req.path)), "Log in")
            .raw("</span>");
    }
    res.body.replace(at, accountMenuMarker.size(), h.str());
}

} // namespace hydra::server
