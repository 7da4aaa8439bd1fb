#include "queue-runner/local_store.hh"

#include "nix/machine_connection.hh"

namespace hydra::qr {

std::set<std::string> LocalStore::queryValid(const std::set<std::string>& paths)
{
    // One retry on a fresh session: the lent one may have died with its nix-store.
    for (int attempt = 1;; ++attempt) {
        try {
            auto conn = sessions_.take();
            auto valid = conn.client().queryValidPaths(paths);
            sessions_.giveBack(std::move(conn));
            return valid;
        } catch (const std::exception&) {
            if (attempt == 2) throw;
        }
    }
}

} // namespace hydra::qr
