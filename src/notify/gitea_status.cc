#include "notify/gitea_status.hh"

#include "db/eval_writer.hh"
#include "db/queue_notify.hh"
#include "util/logging.hh"

#include <nlohmann/json.hpp>

namespace hydra::notify {

namespace {

std::string statusBody(const db::BuildDescription& build, GiteaPhase phase, const std::string& baseUrl)
{
    nlohmann::json body{
        {"state", giteaState(phase, build.buildStatus.value_or(1))},
        {"target_url", fmt::format("{}/build/{}", baseUrl, build.id)},
        {"description", fmt::format("Hydra build #{} of {}", build.id, jobName(build))},
        {"context", "Hydra " + build.job},
    };
    return body.dump();
}

std::optional<std::string> inputValue(const db::BuildEvaluation& eval, std::string_view name)
{
    auto i = eval.input(name);
    return i ? i->value : std::nullopt;
}

// The statuses URL and token for one evaluation, or nullopt when it names no Gitea commit.
std::optional<HttpPostRequest> evalRequest(const GiteaStatusSettings& settings,
                                           const db::BuildEvaluation& eval)
{
    auto repoInput = inputValue(eval, "gitea_status_repo");
    if (!repoInput) return std::nullopt;
    auto input = eval.input(*repoInput);
    if (!input) return std::nullopt;
    auto owner = inputValue(eval, "gitea_repo_owner");
    auto repo = inputValue(eval, "gitea_repo_name");
    if (!owner || !repo || !input->revision) {
        log::warn(
            "GiteaStatus: evaluation {} lacks gitea_repo_owner, gitea_repo_name or the revision of '{}'",
            eval.id, *repoInput);
        return std::nullopt;
    }
    auto host =
        inputValue(eval, "gitea_http_url").value_or("https://" + hostOfGitUrl(input->uri.value_or("")));
    while (host.ends_with('/')) host.pop_back();
    HttpPostRequest req;
    req.url = fmt::format("{}/api/v1/repos/{}/{}/statuses/{}", host, *owner, *repo, *input->revision);
    if (auto token = settings.tokens.find(*owner); token != settings.tokens.end())
        req.headers.emplace_back("Authorization", "token " + token->second);
    else
        log::warn("GiteaStatus: no token for owner '{}' in <gitea_authorization>", *owner);
    req.contentType = "application/json";
    return req;
}

} // namespace

std::string giteaState(GiteaPhase phase, int buildStatus)
{
    return phase == GiteaPhase::Finished ? finishedCommitState(buildStatus) : "pending";
}

std::string hostOfGitUrl(std::string_view url)
{
    auto scheme = url.find("://");
    std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
    auto end = rest.find_first_of(scheme == std::string_view::npos ? ":/" : "/?#");
    auto authority = rest.substr(0, end);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
    if (scheme != std::string_view::npos && !authority.starts_with('['))
        authority = authority.substr(0, authority.find(':'));
    return std::string(authority);
}

std::vector<HttpPostRequest> giteaStatusRequests(const GiteaStatusSettings& settings,
                                                 const std::vector<db::BuildDescription>& builds,
                                                 const std::vector<db::BuildEvaluation>& evals,
                                                 GiteaPhase phase)
{
    std::vector<HttpPostRequest> requests;
    for (auto& build : builds) {
        // A build that finished meanwhile keeps its final status.
        if (phase != GiteaPhase::Finished && build.finished) continue;
        auto body = statusBody(build, phase, settings.baseUrl);
        for (auto& eval : evals)
            if (auto req = evalRequest(settings, eval)) {
                req->body = body;
                requests.push_back(std::move(*req));
            }
    }
    return requests;
}

bool GiteaStatus::wants(const std::string& channel) const
{
    return channel == db::channel::buildQueued || channel == db::channel::buildStarted ||
           channel == db::channel::buildFinished;
}

void GiteaStatus::handle(const Event& event, const PluginContext& ctx)
{
    auto phase = event.channel == db::channel::buildQueued    ? GiteaPhase::Queued
                 : event.channel == db::channel::buildStarted ? GiteaPhase::Started
                                                              : GiteaPhase::Finished;
    auto [builds, evals] = ctx.db.withTransaction([&](pqxx::work& t) {
        auto b = loadEventBuilds(t, event, name());
        auto e = b.empty() ? std::vector<db::BuildEvaluation>{} : db::evaluationsOfBuild(t, b.front().id);
        return std::pair(std::move(b), std::move(e));
    });
    sendAll(giteaStatusRequests(settings_, builds, evals, phase), name());
}

std::unique_ptr<Plugin> makeGiteaStatus(const HydraConfig& config)
{
    if (config.notify.giteaAuthorization.empty()) return nullptr;
    return std::make_unique<GiteaStatus>(
        GiteaStatusSettings{webBaseUrl(config), config.notify.giteaAuthorization});
}

} // namespace hydra::notify
