#include "cli/build_log.hh"

#include "db/listener.hh"
#include "db/queue_notify.hh"
#include "db/schema.hh"
#include "db/web_logs.hh"
#include "nix/build_log_path.hh"
#include "server/log_follow.hh"
#include "server/log_reader.hh"
#include "util/error.hh"
#include "util/sync.hh"

#include <condition_variable>
#include <cstdio>
#include <optional>

namespace hydra::cli {

namespace {

bool writeOut(std::string_view chunk)
{
    if (chunk.empty()) return true;
    bool ok = std::fwrite(chunk.data(), 1, chunk.size(), stdout) == chunk.size();
    return std::fflush(stdout) == 0 && ok;
}

/// The build's steps as this command's own LISTEN connection hears of them.
class BuildWatch : public server::StepWatch {
public:
    BuildWatch(const std::string& conninfo, pqxx::connection& conn, int64_t buildId)
        : conn_(conn), buildId_(buildId),
          listener_(
              conninfo,
              {db::channel::stepStarted, db::channel::stepFinished, db::channel::buildFinished,
               db::channel::buildsCancelled, db::channel::buildsDeleted},
              [this](const std::string&, const std::string&) { poke(); }, [this] { poke(); })
    {}

    /// Follows step `stepNr` from now on.
    void watchStep(int stepNr) { stepNr_ = stepNr; }

    void wait(std::chrono::milliseconds timeout) override
    {
        auto s = news_.lock();
        s.waitFor(changed_, timeout, [](bool news) { return news; });
    }

    bool ended() override
    {
        if (!takeNews() && ++quiet_ % 50 != 0) return false; // asked anyway every ~10 s
        pqxx::read_transaction t(conn_);
        auto step = db::web::buildStepForLog(t, buildId_, stepNr_);
        return !step || !step->running;
    }

    /// Waits for the queued build's first step; nullopt when it finished without one.
    std::optional<db::web::LogStep> firstStep()
    {
        for (;;) {
            {
                pqxx::read_transaction t(conn_);
                auto f = db::web::followedStep(t, buildId_);
                if (!f || f->step || f->buildFinished) return f ? f->step : std::nullopt;
            }
            wait(std::chrono::seconds(10));
            takeNews();
        }
    }

private:
    void poke()
    {
        *news_.lock() = true;
        changed_.notify_all();
    }
    bool takeNews()
    {
        auto s = news_.lock();
        bool n = *s;
        *s = false;
        return n;
    }

    pqxx::connection& conn_;
    const int64_t buildId_;
    int stepNr_ = 0;
    int quiet_ = 0;
    Sync<bool> news_{true}; ///< the step may have ended before anything was heard: ask at first

    std::condition_variable changed_;
    db::Listener listener_; // last: its thread stops before the members it calls go away
};

int printWholeLog(const Site& site, pqxx::connection& conn, int64_t buildId)
{
    pqxx::read_transaction t(conn);
    auto target = db::web::buildLogTarget(t, buildId);
    if (!target) throw Error("build {} does not exist", buildId);
    auto log = server::LogReader::open(nix::buildLogPath(nix::buildLogDir(site.dataDir()), target->drvPath));
    if (!log) throw Error("build {} has no log: none of ‘{}’ is stored", buildId, target->drvPath);
    server::streamLog(*log, writeOut);
    return 0;
}

} // namespace

int printBuildLog(const Site& site, pqxx::connection& conn, int64_t buildId, bool follow)
{
    if (!follow) return printWholeLog(site, conn, buildId);
    BuildWatch watch(site.conninfo(false), conn, buildId);
    auto step = watch.firstStep();
    // Finished without a step of its own (its outputs were there): whatever log another build left.
    if (!step) return printWholeLog(site, conn, buildId);
    watch.watchStep(step->stepNr);
    server::LogTail tail(nix::buildLogPath(nix::buildLogDir(site.dataDir()), step->drvPath), 0);
    auto end = server::followLog(
        tail, watch,
        {.text = [](std::string_view chunk, uint64_t) { return writeOut(chunk); },
         .restart = [] { return writeOut("\n[the step started again; its log follows]\n"); }});
    return end == server::FollowEnd::StepEnded ? 0 : 1;
}

} // namespace hydra::cli
