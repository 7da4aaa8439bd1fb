#include "nix/gc_roots.hh"

#include "nix/store_path.hh"
#include "util/error.hh"

#include <atomic>
#include <pwd.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace hydra::nix {

namespace {

std::string userName(const EnvLookup& env)
{
    for (const char* var : {"LOGNAME", "USER"})
        if (auto v = env(var); v && !v->empty()) return *v;
    if (auto* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
    return std::to_string(::geteuid());
}

} // namespace

std::filesystem::path defaultGcRootsDir(const EnvLookup& env)
{
    auto state = env("NIX_STATE_DIR");
    std::filesystem::path stateDir = state && !state->empty() ? *state : "/nix/var/nix";
    return stateDir / "gcroots" / "per-user" / userName(env) / "hydra-roots";
}

std::filesystem::path gcRootsDir(const QueueRunnerConfig& config, const EnvLookup& env)
{
    return config.gcRootsDir ? std::filesystem::path(*config.gcRootsDir) : defaultGcRootsDir(env);
}

GcRoots::GcRoots(std::filesystem::path dir) : dir_(std::move(dir))
{
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw Error("cannot create the GC roots directory ‘{}’: {}", dir_.string(), ec.message());
}

std::filesystem::path GcRoots::rootFor(std::string_view storePath) const
{
    return dir_ / std::string(StorePath::parse(storePath).baseName());
}

void GcRoots::add(std::string_view storePath) const
{
    auto root = rootFor(storePath);
    std::error_code ec;
    if (std::filesystem::read_symlink(root, ec) == storePath) return;
    // A unique temporary name per call, so concurrent adds never trip over each other.
    static std::atomic<unsigned long> counter{0};
    auto tmp = dir_ / fmt::format(".tmp-{}-{}-{}", ::getpid(), counter++, root.filename().string());
    std::filesystem::create_symlink(std::string(storePath), tmp, ec);
    if (!ec) std::filesystem::rename(tmp, root, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw Error("cannot register ‘{}’ as a GC root in ‘{}’: {}", storePath, dir_.string(), ec.message());
    }
}

std::vector<GcRootEntry> GcRoots::list() const
{
    std::vector<GcRootEntry> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
        auto name = e.path().filename().string();
        if (name.starts_with(".tmp-") || !e.is_symlink(ec)) continue;
        // The link's own time: a root made a moment ago by an evaluation still running is young.
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) != 0) continue;
        out.push_back({std::move(name), std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec)});
    }
    if (ec) throw Error("cannot read the GC roots directory ‘{}’: {}", dir_.string(), ec.message());
    return out;
}

void GcRoots::remove(std::string_view baseName) const
{
    std::error_code ec;
    std::filesystem::remove(dir_ / std::string(baseName), ec);
    if (ec) throw Error("cannot remove the GC root ‘{}’ in ‘{}’: {}", baseName, dir_.string(), ec.message());
}

} // namespace hydra::nix
