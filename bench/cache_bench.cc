// cache_bench: how fast hydra-server serves the store as a binary cache, against Nix's own
// file:// binary cache of the same paths, measured in the same run.
//
// It adds HYDRA_BENCH_CACHE_MIB MiB (default 1024) of store paths to the local store (8 paths
// of data that compresses about 2:1, as binaries do), copies them once into a file:// cache with
// zstd (untimed: that is the reference's preparation), and then times `nix copy --from` each
// cache into a fresh chroot store. The server compresses while it sends (no FileHash), the file
// cache was compressed beforehand; both are decompressed and checked by the same Nix client.

#include "bench_support.hh"
#include "util/process.hh"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace hydra;
namespace fs = std::filesystem;
using Wall = std::chrono::steady_clock;

namespace {

constexpr int pathCount = 8;

std::string checked(ProcessOptions opts, const std::string& what)
{
    opts.pipeStdout = true;
    opts.pipeStderr = true;
    auto r = run(std::move(opts), {}, std::chrono::hours(1));
    if (!exitedOk(r.status)) throw Error("{} failed: {}", what, r.err);
    return r.out;
}

// One directory of `mib` MiB: 4 KiB blocks, half random and half repeated text.
void writeData(const fs::path& dir, uint64_t mib, uint32_t seed)
{
    fs::create_directories(dir);
    std::mt19937_64 rng(seed);
    std::ofstream out(dir / "data", std::ios::binary);
    std::string block(4096, '\0');
    for (uint64_t i = 0; i < mib * 256; ++i) {
        for (size_t j = 0; j < 2048; j += 8) {
            uint64_t v = rng();
            std::memcpy(&block[j], &v, 8);
        }
        for (size_t j = 2048; j < 4096; ++j) block[j] = "hydra binary cache benchmark "[j % 29];
        out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
}

uint64_t peakRssKiB(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6));
    return 0;
}

double timeCopy(const std::string& from, const std::vector<std::string>& paths, const fs::path& dest)
{
    std::vector<std::string> argv{"nix",
                                  "--extra-experimental-features",
                                  "nix-command",
                                  "copy",
                                  "--no-check-sigs",
                                  "--from",
                                  from,
                                  "--to",
                                  dest.string()};
    argv.insert(argv.end(), paths.begin(), paths.end());
    auto start = Wall::now();
    checked({.argv = argv}, "nix copy --from " + from);
    return bench::seconds(Wall::now() - start);
}

} // namespace

int main()
{
    try {
        auto mib = bench::envNumber("HYDRA_BENCH_CACHE_MIB", 1024);
        bench::TempDir dir("hydra-cache-bench");
        auto perPath = std::max<uint64_t>(1, mib / pathCount);
        std::vector<std::string> paths;
        std::random_device rd;
        auto seed = rd();
        for (int i = 0; i < pathCount; ++i) {
            auto src = dir.path / fmt::format("cache-bench-{}-{}", seed, i);
            writeData(src, perPath, seed + static_cast<uint32_t>(i));
            auto out = checked({.argv = {"nix-store", "--add", src.string()}}, "nix-store --add");
            paths.push_back(out.substr(0, out.find('\n')));
            fs::remove_all(src);
        }
        fmt::print("closure: {} paths, {} MiB\n", paths.size(), perPath * pathCount);

        auto fileCache = "file://" + (dir.path / "file-cache").string() + "?compression=zstd";
        std::vector<std::string> fill{
            "nix", "--extra-experimental-features", "nix-command", "copy", "--to", fileCache};
        fill.insert(fill.end(), paths.begin(), paths.end());
        checked({.argv = fill}, "nix copy --to the file:// cache");

        bench::HydraDatabase db(dir.path);
        bench::Server server(dir.path, db.conninfo());
        auto reference = timeCopy(fileCache, paths, dir.path / "dest-file");
        auto served =
            timeCopy("http://127.0.0.1:" + std::to_string(server.port), paths, dir.path / "dest-http");
        auto total = static_cast<double>(perPath * pathCount);
        fmt::print("nix copy from a file:// zstd cache (reference): {:.1f} s, {:.0f} MiB/s\n", reference,
                   total / reference);
        fmt::print("nix copy from hydra-server:                     {:.1f} s, {:.0f} MiB/s\n", served,
                   total / served);
        fmt::print("ratio (reference time / hydra-server time):     {:.2f}\n", reference / served);
        bench::summary("cache_bench", "nix copy of a closure", fmt::format("{:.1f} s", served),
                       fmt::format("{:.1f} s from a file:// cache", reference),
                       fmt::format("{:.2f}× the speed", reference / served));
        fmt::print("hydra-server peak memory: {} MiB\n", peakRssKiB(server.process->pid()) / 1024);
        std::vector<std::string> del{"nix-store", "--delete"};
        del.insert(del.end(), paths.begin(), paths.end());
        checked({.argv = del}, "nix-store --delete");
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "cache_bench: {}\n", e.what());
        return 1;
    }
}
