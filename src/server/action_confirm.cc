#include "server/action_confirm.hh"

#include "server/forms.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"

#include <string>

namespace hydra::server {

Handler confirmActionPage(std::string_view label)
{
    return [label = std::string(label)](const Site& site, const Request& req) {
        if (wantsJson(req)) throw HttpError(405, "this action takes a POST request; a GET changes nothing");
        Html h;
        h.raw("<p>A link changes nothing here: the button does.</p>");
        if (req.user)
            actionButton(h, req, site.url(req.path), label);
        else
            h.raw("<p>")
                .link(site.url("/login") + "?next=" + percentEncode(site.url(req.path)), "Log in")
                .raw(" to do this.</p>");
        return pageResponse(site, label, h);
    };
}

} // namespace hydra::server
