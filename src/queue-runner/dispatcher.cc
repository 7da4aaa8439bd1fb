#include "queue-runner/dispatcher.hh"

#include "util/logging.hh"

#include <algorithm>

namespace hydra::qr {

Dispatcher::Dispatcher(BuildQueue& queue, MachineRegistry& machines, const Clock& clock)
    : queue_(queue), machines_(machines), clock_(clock)
{}

Dispatcher::~Dispatcher()
{
    // jthreads request a stop and join on destruction; take them out of the lock first so
    // that a step thread finishing meanwhile cannot block on it.
    std::multimap<std::string, StepThread> all;
    std::swap(all, *threads_.lock());
    for (auto& [drv, t] : all) t.thread.request_stop();
}

void Dispatcher::run(const std::stop_token& stop)
{
    while (!stop.stop_requested()) {
        runOnce();
        queue_.waitForWork(stop, nextWait());
    }
    std::multimap<std::string, StepThread> all;
    std::swap(all, *threads_.lock());
    for (auto& [drv, t] : all) t.thread.request_stop();
    all.clear(); // joins: every step records how it ended before the runner stops
}

std::chrono::milliseconds Dispatcher::nextWait() const
{
    // Wake for a machine coming back from back-off, and regularly for the machines file and
    // delayed retries.
    std::chrono::milliseconds wait(2000);
    if (auto t = machines_.nextReenable()) {
        auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*t - clock_.now());
        wait = std::clamp(until, std::chrono::milliseconds(10), wait);
    }
    return wait;
}

void Dispatcher::runOnce()
{
    auto reload = machines_.reloadIfChanged();
    if (reload.error) log::warn("machines file: {}", *reload.error);
    reapFinished();
    if (executor_) executor_->closeIdle();

    // Machines backing off after failures are passed too, with their back-off: they take no
    // step now, but still support their steps, which must wait for them rather than fail as
    // unsupported.
    auto views = machines_.snapshot();
    std::vector<DispatchMachine> ms;
    ms.reserve(views.size());
    for (const auto& v : views) {
        if (v.removed) continue;
        ms.push_back({.name = v.name,
                      .machine = v.machine,
                      .inUse = v.slotsInUse,
                      .maxJobs = v.machine->maxJobs,
                      .speedFactor = v.machine->speedFactor,
                      .disabledUntil = v.disabled ? std::optional(v.disabledUntil) : std::nullopt,
                      .consecutiveFailures = v.consecutiveFailures});
    }
    auto result = queue_.dispatch(ms);
    for (const auto& drv : result.unsupported) executor_->failUnsupported(drv);
    for (const auto& a : result.assignments) {
        auto slot = machines_.tryReserve(a.machineName);
        if (!slot) {
            // The machine filled up or went away since the snapshot: try again next round.
            queue_.requeue(a.drvPath);
            continue;
        }
        start(a, std::move(*slot));
    }
}

void Dispatcher::start(const Assignment& a, MachineSlot slot)
{
    auto done = std::make_shared<std::atomic<bool>>(false);
    StepExecutor* executor = executor_;
    std::jthread thread(
        [executor, drv = a.drvPath, slot = std::move(slot), done, this](const std::stop_token& stop) mutable {
            executor->run(drv, std::move(slot), stop);
            *done = true;
            queue_.notify(); // the loop reaps the thread and reuses the slot
        });
    (*lastActive_.lock())[a.stepType] = clock_.unixTime();
    threads_.lock()->emplace(a.drvPath,
                             StepThread{a.machineName, a.stepType, std::move(done), std::move(thread)});
}

void Dispatcher::reapFinished()
{
    std::vector<StepThread> finished;
    {
        auto threads = threads_.lock();
        for (auto it = threads->begin(); it != threads->end();) {
            if (*it->second.done) {
                finished.push_back(std::move(it->second));
                it = threads->erase(it);
            } else
                ++it;
        }
    }
    // Joined outside the lock (they have returned already, so this is quick).
}

void Dispatcher::cancel(const std::vector<std::string>& drvPaths)
{
    auto threads = threads_.lock();
    for (const auto& drv : drvPaths) {
        auto [from, to] = threads->equal_range(drv);
        for (auto it = from; it != to; ++it) {
            log::info("stopping step {} on {}: no build needs it any more", drv, it->second.machine);
            it->second.thread.request_stop();
        }
    }
}

size_t Dispatcher::runningCount() const
{
    auto threads = threads_.lock();
    return static_cast<size_t>(
        std::count_if(threads->begin(), threads->end(), [](const auto& t) { return !*t.second.done; }));
}

nlohmann::json Dispatcher::statusJson() const
{
    nlohmann::json active = nlohmann::json::object();
    for (const auto& [drv, t] : *threads_.lock())
        if (!*t.done) active[drv] = t.machine;
    return active;
}

nlohmann::json Dispatcher::typeStatusJson() const
{
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [type, when] : *lastActive_.lock()) types[type] = {{"running", 0}, {"lastActive", when}};
    for (const auto& [drv, t] : *threads_.lock()) {
        if (*t.done) continue;
        auto& entry = types[t.stepType];
        entry["running"] = entry.value("running", 0) + 1;
    }
    return types;
}

} // namespace hydra::qr
