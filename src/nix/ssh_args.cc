#include "nix/ssh_args.hh"

#include <fmt/format.h>

namespace hydra::nix {

namespace {

void option(std::vector<std::string>& argv, const std::string& setting)
{
    argv.insert(argv.end(), {"-o", setting});
}

// A pinned key must be the only one that counts: the global known_hosts could otherwise vouch
// for a key the machines file does not name.
void pinHostKey(std::vector<std::string>& argv, const std::string& knownHosts)
{
    option(argv, "UserKnownHostsFile=" + knownHosts);
    option(argv, "GlobalKnownHostsFile=/dev/null");
    option(argv, "StrictHostKeyChecking=yes");
}

} // namespace

std::vector<std::string> sshArgv(const Machine& machine, const SshOptions& opts,
                                 const std::string& pinnedKnownHosts,
                                 const std::vector<std::string>& remoteCommand)
{
    // -x -a: a builder gets neither our X display nor our agent; -T: the protocol needs a clean
    // byte stream, not a terminal.
    std::vector<std::string> argv = {opts.program, "-x", "-a", "-T"};
    if (!opts.configFile.empty()) argv.insert(argv.end(), {"-F", opts.configFile});
    // BatchMode: a daemon has nobody to answer a password or host key prompt.
    option(argv, "BatchMode=yes");
    option(argv, fmt::format("ConnectTimeout={}", opts.connectTimeout));
    // Keep-alives notice a dead peer even while the protocol waits silently for a long build.
    option(argv, fmt::format("ServerAliveInterval={}", opts.serverAliveInterval));
    option(argv, fmt::format("ServerAliveCountMax={}", opts.serverAliveCountMax));
    // ssh's stderr is the build log: keep its chatter out, errors still come through.
    option(argv, "LogLevel=ERROR");
    if (!machine.sshKey.empty()) {
        argv.insert(argv.end(), {"-i", machine.sshKey});
        // Only the configured key: agent or default keys could exhaust the server's tries.
        option(argv, "IdentitiesOnly=yes");
    }
    if (machine.port != 0) argv.insert(argv.end(), {"-p", std::to_string(machine.port)});
    if (!pinnedKnownHosts.empty()) pinHostKey(argv, pinnedKnownHosts);
    argv.insert(argv.end(), opts.extraArgs.begin(), opts.extraArgs.end());
    // "--" so that no host name can be taken for an option.
    argv.insert(argv.end(), {"--", machine.sshDestination()});
    argv.insert(argv.end(), remoteCommand.begin(), remoteCommand.end());
    return argv;
}

} // namespace hydra::nix
