#include "server/views.hh"

#include "server/site.hh"

#include <ctime>
#include <fmt/format.h>

namespace hydra::server {

std::string_view statusText(std::optional<int> status)
{
    if (!status) return "Queued";
    switch (*status) {
    case 0: return "Succeeded";
    case 1: return "Failed";
    case 2: return "Dependency failed";
    case 3: return "Aborted";
    case 4: return "Cancelled";
    case 6: return "Failed with output";
    case 7: return "Timed out";
    case 8: return "Cached failure";
    case 9: return "Unsupported system type";
    case 10: return "Log limit exceeded";
    case 11: return "Output limit exceeded";
    case 12: return "Non-deterministic build";
    case 13: return "Resolved";
    default: return "Failed";
    }
}

std::string_view stepStageText(int busy)
{
    switch (busy) {
    case 0: return "";
    case 1: return "preparing";
    case 10: return "connecting";
    case 20: return "sending inputs";
    case 30: return "building";
    case 35: return "waiting for a local slot";
    case 40: return "receiving outputs";
    case 50: return "post-processing";
    default: return "busy";
    }
}

Html statusBadge(bool finished, std::optional<int> status, bool running)
{
    Html h;
    if (!finished) {
        if (running)
            h.raw("<span class=\"status s-run\">Running</span>");
        else
            h.raw("<span class=\"status s-warn\">Queued</span>");
        return h;
    }
    int code = status.value_or(-1);
    if (code == 0)
        h.raw("<span class=\"status s-ok\">✔ ");
    else if (code == 3 || code == 4 || code == 9)
        h.raw("<span class=\"status s-warn\">■ ");
    else
        h.raw("<span class=\"status s-bad\">✘ ");
    h.text(statusText(status)).raw("</span>");
    return h;
}

std::string durationText(int64_t s)
{
    if (s < 0) s = 0;
    if (s >= 3600) return fmt::format("{}h {}m {}s", s / 3600, s % 3600 / 60, s % 60);
    if (s >= 60) return fmt::format("{}m {}s", s / 60, s % 60);
    return fmt::format("{}s", s);
}

namespace {

std::string isoTime(int64_t t)
{
    std::time_t tt = t;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string relative(int64_t ago)
{
    if (ago < 0) return "in the future";
    if (ago < 60) return fmt::format("{} s ago", ago);
    if (ago < 3600) return fmt::format("{} min ago", ago / 60);
    if (ago < 86400) return fmt::format("{} h ago", ago / 3600);
    return fmt::format("{} days ago", ago / 86400);
}

} // namespace

Html timeView(const Site& site, std::optional<int64_t> t)
{
    Html h;
    if (!t || *t == 0) return h.raw("<span class=\"muted\">–</span>");
    auto iso = isoTime(*t);
    h.raw("<time datetime=\"").text(iso).raw("\" title=\"").text(iso).raw("\">");
    return h.text(relative(site.now() - *t)).raw("</time>");
}

Html pager(const Site& site, std::string_view path, int64_t page, int64_t total, int64_t perPage)
{
    auto links = pageLinks(page, total, perPage);
    Html h;
    h.raw("<nav class=\"pager\" aria-label=\"pages\">");
    auto base = site.url(path);
    h.link(base + links.first, "« First");
    if (links.previous) h.link(base + *links.previous, "‹ Previous");
    h.raw("<span>").text(
        fmt::format("page {} of {}", page, std::max<int64_t>(1, (total + perPage - 1) / perPage)));
    h.raw("</span>");
    if (links.next) h.link(base + *links.next, "Next ›");
    h.link(base + links.last, "Last »");
    return h.raw("</nav>");
}

Html nextPager(const Site& site, std::string_view path, int64_t page, bool hasNext)
{
    Html h;
    if (page == 1 && !hasNext) return h;
    auto base = site.url(path);
    h.raw("<nav class=\"pager\" aria-label=\"pages\">");
    if (page > 1) {
        h.link(base + "?page=1", "« First");
        h.link(base + fmt::format("?page={}", page - 1), "‹ Previous");
    }
    h.raw("<span>").text(fmt::format("page {}", page)).raw("</span>");
    if (hasNext) h.link(base + fmt::format("?page={}", page + 1), "Next ›");
    return h.raw("</nav>");
}

Html evalTable(const Site& site, std::span<const db::web::Eval> evals, bool showJobset)
{
    Html h;
    h.raw("<div class=\"scroll\"><table><thead><tr><th>#</th>");
    if (showJobset) h.raw("<th>Jobset</th>");
    h.raw("<th>Evaluated</th><th>Input changes</th><th>Builds</th><th>Succeeded</th></tr></thead><tbody>");
    for (const auto& e : evals) {
        auto id = std::to_string(e.id);
        h.raw("<tr><td>").link(site.link({"eval", id}), id).raw("</td><td>");
        if (showJobset)
            h.link(site.link({"jobset", e.project, e.jobset}), e.project + ":" + e.jobset).raw("</td><td>");
        h.append(timeView(site, e.timestamp)).raw("</td><td>");
        for (const auto& in : e.inputs)
            if (!in.revision.empty()) h.text(in.name + " → " + in.revision.substr(0, 12) + " ");
        h.raw("</td><td>");
        if (e.nrBuilds) h.number(*e.nrBuilds);
        h.raw("</td><td>");
        if (e.nrSucceeded)
            h.number(*e.nrSucceeded);
        else
            h.raw("<span class=\"muted\">not all finished</span>");
        h.raw("</td></tr>");
    }
    return h.raw("</tbody></table></div>");
}

Html buildTable(const Site& site, std::span<const db::web::Build> builds)
{
    Html h;
    h.raw("<div class=\"scroll\"><table class=\"builds\"><thead><tr><th>Status</th><th>#</th><th>Job</th>"
          "<th>Finished</th><th>Name</th><th>System</th></tr></thead><tbody>");
    for (const auto& b : builds) {
        auto id = std::to_string(b.id);
        h.raw("<tr><td>").append(statusBadge(b.finished, b.buildStatus)).raw("</td><td>");
        h.link(site.link({"build", id}), id).raw("</td><td>");
        h.link(site.link({"job", b.project, b.jobset, b.job}), b.project + ":" + b.jobset + ":" + b.job);
        h.raw("</td><td>").append(timeView(site, b.stopTime)).raw("</td><td>").text(b.nixName);
        h.raw("</td><td>").text(b.system).raw("</td></tr>");
    }
    return h.raw("</tbody></table></div>");
}

} // namespace hydra::server
