#include "queue-runner/local_substituter.hh"

#include "nix/machines.hh"
#include "util/error.hh"

#include <csignal>
#include <fmt/format.h>
#include <sys/types.h>

namespace hydra::qr {

nix::MachineConnection& LocalSubstituter::session()
{
    if (!conn_)
        conn_.emplace(nix::Machine{.storeUri = "localhost", .kind = nix::MachineKind::Localhost},
                      opts_.connection);
    return *conn_;
}

std::set<std::string> LocalSubstituter::valid(const std::set<std::string>& paths)
{
    // One retry on a fresh session: the old one may have died with its nix-store.
    for (int attempt = 1;; ++attempt) {
        try {
            return session().client().queryValidPaths(paths);
        } catch (const std::exception&) {
            conn_.reset();
            if (attempt == 2) throw;
        }
    }
}

std::set<std::string> LocalSubstituter::substitute(const std::set<std::string>& paths,
                                                   const std::stop_token& stop)
{
    if (paths.empty()) return {};
    auto& conn = session();
    try {
        // Stopping kills the server: its reply never comes, and the read ends at once.
        pid_t pid = conn.pid();
        std::stop_callback onStop(stop, [pid] {
            if (pid > 0) ::kill(pid, SIGKILL);
        });
        if (stop.stop_requested()) throw Error("substitution of {} paths stopped", paths.size());
        auto scope = conn.expect(fmt::format("the substitution of {} paths", paths.size()), opts_.timeout);
        return conn.client().queryValidPaths(paths, false, true);
    } catch (const std::exception&) {
        conn_.reset(); // its stream is out of step (or its server gone): never reuse it
        if (stop.stop_requested()) throw Error("substitution of {} paths stopped", paths.size());
        throw;
    }
}

} // namespace hydra::qr
