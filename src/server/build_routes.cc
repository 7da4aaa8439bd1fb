#include "server/build_routes.hh"

#include "db/queue_notify.hh"
#include "db/schema.hh"
#include "db/web_builds.hh"
#include "server/action_buttons.hh"
#include "server/build_progress.hh"
#include "server/json_objects.hh"
#include "server/layout.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <fmt/format.h>

namespace hydra::server {

namespace {

Html stepsTable(const Site& site, const db::web::Build& b, const std::vector<db::web::BuildStep>& steps)
{
    Html h;
    h.raw(
        "<h2>Build steps</h2><div class=\"scroll\"><table><thead><tr><th>#</th><th>What</th><th>Duration</th>"
        "<th>Machine</th><th>Status</th><th>Log</th></tr></thead><tbody>");
    auto id = std::to_string(b.id);
    for (const auto& s : steps) {
        auto nr = std::to_string(s.stepNr);
        h.raw("<tr><td>").link(site.link({"build", id, "step", nr}), nr).raw("</td><td><code>");
        h.text(s.drvPath).raw("</code></td><td>");
        if (s.startTime && s.stopTime)
            h.text(durationText(*s.stopTime - *s.startTime));
        else if (s.startTime && s.busy)
            h.text(durationText(site.now() - *s.startTime) + " so far");
        h.raw("</td><td>").text(s.machine).raw("</td><td>");
        if (s.busy)
            h.raw("<span class=\"status s-run\">").text(stepStageText(s.busy)).raw("</span>");
        else
            h.append(statusBadge(s.status.has_value(), s.status));
        if (s.propagatedFrom)
            h.raw(" (from ")
                .link(site.link({"build", std::to_string(*s.propagatedFrom)}),
                      std::to_string(*s.propagatedFrom))
                .raw(")");
        if (!s.errorMsg.empty()) h.raw("<br><span class=\"muted\">").text(s.errorMsg).raw("</span>");
        h.raw("</td><td>");
        if (s.type == 0) {
            h.link(site.link({"build", id, "step", nr, "log"}), "pretty").raw(" ");
            h.link(site.link({"build", id, "step", nr, "log", "raw"}), "raw").raw(" ");
            h.link(site.link({"build", id, "step", nr, "log", "tail"}), "tail");
        }
        h.raw("</td></tr>");
    }
    return h.raw("</tbody></table></div>");
}

Html outputsAndProducts(const Site& site, const db::web::Build& b)
{
    Html h;
    h.raw("<h2>Outputs</h2><ul>");
    for (const auto& [name, path] : b.outputs) {
        h.raw("<li>").text(name).raw(": <code>").text(path.value_or("(not built yet)")).raw("</code>");
        if (path && b.finished && b.buildStatus == 0)
            h.raw(" ").link(site.link({"build", std::to_string(b.id), "output", name}), "download as NAR");
        h.raw("</li>");
    }
    h.raw("</ul>");
    if (b.products.empty()) return h;
    h.raw("<h2>Build products</h2><ul>");
    for (const auto& p : b.products) {
        h.raw("<li>");
        h.link(site.link({"build", std::to_string(b.id), "download", std::to_string(p.productNr)}), p.name);
        h.raw(" <span class=\"muted\">").text(p.type + (p.subtype.empty() ? "" : " " + p.subtype));
        if (p.fileSize) h.text(fmt::format(", {} bytes", *p.fileSize));
        if (p.sha256hash) h.text(", sha256 " + *p.sha256hash);
        h.raw("</span></li>");
    }
    return h.raw("</ul>");
}

Html buildSummary(const Site& site, const db::web::Build& b, bool running)
{
    Html h;
    h.raw("<p class=\"big\">").append(statusBadge(b.finished, b.buildStatus, running)).raw("</p><dl>");
    h.raw("<dt>Job</dt><dd>")
        .link(site.link({"job", b.project, b.jobset, b.job}), b.project + ":" + b.jobset + ":" + b.job);
    h.raw("</dd><dt>Name</dt><dd>").text(b.nixName).raw("</dd><dt>System</dt><dd>").text(b.system);
    h.raw("</dd><dt>Derivation</dt><dd><code>").text(b.drvPath).raw("</code></dd>");
    h.raw("<dt>Queued</dt><dd>").append(timeView(site, b.timestamp)).raw("</dd>");
    if (b.startTime) h.raw("<dt>Started</dt><dd>").append(timeView(site, b.startTime)).raw("</dd>");
    if (b.stopTime) h.raw("<dt>Finished</dt><dd>").append(timeView(site, b.stopTime)).raw("</dd>");
    if (b.finished && b.startTime && b.stopTime)
        h.raw("<dt>Duration</dt><dd>").text(durationText(*b.stopTime - *b.startTime)).raw("</dd>");
    if (b.isCachedBuild) h.raw("<dt>Cached</dt><dd>yes: built before, by another build</dd>");
    h.raw("<dt>Priority</dt><dd>").number(b.priority);
    if (b.globalPriority) h.raw(" (bumped)");
    h.raw("</dd>");
    if (!b.description.empty()) h.raw("<dt>Description</dt><dd>").text(b.description).raw("</dd>");
    h.raw("<dt>Evaluations</dt><dd>");
    for (auto e : b.evals) h.link(site.link({"eval", std::to_string(e)}), std::to_string(e)).raw(" ");
    return h.raw("</dd></dl>");
}

Html buildLinks(const Site& site, const char* title, const std::vector<db::web::Build>& builds)
{
    Html h;
    if (builds.empty()) return h;
    h.raw("<h2>").text(title).raw("</h2>").append(buildTable(site, builds));
    return h;
}

} // namespace

db::web::Build requireBuild(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "build id");
    auto b = site.read([&](auto& t) { return db::web::findBuild(t, id); });
    if (!b) throw HttpError(404, fmt::format("build {} does not exist", id));
    return std::move(*b);
}

Response buildPage(const Site& site, const Request& req)
{
    auto build = requireBuild(site, req);
    if (wantsJson(req)) return jsonResponse(toJson(build));
    auto [steps, constituents, inputs] = site.read([&](auto& t) {
        auto c = db::web::constituentIds(t, build.id);
        auto i = db::web::inputBuildIds(t, build.id);
        return std::make_tuple(db::web::buildSteps(t, build.id),
                               db::web::loadBuilds(t, c, db::web::BuildDetail::Summary),
                               db::web::loadBuilds(t, i, db::web::BuildDetail::Summary));
    });
    bool running = false;
    for (const auto& s : steps) running = running || s.busy != 0;
    Html h;
    h.append(buildSummary(site, build, running));
    h.append(buildActionButtons(site, req, build));
    h.append(buildProgress(site, build, steps));
    if (!steps.empty()) {
        auto id = std::to_string(build.id);
        h.raw("<p>").link(site.link({"build", id, "log"}), "Log").raw(" · ");
        h.link(site.link({"build", id, "log", "raw"}), "raw")
            .raw(" · ")
            .link(site.link({"build", id, "log", "tail"}), "tail");
        h.raw("</p>");
    }
    h.append(outputsAndProducts(site, build)).append(stepsTable(site, build, steps));
    h.append(buildLinks(site, "Constituents", constituents)).append(buildLinks(site, "Build inputs", inputs));
    // An unfinished build's page follows its steps; a finished one changes only by a restart.
    return pageResponse(
        site, fmt::format("Build {} of job {}:{}:{}", build.id, build.project, build.jobset, build.job), h,
        PageOptions{.liveOn = {db::channel::stepStarted, db::channel::stepFinished, db::channel::buildStarted,
                               db::channel::buildFinished, db::channel::buildsRestarted,
                               db::channel::buildsCancelled, db::channel::buildsBumped},
                    .liveBuild = std::to_string(build.id)});
}

Response buildConstituents(const Site& site, const Request& req)
{
    auto build = requireBuild(site, req);
    auto builds =
        site.read([&](auto& t) { return db::web::loadBuilds(t, db::web::constituentIds(t, build.id)); });
    if (wantsJson(req)) {
        auto list = nlohmann::json::array();
        for (const auto& b : builds) list.push_back(toJson(b));
        return jsonResponse(list);
    }
    return pageResponse(site, fmt::format("Constituents of build {}", build.id), buildTable(site, builds));
}

Response buildStepPage(const Site& site, const Request& req)
{
    auto nr = idParam(req, "step", "step number"); // malformed input is a 400 before any lookup
    auto build = requireBuild(site, req);
    auto steps = site.read([&](auto& t) { return db::web::buildSteps(t, build.id); });
    for (const auto& s : steps) {
        if (s.stepNr != nr) continue;
        if (wantsJson(req)) return jsonResponse(toJson(s));
        return pageResponse(site, fmt::format("Build {} step {}", build.id, nr),
                            stepsTable(site, build, {s}));
    }
    throw HttpError(404, fmt::format("build {} has no step {}", build.id, nr));
}

Response buildGetInfo(const Site& site, const Request& req)
{
    auto build = requireBuild(site, req);
    auto out = build.outputs.count("out") ? build.outputs.at("out") : std::nullopt;
    if (!out && !build.outputs.empty()) out = build.outputs.begin()->second;
    return jsonResponse({{"buildId", build.id},
                         {"drvPath", build.drvPath},
                         {"outPath", out ? nlohmann::json(*out) : nlohmann::json()}});
}

Response buildNixlogRedirect(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "build id");
    auto nr = idParam(req, "step", "step number");
    return Response::redirect(
        301, site.absoluteUrl(fmt::format("/build/{}/step/{}/log", id, nr) + restOfPath(req)));
}

} // namespace hydra::server
