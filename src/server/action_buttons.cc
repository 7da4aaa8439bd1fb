#include "server/action_buttons.hh"

#include "server/forms.hh"
#include "server/site.hh"

#include <string>

namespace hydra::server {

Html buildActionButtons(const Site& site, const Request& req, const db::web::Build& build)
{
    Html h;
    if (!req.user) return h;
    auto id = std::to_string(build.id);
    h.raw("<div class=\"actions\">");
    if (build.finished) {
        actionButton(h, req, site.link({"build", id, "restart"}), "Restart");
    } else {
        actionButton(h, req, site.link({"build", id, "cancel"}), "Cancel");
        actionButton(h, req, site.link({"build", id, "bump"}), "Bump to the front of the queue");
    }
    if (build.keep)
        actionButton(h, req, site.link({"build", id, "keep", "0"}), "Stop keeping");
    else
        actionButton(h, req, site.link({"build", id, "keep", "1"}), "Keep");
    return h.raw("</div>");
}

Html evalActionButtons(const Site& site, const Request& req, int64_t evalId)
{
    Html h;
    if (!req.user) return h;
    auto id = std::to_string(evalId);
    h.raw("<div class=\"actions\">");
    actionButton(h, req, site.link({"eval", id, "restart-failed"}), "Restart all failed builds");
    actionButton(h, req, site.link({"eval", id, "restart-aborted"}), "Restart all aborted builds");
    actionButton(h, req, site.link({"eval", id, "cancel"}), "Cancel all scheduled builds");
    actionButton(h, req, site.link({"eval", id, "bump"}), "Bump all scheduled builds");
    return h.raw("</div>");
}

Html jobsetActionButtons(const Site& site, const Request& req, const std::string& project,
                         const std::string& jobset)
{
    Html h;
    if (!req.user) return h;
    h.raw("<div class=\"actions\">");
    actionButton(h, req, site.link({"jobset", project, jobset, "trigger"}) + "?force=1", "Evaluate now");
    return h.raw("</div>");
}

} // namespace hydra::server
