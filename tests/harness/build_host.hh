#pragma once
// BuildHost: a build machine with its own, initially empty Nix store, reachable over real ssh.
// An sshd runs inside a private mount namespace where a directory of the fixture is mounted on
// /nix (and a private nix.conf on /etc/nix); optionally inside its own network namespace so a
// test can cut the link.

#include "util/fd.hh"
#include "util/process.hh"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hydra::test {

/// Where a BuildHost listens.
enum class HostNetwork {
    Loopback, ///< 127.0.0.1 on a free port, in the machine's network namespace
    OwnNetns, ///< port 22 on its own address inside a fresh `ip netns`, linked by a veth pair
};

/// A build host with its own Nix store behind a real sshd; torn down on destruction.
class BuildHost {
public:
    explicit BuildHost(HostNetwork network = HostNetwork::Loopback);
    BuildHost(const BuildHost&) = delete;
    BuildHost& operator=(const BuildHost&) = delete;
    ~BuildHost();

    /// The store URI as written in a machines file: ssh://root@ADDRESS[:PORT] (port only when not 22).
    std::string storeUri() const;
    const std::string& address() const { return address_; }
    int port() const { return port_; }
    /// The private key the host's root accepts.
    const std::filesystem::path& clientKeyFile() const { return clientKey_; }
    /// A known_hosts file pinning this host's key.
    const std::filesystem::path& knownHostsFile() const { return knownHosts_; }
    /// The machines file's 8th column: base64 of the "ssh-ed25519 AAAA..." line.
    const std::string& publicHostKeyBase64() const { return hostKeyBase64_; }
    /// The fixture's directory; dir()/"nix" is the host's /nix.
    const std::filesystem::path& dir() const { return dir_; }

    /// A machines file line for this host: URI, systems, key, max jobs, speed, features,
    /// mandatory features, host key.
    std::string machinesLine(const std::string& systems, int maxJobs = 1,
                             const std::string& features = "-") const;

    /// argv of an `ssh` running `command` on the host (batch mode, this key, pinned host key).
    std::vector<std::string> sshCommand(const std::string& command, int connectTimeoutSeconds = 10) const;
    /// Runs `command` on the host through ssh, feeding `input`.
    RunResult run(const std::string& command, std::string_view input = {},
                  std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;
    /// run() that throws naming the host and the command unless it exits with 0.
    std::string runChecked(const std::string& command, std::string_view input = {},
                           std::chrono::milliseconds timeout = std::chrono::minutes(5)) const;

    /// Takes the host's link down / up again (OwnNetns only): packets in flight are lost and new
    /// connections fail until restored, while both ends keep their addresses.
    void cutLink();
    void restoreLink();

    /// Identifiers of what teardown() must remove, for tests that check nothing is left. The
    /// fixture keeps its namespaces open until teardown ends, so their ids stay unique meanwhile.
    const std::string& mountNamespace() const { return mountNs_; }
    const std::string& netnsName() const { return netns_; }
    const std::string& hostVeth() const { return vethHost_; }
    pid_t sshdPid() const { return sshdPid_; }

    /// Kills sshd and every process in its namespaces, deletes the network namespace and the
    /// directory. Idempotent; the destructor calls it.
    void teardown();

private:
    void writeConfig();
    void createNetns();
    void startSshd();
    bool waitForSshd(std::chrono::seconds timeout);
    void killNamespaceProcesses();

    HostNetwork network_;
    std::filesystem::path dir_, clientKey_, knownHosts_, config_;
    std::string address_, hostKeyLine_, hostKeyBase64_;
    int port_ = 22;
    std::string netns_, vethHost_, mountNs_, netNs_;
    AutoFd mountNsFd_, netNsFd_;
    std::optional<Process> sshd_;
    pid_t sshdPid_ = -1;
    bool tornDown_ = false;
};

} // namespace hydra::test
