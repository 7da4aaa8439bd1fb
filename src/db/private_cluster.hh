#pragma once
// PrivateCluster: the PostgreSQL cluster hydra runs for itself under its state directory.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace hydra::db {

/// Where and how to run a private PostgreSQL cluster.
struct ClusterOptions {
    std::string dataDir;             // e.g. $HYDRA_DATA/postgres; created if missing
    std::string runAsUser = "hydra"; // used only when running as root (PostgreSQL refuses root)
    int port = 0;                    // 0: pick a free one at init time and remember it in dataDir
    /// Tests only: initdb --no-sync, fsync=off and small buffers. Loses data on an OS crash.
    bool unsafeFast = false;
    std::chrono::seconds startTimeout{60}; // initdb, start and stop each wait at most this long
};

/// A PostgreSQL cluster owned by hydra: initdb on first use, unix-socket only, trust auth,
/// superuser role "hydra", database "hydra" created at init. Layout next to the data dir
/// <parent>/<name>: socket dir <parent>/<name>-socket, server log <parent>/<name>.log.
/// Not thread-safe: one object per thread; several processes may share one cluster.
class PrivateCluster {
public:
    explicit PrivateCluster(ClusterOptions opts);

    /// initdb if needed, start if not running (recovering from a stale postmaster.pid),
    /// wait until it accepts connections, create database "hydra".
    void ensureRunning();
    /// pg_ctl stop -m fast; waits. Does nothing when not running.
    void stop();
    /// stop + start (port and socket unchanged).
    void restart();
    /// Whether the server accepts connections.
    bool running() const;
    /// "host=<socketdir> port=<p> user=hydra dbname=<db>"; throws if never initialised.
    std::string conninfo(std::string_view dbname = "hydra") const;
    /// CREATE DATABASE if missing (the server must be running).
    void createDatabase(std::string_view name);

    const std::string& dataDir() const { return dataDir_; }
    std::string socketDir() const;
    std::string logFile() const;
    /// The postmaster's pid from postmaster.pid, if the file exists.
    std::optional<pid_t> postmasterPid() const;

private:
    struct Identity; // whom the server runs as
    Identity identity() const;
    void prepareDirs(const Identity& id);
    void initdb(const Identity& id);
    void start(const Identity& id);
    void clearStalePidFile();
    void pgCtl(const Identity& id, std::vector<std::string> args, std::string_view what);
    std::optional<int> readPort() const;

    ClusterOptions opts_;
    std::string dataDir_; // absolute
    std::optional<int> port_;
};

/// The directory holding initdb and pg_ctl: $HYDRA_PG_BINDIR, else PATH, else the highest
/// /usr/lib/postgresql/<version>/bin. Throws naming the places searched.
std::string findPgBinDir();

} // namespace hydra::db
