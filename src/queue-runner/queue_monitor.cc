#include "queue-runner/queue_monitor.hh"

#include "db/build_results.hh"
#include "queue-runner/db_records.hh"
#include "queue-runner/nix_support.hh"
#include "util/error.hh"
#include "util/logging.hh"

#include <algorithm>
#include <set>
#include <span>
#include <thread>

namespace hydra::qr {

namespace {

constexpr size_t pageSize = 1000;
// Discoveries of one build that a concurrently finishing dependency may invalidate.
constexpr int maxDiscoveries = 3;

} // namespace

QueueMonitor::QueueMonitor(db::ConnectionPool& pool, BuildQueue& queue, StepDiscovery discovery,
                           const nix::GcRoots& roots, const Clock& clock,
                           std::function<void(const std::vector<std::string>&)> cancelSteps,
                           std::chrono::seconds lookInterval)
    : pool_(pool), queue_(queue), discovery_(std::move(discovery)), roots_(roots), clock_(clock),
      cancelSteps_(std::move(cancelSteps)), lookInterval_(std::max(lookInterval, std::chrono::seconds(1))),
      lastLook_(clock.now())
{}

std::vector<std::string> QueueMonitor::channels()
{
    return monitorChannels();
}

void QueueMonitor::useSubstitutes(SubstituterOptions opts)
{
    substituter_ = std::make_unique<SubstitutionWorker>(pool_, clock_, std::move(opts),
                                                        [this](const db::QueuedBuild& b) {
                                                            events_.lock()->substituted.push_back(b);
                                                            wake_.notify_all();
                                                        });
}

void QueueMonitor::onNotification(const std::string& channel, const std::string& payload)
{
    events_.lock()->note(channel, payload);
    wake_.notify_all();
}

void QueueMonitor::onGap()
{
    events_.lock()->noteGap();
    wake_.notify_all();
}

MonitorEvents QueueMonitor::waitForEvents(const std::stop_token& stop)
{
    std::stop_callback onStop(stop, [this] { wake_.notify_all(); });
    auto due = lastLook_ + lookInterval_;
    auto e = events_.lock();
    e.waitFor(wake_, std::max(due - clock_.now(), Clock::Duration::zero()),
              [&](const MonitorEvents& ev) { return stop.stop_requested() || ev.pending(); });
    return e->take(clock_.now(), due);
}

void QueueMonitor::run(const std::stop_token& stop)
{
    std::jthread substitutions;
    if (substituter_)
        substitutions = std::jthread([this](const std::stop_token& st) { substituter_->run(st); });
    std::stop_callback stopSubstitutions(stop, [&] { substitutions.request_stop(); });
    while (!stop.stop_requested()) {
        auto events = waitForEvents(stop);
        if (stop.stop_requested()) break;
        try {
            handle(events, stop);
        } catch (const std::exception& e) {
            log::error("queue monitor: {}; looking at the whole queue again shortly", e.what());
            onGap();
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

void QueueMonitor::handle(const MonitorEvents& e, const std::stop_token& stop)
{
    if (!e.substituted.empty()) resumeSubstituted(e.substituted);
    if (e.sharesChanged) applyShares();
    if (e.reconcile || e.rescan) reconcile();
    if (e.rescan)
        loadFrom(0, stop);
    else if (e.lowestAdded)
        loadFrom(std::min(*e.lowestAdded, nextId_), stop);
    if (e.bumped) applyBumps();
    if (e.rescan)
        lastLook_ = clock_.now();
    else if (e.periodic)
        lookAgain(stop);
}

void QueueMonitor::lookAgain(const std::stop_token& stop)
{
    lastLook_ = clock_.now();
    reconcile();
    auto queued = pool_.withTransaction([&](pqxx::work& t) { return db::queuedBuildPriorities(t); });
    auto plan = qr::lookAgain(queue_.buildIds(), queued, substituting_);
    for (const auto& p : plan.bumps) queue_.bump(p.id, p.globalPriority);
    if (!plan.loadFrom) return;
    log::event(log::Level::Info, {.build = *plan.loadFrom},
               "queued but never announced: loading the queue from this build on");
    loadFrom(*plan.loadFrom, stop);
}

void QueueMonitor::loadFrom(db::BuildId from, const std::stop_token& stop)
{
    // The ids in one pass, then pages by id: a query per page from the last id would scan
    // the whole queue for each page.
    auto ids = pool_.withTransaction([&](pqxx::work& t) { return db::queuedBuildIds(t, from); });
    std::vector<db::BuildId> unknown;
    for (db::BuildId id : ids)
        if (!queue_.containsBuild(id) && !substituting_.contains(id)) unknown.push_back(id);
    for (size_t i = 0; i < unknown.size(); i += pageSize) {
        if (stop.stop_requested()) return;
        std::span<const db::BuildId> page(unknown.data() + i, std::min(pageSize, unknown.size() - i));
        processPage(pool_.withTransaction([&](pqxx::work& t) { return db::loadQueuedBuilds(t, page); }));
        nextId_ = std::max(nextId_, page.back() + 1);
    }
    if (!ids.empty()) nextId_ = std::max(nextId_, ids.back() + 1);
}

void QueueMonitor::processPage(std::vector<db::QueuedBuild>&& builds)
{
    // The whole page at once: .drv files read once, one validity query per level of the walk,
    // one FailedPaths query and one lock of the queue, instead of each per build.
    std::vector<std::string> tops;
    tops.reserve(builds.size());
    for (const auto& b : builds) tops.push_back(b.drvPath);
    auto outcomes =
        discovery_.discoverAll(tops, [&](const std::string& drv) { return queue_.containsStep(drv); });
    std::vector<const Discovery*> discovered;
    for (const auto& o : outcomes)
        if (!o.error) discovered.push_back(&o.discovery);
    auto failed = failedOutputs(discovered);
    std::vector<std::pair<db::QueuedBuild, Discovery>> ready;
    auto addReady = [&] {
        auto refused = queue_.addAll(ready);
        for (size_t i = 0, r = 0; i < ready.size(); ++i) {
            const auto& [b, d] = ready[i];
            if (r < refused.size() && refused[r] == i) {
                ++r;
                process(b); // discovered again, one by one
            } else {
                log::event(log::Level::Info, {.build = b.id}, "queued {} with {} missing derivations",
                           b.drvPath, d.steps.size());
            }
        }
        ready.clear();
    };
    for (size_t i = 0; i < builds.size(); ++i) {
        const auto& build = builds[i];
        if (outcomes[i].error) {
            try {
                std::rethrow_exception(outcomes[i].error);
            } catch (const MissingDerivation& e) {
                pool_.withTransaction([&](pqxx::work& t) {
                    db::abortBuild(t, build.id, build.drvPath, clock_.unixTime(), e.what());
                });
                log::event(log::Level::Warn, {.build = build.id}, "aborted: {}", e.what());
                continue;
            } catch (...) {
                addReady(); // what came before is queued, as if loaded one by one
                throw;
            }
        }
        auto& d = outcomes[i].discovery;
        if (settle(build, d, failed, true)) continue;
        d.derivations.clear(); // the queue reads a step's .drv again when it starts (memory)
        ready.emplace_back(build, std::move(d));
    }
    addReady();
}

void QueueMonitor::process(const db::QueuedBuild& build, bool trySubstitutes)
{
    // A step this build depends on can finish between its discovery and its addition: a failed
    // one must then be seen as a failure (FailedPaths), so the build is discovered again.
    for (int attempt = 1; attempt <= maxDiscoveries; ++attempt) {
        Discovery d;
        try {
            d = discovery_.discover(build.drvPath,
                                    [&](const std::string& drv) { return queue_.containsStep(drv); });
        } catch (const MissingDerivation& e) {
            pool_.withTransaction([&](pqxx::work& t) {
                db::abortBuild(t, build.id, build.drvPath, clock_.unixTime(), e.what());
            });
            log::event(log::Level::Warn, {.build = build.id}, "aborted: {}", e.what());
            return;
        }
        if (settle(build, d, failedOutputs({&d}), trySubstitutes)) return;
        size_t steps = d.steps.size();
        d.derivations.clear(); // the queue reads a step's .drv again when it starts (memory)
        if (queue_.add(build, std::move(d))) {
            log::event(log::Level::Info, {.build = build.id}, "queued {} with {} missing derivations",
                       build.drvPath, steps);
            return;
        }
        log::event(log::Level::Debug, {.build = build.id},
                   "a step it depends on left the queue during its discovery: discovering again");
    }
    // The queue monitor's periodic look at the queue tries it again.
    log::event(log::Level::Warn, {.build = build.id},
               "not queued: its dependencies kept changing during discovery");
}

bool QueueMonitor::settle(const db::QueuedBuild& build, Discovery& d, const std::set<std::string>& failed,
                          bool trySubstitutes)
{
    if (finishedFromCache(build, d, failed)) return true;
    if (d.steps.empty()) {
        finishCachedSuccess(build, d);
        return true;
    }
    // A top-level derivation the queue already has is being built: nothing to fetch.
    if (!trySubstitutes || !substituter_ || queue_.containsStep(build.drvPath)) return false;
    substituting_.insert(build.id);
    log::event(log::Level::Info, {.build = build.id}, "trying substituters for {} missing derivations",
               d.steps.size());
    substituter_->submit({.build = build, .discovery = std::move(d)});
    return true;
}

std::set<std::string> QueueMonitor::failedOutputs(const std::vector<const Discovery*>& discoveries)
{
    std::set<std::string> paths;
    for (const Discovery* d : discoveries)
        for (const auto& [drvPath, drv] : d->derivations)
            for (const auto& [name, path] : outputPaths(drv)) paths.insert(path);
    if (paths.empty()) return {};
    std::vector<std::string> list(paths.begin(), paths.end());
    return pool_.withTransaction([&](pqxx::work& t) { return db::failedPaths(t, list); });
}

bool QueueMonitor::finishedFromCache(const db::QueuedBuild& build, const Discovery& d,
                                     const std::set<std::string>& failed)
{
    if (failed.empty()) return false;
    std::map<std::string, std::string> stepOf; // output path -> .drv path
    for (const auto& [drvPath, drv] : d.derivations)
        for (const auto& [name, path] : outputPaths(drv)) stepOf.emplace(path, drvPath);
    auto hit =
        std::find_if(stepOf.begin(), stepOf.end(), [&](const auto& p) { return failed.contains(p.first); });
    if (hit == stepOf.end()) return false;
    const auto& [failedPath, stepDrv] = *hit;
    const nix::Derivation& drv = d.derivations.at(stepDrv);
    db::CachedFailure c{.build = build.id,
                        .buildDrvPath = build.drvPath,
                        .stepDrvPath = stepDrv,
                        .system = drv.platform,
                        .now = clock_.unixTime()};
    for (const auto& [name, path] : outputPaths(drv)) c.outputs.push_back({name, path});
    pool_.withTransaction([&](pqxx::work& t) { db::finishCachedFailure(t, c); });
    log::event(log::Level::Info, {.build = build.id}, "cached failure: {} failed before", failedPath);
    return true;
}

void QueueMonitor::finishCachedSuccess(const db::QueuedBuild& build, const Discovery& d)
{
    auto outputs = outputPaths(d.topLevel);
    std::vector<std::string> paths;
    paths.reserve(outputs.size());
    for (const auto& [name, path] : outputs) paths.push_back(path);
    for (const auto& p : paths) roots_.add(p);
    auto now = clock_.unixTime();
    db::SucceededBuild done{.id = build.id, .isCachedBuild = true, .startTime = now, .stopTime = now};
    for (const auto& [name, path] : outputs) done.outputs.push_back({name, path});
    pool_.withTransaction([&](pqxx::work& t) {
        if (auto prev = db::previousBuildResult(t, paths)) {
            done.failedWithOutput = prev->failedWithOutput;
            done.releaseName = prev->releaseName;
            done.size = prev->size;
            done.closureSize = prev->closureSize;
            done.products = prev->products;
            done.metrics = prev->metrics;
        } else {
            // Built by someone else (or by nix-build here): nix-support still says what it is.
            auto support = readNixSupport(outputs);
            done.failedWithOutput = support.failed;
            done.releaseName = support.releaseName;
            done.products = productRows(support.products);
            done.metrics = metricRows(support.metrics);
        }
        db::markSucceededBuild(t, done);
    });
    log::event(log::Level::Info, {.build = build.id}, "cached success: all outputs of {} are valid",
               build.drvPath);
}

void QueueMonitor::resumeSubstituted(const std::vector<db::QueuedBuild>& builds)
{
    // Out of `substituting_` first: should anything below throw, the rescan that follows an
    // error finds these builds again.
    std::vector<db::BuildId> ids;
    for (const auto& b : builds) {
        substituting_.erase(b.id);
        ids.push_back(b.id);
    }
    // Cancelled or deleted while their outputs were fetched: nothing more to do.
    auto states = pool_.withTransaction([&](pqxx::work& t) { return db::buildStates(t, ids); });
    std::set<db::BuildId> stillQueued;
    for (const auto& s : states)
        if (!s.finished) stillQueued.insert(s.id);
    for (const auto& b : builds)
        if (stillQueued.contains(b.id) && !queue_.containsBuild(b.id)) process(b, false);
}

void QueueMonitor::reconcile()
{
    auto ids = queue_.buildIds();
    if (ids.empty()) return;
    auto states = pool_.withTransaction([&](pqxx::work& t) { return db::buildStates(t, ids); });
    for (db::BuildId id : noLongerQueued(ids, states)) {
        auto running = queue_.remove(id);
        log::event(log::Level::Info, {.build = id},
                   "no longer queued (cancelled, deleted or finished elsewhere)");
        if (!running.empty()) cancelSteps_(running);
    }
}

void QueueMonitor::applyBumps()
{
    auto prios = pool_.withTransaction([&](pqxx::work& t) { return db::queuedBuildPriorities(t); });
    for (const auto& p : prios) queue_.bump(p.id, p.globalPriority);
}

void QueueMonitor::applyShares()
{
    auto shares = pool_.withTransaction([&](pqxx::work& t) { return db::jobsetShares(t); });
    for (const auto& s : shares) queue_.setJobsetShares(s.id, static_cast<unsigned>(std::max(s.shares, 1)));
}

} // namespace hydra::qr
