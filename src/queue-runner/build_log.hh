#pragma once
// A step's build log: where Hydra keeps it ($HYDRA_DATA/build-logs/<2 chars>/<rest of the .drv
// base name>) and a writer that appends the builder's output as it arrives.

#include "nix/build_log_path.hh"
#include "nix/machine_connection.hh"
#include "util/fd.hh"
#include "util/hydra_config.hh"
#include "util/sync.hh"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace hydra::qr {

/// `logDir`/<first 2 chars of the .drv base name>/<the rest> (shared with the web server).
using nix::buildLogPath;

/// One step's log file, written chunk by chunk from any thread (the connection's log reader).
class BuildLog {
public:
    /// Creates the directories and the file (truncated if it exists). Throws Error naming it.
    explicit BuildLog(std::filesystem::path path);
    BuildLog(const BuildLog&) = delete;
    BuildLog& operator=(const BuildLog&) = delete;
    ~BuildLog();

    /// Appends a chunk; after close() chunks are dropped. A write error is logged once and the
    /// rest dropped: losing log text must never fail the build.
    void append(std::string_view chunk);
    /// Drops what was written so far (messages of the copying, before the build itself).
    void truncate();
    /// Closes the file; it stays. Idempotent.
    void close();
    /// Closes and deletes the file (nothing was built, so there is no log).
    void remove();

    /// A LogSink for MachineConnection that appends here. The BuildLog must outlive its use.
    nix::LogSink sink();
    const std::filesystem::path& path() const { return path_; }
    /// Bytes in the file now.
    uint64_t size();

private:
    struct State {
        AutoFd fd;
        uint64_t size = 0;
        bool failed = false;
    };
    std::filesystem::path path_;
    Sync<State> state_;
};

} // namespace hydra::qr
