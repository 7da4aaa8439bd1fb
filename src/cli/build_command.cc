// hydra build show|restart|cancel|bump|log ID...: what the build page and its buttons do, from a
// shell.

#include "cli/build_log.hh"
#include "cli/build_view.hh"
#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/build_actions.hh"
#include "db/schema.hh"
#include "db/web_builds.hh"
#include "util/clock.hh"
#include "util/error.hh"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <set>

namespace hydra::cli {

namespace {

struct BuildCommandLine {
    std::string verb;
    std::vector<int64_t> ids;
    bool json = false;
    bool follow = false;
};

BuildCommandLine parse(Args& args)
{
    if (args.done()) throw UsageError("missing what to do: show, restart, cancel, bump or log");
    BuildCommandLine c;
    c.verb = args.next();
    static const std::set<std::string> verbs{"show", "restart", "cancel", "bump", "log"};
    if (!verbs.contains(c.verb))
        throw UsageError(fmt::format("unknown action ‘{}’ (show, restart, cancel, bump or log)", c.verb));
    std::vector<std::string> ids;
    while (!args.done()) {
        auto a = args.next();
        if (a == "--json" && c.verb != "log")
            c.json = true;
        else if ((a == "--follow" || a == "-f") && c.verb == "log")
            c.follow = true;
        else if (a.starts_with("-"))
            throw UsageError(fmt::format("unknown option ‘{}’", a));
        else
            ids.push_back(a);
    }
    if (ids.empty()) throw UsageError("missing build ID");
    c.ids = parseBuildIds(ids);
    if (c.verb == "log" && c.ids.size() != 1) throw UsageError("hydra build log takes one build ID");
    return c;
}

// Every id must name a build before anything changes: a typo stops the whole command.
std::vector<db::web::Build> requireBuilds(pqxx::transaction_base& t, const std::vector<int64_t>& ids,
                                          db::web::BuildDetail detail)
{
    auto builds = db::web::loadBuilds(t, ids, detail);
    for (auto id : ids)
        if (std::none_of(builds.begin(), builds.end(), [&](const auto& b) { return b.id == id; }))
            throw Error("build {} does not exist", id);
    return builds;
}

int show(pqxx::connection& conn, const BuildCommandLine& c)
{
    pqxx::read_transaction t(conn);
    auto builds = requireBuilds(t, c.ids, db::web::BuildDetail::Full);
    if (c.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& b : builds) list.push_back(buildJson(b));
        printJson(list);
    } else {
        for (const auto& b : builds) std::printf("%s", buildDetails(b).c_str());
    }
    return 0;
}

struct Action {
    const char* done;      ///< "restarted"
    const char* condition; ///< why a build was left alone
};

Action actionOf(const std::string& verb)
{
    if (verb == "restart")
        return {"restarted", "it is not finished (only a finished build can be restarted)"};
    if (verb == "cancel") return {"cancelled", "it is not queued (only a queued build can be cancelled)"};
    return {"bumped", "it is not queued (only a queued build can be bumped)"};
}

int act(pqxx::connection& conn, const BuildCommandLine& c)
{
    pqxx::work t(conn);
    requireBuilds(t, c.ids, db::web::BuildDetail::Summary);
    auto now = SystemClock().unixTime();
    std::vector<int64_t> changed;
    if (c.verb == "restart")
        changed = db::restartBuilds(t, c.ids);
    else if (c.verb == "cancel")
        changed = db::cancelBuilds(t, c.ids, now);
    else
        changed = db::bumpBuilds(t, c.ids, now);
    t.commit();
    std::vector<int64_t> skipped;
    for (auto id : c.ids)
        if (!std::binary_search(changed.begin(), changed.end(), id)) skipped.push_back(id);
    auto action = actionOf(c.verb);
    if (c.json) {
        printJson({{action.done, changed}, {"skipped", skipped}});
    } else {
        for (auto id : changed) std::printf("build %lld %s\n", static_cast<long long>(id), action.done);
    }
    for (auto id : skipped)
        std::fprintf(stderr, "hydra build %s: build %lld left as it was: %s\n", c.verb.c_str(),
                     static_cast<long long>(id), action.condition);
    return skipped.empty() ? 0 : 1;
}

} // namespace

int cmdBuild(Args& args)
{
    auto c = parse(args);
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    if (db::schemaVersion(*conn) == 0)
        throw Error("the database has no hydra schema; run `hydra init` first");
    if (c.verb == "log") return printBuildLog(site, *conn, c.ids.front(), c.follow);
    return c.verb == "show" ? show(*conn, c) : act(*conn, c);
}

} // namespace hydra::cli
