#pragma once
// DatabaseSource: the one place that decides, from the environment, which database a program uses.

#include "db/private_cluster.hh"
#include "util/error.hh"
#include "util/hydra_config.hh"

#include <memory>
#include <pqxx/connection>
#include <string>
#include <string_view>

namespace hydra::db {

/// Thrown when the chosen database does not accept a connection (libpq's reason included).
class DatabaseUnreachable : public Error {
public:
    using Error::Error;
};

/// Which database the environment names — HYDRA_DATABASE_URL, else HYDRA_DBI, else hydra's
/// private cluster under the state directory — and how to reach it.
class DatabaseSource {
public:
    /// Reads HYDRA_DATABASE_URL (a libpq URL or conninfo, used exactly as given) and HYDRA_DBI
    /// (Hydra's DBI data source, translated); an empty variable counts as unset. Touches no
    /// file. Throws hydra::Error naming the variable whose value libpq would not accept.
    static DatabaseSource fromEnvironment(const std::string& dataDir, const EnvLookup& env = systemEnv);

    /// True when a variable names the database; false for the private cluster.
    bool external() const { return !variable_.empty(); }
    /// "HYDRA_DATABASE_URL" or "HYDRA_DBI"; empty for the private cluster.
    const std::string& variable() const { return variable_; }
    /// For logs and errors, password hidden: "the database named by HYDRA_DATABASE_URL
    /// (postgresql://…)" or "the private cluster under /var/lib/hydra/postgres".
    std::string describe() const;
    /// The private cluster under the state directory (whether or not it is the one used).
    PrivateCluster privateCluster() const;

    /// The conninfo to connect with. The private cluster is started when `startPrivate`; else
    /// it must be running already (the error says to run `hydra up`). A configured database
    /// never falls back to the private cluster.
    std::string conninfo(bool startPrivate) const;
    /// One connection; throws DatabaseUnreachable "cannot reach <describe()>: <libpq's reason>".
    std::unique_ptr<pqxx::connection> connect(bool startPrivate) const;

private:
    std::string variable_;
    std::string conninfo_; // when external()
    std::string clusterDir_;
};

/// Checks `value` of HYDRA_DATABASE_URL with libpq's own parser and returns it unchanged;
/// throws hydra::Error naming the variable, with the password hidden.
std::string checkDatabaseUrl(std::string_view value);

} // namespace hydra::db
