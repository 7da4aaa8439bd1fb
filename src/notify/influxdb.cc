#include "notify/influxdb.hh"

#include "notify/http_plugin_support.hh"
#include "util/logging.hh"

#include <fmt/ranges.h>
#include <map>
#include <unistd.h>

namespace hydra::notify {

namespace {

// The jobset a pull-request jobset ("repo.pr-12") belongs to.
std::string repoOfJobset(const std::string& jobset)
{
    auto pr = jobset.rfind(".pr-");
    return pr == std::string::npos ? jobset : jobset.substr(0, pr);
}

std::string quotedField(std::string_view s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string hostName()
{
    char buf[256] = {};
    if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
    return buf;
}

} // namespace

std::string influxStatusClass(int buildStatus)
{
    switch (buildStatus) {
    case 0: return "success";
    case 3:
    case 4:
    case 8:
    case 10:
    case 11: return "canceled";
    default: return "failed";
    }
}

std::string influxStatusDetail(int buildStatus)
{
    switch (buildStatus) {
    case 0: return "success";
    case 1: return "failure";
    case 2: return "dependency-failed";
    case 4: return "cancelled";
    case 6: return "failed-with-output";
    case 7: return "timed-out";
    case 9: return "unsupported-system";
    case 10: return "log-limit-exceeded";
    case 11: return "output-limit-exceeded";
    case 12: return "non-deterministic-build";
    default: return "aborted";
    }
}

std::string influxEscapeTag(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == ',' || c == '=' || c == ' ') out += '\\';
        out += c;
    }
    return out;
}

std::string influxLine(const db::BuildDescription& build, const db::BuildFigures& figures,
                       db::BuildId mainBuild, const std::string& host)
{
    int status = build.buildStatus.value_or(1);
    int64_t start = build.startTime.value_or(0);
    int64_t stop = build.stopTime.value_or(start);
    // Sorted by key, as Hydra writes them; host always comes last.
    std::map<std::string, std::string> tags{
        {"cached", figures.isCachedBuild ? "true" : "false"},
        {"job", build.job},
        {"jobset", build.jobset},
        {"project", build.project},
        {"repo", repoOfJobset(build.jobset)},
        {"result", influxStatusDetail(status)},
        {"status", influxStatusClass(status)},
        {"system", build.system},
    };
    std::map<std::string, std::string> fields{
        {"build_id", quotedField(std::to_string(build.id))},
        {"build_status", fmt::format("{}i", status)},
        {"closure_size", fmt::format("{}i", figures.closureSize)},
        {"duration", fmt::format("{}i", stop - start)},
        {"main_build_id", quotedField(std::to_string(mainBuild))},
        {"queued", fmt::format("{}i", std::max<int64_t>(0, start - build.timestamp))},
        {"size", fmt::format("{}i", figures.size)},
    };
    std::string line = "hydra_build_status";
    for (auto& [k, v] : tags) line += fmt::format(",{}={}", k, influxEscapeTag(v));
    if (!host.empty()) line += ",host=" + influxEscapeTag(host);
    char sep = ' ';
    for (auto& [k, v] : fields) {
        line += fmt::format("{}{}={}", sep, k, v);
        sep = ',';
    }
    return fmt::format("{} {}", line, stop);
}

std::string influxWriteUrl(const InfluxDbConfig& conf)
{
    auto url = conf.url;
    while (url.ends_with('/')) url.pop_back();
    return fmt::format("{}/write?db={}&precision=s", url, conf.db);
}

void InfluxDBNotification::handle(const Event& event, const PluginContext& ctx)
{
    auto lines = ctx.db.withTransaction([&](pqxx::work& t) {
        std::vector<std::string> out;
        for (auto& b : loadEventBuilds(t, event, name())) {
            // A later part of a long build_finished: the build's own line went with the first.
            if (event.buildHandled && b.id == event.buildId()) continue;
            if (auto figures = db::loadBuildFigures(t, b.id))
                out.push_back(influxLine(b, *figures, event.buildId(), host_));
        }
        return out;
    });
    if (lines.empty()) return;
    sendAll({{influxWriteUrl(conf_),
              {},
              fmt::format("{}", fmt::join(lines, "\n")),
              "application/x-www-form-urlencoded"}},
            name());
}

std::unique_ptr<Plugin> makeInfluxDBNotification(const HydraConfig& config)
{
    if (!config.notify.influxdb) return nullptr;
    return std::make_unique<InfluxDBNotification>(*config.notify.influxdb, hostName());
}

} // namespace hydra::notify
