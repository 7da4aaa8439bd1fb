#include "harness/binary_cache.hh"

#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <filesystem>

namespace hydra::test {

BinaryCache::BinaryCache() : dir_(makeTempDir("hydra-binary-cache")) {}

BinaryCache::~BinaryCache()
{
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string BinaryCache::uri() const
{
    return "file://" + dir_;
}

void BinaryCache::add(const std::string& path) const
{
    auto r =
        run({.argv = {"nix", "--extra-experimental-features", "nix-command", "copy", "--to", uri(), path},
             .setEnv = nixTestEnv()},
            {}, std::chrono::minutes(2));
    if (!exitedOk(r.status))
        throw Error("nix copy of ‘{}’ to {} failed: {}: {}", path, uri(), statusToString(r.status), r.err);
}

std::string BinaryCache::nixConfig() const
{
    return "substituters = " + uri() + "\nrequire-sigs = false";
}

void deleteFromStore(const std::string& path)
{
    auto r =
        run({.argv = {"nix-store", "--delete", path}, .setEnv = nixTestEnv()}, {}, std::chrono::minutes(2));
    auto check = run({.argv = {"nix-store", "--check-validity", path}, .setEnv = nixTestEnv()});
    if (exitedOk(check.status))
        throw Error("cannot delete ‘{}’ from the local store: nix-store --delete {}: {}", path,
                    statusToString(r.status), r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0));
}

} // namespace hydra::test
