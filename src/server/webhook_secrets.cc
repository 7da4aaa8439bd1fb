#include "server/webhook_secrets.hh"

#include "util/error.hh"
#include "util/strings.hh"

namespace hydra::server {

namespace {

std::vector<std::string> secretsOf(const ConfigSection& forge)
{
    if (!forge.sections.empty())
        throw Error("{}: <{}> inside <webhooks><{}> is not known (only `secret = ...` lines are)",
                    forge.sections.front().loc.str(), forge.sections.front().name, forge.name);
    std::vector<std::string> out;
    for (const auto& e : forge.entries) {
        if (e.key != "secret")
            throw Error("{}: unknown key '{}' in <webhooks><{}> (expected 'secret')", e.loc.str(), e.key,
                        forge.name);
        auto secret = trim(e.value);
        if (secret.empty()) throw Error("{}: secret in <webhooks><{}> is empty", e.loc.str(), forge.name);
        out.emplace_back(secret);
    }
    return out;
}

} // namespace

WebhookSecrets webhookSecretsFrom(const ConfigSection& root)
{
    WebhookSecrets out;
    for (const auto* block : root.blocks("webhooks")) {
        if (!block->entries.empty())
            throw Error("{}: unknown key '{}' in <webhooks> (expected <github> or <gitea> blocks)",
                        block->entries.front().loc.str(), block->entries.front().key);
        for (const auto& forge : block->sections) {
            auto* target = forge.name == "github"  ? &out.github
                           : forge.name == "gitea" ? &out.gitea
                                                   : nullptr;
            if (!target)
                throw Error("{}: unknown block <{}> in <webhooks> (expected <github> or <gitea>)",
                            forge.loc.str(), forge.name);
            auto secrets = secretsOf(forge);
            target->insert(target->end(), secrets.begin(), secrets.end());
        }
    }
    return out;
}

} // namespace hydra::server
