#pragma once
// MachineConnection: a `nix-store --serve --write` session with one build machine, run as a
// local child for `localhost` (with no remote builders: what it builds, it builds here) or
// through ssh for any other machine.

#include "nix/machines.hh"
#include "nix/serve_protocol.hh"
#include "nix/ssh_args.hh"
#include "util/fd.hh"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace hydra::nix {

/// Receives the child's stderr as it arrives: the build log, and ssh's own complaints. Called
/// from the connection's reader thread; it must not block for long.
using LogSink = std::function<void(std::string_view chunk)>;

/// How to start and time a connection. Programs that use it must ignore SIGPIPE.
struct ConnectionOptions {
    /// The program serving the store: run here for localhost, on the machine over ssh.
    std::string nixStore = "nix-store";
    SshOptions ssh;
    /// Added to the local child's environment (nix-store for localhost, else ssh).
    std::map<std::string, std::string> setEnv;
    /// Start-up, ssh login and the protocol greeting together.
    std::chrono::milliseconds handshakeTimeout = std::chrono::seconds(60);
    /// The longest a read may wait for a byte, unless a ReadScope says otherwise.
    std::chrono::milliseconds readTimeout = std::chrono::minutes(5);
    /// The longest the machine may refuse to accept what we send.
    std::chrono::milliseconds writeTimeout = std::chrono::minutes(5);
    /// How long close() lets the server exit by itself before killing it.
    std::chrono::milliseconds closeGrace = std::chrono::seconds(2);
};

/// One serve-protocol session with a build machine, handshake done. Every read and write has a
/// deadline; a timeout throws TimeoutError naming the machine and what was awaited. Errors of
/// the session carry the last lines of the child's stderr. Not thread-safe (one command at a
/// time), except that the log sink runs on a thread of its own.
class MachineConnection {
public:
    /// Starts the child and shakes hands. Throws Error "cannot connect to ‘<machine>’: error:
    /// <reason>", naming the program really started, with ssh's last words when ssh failed.
    explicit MachineConnection(const Machine& machine, const ConnectionOptions& opts = {}, LogSink log = {});
    MachineConnection(MachineConnection&&) noexcept;
    MachineConnection& operator=(MachineConnection&&) noexcept;
    ~MachineConnection();

    /// The session; usable until close().
    serve::ServeClient& client();
    /// The machine's store URI, as errors name it.
    const std::string& machineName() const;
    /// When the session's server was started (its age bounds how long a pooled session lives).
    std::chrono::steady_clock::time_point openedAt() const;
    /// The child (nix-store or ssh) while it runs, else -1.
    pid_t pid() const;
    /// The last `lines` non-empty lines the child wrote to stderr, joined by "; ".
    std::string stderrTail(size_t lines = 5) const;

    /// What reads currently wait for, and how long.
    struct ReadLimits {
        std::string what; ///< for timeout messages; "" names the reply to the last command
        std::chrono::milliseconds idle{0};
        std::optional<Deadline> until;
    };
    /// Restores the previous read limits when it goes out of scope.
    class ReadScope {
    public:
        ReadScope(const ReadScope&) = delete;
        ReadScope& operator=(const ReadScope&) = delete;
        ~ReadScope();

    private:
        friend class MachineConnection;
        ReadScope(MachineConnection& c, ReadLimits saved) : conn_(c), saved_(std::move(saved)) {}
        MachineConnection& conn_;
        ReadLimits saved_;
    };
    /// Until the scope ends, reads await `what` (for timeout messages, e.g. "the NAR of X"),
    /// each waits at most `idle` (a transfer: an idle timeout; a build: its whole length), and
    /// none waits past `until`.
    [[nodiscard]] ReadScope expect(std::string what, std::chrono::milliseconds idle,
                                   std::optional<Deadline> until = std::nullopt);

    /// Whether the session can serve another step: open, its server still running, and nothing
    /// unread or announced on its output (an idle server that wrote, or hung up, is broken).
    bool reusable() const;
    /// Hands the session to a new user: stderr goes to `log` from now on and the remembered
    /// stderr tail is forgotten.
    void reuse(LogSink log);
    /// Delivers the stderr already written to the current log sink; waits for `quiet` without
    /// new bytes so the last lines still in flight (through ssh) arrive too.
    void drainLog(std::chrono::milliseconds quiet);

    /// Ends the session: closes the server's input, waits closeGrace for it to exit, then
    /// kills it; reaps it, stops the log reader and removes temporary files. Idempotent.
    void close() noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace hydra::nix
