#include "cli/build_view.hh"

#include "cli/args.hh"
#include "db/build_status.hh"
#include "server/json_objects.hh"

#include <charconv>
#include <cstdio>
#include <fmt/format.h>
#include <limits>

namespace hydra::cli {

namespace {

std::string statusOf(const db::web::Build& b)
{
    if (!b.finished) return "queued";
    if (!b.buildStatus) return "finished";
    return std::string(db::buildStatusName(static_cast<db::BuildStatus>(*b.buildStatus)));
}

} // namespace

std::string buildLine(const db::web::Build& b)
{
    return fmt::format("{}\t{}:{}:{}\t{}\t{}", b.id, b.project, b.jobset, b.job, b.system, statusOf(b));
}

std::string buildDetails(const db::web::Build& b)
{
    std::string s = fmt::format("build {}\n  job: {}:{}:{}\n  name: {}\n  system: {}\n  status: {}\n", b.id,
                                b.project, b.jobset, b.job, b.nixName, b.system, statusOf(b));
    s += fmt::format("  derivation: {}\n  queued at: {}\n", b.drvPath, b.timestamp);
    if (b.startTime) s += fmt::format("  started at: {}\n", *b.startTime);
    if (b.stopTime && b.finished) s += fmt::format("  stopped at: {}\n", *b.stopTime);
    s += fmt::format("  priority: {}, global priority: {}\n", b.priority, b.globalPriority);
    if (b.keep) s += "  kept: yes\n";
    for (const auto& [name, path] : b.outputs)
        s += fmt::format("  output {}: {}\n", name, path.value_or("(not built yet)"));
    for (auto e : b.evals) s += fmt::format("  evaluation: {}\n", e);
    return s;
}

nlohmann::json buildJson(const db::web::Build& b)
{
    // The web's Build object, plus what an operator steering the queue also wants to see.
    auto j = server::toJson(b);
    j["globalpriority"] = b.globalPriority;
    j["keep"] = b.keep ? 1 : 0;
    return j;
}

std::vector<int64_t> parseBuildIds(const std::vector<std::string>& args)
{
    std::vector<int64_t> ids;
    for (const auto& a : args) {
        int64_t id = 0;
        auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), id);
        // Builds.id is an integer column: a larger number names no build.
        if (ec != std::errc() || end != a.data() + a.size() || id <= 0 ||
            id > std::numeric_limits<int32_t>::max())
            throw UsageError(fmt::format("‘{}’ is not a build id (a number from 1 to {})", a,
                                         std::numeric_limits<int32_t>::max()));
        ids.push_back(id);
    }
    return ids;
}

void printJson(const nlohmann::json& json)
{
    std::printf("%s\n", json.dump(2).c_str());
}

} // namespace hydra::cli
