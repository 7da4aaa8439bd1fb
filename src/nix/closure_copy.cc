#include "nix/closure_copy.hh"

#include "nix/export.hh"
#include "util/error.hh"

#include <algorithm>
#include <functional>
#include <iterator>

namespace hydra::nix {

namespace {

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b)
{
    std::set<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
    return out;
}

Machine localStore()
{
    Machine m;
    m.storeUri = "localhost";
    m.kind = MachineKind::Localhost;
    return m;
}

/// Streams one path's NAR from `src` into the export stream, checking it against its record.
uint64_t sendNar(serve::ServeClient& src, const serve::PathInfo& info, Sink& out)
{
    CountingSink counted(out);
    src.dumpStorePath(info.path, counted);
    // A size that differs from the record means a corrupt source store: stop before the
    // destination registers the path.
    if (info.narSize != 0 && counted.count() != info.narSize)
        throw Error("NAR of {} is {} bytes, but its source store records {}", info.path, counted.count(),
                    info.narSize);
    return counted.count();
}

} // namespace

std::set<std::string> closureOf(serve::ServeClient& src, const std::set<std::string>& paths)
{
    if (paths.empty()) return {};
    return src.queryClosure(paths, false);
}

std::set<std::string> missingPaths(serve::ServeClient& dest, const std::set<std::string>& paths,
                                   bool substitute)
{
    if (paths.empty()) return {};
    return minus(paths, dest.queryValidPaths(paths, false, substitute));
}

std::set<std::string> substituteMissing(serve::ServeClient& dest, const std::set<std::string>& paths)
{
    return missingPaths(dest, paths, true);
}

std::vector<serve::PathInfo> referencesFirst(const std::vector<serve::PathInfo>& infos)
{
    std::map<std::string, const serve::PathInfo*> byPath;
    for (auto& i : infos) byPath.emplace(i.path, &i);
    // Depth-first, emitting a path once everything it references among `infos` is out.
    enum class Mark { Visiting, Done };
    std::map<std::string, Mark> marks;
    std::vector<serve::PathInfo> out;
    std::function<void(const serve::PathInfo&)> visit = [&](const serve::PathInfo& i) {
        auto [it, fresh] = marks.emplace(i.path, Mark::Visiting);
        if (!fresh) {
            if (it->second == Mark::Visiting)
                throw Error("store path {} is part of a reference cycle", i.path);
            return;
        }
        for (auto& r : i.references)
            if (auto dep = byPath.find(r); dep != byPath.end() && r != i.path) visit(*dep->second);
        it->second = Mark::Done;
        out.push_back(i);
    };
    for (auto& [path, info] : byPath) visit(*info);
    return out;
}

CopyStats sendPaths(serve::ServeClient& src, serve::ServeClient& dest,
                    const std::vector<serve::PathInfo>& ordered)
{
    CopyStats stats;
    if (ordered.empty()) return stats;
    dest.importPaths([&](Sink& out) {
        for (auto& info : ordered) {
            writeExportEntry(out, {info.path, info.references, info.deriver},
                             [&](Sink& nar) { stats.narBytes += sendNar(src, info, nar); });
            stats.paths.push_back(info.path);
        }
        writeExportEnd(out);
    });
    return stats;
}

namespace {

/// Copies the closure of `wanted`, paths that `dest` was just found to lack.
CopyStats copyMissing(serve::ServeClient& src, serve::ServeClient& dest, const std::set<std::string>& wanted,
                      bool substitute)
{
    auto missing = missingPaths(dest, closureOf(src, wanted), substitute);
    if (missing.empty()) return {};
    return sendPaths(src, dest, referencesFirst(src.queryPathInfos(missing)));
}

} // namespace

CopyStats copyClosure(serve::ServeClient& src, serve::ServeClient& dest, const std::set<std::string>& paths,
                      bool substitute)
{
    // Paths the destination has come with their closures (Nix's invariant): nothing to do.
    auto wanted = missingPaths(dest, paths, substitute);
    return wanted.empty() ? CopyStats{} : copyMissing(src, dest, wanted, substitute);
}

namespace {

/// Runs `copy` with a local session: lent by opts.sessions (and given back unless the copy
/// threw, which leaves the session in an unknown state), or started for this copy alone.
template <typename F> auto withLocalSession(const CopyOptions& opts, F&& copy)
{
    if (!opts.sessions) {
        MachineConnection local(localStore(), opts.local);
        return copy(local.client());
    }
    auto local = opts.sessions->take();
    auto result = copy(local.client());
    opts.sessions->giveBack(std::move(local));
    return result;
}

} // namespace

CopyStats copyClosureTo(serve::ServeClient& dest, const std::set<std::string>& paths, const CopyOptions& opts)
{
    // Ask first: when the machine has everything, no local session is needed at all.
    auto wanted = missingPaths(dest, paths, opts.substitute);
    if (wanted.empty()) return {};
    return withLocalSession(
        opts, [&](serve::ServeClient& local) { return copyMissing(local, dest, wanted, opts.substitute); });
}

std::set<std::string> localClosureOf(const std::set<std::string>& paths, const CopyOptions& opts)
{
    return withLocalSession(opts, [&](serve::ServeClient& local) { return closureOf(local, paths); });
}

CopyStats copyClosureFrom(serve::ServeClient& src, const std::set<std::string>& paths,
                          const CopyOptions& opts)
{
    return withLocalSession(
        opts, [&](serve::ServeClient& local) { return copyClosure(src, local, paths, opts.substitute); });
}

} // namespace hydra::nix
