// NAR reader benchmark: streams `nix-store --dump` of a large store path through parseNar and
// prints its throughput as a ratio to `nix-store --dump > /dev/null` measured in the same run,
// plus the reader's peak memory next to the NAR size (it must be O(chunk), not O(file)).
//
// Environment: HYDRA_BENCH_NAR_MIB (store path size, default 1024), HYDRA_BENCH_REPS (default 5),
// HYDRA_BENCH_CACHE (where the GC root of the generated store path lives, default
// $XDG_CACHE_HOME/hydra-bench or ~/.cache/hydra-bench).

#include "bench_support.hh"
#include "nix/hash.hh"
#include "nix/nar.hh"
#include "nix/wire.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace hydra;
using namespace hydra::nix;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

using bench::envNumber;

constexpr uint64_t MiB = 1024 * 1024;
// Bumped whenever the generated tree changes, so a stale cached store path is not reused.
constexpr std::string_view treeVersion = "v1";

/// What the benchmark is asked to do, from the environment.
struct Config {
    uint64_t mib = 1024;
    size_t reps = 5;
    fs::path cacheDir;
};

Config configFromEnv()
{
    Config c;
    c.mib = envNumber("HYDRA_BENCH_NAR_MIB", 1024, 8);
    c.reps = static_cast<size_t>(envNumber("HYDRA_BENCH_REPS", 5, 1));
    if (const char* d = std::getenv("HYDRA_BENCH_CACHE"); d && *d)
        c.cacheDir = d;
    else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        c.cacheDir = fs::path(x) / "hydra-bench";
    else if (const char* h = std::getenv("HOME"); h && *h)
        c.cacheDir = fs::path(h) / ".cache" / "hydra-bench";
    else
        throw Error("set HYDRA_BENCH_CACHE (or HOME) to a directory for the benchmark's GC roots");
    return c;
}

double secondsSince(SteadyClock::time_point t0)
{
    return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Test data: incompressible bytes from xoshiro256** (far faster than /dev/urandom).

/// Fast deterministic pseudo-random bytes; the same seed always builds the same tree.
class Prng {
public:
    explicit Prng(uint64_t seed)
    {
        for (auto& w : s_) w = seed = splitmix(seed);
    }
    uint64_t next()
    {
        uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
        s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return r;
    }
    void fill(char* p, size_t n)
    {
        for (; n >= 8; p += 8, n -= 8) {
            uint64_t r = next();
            std::memcpy(p, &r, 8);
        }
        uint64_t r = next();
        std::memcpy(p, &r, n);
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static uint64_t splitmix(uint64_t x)
    {
        x += 0x9e3779b97f4a7c15;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
        x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
        return x ^ (x >> 31);
    }
    std::array<uint64_t, 4> s_{};
};

void writeRandomFile(const fs::path& p, uint64_t size, Prng& prng, bool executable = false)
{
    std::ofstream out(p, std::ios::binary);
    std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, MiB)) + 8);
    for (uint64_t left = size; left > 0 && out;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(left, MiB));
        prng.fill(buf.data(), n);
        out.write(buf.data(), static_cast<std::streamsize>(n));
        left -= n;
    }
    out.close();
    if (!out) throw Error("cannot write benchmark data to '{}'", p.string());
    if (executable) fs::permissions(p, fs::perms::owner_exec, fs::perm_options::add);
}

/// Builds a tree whose NAR is about `totalBytes`: one big file (the O(chunk) test) plus
/// 2,000 small files in 20 directories, an executable and symlinks (the per-entry costs).
void makeTree(const fs::path& root, uint64_t totalBytes)
{
    Prng prng(totalBytes);
    fs::create_directories(root / "small" / "bin");
    uint64_t smallBytes = 0;
    for (int d = 0; d < 20; ++d) {
        auto dir = root / "small" / fmt::format("d{:02}", d);
        fs::create_directory(dir);
        for (int f = 0; f < 100; ++f) {
            uint64_t size = prng.next() % 4096;
            writeRandomFile(dir / fmt::format("f{:03}", f), size, prng);
            smallBytes += size + 200; // NAR framing of a small entry is roughly 200 bytes
        }
    }
    writeRandomFile(root / "small" / "bin" / "tool", 10000, prng, true);
    fs::create_symlink("tool", root / "small" / "bin" / "alias");
    fs::create_symlink("big.bin", root / "latest");
    uint64_t big = totalBytes > smallBytes + MiB ? totalBytes - smallBytes - 10000 : MiB;
    writeRandomFile(root / "big.bin", big, prng);
}

// ---------------------------------------------------------------------------------------------
// The store path, generated once and kept alive (and found again) through a GC root.

std::string nixStore(std::initializer_list<std::string> args,
                     std::chrono::minutes timeout = std::chrono::minutes(10))
{
    ProcessOptions opts;
    opts.argv.reserve(args.size() + 1);
    opts.argv.emplace_back("nix-store");
    opts.argv.insert(opts.argv.end(), args);
    auto out = runChecked(opts, {}, timeout);
    return out.substr(0, out.find_last_not_of('\n') + 1); // npos + 1 == 0: all newlines
}

bool isValidStorePath(const fs::path& root)
{
    std::error_code ec;
    auto target = fs::read_symlink(root, ec);
    if (ec) return false;
    return exitedOk(run({.argv = {"nix-store", "--check-validity", target.string()}}).status);
}

std::string benchStorePath(const Config& c)
{
    auto name = fmt::format("hydra-nar-bench-{}-{}MiB", treeVersion, c.mib);
    auto root = c.cacheDir / name;
    if (isValidStorePath(root)) return fs::read_symlink(root).string();

    fmt::print("nar_bench: creating a {} MiB store path (once; its GC root is {})\n", c.mib, root.string());
    std::fflush(stdout);
    fs::create_directories(c.cacheDir);
    auto tmp = fs::temp_directory_path() / fmt::format("hydra-nar-bench-{}", ::getpid());
    fs::remove_all(tmp);
    auto t0 = SteadyClock::now();
    std::string path;
    try {
        makeTree(tmp / name, c.mib * MiB);
        double made = secondsSince(t0);
        path = nixStore({"--add", (tmp / name).string()}, std::chrono::minutes(60));
        fmt::print("nar_bench: generated in {:.1f} s, added in {:.1f} s\n", made, secondsSince(t0) - made);
    } catch (...) {
        fs::remove_all(tmp);
        throw;
    }
    fs::remove_all(tmp);
    fs::remove(root);
    nixStore({"--add-root", root.string(), "--indirect", "--realise", path});
    return path;
}

// ---------------------------------------------------------------------------------------------
// The reader, run as a child process (this binary with --reader) so its memory is its own.

/// Counts the bytes that pass, to report the NAR size.
class CountingSource : public Source {
public:
    explicit CountingSource(Source& from) : from_(from) {}
    size_t readSome(char* buf, size_t n) override
    {
        size_t k = from_.readSome(buf, n);
        bytes += k;
        return k;
    }
    std::string describe() const override { return from_.describe(); }
    uint64_t bytes = 0;

private:
    Source& from_;
};

/// Feeds everything written into SHA-256.
class HashSink : public Sink {
public:
    void write(std::string_view data) override { hasher.update(data); }
    Sha256Hasher hasher;
};

/// Visits every entry and consumes file contents chunk by chunk, keeping only counts.
class CountingVisitor : public NarVisitor {
public:
    void directory(const std::string&) override { ++dirs; }
    void fileStart(const std::string&, bool, uint64_t size) override
    {
        ++files;
        largest = std::max(largest, size);
    }
    void fileData(std::string_view chunk) override
    {
        fileBytes += chunk.size();
        checksum ^= static_cast<unsigned char>(chunk.back()); // touch the data
    }
    void symlink(const std::string&, const std::string&) override { ++symlinks; }
    uint64_t dirs = 0, files = 0, symlinks = 0, largest = 0, fileBytes = 0;
    unsigned checksum = 0;
};

/// How the reader child consumes the stream: plain 64 KiB reads (the pipe's own cost),
/// parseNar, or parseNar while hashing the stream.
enum class Mode { drain, parse, hash };
constexpr std::array<std::string_view, 3> modeNames = {"drain", "parse", "hash"};

/// What one reader run measured; travels from the child to the parent as one line.
struct ReaderRun {
    uint64_t narBytes = 0, files = 0, dirs = 0, symlinks = 0, largest = 0;
    double seconds = 0;
    uint64_t startRssKiB = 0, peakRssKiB = 0;
    std::string sha256 = "-";
};

/// A field of /proc/self/status in KiB. VmHWM, unlike getrusage's ru_maxrss, starts afresh at
/// exec, so the parent's memory at fork time does not count.
uint64_t procStatusKiB(std::string_view field)
{
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':')
            return std::stoull(line.substr(field.size() + 1));
    throw Error("no {} in /proc/self/status", field);
}

void consume(Source& in, Mode mode, CountingVisitor& v, std::string& sha256)
{
    if (mode == Mode::drain) {
        std::vector<char> buf(64 * 1024);
        while (in.readSome(buf.data(), buf.size()) > 0) {
        }
    } else if (mode == Mode::parse) {
        parseNar(in, v);
    } else {
        HashSink hs;
        TeeSource tee(in, hs);
        parseNar(tee, v);
        sha256 = hs.hasher.finish().toTyped();
    }
}

int readerMain(const std::string& storePath, Mode mode)
{
    ReaderRun r;
    r.startRssKiB = procStatusKiB("VmRSS");
    auto t0 = SteadyClock::now();
    auto dump = Process::spawn({.argv = {"nix-store", "--dump", storePath}, .pipeStdout = true});
    FdSource pipe(dump.out().get(), "nix-store --dump " + storePath, std::chrono::seconds(60));
    CountingSource counted(pipe);
    CountingVisitor v;
    consume(counted, mode, v, r.sha256);
    char extra;
    if (counted.readSome(&extra, 1) != 0) throw Error("data after the NAR from nix-store --dump");
    int status = dump.wait();
    if (!exitedOk(status)) throw Error("nix-store --dump {} {}", storePath, statusToString(status));
    r.seconds = secondsSince(t0);
    r.peakRssKiB = procStatusKiB("VmHWM");
    r.narBytes = counted.bytes;
    fmt::print("{} {} {} {} {} {} {} {} {} {}\n", r.narBytes, v.files, v.dirs, v.symlinks, v.largest,
               r.seconds, r.startRssKiB, r.peakRssKiB, r.sha256, v.checksum);
    return 0;
}

ReaderRun runReader(const std::string& self, const std::string& storePath, Mode mode)
{
    auto name = std::string(modeNames[static_cast<size_t>(mode)]);
    auto out = runChecked({.argv = {self, "--reader", storePath, name}}, {}, std::chrono::minutes(30));
    ReaderRun r;
    std::istringstream in(out);
    in >> r.narBytes >> r.files >> r.dirs >> r.symlinks >> r.largest >> r.seconds >> r.startRssKiB >>
        r.peakRssKiB >> r.sha256;
    if (!in) throw Error("unexpected output from the reader child: '{}'", out);
    return r;
}

// ---------------------------------------------------------------------------------------------
// The end-to-end comparison.

double timeDumpToNull(const std::string& storePath)
{
    auto t0 = SteadyClock::now();
    auto p = Process::spawn({.argv = {"nix-store", "--dump", storePath}, .stdoutToNull = true});
    int status = p.wait();
    if (!exitedOk(status)) throw Error("nix-store --dump {} {}", storePath, statusToString(status));
    return secondsSince(t0);
}

double mibPerSec(uint64_t bytes, double seconds)
{
    return static_cast<double>(bytes) / static_cast<double>(MiB) / seconds;
}

double inMiB(uint64_t n, uint64_t unit = MiB)
{
    return static_cast<double>(n) / static_cast<double>(unit);
}

/// Medians and the largest peak memory of one way of reading, over all repetitions.
struct Variant {
    std::string label;
    std::vector<double> seconds;
    uint64_t peakKiB = 0;
    ReaderRun last;
};

/// The reference and our three ways of reading, measured interleaved.
struct Streaming {
    Variant ref{"nix-store --dump > /dev/null (reference)"};
    std::array<Variant, 3> ours{Variant{"nix-store --dump | 64 KiB reads, no parsing"},
                                Variant{"nix-store --dump | parseNar"},
                                Variant{"nix-store --dump | parseNar + SHA-256"}};
};

Streaming measureStreaming(const Config& c, const std::string& storePath, const std::string& self)
{
    timeDumpToNull(storePath); // warm the page cache for every variant
    Streaming s;
    for (size_t i = 0; i < c.reps; ++i) { // interleaved, so load changes hit every variant alike
        s.ref.seconds.push_back(timeDumpToNull(storePath));
        for (size_t m = 0; m < s.ours.size(); ++m) {
            auto& v = s.ours[m];
            v.last = runReader(self, storePath, static_cast<Mode>(m));
            v.seconds.push_back(v.last.seconds);
            v.peakKiB = std::max(v.peakKiB, v.last.peakRssKiB);
        }
    }
    const auto& run = s.ours[static_cast<size_t>(Mode::hash)].last;
    auto expected = nixStore({"--query", "--hash", storePath});
    if (run.sha256 != expected)
        throw Error("SHA-256 of the streamed NAR is {}, but nix-store says {}", run.sha256, expected);
    return s;
}

void printStreamingTable(const Config& c, const Streaming& s)
{
    const auto& run = s.ours[static_cast<size_t>(Mode::hash)].last;
    uint64_t n = run.narBytes;
    double refRate = mibPerSec(n, median(s.ref.seconds));
    fmt::print("NAR: {} bytes ({:.1f} MiB): {} files (largest {:.1f} MiB), {} directories, {} symlinks\n", n,
               inMiB(n), run.files, inMiB(run.largest), run.dirs, run.symlinks);
    fmt::print("{:<46}{:>9} {:>6} {:>14}\n", fmt::format("medians of {} runs", c.reps), "MiB/s", "ratio",
               "reader VmHWM");
    fmt::print("  {:<44}{:9.1f} {:6.2f}\n", s.ref.label, refRate, 1.0);
    uint64_t peakKiB = 0;
    for (const auto& v : s.ours) {
        double rate = mibPerSec(n, median(v.seconds));
        fmt::print("  {:<44}{:9.1f} {:6.2f} {:10.1f} MiB\n", v.label, rate, rate / refRate,
                   inMiB(v.peakKiB, 1024));
        bench::summary("nar_bench", v.label, fmt::format("{:.0f} MiB/s", rate),
                       fmt::format("{:.0f} MiB/s {}", refRate, s.ref.label),
                       fmt::format("{:.2f}", rate / refRate));
        peakKiB = std::max(peakKiB, v.peakKiB);
    }
    double growth = inMiB(peakKiB - std::min(peakKiB, run.startRssKiB), 1024);
    fmt::print(
        "(the no-parsing row is what the pipe alone allows; SHA-256 matches nix-store --query --hash)\n"
        "Reader RSS at start {:.1f} MiB, peak {:.1f} MiB (+{:.1f} MiB) for a {:.1f} MiB NAR whose largest "
        "file is {:.1f} MiB: {}\n",
        inMiB(run.startRssKiB, 1024), inMiB(peakKiB, 1024), growth, inMiB(n), inMiB(run.largest),
        growth * 4 < inMiB(run.largest) ? "O(chunk), not O(file)" : "WARNING: it grows with the file");
}

// ---------------------------------------------------------------------------------------------
// In-memory parsing (no pipe, no other process), against plain 64 KiB reads of the same bytes.

/// Two in-memory NARs: one big file (chunk throughput) and many small ones (per-entry cost).
struct MemoryNars {
    std::string bigFile, smallFiles;
};

MemoryNars inMemoryNars()
{
    auto tmp = fs::temp_directory_path() / fmt::format("hydra-nar-bench-mem-{}", ::getpid());
    fs::remove_all(tmp);
    StringSink big, small;
    try {
        makeTree(tmp, 32 * MiB);
        dumpPath((tmp / "big.bin").string(), big);
        dumpPath((tmp / "small").string(), small);
    } catch (...) {
        fs::remove_all(tmp);
        throw;
    }
    fs::remove_all(tmp);
    return {big.take(), small.take()};
}

/// Reads a string it does not own (StringSource copies, which would be timed too).
class ViewSource : public Source {
public:
    explicit ViewSource(std::string_view data) : data_(data) {}
    size_t readSome(char* buf, size_t n) override
    {
        size_t k = std::min(n, data_.size());
        std::memcpy(buf, data_.data(), k);
        data_.remove_prefix(k);
        return k;
    }
    std::string describe() const override { return "in-memory NAR"; }

private:
    std::string_view data_;
};

// Median seconds for `rounds` passes of `pass` over the NAR.
template <typename F> double timeRounds(const std::string& nar, size_t reps, uint64_t rounds, F pass)
{
    std::vector<double> times;
    for (size_t r = 0; r < reps; ++r) {
        auto t0 = SteadyClock::now();
        for (uint64_t i = 0; i < rounds; ++i) {
            ViewSource src(nar);
            pass(src);
        }
        times.push_back(secondsSince(t0));
    }
    return median(times);
}

void printInMemoryRow(const Config& c, const std::string& label, const std::string& nar)
{
    uint64_t rounds = std::max<uint64_t>(1, 256 * MiB / nar.size());
    std::vector<char> buf(64 * 1024);
    double copy = timeRounds(nar, c.reps, rounds, [&](Source& src) {
        while (src.readSome(buf.data(), buf.size()) > 0) {
        }
    });
    CountingVisitor v;
    double parse = timeRounds(nar, c.reps, rounds, [&](Source& src) { parseNar(src, v); });
    auto passes = static_cast<double>(c.reps * rounds);
    double entries =
        static_cast<double>(v.files + v.dirs + v.symlinks) / passes * static_cast<double>(rounds);
    uint64_t bytes = nar.size() * rounds;
    fmt::print("  {:<44}{:9.1f} {:6.2f} {:10.0f} entries/s\n",
               fmt::format("{} ({:.1f} MiB)", label, inMiB(nar.size())), mibPerSec(bytes, parse),
               copy / parse, entries / parse);
}

void printInMemoryTable(const Config& c)
{
    auto nars = inMemoryNars();
    fmt::print("{:<46}{:>9} {:>6}\n", fmt::format("parseNar in memory, medians of {} runs", c.reps), "MiB/s",
               "ratio");
    fmt::print("  (ratio: to 64 KiB reads of the same bytes, measured alongside)\n");
    printInMemoryRow(c, "one file", nars.bigFile);
    printInMemoryRow(c, "2,000 small files", nars.smallFiles);
}

int benchMain()
{
    Config c = configFromEnv();
    auto self = fs::read_symlink("/proc/self/exe").string();
    auto storePath = benchStorePath(c);
    fmt::print("nar_bench: store path {}\n", storePath);
    printStreamingTable(c, measureStreaming(c, storePath, self));
    printInMemoryTable(c);
    return 0;
}

std::optional<Mode> parseMode(std::string_view s)
{
    for (size_t i = 0; i < modeNames.size(); ++i)
        if (modeNames[i] == s) return static_cast<Mode>(i);
    return std::nullopt;
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    try {
        if (argc == 1) return benchMain();
        if (argc == 4 && std::string_view(argv[1]) == "--reader" && parseMode(argv[3]))
            return readerMain(argv[2], *parseMode(argv[3]));
        fmt::print(stderr, "usage: nar_bench (configured through HYDRA_BENCH_* variables)\n"
                           "       nar_bench --reader STORE-PATH drain|parse|hash (one timed read)\n");
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "nar_bench: {}\n", e.what());
        return 1;
    }
}
