#include "notify/notify_daemon.hh"

#include "db/connection_pool.hh"
#include "db/listener.hh"
#include "db/notify_pending.hh"
#include "db/queue_notify.hh"
#include "db/task_retries.hh"
#include "metrics/metrics_server.hh"
#include "notify/notify_metrics.hh"
#include "notify/serial_queues.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

namespace hydra::notify {

namespace {

using Clock = std::chrono::steady_clock;

int64_t unixNow()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// One unit of work: an event and the plugins to call on it (one plugin for a retry).
struct Task {
    Event event;
    std::vector<Plugin*> plugins;
    std::optional<db::TaskRetry> retry;
    Clock::time_point queuedAt;
};

/// The builds whose build_finished a worker handled and whose pending notification it has not
/// cleared yet, and the queue keys it holds until then.
struct Handled {
    std::vector<int64_t> builds;
    std::vector<int64_t> keys;
};

/// Up to this many builds' pending notifications are cleared by one statement.
constexpr size_t maxClearBatch = 32;

std::vector<int64_t> buildsOf(const Event& e)
{
    std::vector<int64_t> ids{e.buildId()};
    for (auto d : e.dependents()) ids.push_back(d);
    return ids;
}

class Daemon {
public:
    explicit Daemon(NotifyDaemonSettings& s)
        : s_(s),
          pool_(db::PoolOptions{s.conninfo, s.maxDbConnections, std::chrono::seconds(30)}), ctx_{pool_,
                                                                                                 s.config,
                                                                                                 s.dataDir}
    {}

    void run(const std::stop_token& stop);

private:
    void onNotify(const std::string& channel, const std::string& payload);
    std::vector<Plugin*> pluginsFor(const std::string& channel) const;
    void enqueue(Event e, std::vector<Plugin*> plugins, std::optional<db::TaskRetry> retry);
    void scanPending();
    void pollRetries();
    void takeRetry(const db::TaskRetry& r);
    void worker(const std::stop_token& st);
    void runTask(Task& t);
    void clearHandled(Handled& h);
    void callPlugin(const Task& t, Plugin& p);
    void recordFailure(const Task& t, Plugin& p, const std::string& error);
    void clearPending(const std::vector<int64_t>& builds);
    void markBuildHandled(Event& e);
    void waitForWorkers();

    NotifyDaemonSettings& s_;
    db::ConnectionPool pool_;
    PluginContext ctx_;
    SerialQueues<Task> queue_;
    NotifyMetrics metrics_;
    Sync<std::set<std::string>> queuedFinished_; ///< build_finished payloads queued, not taken yet
    Sync<std::set<int64_t>> retriesInHand_;      ///< TaskRetries rows queued or running
    std::atomic<int64_t> unorderedKeys_{0};
    std::atomic<size_t> running_{0};
    Sync<size_t> workersLeft_;
    std::condition_variable workersCv_;
};

std::vector<Plugin*> Daemon::pluginsFor(const std::string& channel) const
{
    std::vector<Plugin*> out;
    for (const auto& p : s_.plugins)
        if (p->wants(channel)) out.push_back(p.get());
    return out;
}

void Daemon::onNotify(const std::string& channel, const std::string& payload)
{
    metrics_.eventReceived(channel);
    try {
        auto e = Event::parse(channel, payload);
        auto plugins = pluginsFor(channel);
        if (plugins.empty() && channel != db::channel::buildFinished) return;
        enqueue(std::move(e), std::move(plugins), std::nullopt);
    } catch (const std::exception& e) {
        metrics_.malformedEvent();
        log::error("ignoring a notification: {}", e.what());
    }
}

void Daemon::enqueue(Event e, std::vector<Plugin*> plugins, std::optional<db::TaskRetry> retry)
{
    // A build_finished already waiting reads the same rows when it runs: one is enough.
    if (e.channel == db::channel::buildFinished && !retry &&
        !queuedFinished_.lock()->insert(e.payload).second)
        return;
    int64_t key = e.buildId() > 0 ? e.buildId() : -++unorderedKeys_;
    queue_.push(key, Task{std::move(e), std::move(plugins), std::move(retry), Clock::now()});
}

void Daemon::scanPending()
{
    try {
        auto pending = pool_.withTransaction([](pqxx::work& t) { return db::pendingNotifications(t); });
        size_t queued = 0;
        for (const auto& entry : pending) {
            // Not a structured binding: Clang 14 cannot capture those in the lambda below.
            const auto& retrying = entry.retryingPlugins;
            auto id = entry.build;
            auto plugins = pluginsFor(db::channel::buildFinished);
            std::erase_if(plugins, [&](Plugin* p) {
                return std::find(retrying.begin(), retrying.end(), p->name()) != retrying.end();
            });
            if (!retrying.empty() && plugins.empty()) continue; // its retries will clear it
            enqueue(Event::parse(db::channel::buildFinished, std::to_string(id)), std::move(plugins),
                    std::nullopt);
            ++queued;
        }
        log::info("{} builds have a build_finished notification pending; {} queued", pending.size(), queued);
    } catch (const std::exception& e) {
        log::error("cannot look for builds with a pending notification: {}", e.what());
    }
}

void Daemon::pollRetries()
{
    try {
        auto due = pool_.withTransaction([](pqxx::work& t) { return db::dueTaskRetries(t, unixNow(), 100); });
        for (const auto& r : due)
            if (retriesInHand_.lock()->insert(r.id).second) takeRetry(r);
    } catch (const std::exception& e) {
        log::error("cannot read TaskRetries: {}", e.what());
    }
}

void Daemon::takeRetry(const db::TaskRetry& r)
{
    auto it = std::find_if(s_.plugins.begin(), s_.plugins.end(),
                           [&](const auto& p) { return p->name() == r.pluginName; });
    std::optional<Event> e;
    try {
        e = Event::parse(r.channel, r.payload);
    } catch (const std::exception& ex) {
        log::error("TaskRetries row {}: {}; dropping it", r.id, ex.what());
    }
    if (e && it != s_.plugins.end()) {
        enqueue(std::move(*e), {it->get()}, r);
        return;
    }
    if (e)
        log::warn("TaskRetries row {}: plugin {} is not configured any more; dropping it", r.id,
                  r.pluginName);
    pool_.withTransaction([&](pqxx::work& t) { db::deleteTaskRetry(t, r.id); });
    retriesInHand_.lock()->erase(r.id);
    if (e && e->channel == db::channel::buildFinished) clearPending(buildsOf(*e));
}

// While more events wait, a worker clears the pending notifications of the builds it handled
// together, up to maxClearBatch in one statement, rather than with a statement (and a round
// trip) per event; with nothing waiting it clears at once. It holds those builds' queue keys
// until then, so a later event of the same build sees the flag cleared (markBuildHandled).
// A flag not cleared when the process ends makes the build handled again at the next start,
// as for an event in hand.
void Daemon::worker(const std::stop_token& st)
{
    Handled handled;
    while (!st.stop_requested()) {
        auto wait = handled.keys.empty() ? std::chrono::milliseconds(250) : std::chrono::milliseconds(0);
        auto item = queue_.take(wait);
        if (!item) {
            clearHandled(handled);
            continue;
        }
        auto& [key, task] = *item;
        bool finished = task.event.channel == db::channel::buildFinished;
        if (finished && !task.retry) queuedFinished_.lock()->erase(task.event.payload);
        ++running_;
        runTask(task);
        --running_;
        if (!finished) {
            queue_.done(key);
            continue;
        }
        auto ids = buildsOf(task.event);
        handled.builds.insert(handled.builds.end(), ids.begin(), ids.end());
        handled.keys.push_back(key);
        if (handled.builds.size() >= maxClearBatch) clearHandled(handled);
    }
    clearHandled(handled);
    --*workersLeft_.lock();
    workersCv_.notify_all();
}

void Daemon::runTask(Task& t)
{
    if (t.event.channel == db::channel::buildFinished && t.event.fields.size() > 1) markBuildHandled(t.event);
    for (auto* p : t.plugins) callPlugin(t, *p);
    if (t.retry) retriesInHand_.lock()->erase(t.retry->id);
}

void Daemon::callPlugin(const Task& t, Plugin& p)
{
    auto start = Clock::now();
    std::string error;
    try {
        p.handle(t.event, ctx_);
    } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "failed";
    }
    auto end = Clock::now();
    metrics_.pluginCall(t.event.channel, std::string(p.name()), error.empty(), end - start, end - t.queuedAt);
    try {
        if (!error.empty())
            recordFailure(t, p, error);
        else if (t.retry) {
            pool_.withTransaction([&](pqxx::work& tx) { db::deleteTaskRetry(tx, t.retry->id); });
            log::info("{} handled {} ‘{}’ after {} failed attempts", p.name(), t.event.channel,
                      t.event.payload, t.retry->attempts);
        }
    } catch (const std::exception& e) {
        log::error("cannot record how {} handled {} ‘{}’: {}", p.name(), t.event.channel, t.event.payload,
                   e.what());
    }
}

void Daemon::recordFailure(const Task& t, Plugin& p, const std::string& error)
{
    int attempts = t.retry ? t.retry->attempts + 1 : 1;
    if (attempts >= s_.retry.maxAttempts) {
        log::error("{} failed on {} ‘{}’ {} times; giving up: {}", p.name(), t.event.channel, t.event.payload,
                   attempts, error);
        metrics_.retryGivenUp();
        if (t.retry) pool_.withTransaction([&](pqxx::work& tx) { db::deleteTaskRetry(tx, t.retry->id); });
        return;
    }
    auto delay = s_.retry.delaySeconds(attempts);
    pool_.withTransaction([&](pqxx::work& tx) {
        if (t.retry)
            db::rescheduleTaskRetry(tx, t.retry->id, attempts, unixNow() + delay);
        else
            db::addTaskRetry(tx, t.event.channel, std::string(p.name()), t.event.payload, attempts,
                             unixNow() + delay);
    });
    log::warn("{} failed on {} ‘{}’ (attempt {}): {}; trying again in {} s", p.name(), t.event.channel,
              t.event.payload, attempts, error, delay);
}

// The builds' build_finished is handled (each plugin succeeded or has a TaskRetries row); then
// lets other tasks of those builds run.
void Daemon::clearHandled(Handled& h)
{
    if (!h.builds.empty()) {
        try {
            clearPending(h.builds);
        } catch (const std::exception& e) {
            log::error("cannot clear the pending notification of builds {}: {}", fmt::join(h.builds, ", "),
                       e.what());
        }
    }
    for (auto key : h.keys) queue_.done(key);
    h.builds.clear();
    h.keys.clear();
}

void Daemon::clearPending(const std::vector<int64_t>& builds)
{
    // One statement: without BEGIN and COMMIT it costs one round trip to the database, not three.
    auto cleared = pool_.withTransaction<pqxx::nontransaction>(
        [&](pqxx::nontransaction& t) { return db::clearNotificationPending(t, builds); });
    for (auto id : cleared) log::debug("build {}: notification handled", id);
}

// The queue runner splits a build_finished naming many dependents into several notifications,
// each naming the build first. Events of one build run one at a time, and the first to run
// clears the build's pending flag: a later one that finds it cleared acts for its dependents
// only. The flag is cleared once every plugin has either handled the event or left a
// TaskRetries row for a later try; a part handled before that clear (a crash in between) acts
// for the build again, and RunCommand does not run a command again that already ran to its end
// since the build finished.
void Daemon::markBuildHandled(Event& e)
{
    try {
        auto since = pool_.withTransaction(
            [&](pqxx::work& t) { return db::notificationPendingSince(t, e.buildId()); });
        e.buildHandled = !since.has_value();
    } catch (const std::exception& ex) {
        // Acting for the build twice is better than not at all.
        log::error("cannot tell whether build {} was handled already: {}", e.buildId(), ex.what());
        return;
    }
    if (e.buildHandled)
        log::info("build {}: handled already; this build_finished is for {} of its dependents", e.buildId(),
                  e.fields.size() - 1);
}

void Daemon::waitForWorkers()
{
    auto left = workersLeft_.lock();
    if (left.waitFor(workersCv_, s_.stopGrace, [](size_t n) { return n == 0; })) return;
    log::error("{} notifications still being handled after {} s; exiting without them (handled again at the "
               "next start)",
               *left, s_.stopGrace.count());
    std::fflush(nullptr);
    std::_Exit(0);
}

void Daemon::run(const std::stop_token& stop)
{
    std::optional<metrics::MetricsServer> server;
    if (s_.metricsAddress)
        server.emplace(*s_.metricsAddress, [this] {
            return metrics::renderPrometheusText(metrics_.families(queue_.depth(), running_.load()));
        });
    // LISTEN before scanning: a build finished meanwhile is then seen by one or the other.
    db::Listener listener(
        s_.conninfo, notifyChannels(), [this](const std::string& c, const std::string& p) { onNotify(c, p); },
        [this] { scanPending(); });
    scanPending();
    size_t n = std::max(1U, s_.config.notify.maxConcurrentNotifications);
    *workersLeft_.lock() = n;
    std::vector<std::jthread> workers;
    for (size_t i = 0; i < n; ++i) workers.emplace_back([this](const std::stop_token& st) { worker(st); });
    std::jthread poller([this](const std::stop_token& st) {
        std::mutex m;
        std::condition_variable_any cv;
        while (!st.stop_requested()) {
            pollRetries();
            std::unique_lock l(m);
            cv.wait_for(l, st, std::chrono::milliseconds(500), [] { return false; });
        }
    });
    log::info("hydra-notify: listening, {} workers, {} plugins", n, s_.plugins.size());
    {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock l(m);
        cv.wait(l, stop, [] { return false; });
    }
    log::info("hydra-notify: stopping; {} events queued are left for the next start", queue_.depth());
    listener.stop();
    poller.request_stop();
    for (auto& w : workers) w.request_stop();
    queue_.close();
    waitForWorkers();
    if (server) server->stop();
}

} // namespace

std::optional<std::string> notifyMetricsAddress(const HydraConfig& config)
{
    const auto* notify = config.raw.block("hydra_notify");
    const auto* prom = notify ? notify->block("prometheus") : nullptr;
    if (!prom) return std::nullopt;
    auto host = prom->get("listen_address").value_or("127.0.0.1");
    const std::string port = prom->get("port").value_or("");
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
        log::warn("{}: <hydra_notify> <prometheus> needs a port (1-65535); metrics are not served",
                  prom->loc.str());
        return std::nullopt;
    }
    return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, value)
                                               : fmt::format("{}:{}", host, value);
}

void runNotifyDaemon(NotifyDaemonSettings& settings, const std::stop_token& stop)
{
    Daemon(settings).run(stop);
}

} // namespace hydra::notify
