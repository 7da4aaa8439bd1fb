#pragma once
// Site: the installation a command acts on — state directory, configuration and database —
// read once from the environment (HYDRA_DATA, HYDRA_CONFIG; the database through DatabaseSource).

#include "db/database_source.hh"
#include "util/hydra_config.hh"

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>

namespace hydra::cli {

/// Everything a command needs to know about where hydra lives on this machine.
class Site {
public:
    /// Reads the environment; loads and validates hydra.conf (errors name file and line).
    static Site fromEnvironment();

    const std::string& dataDir() const { return dataDir_; }
    const HydraConfig& config() const { return config_; }
    /// Which database the environment names (HYDRA_DATABASE_URL, HYDRA_DBI or the private cluster).
    const db::DatabaseSource& database() const { return database_; }
    /// True when a variable names the database; false for the private cluster.
    bool externalDatabase() const { return database_.external(); }
    /// The private cluster under the state directory.
    db::PrivateCluster privateCluster() const { return database_.privateCluster(); }
    /// The conninfo to use; starts the private cluster when `startPrivate` and it is needed.
    std::string conninfo(bool startPrivate) const;
    /// A connection; a one-line error naming the database's variable when it cannot be reached.
    std::unique_ptr<pqxx::connection> connect(bool startPrivate) const;

private:
    std::string dataDir_;
    db::DatabaseSource database_;
    HydraConfig config_;
};

} // namespace hydra::cli
