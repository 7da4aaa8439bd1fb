#include "queue-runner/queue_runner.hh"

#include "db/build_steps.hh"
#include "db/connect.hh"
#include "db/connection_pool.hh"
#include "db/listener.hh"
#include "db/queue_notify.hh"
#include "metrics/metrics_server.hh"
#include "metrics/prometheus_text.hh"
#include "nix/build_log_path.hh"
#include "queue-runner/build_queue.hh"
#include "queue-runner/dispatcher.hh"
#include "queue-runner/gc_roots_pruner.hh"
#include "queue-runner/local_store.hh"
#include "queue-runner/machine_registry.hh"
#include "queue-runner/queue_monitor.hh"
#include "queue-runner/status_machines.hh"
#include "queue-runner/status_metrics.hh"
#include "queue-runner/step_runner.hh"
#include "queue-runner/step_stages.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <thread>
#include <unistd.h>

namespace hydra::qr {

namespace {

StepRunnerOptions stepOptions(const QueueRunnerSettings& s)
{
    const auto& q = s.config.queueRunner;
    return {.logDir = nix::buildLogDir(s.dataDir),
            .maxLogSize = q.maxLogSize,
            .maxOutputSize = q.maxOutputSize,
            .useSubstitutes = q.useSubstitutes,
            .retry = {.maxTries = q.maxTries, .interval = q.retryInterval, .backoff = q.retryBackoff}};
}

MachineSessionOptions sessionOptions(const QueueRunnerSettings& s)
{
    const auto& q = s.config.queueRunner;
    return {.sessionMaxIdle = q.sessionMaxIdle, .sessionMaxAge = q.sessionMaxAge};
}

MachineRegistryOptions machineOptions(const QueueRunnerSettings& s)
{
    const auto& q = s.config.queueRunner;
    MachineRegistryOptions o{.machinesFiles = s.machinesFiles, .localSystem = detectLocalSystem()};
    o.backoff.interval = q.retryInterval;
    o.backoff.factor = q.retryBackoff;
    return o;
}

/// The status document of `hydra-queue-runner --status` (with Hydra's field names), which is
/// also what the Prometheus metrics are read from.
class StatusReporter {
public:
    StatusReporter(db::ConnectionPool& pool, const BuildQueue& queue, const MachineRegistry& machines,
                   const Dispatcher& dispatcher, const StepStages& stages, const Clock& clock)
        : pool_(pool), queue_(queue), machines_(machines), dispatcher_(dispatcher), stages_(stages),
          clock_(clock), started_(clock.unixTime())
    {}

    /// The document of this moment; no I/O.
    nlohmann::json document() const
    {
        auto json = queue_.statusJson();
        json.update(stages_.statusJson());
        auto now = clock_.unixTime();
        json["status"] = "up";
        json["time"] = now;
        json["uptime"] = now - started_;
        json["pid"] = ::getpid();
        json["machines"] = machines_.statusJson();
        json["activeSteps"] = dispatcher_.statusJson();
        json["nrActiveSteps"] = json["activeSteps"].size();
        json["machineTypes"] = machineTypes(json["machineTypes"], dispatcher_.typeStatusJson());
        json["dbConnections"] = {{"open", pool_.size()}, {"max", pool_.max()}};
        return json;
    }

    /// Writes the document to SystemStatus (answering dump_status).
    void dump()
    {
        auto text = document().dump();
        pool_.withTransaction([&](pqxx::work& t) { db::writeQueueRunnerStatus(t, text); });
    }

private:
    /// The queue's runnable/waitTime and the dispatcher's running/lastActive per step type,
    /// every field present for every type either knows.
    static nlohmann::json machineTypes(const nlohmann::json& queued, const nlohmann::json& running)
    {
        nlohmann::json out = nlohmann::json::object();
        auto blank = nlohmann::json{{"runnable", 0}, {"running", 0}, {"waitTime", 0}, {"lastActive", 0}};
        for (const auto* part : {&queued, &running})
            for (const auto& [type, fields] : part->items()) {
                if (!out.contains(type)) out[type] = blank;
                out[type].update(fields);
            }
        return out;
    }

    db::ConnectionPool& pool_;
    const BuildQueue& queue_;
    const MachineRegistry& machines_;
    const Dispatcher& dispatcher_;
    const StepStages& stages_;
    const Clock& clock_;
    int64_t started_;
};

/// Fair share and expected durations from the steps of the last window: a restart forgets
/// neither which jobsets have just had the machines nor how long their jobs take.
void seedFromRecentSteps(db::ConnectionPool& pool, BuildQueue& queue, const Clock& clock,
                         Clock::Duration window)
{
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(window).count();
    auto steps =
        pool.withTransaction([&](pqxx::work& t) { return db::recentSteps(t, clock.unixTime() - seconds); });
    queue.seedHistory(steps);
    log::info("fair share and step durations start from {} steps of the last {} s", steps.size(), seconds);
}

} // namespace

void runQueueRunner(const QueueRunnerSettings& s, const std::stop_token& stop)
{
    SystemClock clock;
    const auto& q = s.config.queueRunner;
    db::ConnectionPool pool({.conninfo = s.conninfo, .maxConnections = q.maxDbConnections});
    // Steps left busy by a runner that died are over: nothing runs them any more.
    auto cleared =
        pool.withTransaction([&](pqxx::work& t) { return db::clearBusySteps(t, clock.unixTime()); });
    if (cleared) log::info("marked {} steps left busy by an earlier run as aborted", cleared);

    nix::GcRoots roots(nix::gcRootsDir(q));
    MachineRegistry machines(machineOptions(s), clock);
    SchedulerConfig scheduling{.maxUnsupportedTime = q.maxUnsupportedTime};
    BuildQueue queue(clock, scheduling);
    seedFromRecentSteps(pool, queue, clock, scheduling.fairShareWindow);
    Dispatcher dispatcher(queue, machines, clock);
    StepStages stages; // running steps by busy stage, bytes copied
    PgStepRecords records(pool);
    ServeStepBuild builder(sessionOptions(s), clock);
    StepRunner runner(queue, records, builder, roots, clock, stepOptions(s),
                      [&](const std::vector<std::string>& drvs) { dispatcher.cancel(drvs); });
    dispatcher.setExecutor(&runner);
    LocalStore local(builder.localSessions());
    QueueMonitor monitor(
        pool, queue, StepDiscovery([&](const std::set<std::string>& p) { return local.queryValid(p); }),
        roots, clock, [&](const std::vector<std::string>& drvs) { dispatcher.cancel(drvs); },
        q.queueMonitorInterval);
    if (q.useSubstitutes) monitor.useSubstitutes({});
    runner.setStages(&stages);
    runner.setResync([&] { monitor.onGap(); });
    StatusReporter status(pool, queue, machines, dispatcher, stages, clock);
    // Declared after what its requests read: it stops before that goes away. The status and
    // machines documents are what Hydra's web server reads at queue_runner_endpoint.
    metrics::MetricsServer metricsServer(
        q.metricsAddress,
        {{"/metrics",
          {std::string(metrics::prometheusContentType),
           [&] { return metrics::renderPrometheusText(statusMetrics(status.document())); }}},
         {"/status", {"application/json", [&] { return status.document().dump(); }}},
         {"/status/machines",
          {"application/json", [&] { return machinesDocument(status.document()).dump(); }}}});

    auto channels = QueueMonitor::channels();
    channels.push_back(db::channel::dumpStatus);
    db::Listener listener(
        s.conninfo, channels,
        [&](const std::string& channel, const std::string& payload) {
            if (channel == db::channel::dumpStatus)
                status.dump();
            else
                monitor.onNotification(channel, payload);
        },
        [&] { monitor.onGap(); });

    log::info("hydra-queue-runner started (pid {})", ::getpid());
    std::jthread monitorThread([&](const std::stop_token& st) { monitor.run(st); });
    std::jthread dispatcherThread([&](const std::stop_token& st) { dispatcher.run(st); });
    GcRootsPruner pruner(pool, roots, gcRootsGrace(s.config), clock);
    std::jthread pruneThread([&](const std::stop_token& st) {
        if (q.gcRootsInterval.count() > 0) pruner.runEvery(q.gcRootsInterval, st);
    });
    std::stop_callback onStop(stop, [&] {
        monitorThread.request_stop();
        dispatcherThread.request_stop();
        pruneThread.request_stop();
    });
    monitorThread.join();
    dispatcherThread.join();
    pruneThread.join();
    metricsServer.stop();
    listener.stop();
    log::info("hydra-queue-runner stopped");
}

} // namespace hydra::qr
