#pragma once
// StepBuilder: everything that happens to one build step on one machine, from connecting to
// reading nix-support/ of the outputs. No SQL and no scheduling: the caller records the outcome.

#include "db/build_status.hh"
#include "nix/closure_copy.hh"
#include "nix/derivation.hh"
#include "nix/machine_connection.hh"
#include "queue-runner/nix_support.hh"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

namespace hydra::qr {

using BuildId = int64_t;

/// One step to build: the derivation, the limits of the build that wants it, and where it goes.
struct StepJob {
    BuildId buildId = 0;
    int stepNr = 0;
    std::string drvPath;
    nix::Derivation drv;
    uint64_t maxSilent = 3600;           ///< seconds without output (Builds.maxsilent); 0 = none
    uint64_t timeout = 36000;            ///< seconds (Builds.timeout); 0 = none
    uint64_t maxLogSize = 64ULL << 20;   ///< bytes (max_log_size)
    uint64_t maxOutputSize = 2ULL << 30; ///< bytes of output NARs (max_output_size)
    std::filesystem::path logPath;       ///< see buildLogPath()
    /// The machine uses the queue runner's own store (localhost): nothing is copied either way.
    bool sharedStore = false;
    /// Let a remote machine substitute missing inputs itself (use-substitutes).
    bool useSubstitutes = false;
    /// The shared store is known to refuse BuildDerivation: build the .drv with BuildPaths.
    bool useBuildPaths = false;
    std::string machine; ///< for log lines
};

/// What became of a step. Times are Unix seconds.
struct StepOutcome {
    db::BuildStatus status = db::BuildStatus::Aborted;
    std::string errorMsg; ///< of a failure: what Nix or the machine said (plainNixMessage)
    bool transient = false;
    bool canCache = false; ///< a failure of the derivation itself: its outputs go to FailedPaths
    bool isCached = false; ///< outputs were already valid or substituted on the machine
    /// The store refused BuildDerivation and BuildPaths was used: set job.useBuildPaths next time.
    bool buildDerivationRefused = false;
    uint64_t timesBuilt = 0;
    bool isNonDeterministic = false;
    int64_t startTime = 0;
    int64_t stopTime = 0;
    uint64_t overheadMs = 0;                    ///< spent copying inputs and outputs (BuildSteps.overhead)
    std::map<std::string, std::string> outputs; ///< output name -> store path
    std::vector<BuildProduct> products;
    std::map<std::string, BuildMetric> metrics;
    std::string releaseName;
    std::map<std::string, uint64_t> narSizes; ///< output path -> NAR size
    uint64_t size = 0;                        ///< NAR bytes of the outputs (Builds.size)
    uint64_t closureSize = 0;                 ///< NAR bytes of their closure (Builds.closureSize)
    uint64_t bytesSent = 0;                   ///< NAR bytes of inputs copied to the machine
    uint64_t bytesReceived = 0;               ///< NAR bytes of outputs copied back from it
    std::filesystem::path logPath;            ///< empty when no log was kept (nothing built)

    /// Success or FailedWithOutput: the outputs are valid in the local store.
    bool outputsValid() const;
    /// The status for the BuildSteps row: Hydra records a FailedWithOutput step as a success
    /// (the 6 goes to Builds.buildStatus).
    db::BuildStatus stepStatus() const;
};

/// Opens a session with the step's machine whose stderr (the build log) goes to the sink.
using ConnectionFactory = std::function<nix::MachineConnection(const nix::LogSink&)>;
/// Takes back a session after a step that ended with it idle and sound (for the next step).
using ConnectionReturn = std::function<void(nix::MachineConnection&&)>;
/// Hears the busy stage (Connecting ... PostProcessing) as the step enters it.
using ProgressCallback = std::function<void(db::StepBusy)>;

/// How StepBuilder talks to the local store and how long it waits.
struct StepBuilderOptions {
    /// Local `nix-store --serve --write` sessions for copying to and from remote machines.
    nix::ConnectionOptions local;
    /// Lends open local sessions instead of starting one per copy, if set.
    nix::LocalStoreSessions* localSessions = nullptr;
    /// Added to a build's own timeout before the wait for its result gives up.
    std::chrono::seconds resultMargin = std::chrono::minutes(10);
    /// How long to wait for the result of a build without a timeout.
    std::chrono::hours noTimeoutWait = std::chrono::hours(24 * 30);
    /// After a remote build's result, how long its stderr must be quiet before the session is
    /// given back: the last log lines travel through ssh separately from the result.
    std::chrono::milliseconds remoteLogQuiet{50};
    /// Testing: behave as if the store refused BuildDerivation (the error an unprivileged
    /// user gets from the daemon), to exercise the BuildPaths fallback on a store that allows it.
    bool simulateBuildDerivationRefusal = false;
};

/// Runs steps; stateless between runs, usable from many threads at once.
class StepBuilder {
public:
    explicit StepBuilder(StepBuilderOptions opts = {}) : opts_(std::move(opts)) {}

    /// Builds `job` on the machine `connect` reaches. A remote machine gets its missing inputs
    /// (substituted outside `sendLock` when job.useSubstitutes, copied under it), builds, and
    /// sends its outputs back unless they exceed job.maxOutputSize. The log streams into
    /// job.logPath. Never throws for trouble with the machine or the build: that is an Aborted,
    /// transient outcome naming the machine. A stop request kills the session: Cancelled.
    /// A session that ends the step idle and sound goes to `giveBack` (if set), else is closed.
    StepOutcome run(const StepJob& job, const ConnectionFactory& connect, std::mutex& sendLock,
                    const ProgressCallback& progress = {}, std::stop_token stop = {},
                    const ConnectionReturn& giveBack = {}) const;

private:
    StepBuilderOptions opts_;
};

/// The store paths a derivation's builder reads: its input sources and the outputs it uses
/// of its input derivations (read from their .drv files in the local store).
std::set<std::string> inputPaths(const nix::Derivation& drv);

} // namespace hydra::qr
