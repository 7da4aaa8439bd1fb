#pragma once
// Site: the installation a command acts on — state directory, configuration and database —
// read once from the environment (HYDRA_DATA, HYDRA_CONFIG, HYDRA_DBI).

#include "db/private_cluster.hh"
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
    /// True when HYDRA_DBI names an external server; false for the private cluster.
    bool externalDatabase() const { return dbi_.has_value(); }
    /// The private cluster under the state directory.
    db::PrivateCluster privateCluster() const;
    /// The conninfo to use; starts the private cluster when `startPrivate` and it is needed.
    std::string conninfo(bool startPrivate) const;
    /// A connection, with a one-line error when the database cannot be reached.
    std::unique_ptr<pqxx::connection> connect(bool startPrivate) const;

private:
    std::string dataDir_;
    std::optional<std::string> dbi_;
    HydraConfig config_;
};

/// The default state directory: /var/lib/hydra for root, ~/.local/share/hydra otherwise.
std::string defaultDataDir();

} // namespace hydra::cli
