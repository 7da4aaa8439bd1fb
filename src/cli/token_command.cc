// hydra token create|list|revoke: a user's API tokens from the shell, for operators who set up
// scripts (`Authorization: Bearer TOKEN`) without a browser.

#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/schema.hh"
#include "db/web_accounts.hh"
#include "db/web_auth.hh"
#include "util/error.hh"
#include "util/secrets.hh"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace hydra::cli {

namespace {

struct TokenArgs {
    std::string verb, user, name;
    bool json = false;
};

TokenArgs parseTokenArgs(Args& args)
{
    TokenArgs a;
    std::vector<std::string> words;
    while (!args.done()) {
        auto w = args.next();
        if (w == "--json")
            a.json = true;
        else if (w.starts_with("-"))
            throw UsageError(fmt::format("unknown option '{}'", w));
        else
            words.push_back(w);
    }
    if (words.empty()) throw UsageError("say create, list or revoke");
    a.verb = words[0];
    size_t wanted = a.verb == "list" ? 2 : 3;
    if (a.verb != "create" && a.verb != "list" && a.verb != "revoke")
        throw UsageError(fmt::format("unknown verb '{}' (create, list or revoke)", a.verb));
    if (words.size() != wanted)
        throw UsageError(a.verb == "list" ? "list takes a user name"
                                          : a.verb + " takes a user name and a token name");
    if (a.json && a.verb != "list") throw UsageError("--json is for list");
    a.user = words[1];
    if (wanted == 3) {
        a.name = words[2];
        db::checkTokenName(a.name);
    }
    return a;
}

std::string timeText(int64_t t)
{
    return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(t)));
}

void requireUser(pqxx::transaction_base& t, const std::string& user)
{
    if (!db::findAccount(t, user)) throw Error("there is no user '{}'", user);
}

int create(pqxx::connection& c, const TokenArgs& a)
{
    auto token = randomToken();
    auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    pqxx::work w(c);
    requireUser(w, a.user);
    db::createApiToken(w, a.user, a.name, sha256Hex(token), now.count());
    w.commit();
    // The token alone on stdout, so that `TOKEN=$(hydra token create ...)` works.
    std::printf("%s\n", token.c_str());
    std::fprintf(stderr, "created token '%s' of user '%s'; it is not shown again (only its hash is kept)\n",
                 a.name.c_str(), a.user.c_str());
    return 0;
}

int list(pqxx::connection& c, const TokenArgs& a)
{
    pqxx::read_transaction t(c);
    requireUser(t, a.user);
    auto tokens = db::listApiTokens(t, a.user);
    if (a.json) {
        auto out = nlohmann::json::array();
        for (const auto& tok : tokens)
            out.push_back({{"name", tok.name},
                           {"created", tok.created},
                           {"lastused", tok.lastUsed ? nlohmann::json(*tok.lastUsed) : nlohmann::json()}});
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    if (tokens.empty()) std::printf("user '%s' has no API tokens\n", a.user.c_str());
    for (const auto& tok : tokens)
        std::printf("%-24s created %s, last used %s\n", tok.name.c_str(), timeText(tok.created).c_str(),
                    tok.lastUsed ? timeText(*tok.lastUsed).c_str() : "never");
    return 0;
}

int revoke(pqxx::connection& c, const TokenArgs& a)
{
    pqxx::work w(c);
    requireUser(w, a.user);
    if (!db::revokeApiToken(w, a.user, a.name))
        throw Error("user '{}' has no token named '{}'", a.user, a.name);
    w.commit();
    std::printf("revoked token '%s' of user '%s'\n", a.name.c_str(), a.user.c_str());
    return 0;
}

} // namespace

int cmdToken(Args& args)
{
    auto a = parseTokenArgs(args);
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    if (db::schemaVersion(*conn) == 0)
        throw Error("the database has no hydra schema; run `hydra init` first");
    // A database Hydra's own hydra-init made has no tables for tokens yet.
    db::initWebSchema(*conn);
    if (a.verb == "create") return create(*conn, a);
    if (a.verb == "list") return list(*conn, a);
    return revoke(*conn, a);
}

} // namespace hydra::cli
