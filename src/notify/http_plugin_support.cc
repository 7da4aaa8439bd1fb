#include "notify/http_plugin_support.hh"

#include "notify/http_post.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <fmt/ranges.h>

namespace hydra::notify {

std::string jobName(const db::BuildDescription& build)
{
    return build.project + ":" + build.jobset + ":" + build.job;
}

JobPattern::JobPattern(const std::string& pattern, const ConfigLocation& loc) : text_(pattern)
{
    try {
        re_ = std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw Error("{}: jobs pattern '{}' is not a valid regular expression: {}", loc.str(), pattern,
                    e.what());
    }
}

bool JobPattern::matches(const std::string& name) const
{
    return std::regex_match(name, re_);
}

std::string webBaseUrl(const HydraConfig& config)
{
    std::string url = config.web.baseUri.value_or("http://localhost:3000");
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::vector<db::BuildDescription> loadEventBuilds(pqxx::transaction_base& t, const Event& event,
                                                  std::string_view plugin)
{
    std::vector<db::BuildId> ids{event.buildId()};
    for (auto d : event.dependents()) ids.push_back(d);
    std::vector<db::BuildDescription> builds;
    for (auto id : ids) {
        if (auto b = db::loadBuildDescription(t, id)) {
            builds.push_back(std::move(*b));
            continue;
        }
        log::info("{}: build {} of {} '{}' no longer exists; skipped", plugin, id, event.channel,
                  event.payload);
        if (id == ids.front()) return {};
    }
    return builds;
}

void sendAll(const std::vector<HttpPostRequest>& posts, std::string_view plugin)
{
    std::vector<std::string> failures;
    for (auto& p : posts) {
        try {
            httpPost(p.url, p.headers, p.body, p.contentType);
        } catch (const Error& e) {
            failures.emplace_back(e.what());
        }
    }
    if (failures.empty()) return;
    throw Error("{}: {} of {} requests failed: {}", plugin, failures.size(), posts.size(),
                fmt::join(failures, "; "));
}

std::string finishedCommitState(int buildStatus)
{
    switch (buildStatus) {
    case 0: return "success";
    case 3:
    case 4:
    case 8:
    case 10:
    case 11: return "error";
    default: return "failure";
    }
}

} // namespace hydra::notify
