#include "queue-runner/local_store.hh"

#include "nix/machines.hh"

namespace hydra::qr {

std::set<std::string> LocalStore::queryValid(const std::set<std::string>& paths)
{
    auto conn = conn_.lock();
    // One retry on a fresh session: the old one may have died with its nix-store.
    for (int attempt = 1;; ++attempt) {
        try {
            if (!*conn)
                conn->emplace(nix::Machine{.storeUri = "localhost", .kind = nix::MachineKind::Localhost},
                              opts_);
            return (*conn)->client().queryValidPaths(paths);
        } catch (const std::exception&) {
            conn->reset();
            if (attempt == 2) throw;
        }
    }
}

} // namespace hydra::qr
