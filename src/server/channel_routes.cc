#include "server/channel_routes.hh"

#include "db/web_evals.hh"
#include "server/auth.hh"
#include "server/channel_expr.hh"
#include "server/html.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"

#include <nlohmann/json.hpp>

namespace hydra::server {

namespace {

struct Channel {
    std::string name;  ///< what nix-channel stores in channel-name
    std::string title; ///< for the page
    std::vector<db::web::ChannelBuild> builds;
};

// An absolute URL of `path`, for what is read outside the page (nix-channel, a shell): under
// base_uri, else at the address the client used.
std::string publicUrl(const Site& site, const Request& req, const std::string& path)
{
    if (!site.config().baseUri.empty()) return site.config().baseUri + path;
    auto host = req.header("host");
    if (host.empty()) host = site.config().host + ":" + std::to_string(site.config().port);
    return (isHttps(site, req) ? "https://" : "http://") + host + path;
}

Response binaryCacheUrl(const Site& site, const Request& req)
{
    return textResponse(publicUrl(site, req, "/") + "\n");
}

Response nixExprs(const Channel& c)
{
    Response r;
    r.contentType = "application/x-bzip2";
    r.body = channelTarball(c.name, channelExpression(c.builds));
    return r;
}

Response page(const Site& site, const Request& req, const Channel& c)
{
    if (wantsJson(req)) {
        auto list = nlohmann::json::array();
        for (const auto& b : c.builds) {
            nlohmann::json outputs = nlohmann::json::object();
            for (const auto& [name, path] : b.outputs) outputs[name] = path;
            list.push_back({{"id", b.id},
                            {"job", b.job},
                            {"system", b.system},
                            {"name", b.releaseName.value_or(b.nixName)},
                            {"outputs", outputs}});
        }
        return jsonResponse({{"name", c.name}, {"builds", list}});
    }
    Html h;
    h.raw("<p>Subscribe with <code>nix-channel --add ")
        .text(publicUrl(site, req, req.path))
        .raw("</code>, then <code>nix-channel --update</code>; its packages come from this server's "
             "binary cache.</p>");
    if (c.builds.empty()) {
        h.raw("<p>The channel has no packages yet: a package is a job's newest successful build whose "
              "output is a directory (Hydra's <code>nix-build</code> product).</p>");
        return pageResponse(site, c.title, h);
    }
    h.raw("<table><thead><tr><th>Job</th><th>Package</th><th>System</th><th>Build</th></tr></thead><tbody>");
    for (const auto& b : c.builds) {
        h.raw("<tr><td>")
            .text(b.job)
            .raw("</td><td>")
            .text(b.releaseName.value_or(b.nixName))
            .raw("</td><td>");
        h.text(b.system)
            .raw("</td><td>")
            .link(site.url("/build/" + std::to_string(b.id)), std::to_string(b.id));
        h.raw("</td></tr>");
    }
    h.raw("</tbody></table>");
    return pageResponse(site, c.title, h);
}

Response answer(const Site& site, const Request& req, const Channel& c, ChannelPart part)
{
    switch (part) {
    case ChannelPart::Page: return page(site, req, c);
    case ChannelPart::NixExprs: return nixExprs(c);
    case ChannelPart::BinaryCacheUrl: return binaryCacheUrl(site, req);
    }
    return page(site, req, c);
}

std::string channelName(const std::string& scopeName)
{
    std::string name = scopeName.empty() ? "hydra" : scopeName;
    for (auto& ch : name)
        if (ch == ':') ch = '-';
    return name;
}

} // namespace

Handler latestChannel(BuildListLevel level, ChannelPart part)
{
    return [level, part](const Site& site, const Request& req) {
        auto scope = resolveBuildScope(site, req, level);
        Channel c;
        c.name = channelName(scope.name) + "-latest";
        c.title = "Channel " + c.name;
        if (part != ChannelPart::BinaryCacheUrl)
            c.builds = site.read([&](auto& t) { return db::web::latestChannelBuilds(t, scope.scope); });
        return answer(site, req, c, part);
    };
}

Handler evalChannel(ChannelPart part)
{
    return [part](const Site& site, const Request& req) {
        auto id = idParam(req, "id", "evaluation");
        auto eval = site.read([&](auto& t) { return db::web::findEval(t, id); });
        if (!eval) throw HttpError(404, "evaluation " + std::to_string(id) + " does not exist");
        Channel c;
        c.name = channelName(eval->project + ":" + eval->jobset) + "-eval-" + std::to_string(id);
        c.title = "Channel of evaluation " + std::to_string(id);
        if (part != ChannelPart::BinaryCacheUrl)
            c.builds = site.read([&](auto& t) { return db::web::evalChannelBuilds(t, id); });
        return answer(site, req, c, part);
    };
}

} // namespace hydra::server
