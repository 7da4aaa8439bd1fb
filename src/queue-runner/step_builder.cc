#include "queue-runner/step_builder.hh"

#include "nix/closure_copy.hh"
#include "nix/store_path.hh"
#include "queue-runner/build_log.hh"
#include "queue-runner/build_outcome.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <atomic>
#include <csignal>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>

namespace hydra::qr {

using db::BuildStatus;
using db::StepBusy;
using Steady = std::chrono::steady_clock;

bool StepOutcome::outputsValid() const
{
    return status == BuildStatus::Success || status == BuildStatus::FailedWithOutput;
}

BuildStatus StepOutcome::stepStatus() const
{
    return status == BuildStatus::FailedWithOutput ? BuildStatus::Success : status;
}

std::set<std::string> inputPaths(const nix::Derivation& drv)
{
    std::set<std::string> in = drv.inputSrcs;
    for (const auto& [drvPath, names] : drv.inputDrvs) {
        std::ifstream f(drvPath, std::ios::binary);
        if (!f) throw Error("cannot read input derivation ‘{}’", drvPath);
        std::stringstream text;
        text << f.rdbuf();
        auto input = nix::parseDerivation(text.str(), drvPath);
        for (const auto& name : names) {
            auto o = input.outputs.find(name);
            if (o == input.outputs.end() || o->second.path.empty())
                throw Error("input derivation ‘{}’ has no output ‘{}’ with a known path", drvPath, name);
            in.insert(o->second.path);
        }
    }
    return in;
}

namespace {

int64_t unixNow()
{
    return static_cast<int64_t>(std::time(nullptr));
}

uint64_t msSince(Steady::time_point t0)
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t0).count());
}

/// One run of one step: the session, the log and the outcome being filled in.
class StepRun {
public:
    StepRun(const StepJob& job, const StepBuilderOptions& opts, const ConnectionFactory& connect,
            std::mutex& sendLock, const ProgressCallback& progress, std::stop_token stop,
            const ConnectionReturn& giveBack)
        : job_(job), opts_(opts), connect_(connect), giveBack_(giveBack), sendLock_(sendLock),
          progress_(progress), stop_(std::move(stop)), ctx_{job.buildId, job.stepNr, job.machine}
    {}

    StepOutcome run();

private:
    void stage(StepBusy b);
    void openSession();
    void closeSession();
    /// The step is done with its session: its log is delivered, and it goes back for reuse.
    void releaseSession();
    void sendInputs();
    ResultMapping build();
    ResultMapping buildDerivation();
    ResultMapping buildPaths();
    void outputPaths(const nix::serve::BuildResult* result);
    bool receiveOutputs();
    void measureSizes();
    void postProcess(ResultMapping m);
    void finishBuilt(const ResultMapping& m);
    void apply(const ResultMapping& m, const std::string& msg);
    void fail(const std::exception& e);
    nix::serve::BuildOptions buildOptions() const;
    nix::CopyOptions copyOptions() const;
    std::chrono::milliseconds resultWait() const;

    const StepJob& job_;
    const StepBuilderOptions& opts_;
    const ConnectionFactory& connect_;
    const ConnectionReturn& giveBack_;
    std::mutex& sendLock_;
    const ProgressCallback& progress_;
    std::stop_token stop_;
    log::Context ctx_;

    std::optional<BuildLog> log_;
    std::optional<nix::MachineConnection> conn_;
    std::atomic<pid_t> pid_{-1};
    bool building_ = false;
    nix::Derivation basic_; // what BuildDerivation sends: inputs' outputs among the sources
    StepOutcome out_;
};

void StepRun::stage(StepBusy b)
{
    if (stop_.stop_requested()) throw Error("step cancelled");
    if (!progress_) return;
    try {
        progress_(b);
    } catch (const std::exception& e) {
        // Reporting progress is bookkeeping: a failure there must not abort the build.
        log::event(log::Level::Warn, ctx_, "cannot report stage {}: {}", db::stepBusyName(b), e.what());
    }
}

void StepRun::openSession()
{
    closeSession();
    conn_.emplace(connect_(log_->sink()));
    pid_ = conn_->pid();
    if (stop_.stop_requested()) throw Error("step cancelled");
}

void StepRun::closeSession()
{
    pid_ = -1;
    if (conn_) conn_->close();
    conn_.reset();
}

void StepRun::releaseSession()
{
    if (!conn_) return;
    conn_->drainLog(job_.sharedStore ? std::chrono::milliseconds(0) : opts_.remoteLogQuiet);
    pid_ = -1;
    if (giveBack_ && !stop_.stop_requested()) giveBack_(std::move(*conn_));
    closeSession();
}

void StepRun::sendInputs()
{
    auto inputs = inputPaths(job_.drv);
    basic_ = job_.drv;
    basic_.inputSrcs.insert(inputs.begin(), inputs.end());
    if (job_.sharedStore) return;

    if (job_.useSubstitutes) {
        // Downloads may hang for long: never while holding the machine's send lock.
        nix::substituteMissing(conn_->client(), nix::localClosureOf(inputs, copyOptions()));
    }
    auto t0 = Steady::now();
    std::lock_guard lock(sendLock_);
    auto stats = nix::copyClosureTo(conn_->client(), inputs, copyOptions());
    out_.bytesSent += stats.narBytes;
    out_.overheadMs += msSince(t0);
    log::event(log::Level::Debug, ctx_, "sent {} input paths ({} bytes)", stats.paths.size(), stats.narBytes);
}

nix::CopyOptions StepRun::copyOptions() const
{
    return {.substitute = false, .local = opts_.local, .sessions = opts_.localSessions};
}

nix::serve::BuildOptions StepRun::buildOptions() const
{
    return {.maxSilentTime = job_.maxSilent, .buildTimeout = job_.timeout, .maxLogSize = job_.maxLogSize};
}

std::chrono::milliseconds StepRun::resultWait() const
{
    if (job_.timeout == 0) return opts_.noTimeoutWait;
    return std::chrono::seconds(job_.timeout) + opts_.resultMargin;
}

ResultMapping StepRun::build()
{
    if (job_.sharedStore && job_.useBuildPaths) return buildPaths();
    try {
        return buildDerivation();
    } catch (const Error& e) {
        bool refused =
            isBuildDerivationRefusal(e.what()) || (conn_ && isBuildDerivationRefusal(conn_->stderrTail(20)));
        if (!refused || !job_.sharedStore) throw;
        // The session died with the refusal; the .drv is in the shared store: build it in place.
        log::event(log::Level::Info, ctx_, "the store refuses BuildDerivation; building ‘{}’ with BuildPaths",
                   job_.drvPath);
        out_.buildDerivationRefused = true;
        openSession();
        return buildPaths();
    }
}

ResultMapping StepRun::buildDerivation()
{
    if (opts_.simulateBuildDerivationRefusal)
        throw Error("nix-store on ‘{}’: error: you are not privileged to build input-addressed "
                    "derivations (simulated)",
                    job_.machine);
    auto scope = conn_->expect("the result of building " + job_.drvPath, resultWait());
    auto r = conn_->client().buildDerivation(job_.drvPath, basic_, buildOptions());
    auto m = mapBuildResult(r.status);
    apply(m, r.errorMsg);
    out_.timesBuilt = r.timesBuilt;
    out_.isNonDeterministic = r.isNonDeterministic;
    if (r.startTime != 0 && r.stopTime != 0) {
        out_.startTime = static_cast<int64_t>(r.startTime);
        out_.stopTime = static_cast<int64_t>(r.stopTime);
    }
    if (m.outputsValid()) outputPaths(&r);
    return m;
}

ResultMapping StepRun::buildPaths()
{
    std::string names;
    for (const auto& [name, o] : job_.drv.outputs) names += (names.empty() ? "" : ",") + name;
    auto scope = conn_->expect("the result of building " + job_.drvPath, resultWait());
    auto r = conn_->client().buildPaths({job_.drvPath + "!" + names}, buildOptions());
    auto m = mapBuildPathsStatus(r.status);
    apply(m, r.errorMsg);
    if (m.outputsValid()) {
        out_.timesBuilt = 1;
        outputPaths(nullptr);
    }
    return m;
}

void StepRun::outputPaths(const nix::serve::BuildResult* result)
{
    for (const auto& [name, o] : job_.drv.outputs)
        if (!o.path.empty()) out_.outputs[name] = o.path;
    if (!result) return;
    // Outputs whose path the .drv does not fix (content-addressed) come from the realisations.
    for (const auto& [id, r] : result->builtOutputs)
        if (!out_.outputs.contains(r.outputName()))
            out_.outputs[r.outputName()] = nix::StorePath::fromBaseName(r.outPath).toString();
}

void StepRun::apply(const ResultMapping& m, const std::string& msg)
{
    out_.status = m.status;
    out_.transient = m.transient;
    out_.canCache = m.canCache;
    out_.isCached = m.isCached;
    // Every failure keeps what Nix said: the status alone does not tell an operator why.
    out_.errorMsg = m.outputsValid() ? std::string() : plainNixMessage(msg);
}

bool StepRun::receiveOutputs()
{
    auto t0 = Steady::now();
    std::set<std::string> paths;
    for (const auto& [name, p] : out_.outputs) paths.insert(p);
    uint64_t total = 0;
    for (const auto& info : conn_->client().queryPathInfos(paths)) {
        out_.narSizes[info.path] = info.narSize;
        total += info.narSize;
    }
    if (total > job_.maxOutputSize) {
        log::event(log::Level::Warn, ctx_,
                   "outputs of ‘{}’ are {} bytes, over max_output_size {}; not copied", job_.drvPath, total,
                   job_.maxOutputSize);
        out_.status = BuildStatus::NarSizeLimitExceeded;
        out_.transient = out_.canCache = false;
        out_.size = total;
        return false;
    }
    out_.bytesReceived += nix::copyClosureFrom(conn_->client(), paths, copyOptions()).narBytes;
    out_.overheadMs += msSince(t0);
    return true;
}

void StepRun::measureSizes()
{
    std::set<std::string> paths;
    for (const auto& [name, p] : out_.outputs) paths.insert(p);
    auto closure = nix::closureOf(conn_->client(), paths);
    out_.size = out_.closureSize = 0;
    for (const auto& info : conn_->client().queryPathInfos(closure)) {
        out_.closureSize += info.narSize;
        if (paths.contains(info.path)) {
            out_.narSizes[info.path] = info.narSize;
            out_.size += info.narSize;
        }
    }
}

void StepRun::postProcess(ResultMapping m)
{
    auto support = readNixSupport(out_.outputs);
    if (support.failed) apply(mapBuildResult(nix::serve::BuildStatus::Built, true), {});
    out_.isCached = m.isCached;
    out_.products = std::move(support.products);
    out_.metrics = std::move(support.metrics);
    out_.releaseName = std::move(support.releaseName);
}

void StepRun::finishBuilt(const ResultMapping& m)
{
    if (!job_.sharedStore) {
        stage(StepBusy::ReceivingOutputs);
        if (!receiveOutputs()) return; // too big: the outputs stay on the machine
    }
    measureSizes();
    releaseSession(); // delivers the last of the log before the file closes
    log_->close();
    stage(StepBusy::PostProcessing);
    postProcess(m);
}

void StepRun::fail(const std::exception& e)
{
    bool cancelled = stop_.stop_requested();
    out_.status = cancelled ? BuildStatus::Cancelled : BuildStatus::Aborted;
    out_.transient = !cancelled;
    out_.canCache = out_.isCached = false;
    out_.errorMsg = cancelled ? "step cancelled" : e.what();
    log::event(log::Level::Warn, ctx_, "building ‘{}’: {}", job_.drvPath, out_.errorMsg);
}

StepOutcome StepRun::run()
{
    out_.startTime = unixNow();
    // Ending the session's process ends any wait on it at once. SIGTERM, not SIGKILL: a local
    // nix-store then stops its builder, and ssh's end makes the remote nix-store do the same.
    std::stop_callback onStop(stop_, [this] {
        if (pid_t p = pid_.load(); p > 0) ::kill(p, SIGTERM);
    });
    try {
        log_.emplace(job_.logPath);
        out_.logPath = job_.logPath;
        stage(StepBusy::Connecting);
        openSession();
        // A machine sharing our store receives nothing: no stage to show for it.
        stage(job_.sharedStore ? StepBusy::Connecting : StepBusy::SendingInputs);
        sendInputs();
        log_->truncate(); // what the machine printed while receiving inputs is not the build's log
        stage(StepBusy::Building);
        building_ = true;
        out_.startTime = unixNow();
        auto m = build();
        if (!stop_.stop_requested() && m.outputsValid()) finishBuilt(m);
        if (stop_.stop_requested()) throw Error("step cancelled");
        releaseSession(); // a failed build leaves a sound session too
    } catch (const std::exception& e) {
        fail(e);
    }
    closeSession();
    if (log_ && (!building_ || out_.isCached)) {
        log_->remove(); // nothing was built: no log to keep
        out_.logPath.clear();
    }
    if (log_) log_->close();
    if (out_.stopTime == 0) out_.stopTime = unixNow();
    return out_;
}

} // namespace

StepOutcome StepBuilder::run(const StepJob& job, const ConnectionFactory& connect, std::mutex& sendLock,
                             const ProgressCallback& progress, std::stop_token stop,
                             const ConnectionReturn& giveBack) const
{
    return StepRun(job, opts_, connect, sendLock, progress, std::move(stop), giveBack).run();
}

} // namespace hydra::qr
