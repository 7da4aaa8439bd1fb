#include "db/database_source.hh"

#include "db/connect.hh"
#include "db/conninfo.hh"
#include "util/strings.hh"

#include <libpq-fe.h>
#include <pqxx/except>

namespace hydra::db {

namespace {

constexpr std::string_view urlVariable = "HYDRA_DATABASE_URL";
constexpr std::string_view dbiVariable = "HYDRA_DBI";

// The password of a URL's user info ("postgresql://user:pw@host/db"); empty if none.
std::string_view urlPassword(std::string_view url)
{
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    auto authority = url.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?"));
    auto at = authority.rfind('@');
    if (at == std::string_view::npos) return {};
    auto colon = authority.substr(0, at).find(':');
    return colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1, at - colon - 1);
}

// libpq's parse errors may quote the input, or the password alone when it is badly encoded.
std::string hideSecrets(std::string text, std::string_view value)
{
    auto replaceAll = [&](std::string_view what, std::string_view with) {
        if (what.empty()) return;
        for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
            text.replace(at, what.size(), with);
    };
    replaceAll(value, redactConninfo(value));
    replaceAll(urlPassword(value), "***");
    return text;
}

std::optional<std::string> nonEmpty(const EnvLookup& env, std::string_view name)
{
    auto v = env(name);
    if (v && v->empty()) return std::nullopt;
    return v;
}

} // namespace

std::string checkDatabaseUrl(std::string_view value)
{
    std::string s(value);
    char* err = nullptr;
    PQconninfoOption* options = PQconninfoParse(s.c_str(), &err);
    if (options) {
        PQconninfoFree(options);
        // An all-blank value parses as "no parameters", which would quietly mean libpq's defaults.
        if (s.find_first_not_of(" \t\n") != std::string::npos) return s;
    }
    std::string reason = err ? oneLine(err) : options ? "it names no connection parameters" : "out of memory";
    if (err) PQfreemem(err);
    throw Error("{} is not a PostgreSQL connection URL ('{}'): {}", urlVariable, redactConninfo(s),
                hideSecrets(reason, s));
}

DatabaseSource DatabaseSource::fromEnvironment(const std::string& dataDir, const EnvLookup& env)
{
    DatabaseSource d;
    if (!dataDir.empty()) d.clusterDir_ = dataDir + "/postgres";
    if (auto url = nonEmpty(env, urlVariable)) {
        d.variable_ = urlVariable;
        d.conninfo_ = checkDatabaseUrl(*url);
    } else if (auto dbi = nonEmpty(env, dbiVariable)) {
        d.variable_ = dbiVariable;
        try {
            d.conninfo_ = conninfoFromDbi(*dbi);
        } catch (const Error& e) {
            throw Error("{}: {}", dbiVariable, e.what());
        }
    } else if (dataDir.empty()) {
        throw Error("no database configured: set {} or {}, or HYDRA_DATA for hydra's own PostgreSQL cluster",
                    urlVariable, dbiVariable);
    }
    return d;
}

std::string DatabaseSource::describe() const
{
    if (external()) return fmt::format("the database named by {} ({})", variable_, redactConninfo(conninfo_));
    return fmt::format("the private cluster under {}", clusterDir_);
}

PrivateCluster DatabaseSource::privateCluster() const
{
    return PrivateCluster({.dataDir = clusterDir_});
}

std::string DatabaseSource::conninfo(bool startPrivate) const
{
    if (external()) return conninfo_;
    auto cluster = privateCluster();
    if (startPrivate)
        cluster.ensureRunning();
    else if (!cluster.running())
        throw Error("no database configured ({} or {}) and the private cluster under {} is not running; "
                    "run `hydra up`",
                    urlVariable, dbiVariable, cluster.dataDir());
    return cluster.conninfo();
}

std::unique_ptr<pqxx::connection> DatabaseSource::connect(bool startPrivate) const
{
    auto ci = conninfo(startPrivate);
    try {
        return std::make_unique<pqxx::connection>(withConnectTimeout(ci));
    } catch (const pqxx::broken_connection& e) {
        throw DatabaseUnreachable("cannot reach {}: {}", describe(), oneLine(e.what()));
    }
}

} // namespace hydra::db
