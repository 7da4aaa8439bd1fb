#pragma once
// The machines file (Nix's format, `/etc/nix/machines` or NIX_REMOTE_SYSTEMS) as Hydra's queue
// runner reads it: the model of one build machine, the parser, the printer and the file lookup.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::nix {

/// How the queue runner reaches a machine, decided by the store URI (column 1).
enum class MachineKind {
    Localhost, ///< `localhost` (also `ssh://localhost`, `ssh-ng://localhost`): nix-store runs here
    Ssh,       ///< `[ssh://][user@]host[:port]`: nix-store --serve over ssh
    Other,     ///< any other store URI (ssh-ng://, paths...): kept so the queue runner can reject it
};

/// One line of the machines file: a build machine and what it accepts.
struct Machine {
    std::string storeUri; ///< column 1 as written; machines are identified by it (see parseMachines)
    MachineKind kind = MachineKind::Ssh;
    std::string user;       ///< ssh user, "" for ssh's default (Ssh only)
    std::string host;       ///< host name or IPv6 address without brackets (Ssh only)
    std::uint16_t port = 0; ///< 0: ssh's default (Ssh only)

    std::set<std::string> systems; ///< e.g. x86_64-linux
    std::string sshKey;            ///< private key file, "" for ssh's default
    unsigned maxJobs = 1;
    double speedFactor = 1; ///< > 0
    /// Features the machine supports, including the mandatory ones (as Hydra's queue runner does).
    std::set<std::string> supportedFeatures;
    std::set<std::string> mandatoryFeatures;
    std::string publicHostKey;     ///< column 8 as written (base64), "" if not pinned
    std::string publicHostKeyText; ///< its decoded text, e.g. "ssh-ed25519 AAAA...", one line

    /// True if a step for `system` requiring `requiredFeatures` may run here: the system is one
    /// of ours ("builtin" runs anywhere, as in Nix), every required feature is supported, and
    /// every mandatory feature is required (Hydra lets `preferLocalBuild` stand for "local").
    bool supports(const std::string& system, const std::set<std::string>& requiredFeatures,
                  bool preferLocalBuild = false) const;

    /// The ssh destination argument: "host" or "user@host" (port goes to `ssh -p`).
    std::string sshDestination() const;

    /// The known_hosts line that pins publicHostKeyText: "host key" or "[host]:port key".
    std::string knownHostsLine() const;

    bool operator==(const Machine&) const = default;
};

/// Reads the file an `@/absolute/path` line includes: its text, or nullopt if it does not exist.
using MachinesIncludeReader = std::function<std::optional<std::string>(const std::string& path)>;

/// Parses the text of a machines file. Throws hydra::Error (and nothing else) on a bad line:
/// "<fileName>:<line>: <what was expected>, got '<token>'". Without `readInclude`, `@file`
/// lines are an error. A later line for the same machine replaces the earlier one in its place.
std::vector<Machine> parseMachines(std::string_view text, std::string_view fileName,
                                   const MachinesIncludeReader& readInclude = {});

/// Prints machines one a line with all eight columns; parseMachines gives the same list back.
std::string printMachines(const std::vector<Machine>& machines);

/// The machine Hydra's queue runner uses when no machines file is configured: localhost for
/// `thisSystem` (plus i686-linux on x86_64-linux), `maxJobs` jobs, the local system features.
Machine localhostMachine(const std::string& thisSystem, unsigned maxJobs,
                         const std::set<std::string>& systemFeatures);

/// The machines files Hydra reads: NIX_REMOTE_SYSTEMS (colon-separated) if set, else
/// `defaultFile` if it exists. Empty means "none configured": use localhostMachine().
std::vector<std::string> machinesFilePaths(const std::optional<std::string>& nixRemoteSystems,
                                           const std::string& defaultFile = "/etc/nix/machines");
/// The same, from the environment variable NIX_REMOTE_SYSTEMS.
std::vector<std::string> machinesFilePaths();

/// Reads and parses `files` in order as one list (missing files count as empty), following
/// `@file` includes. Throws hydra::Error naming the file for unreadable files and bad lines.
std::vector<Machine> loadMachines(const std::vector<std::string>& files);
/// loadMachines(machinesFilePaths()).
std::vector<Machine> loadMachines();

} // namespace hydra::nix
