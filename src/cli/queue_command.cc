// hydra queue: the queued builds in the order the queue runner takes them.

#include "cli/build_view.hh"
#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/schema.hh"
#include "db/web_api.hh"
#include "db/web_builds.hh"
#include "db/web_queue.hh"
#include "util/error.hh"

#include <charconv>
#include <cstdio>
#include <fmt/format.h>

namespace hydra::cli {

namespace {

constexpr int64_t defaultLimit = 100;
constexpr int64_t maxLimit = 100000;

int64_t parseLimit(const std::string& v)
{
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > maxLimit)
        throw UsageError(fmt::format("--limit: ‘{}’ is not a number from 1 to {}", v, maxLimit));
    return n;
}

// As /api/queue shows a queued build, with the global priority that orders the queue.
nlohmann::json queuedJson(const db::web::Build& b)
{
    return {{"id", b.id},
            {"project", b.project},
            {"jobset", b.jobset},
            {"job", b.job},
            {"system", b.system},
            {"nixname", b.nixName},
            {"finished", 0},
            {"timestamp", b.timestamp},
            {"priority", b.priority},
            {"globalpriority", b.globalPriority}};
}

} // namespace

int cmdQueue(Args& args)
{
    bool json = false;
    int64_t limit = defaultLimit;
    while (!args.done()) {
        auto a = args.next();
        if (a == "--json")
            json = true;
        else if (a == "--limit")
            limit = parseLimit(args.value(a));
        else if (a.starts_with("--limit="))
            limit = parseLimit(a.substr(8));
        else
            throw UsageError(fmt::format("unexpected argument ‘{}’", a));
    }
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    if (db::schemaVersion(*conn) == 0)
        throw Error("the database has no hydra schema; run `hydra init` first");
    pqxx::read_transaction t(*conn);
    auto total = db::web::queuedBuildCount(t);
    auto builds = db::web::loadBuilds(t, db::web::queuedBuildIds(t, 0, limit), db::web::BuildDetail::Summary);
    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& b : builds) list.push_back(queuedJson(b));
        printJson(list);
        return 0;
    }
    for (const auto& b : builds) std::printf("%s\n", buildLine(b).c_str());
    if (static_cast<int64_t>(builds.size()) < total)
        std::printf("(%zu of %lld queued builds shown; --limit N shows more)\n", builds.size(),
                    static_cast<long long>(total));
    else
        std::printf("%lld queued builds\n", static_cast<long long>(total));
    return 0;
}

} // namespace hydra::cli
