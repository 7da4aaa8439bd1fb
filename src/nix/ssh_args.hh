#pragma once
// The argv of the `ssh` that carries a `nix-store --serve` session to a build machine.

#include "nix/machines.hh"

#include <string>
#include <vector>

namespace hydra::nix {

/// How the queue runner talks to ssh: timeouts, keep-alives and an optional config file.
struct SshOptions {
    std::string program = "ssh";
    unsigned connectTimeout = 30;      ///< seconds for the TCP connection and ssh's own handshake
    unsigned serverAliveInterval = 30; ///< seconds between keep-alive probes on a silent link
    unsigned serverAliveCountMax = 4;  ///< unanswered probes after which ssh gives up
    /// `-F` file: "" keeps the operator's ~/.ssh/config (Hydra's behaviour); "/dev/null" ignores it.
    std::string configFile;
    std::vector<std::string> extraArgs; ///< inserted before the destination (e.g. from NIX_SSHOPTS)
};

/// The ssh argv that runs `remoteCommand` on `machine`: no forwarding, batch mode, keep-alives,
/// its key, its port. When the machine pins a host key, `pinnedKnownHosts` names a file holding
/// machine.knownHostsLine() and only that key is accepted; otherwise ("") the operator's
/// known_hosts decide, still without prompting.
std::vector<std::string> sshArgv(const Machine& machine, const SshOptions& opts,
                                 const std::string& pinnedKnownHosts,
                                 const std::vector<std::string>& remoteCommand);

} // namespace hydra::nix
