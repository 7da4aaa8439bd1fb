#include "server/build_progress.hh"

#include "server/http.hh"
#include "server/site.hh"
#include "server/views.hh"

#include <set>

namespace hydra::server {

namespace {

// The store is asked for at most this many unbuilt derivations, and this many are listed: the
// page of a build of a whole package set stays quick and short.
constexpr size_t maxWaitingLooked = 2000;
constexpr size_t maxWaitingListed = 50;

/// Unbuilt derivations of the build that no step has taken up yet.
std::vector<std::string> waitingDerivations(const Site& site, const db::web::Build& build,
                                            const std::vector<db::web::BuildStep>& steps)
{
    std::set<std::string> stepped;
    for (const auto& s : steps) stepped.insert(s.drvPath);
    std::vector<std::string> waiting;
    try {
        for (auto& d : site.store().get().unbuiltDerivations(build.drvPath, maxWaitingLooked))
            if (!stepped.contains(d)) waiting.push_back(std::move(d));
    } catch (const HttpError&) {
        // No store database here (logged where it failed): the page shows the steps it has.
    }
    std::sort(waiting.begin(), waiting.end());
    return waiting;
}

void runningStep(const Site& site, const db::web::Build& build, const db::web::BuildStep& s, Html& h)
{
    auto id = std::to_string(build.id);
    auto nr = std::to_string(s.stepNr);
    h.raw("<li>").link(site.link({"build", id, "step", nr}), "step " + nr).raw(" <code>").text(s.drvPath);
    h.raw("</code> on <strong>")
        .text(s.machine.empty() ? "(choosing a machine)" : s.machine)
        .raw("</strong>: ");
    h.raw("<span class=\"status s-run\">").text(stepStageText(s.busy)).raw("</span>");
    if (s.startTime) h.raw(" ").text(durationText(site.now() - *s.startTime) + " so far");
    if (s.type == 0) h.raw(" · ").link(site.link({"build", id, "step", nr, "log"}), "live log");
    h.raw("</li>");
}

} // namespace

Html buildProgress(const Site& site, const db::web::Build& build,
                   const std::vector<db::web::BuildStep>& steps)
{
    Html h;
    if (build.finished) return h;
    size_t done = 0, running = 0;
    for (const auto& s : steps) (s.busy ? running : done) += 1;
    auto waiting = waitingDerivations(site, build, steps);
    h.raw("<section id=\"progress\" aria-label=\"Progress\"><h2>Progress</h2><p>")
        .raw("<strong>")
        .text(std::to_string(done))
        .raw("</strong> steps done · <strong>")
        .text(std::to_string(running))
        .raw("</strong> running · <strong>")
        .text(waiting.size() >= maxWaitingLooked ? std::to_string(waiting.size()) + "+"
                                                 : std::to_string(waiting.size()))
        .raw("</strong> waiting</p>");
    if (running > 0) {
        h.raw("<ul class=\"running\">");
        for (const auto& s : steps)
            if (s.busy) runningStep(site, build, s, h);
        h.raw("</ul>");
    }
    if (!waiting.empty()) {
        h.raw("<details><summary>Waiting derivations</summary><ul class=\"waiting\">");
        for (size_t i = 0; i < waiting.size() && i < maxWaitingListed; ++i)
            h.raw("<li><code>").text(waiting[i]).raw("</code></li>");
        if (waiting.size() > maxWaitingListed)
            h.raw("<li class=\"muted\">and ")
                .text(std::to_string(waiting.size() - maxWaitingListed))
                .raw(" more</li>");
        h.raw("</ul></details>");
    }
    return h.raw("</section>");
}

} // namespace hydra::server
