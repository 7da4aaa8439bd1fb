#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/connection_pool.hh"
#include "nix/gc_roots.hh"
#include "queue-runner/gc_roots_pruner.hh"
#include "util/clock.hh"
#include "util/error.hh"

#include <charconv>
#include <cstdio>

namespace hydra::cli {

namespace {

std::chrono::seconds parseGrace(const std::string& s)
{
    long long v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0)
        throw UsageError("--grace takes a number of seconds, not '" + s + "'");
    return std::chrono::seconds(v);
}

} // namespace

int cmdGcRoots(Args& args)
{
    Site site = Site::fromEnvironment();
    auto grace = qr::gcRootsGrace(site.config());
    while (!args.done()) {
        auto a = args.next();
        if (a != "--grace") throw UsageError("unexpected argument '" + a + "'");
        if (args.done()) throw UsageError("--grace needs a number of seconds");
        grace = parseGrace(args.next());
    }
    db::ConnectionPool pool(
        db::PoolOptions{.conninfo = site.conninfo(/*startPrivate=*/false), .maxConnections = 1});
    nix::GcRoots roots(nix::gcRootsDir(site.config().queueRunner));
    SystemClock clock;
    auto r = qr::GcRootsPruner(pool, roots, grace, clock).run();
    std::printf("GC roots in %s: kept %zu, removed %zu, added %zu\n", roots.dir().c_str(), r.kept, r.removed,
                r.added);
    return 0;
}

} // namespace hydra::cli
