#pragma once
// WebRows: writes what the web server shows — projects, jobsets, finished and queued builds,
// evaluations, steps — by plain SQL, as the evaluator and queue runner would.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::test {

/// A build to insert; every field has a usable default.
struct BuildSpec {
    std::string job = "hello";
    std::string system = "x86_64-linux";
    std::string nixName = "hello-1.0";
    bool finished = true;
    int buildStatus = 0; ///< when finished
    int64_t timestamp = 1700000000;
    int64_t startTime = 1700000100; ///< when finished
    int64_t stopTime = 1700000200;  ///< when finished
    int isCurrent = 1;
    std::string drvPath; ///< default: a fresh /nix/store/…-NAME.drv
    std::string outPath; ///< default: a fresh /nix/store/…-NAME
};

/// Inserts Hydra rows for the web server's tests.
class WebRows {
public:
    explicit WebRows(pqxx::connection& c) : c_(c) {}

    /// A project owned by user "root" (created if missing).
    void project(const std::string& name, bool hidden = false);
    /// A legacy jobset of `project` with one path input "src"; returns its id.
    int jobset(const std::string& project, const std::string& name);
    /// A build of `jobsetId`; returns its id.
    int64_t build(int jobsetId, const BuildSpec& spec = {});
    /// An evaluation of `jobsetId` holding `builds` (all new); returns its id.
    int64_t eval(int jobsetId, const std::vector<int64_t>& builds, int64_t timestamp = 1700000300);
    /// A finished build step (type 0) of `build`.
    void step(int64_t build, int stepNr, const std::string& drvPath, int status,
              const std::string& machine = "localhost", int64_t start = 1700000100,
              int64_t stop = 1700000200);

private:
    pqxx::connection& c_;
    int counter_ = 0;
};

} // namespace hydra::test
