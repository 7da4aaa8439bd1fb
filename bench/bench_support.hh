#pragma once
// What the benchmarks share: a scratch directory a private PostgreSQL can use, and timing.

#include "db/connect.hh"
#include "db/private_cluster.hh"
#include "db/schema.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <regex>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace hydra::bench {

/// A temporary directory PostgreSQL (running as an unprivileged user) can enter; removed at the end.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& prefix)
    {
        auto tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (!::mkdtemp(tmpl.data())) throwSysError("creating a directory from " + tmpl);
        if (::chmod(tmpl.c_str(), 0755) != 0) throwSysError("chmod " + tmpl);
        path = tmpl;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

/// Store paths a benchmark wrote (derivations and their outputs): deleted from the Nix store
/// when the run ends, so repeated runs do not leave millions of unrooted paths for the next
/// garbage collection. Declare it before whatever still uses the paths (a runner holds
/// temporary roots), so it is destroyed after them.
class StoreGarbage {
public:
    StoreGarbage() = default;
    StoreGarbage(const StoreGarbage&) = delete;
    StoreGarbage& operator=(const StoreGarbage&) = delete;
    ~StoreGarbage()
    {
        // Referrers first: a path is only deleted once nothing valid refers to it.
        std::vector<std::string> existing;
        for (auto it = paths_.rbegin(); it != paths_.rend(); ++it)
            if (std::error_code ec; std::filesystem::exists(*it, ec)) existing.push_back(*it);
        constexpr size_t batch = 5000; // stays far below the argument list's limit
        size_t failedBatches = 0;
        std::string lastError;
        for (size_t from = 0; from < existing.size(); from += batch) {
            ProcessOptions opts{.argv = {"nix-store", "--delete"}};
            auto end = std::min(existing.size(), from + batch);
            opts.argv.insert(opts.argv.end(), existing.begin() + static_cast<std::ptrdiff_t>(from),
                             existing.begin() + static_cast<std::ptrdiff_t>(end));
            try {
                runChecked(std::move(opts), {}, std::chrono::minutes(10));
            } catch (const std::exception& e) {
                // A path still in use (a build the stopped runner left finishing) stays for the
                // next garbage collection; the other batches go on.
                ++failedBatches;
                lastError = e.what();
            }
        }
        if (failedBatches > 0)
            fmt::print(stderr, "bench: {} of the run's batches of store paths were not deleted: {}\n",
                       failedBatches, lastLine(lastError));
    }

    /// Paths added later are deleted first.
    void add(std::string path) { paths_.push_back(std::move(path)); }

private:
    /// The error's last line: the rest is nix-store's "deleting ..." line per path.
    static std::string lastLine(std::string_view text)
    {
        while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
        auto nl = text.rfind('\n');
        return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
    }

    std::vector<std::string> paths_;
};

/// A private PostgreSQL under `dir` (fast, unsafe settings) with Hydra's schema and one
/// project "p" with one jobset "js"; stopped at the end.
class HydraDatabase {
public:
    explicit HydraDatabase(const std::filesystem::path& dir)
        : cluster_(db::ClusterOptions{.dataDir = (dir / "postgres").string(), .unsafeFast = true})
    {
        cluster_.ensureRunning();
        conn_ = db::connect(cluster_.conninfo());
        db::initSchema(*conn_);
        pqxx::work t(*conn_);
        t.exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('root', '', '!')");
        t.exec("INSERT INTO Projects (name, displayName, owner) VALUES ('p', 'P', 'root')");
        t.exec("INSERT INTO Jobsets (project, name, nixExprInput, nixExprPath, emailOverride) "
               "VALUES ('p', 'js', 'src', 'release.nix', '')");
        t.commit();
    }
    HydraDatabase(const HydraDatabase&) = delete;
    HydraDatabase& operator=(const HydraDatabase&) = delete;
    ~HydraDatabase()
    {
        conn_.reset();
        try {
            cluster_.stop();
        } catch (const std::exception& e) {
            fmt::print(stderr, "stopping the benchmark's PostgreSQL: {}\n", e.what());
        }
    }

    std::string conninfo() const { return cluster_.conninfo(); }
    pqxx::connection& conn() { return *conn_; }

    long long scalar(const std::string& sql)
    {
        pqxx::read_transaction t(*conn_);
        return t.exec1(sql)[0].as<long long>();
    }
    std::string text(const std::string& sql)
    {
        pqxx::read_transaction t(*conn_);
        return t.exec1(sql)[0].as<std::string>();
    }
    void exec(const std::string& sql)
    {
        pqxx::work t(*conn_);
        t.exec(sql);
        t.commit();
    }

protected:
    db::PrivateCluster cluster_;
    std::unique_ptr<pqxx::connection> conn_;
};

/// hydra-server (the built program) started on a free port with `config` as its hydra.conf,
/// its output in dir/server.log; stopped with this object.
struct Server {
    std::optional<Process> process;
    int port = 0;

    Server(const std::filesystem::path& dir, const std::string& conninfo, const std::string& config = "")
    {
        namespace fs = std::filesystem;
        auto program =
            fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "bin" / "hydra-server";
        auto log = dir / "server.log";
        std::ofstream(dir / "hydra.conf") << config;
        process = Process::spawn({.argv = {program.string(), "--listen", "127.0.0.1:0"},
                                  .setEnv = {{"HYDRA_DBI", conninfo},
                                             {"HYDRA_DATA", dir.string()},
                                             {"HYDRA_CONFIG", (dir / "hydra.conf").string()}},
                                  .outputFile = log.string(),
                                  .dieWithParent = true});
        std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
        for (int i = 0; i < 600 && port == 0; ++i) {
            std::ifstream f(log);
            std::string text{std::istreambuf_iterator<char>(f), {}};
            std::smatch m;
            if (std::regex_search(text, m, listening))
                port = std::stoi(m[1]);
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (port == 0) throw Error("hydra-server did not start; see {}", log.string());
    }
};

/// A whole number from the environment variable `name` (at least `min`), or `fallback` when it
/// is unset or empty; anything else is an error naming the variable.
inline uint64_t envNumber(const char* name, uint64_t fallback, uint64_t min = 1)
{
    const char* v = std::getenv(name); // NOLINT(concurrency-mt-unsafe): read before any thread starts
    if (!v || !*v) return fallback;
    char* end = nullptr;
    unsigned long long n = std::strtoull(v, &end, 10);
    if (*end != '\0' || n < min) throw Error("{}='{}' is not a whole number of at least {}", name, v, min);
    return n;
}

/// A wall-clock duration in seconds.
inline double seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

/// The real hydra-queue-runner under test: state directory, hydra.conf (gc_roots_dir plus
/// `extraConfig`) and log in `dir`, NIX_CONFIG as given, no NIX_REMOTE_SYSTEMS; SIGTERM and up to
/// 60 s to stop when destroyed.
class QueueRunnerProcess {
public:
    QueueRunnerProcess(const std::string& binary, const std::filesystem::path& dir,
                       const std::string& conninfo, const std::string& nixConfig,
                       const std::string& extraConfig = "")
        : log_(dir / "runner.log")
    {
        std::filesystem::create_directories(dir / "data");
        std::ofstream(dir / "hydra.conf") << "gc_roots_dir = " << (dir / "gcroots").string() << "\n"
                                          << extraConfig;
        std::string cmd = fmt::format("exec {} 2>>{}", binary, log_.string());
        proc_.emplace(Process::spawn({.argv = {"sh", "-c", cmd},
                                      .setEnv = {{"NIX_CONFIG", nixConfig},
                                                 {"HYDRA_DBI", conninfo},
                                                 {"HYDRA_DATA", (dir / "data").string()},
                                                 {"HYDRA_CONFIG", (dir / "hydra.conf").string()}},
                                      .unsetEnv = {"NIX_REMOTE_SYSTEMS"}}));
    }
    QueueRunnerProcess(const QueueRunnerProcess&) = delete;
    QueueRunnerProcess& operator=(const QueueRunnerProcess&) = delete;
    ~QueueRunnerProcess()
    {
        proc_->kill(SIGTERM);
        if (!proc_->waitUntil(std::chrono::steady_clock::now() + std::chrono::seconds(60)))
            fmt::print(stderr, "hydra-queue-runner ignored SIGTERM\n");
    }

    bool running() { return !proc_->waitUntil(std::chrono::steady_clock::now()).has_value(); }
    int pid() const { return proc_->pid(); }
    /// What it logged so far.
    std::string log() const
    {
        std::ifstream f(log_);
        return {std::istreambuf_iterator<char>(f), {}};
    }

private:
    std::filesystem::path log_;
    std::optional<Process> proc_;
};

/// One row of the table scripts/bench.sh prints after every benchmark ran: the figure, ours,
/// the reference it is compared with (measured in the same run, or the goal), and their ratio
/// as the benchmark states it. Tab-separated behind a marker, so the script can gather it.
inline void summary(std::string_view bench, std::string_view figure, std::string_view ours,
                    std::string_view reference, std::string_view ratio)
{
    fmt::print("@summary\t{}\t{}\t{}\t{}\t{}\n", bench, figure, ours, reference, ratio);
}

} // namespace hydra::bench
