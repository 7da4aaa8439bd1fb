#include "server/log_routes.hh"

#include "db/web_logs.hh"
#include "nix/build_log_path.hh"
#include "nix/store_path.hh"
#include "server/event_stream.hh"
#include "server/html.hh"
#include "server/layout.hh"
#include "server/log_reader.hh"
#include "server/log_stream.hh"
#include "server/log_tail.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <fmt/format.h>
#include <memory>

namespace hydra::server {

namespace {

constexpr int64_t defaultTailLines = 50; // Hydra's
constexpr int64_t maxTailLines = 100000;
constexpr size_t maxTailBytes = 2 << 20;
// A page beyond this shows the log's end and links to the raw log instead.
constexpr size_t maxPageBytes = 1 << 20;

/// The log a route shows: whose it is (for titles and messages) and where its links go.
struct LogSource {
    std::string what;    ///< "build 12", "step 3 of build 12"
    std::string drvPath; ///< its log is this derivation's
    bool running = false;
    std::string pageLink, rawLink, tailLink;
    int64_t buildId = 0;
    std::optional<int> stepNr; ///< the step whose log it is, when one built it
};

enum class Mode { Page, Raw, Tail };

std::unique_ptr<LogReader> openLog(const Site& site, const LogSource& src)
{
    std::unique_ptr<LogReader> log;
    try {
        log = LogReader::open(nix::buildLogPath(site.config().logDir, src.drvPath));
    } catch (const Error& e) {
        log::warn("log of {}: {}", src.what, e.what());
    }
    if (!log)
        throw HttpError(404, fmt::format("{} has no log: none of ‘{}’ is stored", src.what, src.drvPath));
    return log;
}

Response rawResponse(std::unique_ptr<LogReader> log, std::string what)
{
    Response r;
    r.contentType = "text/plain; charset=utf-8";
    // std::function must be copyable: the reader is shared by the copies.
    std::shared_ptr<LogReader> shared(std::move(log));
    r.stream = [shared, what = std::move(what)](const BodyWriter& out) {
        try {
            streamLog(*shared, out);
        } catch (const std::exception& e) {
            throw Error("sending the log of {}: {}", what, e.what());
        }
    };
    return r;
}

Response tailResponse(LogReader& log, const Request& req)
{
    auto lines = countParam(req, "tail", defaultTailLines, maxTailLines);
    auto end = readLogEnd(log, maxTailBytes);
    return textResponse(std::string(lastLines(end.text, static_cast<size_t>(lines))));
}

/// A running step's page: the log as far as written, then the script follows it from there.
Response followingPageOf(const Site& site, const LogSource& src)
{
    auto path = nix::buildLogPath(site.config().logDir, src.drvPath);
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    uint64_t from = !ec && size > maxPageBytes ? size - maxPageBytes : 0;
    LogTail tail(path, from);
    std::string text = tail.next(maxPageBytes, false);
    std::string_view shown = text;
    if (from > 0 && shown.find('\n') != std::string_view::npos) shown.remove_prefix(shown.find('\n') + 1);
    auto stepLink =
        site.link({"build", std::to_string(src.buildId), "step", std::to_string(*src.stepNr), "log"});
    Html h;
    h.raw("<p>").link(src.rawLink, "raw").raw(" · ").link(src.tailLink, "tail").raw("</p>");
    h.raw("<p class=\"muted\" id=\"log-state\" aria-live=\"polite\">This step is still running: its log "
          "is shown as far as written, and grows here as the step writes it.</p>"
          "<noscript><p class=\"muted\">Without JavaScript the log does not grow by itself: reload the page "
          "for more.</p></noscript>");
    if (from > 0) h.raw("<p class=\"muted\">The log is long: only its last part is shown here.</p>");
    h.raw("<pre class=\"log\" id=\"log\" data-follow=\"")
        .text(stepLink)
        .raw("\" data-offset=\"")
        .text(std::to_string(tail.offset()))
        .raw("\">")
        .text(shown)
        .raw("</pre>");
    return pageResponse(site, "Log of " + src.what, h, PageOptions{.followsLog = true});
}

Response pageOf(const Site& site, LogReader& log, const LogSource& src)
{
    auto end = readLogEnd(log, maxPageBytes);
    std::string_view text = end.text;
    if (end.cut && text.find('\n') != std::string_view::npos) text.remove_prefix(text.find('\n') + 1);
    Html h;
    h.raw("<p>").link(src.rawLink, "raw").raw(" · ").link(src.tailLink, "tail").raw("</p>");
    if (src.running)
        h.raw("<p class=\"muted\">This step is still running: its log is shown as far as written.</p>");
    if (end.cut)
        h.raw("<p class=\"muted\">The log is long: only its last part is shown here. ")
            .link(src.rawLink, "The whole log")
            .raw(" is plain text.</p>");
    h.raw("<pre class=\"log\">").text(text).raw("</pre>");
    return pageResponse(site, "Log of " + src.what, h);
}

Response showLog(const Site& site, const Request& req, const LogSource& src, Mode mode)
{
    if (mode == Mode::Tail) countParam(req, "tail", defaultTailLines, maxTailLines); // a 400 before any 404
    if (mode == Mode::Page && src.running && src.stepNr) return followingPageOf(site, src);
    auto log = openLog(site, src);
    switch (mode) {
    case Mode::Raw: return rawResponse(std::move(log), src.what);
    case Mode::Tail: return tailResponse(*log, req);
    case Mode::Page: break;
    }
    return pageOf(site, *log, src);
}

LogSource buildSource(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "build id");
    auto target = site.read([&](auto& t) {
        auto found = db::web::buildLogTarget(t, id);
        // No step has built the build's own derivation yet: while a step of it runs (one of its
        // dependencies), that step's log is the one to watch.
        if (found && !found->step)
            if (auto f = db::web::followedStep(t, id); f && f->step && f->step->running)
                found = db::web::BuildLogTarget{.drvPath = f->step->drvPath, .step = f->step};
        return found;
    });
    if (!target) throw HttpError(404, fmt::format("build {} does not exist", id));
    auto sid = std::to_string(id);
    return {.what = "build " + sid,
            .drvPath = target->drvPath,
            .running = target->step && target->step->running,
            .pageLink = site.link({"build", sid, "log"}),
            .rawLink = site.link({"build", sid, "log", "raw"}),
            .tailLink = site.link({"build", sid, "log", "tail"}),
            .buildId = id,
            .stepNr = target->step ? std::optional<int>(target->step->stepNr) : std::nullopt};
}

LogSource stepSource(const Site& site, const Request& req)
{
    auto nr = idParam(req, "step", "step number");
    auto id = idParam(req, "id", "build id");
    auto step = site.read([&](auto& t) {
        if (!db::web::buildExists(t, id)) throw HttpError(404, fmt::format("build {} does not exist", id));
        return db::web::buildStepForLog(t, id, static_cast<int>(nr));
    });
    if (!step) throw HttpError(404, fmt::format("build {} has no step {}", id, nr));
    auto sid = std::to_string(id);
    auto snr = std::to_string(nr);
    return {.what = fmt::format("step {} of build {}", nr, id),
            .drvPath = step->drvPath,
            .running = step->running,
            .pageLink = site.link({"build", sid, "step", snr, "log"}),
            .rawLink = site.link({"build", sid, "step", snr, "log", "raw"}),
            .tailLink = site.link({"build", sid, "step", snr, "log", "tail"}),
            .buildId = id,
            .stepNr = static_cast<int>(nr)};
}

} // namespace

namespace {

/// A build's log, followed; a build that finished without a step of its own (its outputs were
/// already there) has at most the log another build left, which plain text gets as it is.
Response followBuild(const Site& site, const Request& req)
{
    auto id = idParam(req, "id", "build id");
    auto f = site.read([&](auto& t) { return db::web::followedStep(t, id); });
    if (!f) throw HttpError(404, fmt::format("build {} does not exist", id));
    if (!wantsEventStream(req) && !f->step && f->buildFinished)
        return showLog(site, req, buildSource(site, req), Mode::Raw);
    return followBuildResponse(site, req, id, *f);
}

Response followStep(const Site& site, const Request& req)
{
    auto src = stepSource(site, req);
    return followResponse(
        site, req, {.buildId = src.buildId, .stepNr = *src.stepNr, .drvPath = src.drvPath, .what = src.what});
}

} // namespace

Response buildLogPage(const Site& site, const Request& req)
{
    if (wantsFollow(req)) return followBuild(site, req);
    return showLog(site, req, buildSource(site, req), Mode::Page);
}

Response buildLogRaw(const Site& site, const Request& req)
{
    if (wantsFollow(req)) return followBuild(site, req);
    return showLog(site, req, buildSource(site, req), Mode::Raw);
}

Response buildLogTail(const Site& site, const Request& req)
{
    return showLog(site, req, buildSource(site, req), Mode::Tail);
}

Response stepLogPage(const Site& site, const Request& req)
{
    if (wantsFollow(req)) return followStep(site, req);
    return showLog(site, req, stepSource(site, req), Mode::Page);
}

Response stepLogRaw(const Site& site, const Request& req)
{
    if (wantsFollow(req)) return followStep(site, req);
    return showLog(site, req, stepSource(site, req), Mode::Raw);
}

Response stepLogTail(const Site& site, const Request& req)
{
    return showLog(site, req, stepSource(site, req), Mode::Tail);
}

Response derivationLog(const Site& site, const Request& req)
{
    const auto& name = req.param("drvname");
    // Only a valid store path base name is looked up: nothing else can name a file.
    if (!nix::StorePath::isValid(std::string(nix::defaultStoreDir) + "/" + name) || !name.ends_with(".drv"))
        throw HttpError(400, fmt::format("‘{}’ is not the name of a derivation in the Nix store", name));
    auto drvPath = std::string(nix::defaultStoreDir) + "/" + name;
    auto step = site.read([&](auto& t) { return db::web::stepOfDerivation(t, drvPath); });
    if (!step) throw HttpError(404, fmt::format("no build step built ‘{}’, so it has no log", drvPath));
    LogSource src{.what = "derivation " + name, .drvPath = drvPath, .running = step->running};
    return showLog(site, req, src, req.queryValue("tail") ? Mode::Tail : Mode::Raw);
}

} // namespace hydra::server
