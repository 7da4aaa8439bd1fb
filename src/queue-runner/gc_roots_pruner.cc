#include "queue-runner/gc_roots_pruner.hh"

#include "db/gc_keep.hh"
#include "nix/store_path.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"

#include <filesystem>
#include <unordered_set>

namespace hydra::qr {

std::chrono::seconds gcRootsGrace(const HydraConfig& config)
{
    return config.evaluator.timeout + std::chrono::hours(1);
}

GcRootsPruner::GcRootsPruner(db::ConnectionPool& pool, const nix::GcRoots& roots, std::chrono::seconds grace,
                             const Clock& clock)
    : pool_(pool), roots_(roots), grace_(grace), clock_(clock)
{}

GcRootsReport GcRootsPruner::run() const
{
    // Listed before the database is read: a root added meanwhile is not in this list and so is
    // never removed by this pass, whatever the query says.
    auto existing = roots_.list();
    auto keep = pool_.withTransaction(
        [&](pqxx::work& t) { return db::storePathsToKeep(t, static_cast<int64_t>(clock_.unixTime())); });
    std::unordered_set<std::string> wanted;
    GcRootsReport report;
    for (const auto& path : keep) {
        std::string base;
        try {
            base = nix::StorePath::parse(path).baseName();
        } catch (const std::exception& e) {
            log::warn("GC roots: the database names ‘{}’, which is no store path: {}", path, e.what());
            continue;
        }
        if (!wanted.insert(base).second) continue;
        std::error_code ec;
        if (std::filesystem::exists(path, ec) && !std::filesystem::is_symlink(roots_.rootFor(path), ec)) {
            roots_.add(path);
            ++report.added;
        }
    }
    auto youngest = std::chrono::system_clock::from_time_t(static_cast<time_t>(clock_.unixTime())) - grace_;
    for (const auto& root : existing) {
        if (wanted.contains(root.baseName) || root.madeAt > youngest) {
            ++report.kept;
            continue;
        }
        roots_.remove(root.baseName);
        ++report.removed;
    }
    return report;
}

void GcRootsPruner::runEvery(std::chrono::seconds interval, const std::stop_token& stop) const
{
    while (sleepUnlessStopped(stop, interval)) {
        try {
            auto r = run();
            log::info("GC roots in {}: kept {}, removed {}, added {}", roots_.dir().string(), r.kept,
                      r.removed, r.added);
        } catch (const std::exception& e) {
            log::error("GC roots in {}: pass failed: {}", roots_.dir().string(), e.what());
        }
    }
}

} // namespace hydra::qr
