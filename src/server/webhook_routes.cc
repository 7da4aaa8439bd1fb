#include "server/webhook_routes.hh"

#include "db/jobset_triggers.hh"
#include "server/forms.hh"
#include "server/respond.hh"
#include "server/site.hh"
#include "util/logging.hh"
#include "util/secrets.hh"

#include <fmt/format.h>

namespace hydra::server {

namespace {

using nlohmann::json;

// A forge's way of signing its pushes.
struct Forge {
    const char* name;   ///< as in <webhooks><name>
    const char* header; ///< the signature's header
    const char* prefix; ///< before the hex digest
    const std::vector<std::string>& secrets;
};

// Hydra's answers: 401 for a missing or wrong signature, and for a forge with no secret
// configured (an unauthenticated push is never taken).
void verifySignature(const Forge& forge, const Request& req)
{
    auto refuse = [&](const char* why, const char* answer) {
        log::warn("webhook {} from {} refused: {}", forge.name, req.remoteAddr, why);
        throw HttpError(401, answer);
    };
    if (forge.secrets.empty()) refuse("no secret is configured in <webhooks>", "Invalid webhook signature");
    auto signature = req.header(forge.header);
    if (signature.empty()) refuse("no signature", "Missing webhook signature");
    if (req.body.empty()) throw HttpError(400, "Empty request body");
    bool valid = false;
    for (const auto& secret : forge.secrets)
        valid = constantTimeEquals(signature, forge.prefix + hmacSha256Hex(secret, req.body)) || valid;
    if (!valid) refuse("wrong signature", "Invalid webhook signature");
}

// The event: a JSON body, or GitHub's form encoding with the JSON in field `payload`.
json eventOf(const Request& req)
{
    std::string text = req.body;
    auto fields = formFields(req);
    if (auto payload = formField(fields, "payload")) text = *payload;
    auto event = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.is_object())
        throw HttpError(400, "the webhook's body is not a JSON object");
    return event;
}

std::string stringAt(const json& event, std::initializer_list<const char*> path)
{
    const json* node = &event;
    for (const char* key : path) {
        if (!node->is_object() || !node->contains(key)) return {};
        node = &(*node)[key];
    }
    return node->is_string() ? node->get<std::string>() : std::string();
}

std::string required(const json& event, std::initializer_list<const char*> path, std::string_view name)
{
    auto s = stringAt(event, path);
    if (s.empty()) throw HttpError(400, fmt::format("the webhook's body has no ‘{}’", name));
    return s;
}

Response triggerMatching(const Site& site, const Forge& forge, const std::string& repository,
                         const std::vector<db::JobsetRef>& jobsets)
{
    std::vector<std::string> names;
    site.write([&](auto& t) {
        for (const auto& j : jobsets)
            if (db::triggerJobset(t, j, site.now(), /*force=*/false)) names.push_back(j.str());
    });
    log::info("webhook {}: push to {} triggered {} jobsets", forge.name, repository, names.size());
    return jsonResponse({{"jobsetsTriggered", names}});
}

} // namespace

Response apiPushGithub(const Site& site, const Request& req)
{
    return jsonErrors([&] {
        Forge forge{"github", "x-hub-signature-256", "sha256=", site.config().webhooks.github};
        verifySignature(forge, req);
        auto event = eventOf(req);
        auto owner = stringAt(event, {"repository", "owner", "name"});
        if (owner.empty())
            owner = required(event, {"repository", "owner", "login"}, "repository.owner.login");
        auto repo = required(event, {"repository", "name"}, "repository.name");
        auto jobsets = site.read([&](auto& t) { return db::jobsetsOfGithubRepo(t, owner, repo); });
        return triggerMatching(site, forge, owner + "/" + repo, jobsets);
    });
}

Response apiPushGitea(const Site& site, const Request& req)
{
    return jsonErrors([&] {
        Forge forge{"gitea", "x-gitea-signature", "", site.config().webhooks.gitea};
        verifySignature(forge, req);
        auto event = eventOf(req);
        auto url = required(event, {"repository", "clone_url"}, "repository.clone_url");
        if (url.ends_with(".git")) url.resize(url.size() - 4);
        auto jobsets = site.read([&](auto& t) { return db::jobsetsMentioningUrl(t, url); });
        return triggerMatching(site, forge, url, jobsets);
    });
}

} // namespace hydra::server
