#include "harness/web_rows_logs.hh"

#include "harness/nix_graph.hh"
#include "nix/build_log_path.hh"
#include "util/process.hh"

#include <atomic>
#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <random>

namespace hydra::test {

std::filesystem::path writeBuildLog(const std::filesystem::path& logDir, const std::string& drvPath,
                                    const std::string& text)
{
    auto path = nix::buildLogPath(logDir, drvPath);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
}

void runningStep(pqxx::connection& c, int64_t build, int stepNr, const std::string& drvPath)
{
    pqxx::work t(c);
    t.exec_params("INSERT INTO BuildSteps (build, stepnr, type, drvPath, busy, startTime, machine, system) "
                  "VALUES ($1, $2, 0, $3, 30, 1700000100, 'localhost', 'x86_64-linux')",
                  build, stepNr, drvPath);
    t.commit();
}

void buildProduct(pqxx::connection& c, int64_t build, const ProductSpec& p)
{
    pqxx::work t(c);
    t.exec_params("INSERT INTO BuildProducts (build, productnr, type, subtype, path, name, defaultPath) "
                  "VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''))",
                  build, p.nr, p.type, p.subtype, p.path, p.name, p.defaultPath);
    t.commit();
}

std::string addToStore(const std::filesystem::path& path)
{
    auto out = runChecked({.argv = {"nix-store", "--add", path.string()}, .setEnv = nixTestEnv()});
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::string dumpNar(const std::string& storePath)
{
    return runChecked({.argv = {"nix-store", "--dump", storePath}, .setEnv = nixTestEnv()});
}

std::string fakeDrvPath(const std::string& name)
{
    static std::atomic<unsigned> counter{0};
    static const auto seed =
        static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::mt19937 rng(seed + counter++);
    static constexpr char chars[] = "0123456789abcdfghijklmnpqrsvwxyz";
    std::string hash;
    for (int i = 0; i < 32; ++i) hash += chars[rng() % 32];
    return fmt::format("/nix/store/{}-{}.drv", hash, name);
}

} // namespace hydra::test
