#pragma once
// PgCluster: one private PostgreSQL cluster per test process, in a fresh temp dir.

#include "db/private_cluster.hh"

#include <memory>
#include <string>
#include <string_view>

namespace hydra::test {

/// One private PostgreSQL cluster per test process (under a fresh temp dir, stopped at exit,
/// also when the test process dies: a guard process cleans up after a crash or SIGKILL).
class PgCluster {
public:
    static PgCluster& get(); // started on first use
    std::string conninfo(std::string_view db) const;
    std::string freshDatabase();                    // new empty database, returns its name
    db::PrivateCluster& cluster();                  // for restart() in recovery tests
    const std::string& dir() const { return dir_; } // the temp dir holding everything

    /// Stops the server and removes the temp dir; called at exit.
    void shutdown();
    ~PgCluster();

private:
    PgCluster();
    std::string dir_;
    std::unique_ptr<db::PrivateCluster> cluster_;
    struct Guard;
    std::unique_ptr<Guard> guard_;
};

/// A fresh temp dir under /tmp that the unprivileged PostgreSQL user can enter (mode 0755).
std::string makeTempDir(std::string_view prefix);

} // namespace hydra::test
