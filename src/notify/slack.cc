#include "notify/slack.hh"

#include "db/build_figures.hh"
#include "notify/status_text.hh"
#include "util/logging.hh"

#include <nlohmann/json.hpp>

namespace hydra::notify {

namespace {

// Whether a block reports this build: a change of status, unless the block forces every one.
bool reports(const SlackBlock& block, const SlackBuild& b)
{
    if (!block.jobs.matches(jobName(b.build))) return false;
    if (block.conf.force) return true;
    int status = b.build.buildStatus.value_or(1);
    if (status == 3 || status == 4) return false; // aborted or cancelled
    return !b.previousStatus || *b.previousStatus != status;
}

std::string statusImage(int status)
{
    const char* base = "http://hydra.nixos.org/static/images/";
    switch (status) {
    case 0: return fmt::format("{}checkmark_16.png", base);
    case 2: return fmt::format("{}dependency_16.png", base);
    case 4: return fmt::format("{}cancelled_16.png", base);
    default: return fmt::format("{}error_16.png", base);
    }
}

} // namespace

std::string slackMessage(const db::BuildDescription& top, size_t others, const std::string& baseUrl)
{
    int status = top.buildStatus.value_or(1);
    auto name = jobName(top);
    auto buildUrl = fmt::format("{}/build/{}", baseUrl, top.id);
    auto text = fmt::format("Job <{}/job/{}/{}/{}|{}>", baseUrl, top.project, top.jobset, top.job, name);
    if (others > 0) text += fmt::format(" (and {} others)", others);
    text += fmt::format(": <{}|{}>", buildUrl, showStatus(status));
    nlohmann::json attachment{
        {"fallback", fmt::format("Job {} build number {}: {}", name, top.id, showStatus(status))},
        {"text", text},
        {"thumb_url", statusImage(status)},
        {"color", status == 0   ? "good"
                  : status == 4 ? "warning"
                                : "danger"},
        {"title", fmt::format("Job {} build number {}", name, top.id)},
        {"title_link", buildUrl},
    };
    return nlohmann::json{{"attachments", nlohmann::json::array({attachment})}}.dump();
}

std::vector<HttpPostRequest> slackRequests(const std::vector<SlackBlock>& blocks,
                                           const std::vector<SlackBuild>& builds, const std::string& baseUrl)
{
    // Each webhook gets one message however many blocks and builds lead to it.
    std::vector<std::pair<std::string, std::vector<db::BuildId>>> hooks;
    for (auto& b : builds)
        for (auto& block : blocks) {
            if (!reports(block, b)) continue;
            auto hook =
                std::find_if(hooks.begin(), hooks.end(), [&](auto& h) { return h.first == block.conf.url; });
            if (hook == hooks.end()) hook = hooks.insert(hooks.end(), {block.conf.url, {}});
            hook->second.push_back(b.build.id);
        }
    std::vector<HttpPostRequest> requests;
    if (builds.empty()) return requests;
    auto& top = builds.front().build;
    for (auto& [url, ids] : hooks) {
        auto others =
            static_cast<size_t>(std::count_if(ids.begin(), ids.end(), [&](auto id) { return id != top.id; }));
        requests.push_back({url, {}, slackMessage(top, others, baseUrl), "application/json"});
    }
    return requests;
}

void SlackNotification::handle(const Event& event, const PluginContext& ctx)
{
    auto builds = ctx.db.withTransaction([&](pqxx::work& t) {
        std::vector<SlackBuild> out;
        for (auto& b : loadEventBuilds(t, event, name())) {
            // A later part of a long build_finished: the build's own message went with the first.
            if (event.buildHandled && b.id == event.buildId()) continue;
            auto previous = db::previousBuildStatus(t, b);
            out.push_back({std::move(b), previous});
        }
        return out;
    });
    sendAll(slackRequests(blocks_, builds, baseUrl_), name());
}

std::unique_ptr<Plugin> makeSlackNotification(const HydraConfig& config)
{
    std::vector<SlackBlock> blocks;
    for (auto& conf : config.notify.slack) {
        try {
            blocks.push_back({conf, JobPattern(conf.jobs, conf.loc)});
        } catch (const Error& e) {
            log::error("SlackNotification: {}; this <slack> block is ignored", e.what());
        }
    }
    if (blocks.empty()) return nullptr;
    return std::make_unique<SlackNotification>(std::move(blocks), webBaseUrl(config));
}

} // namespace hydra::notify
