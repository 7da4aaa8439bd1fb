#pragma once
// Dispatcher: hands runnable steps to free machine slots and owns the step threads.

#include "queue-runner/build_queue.hh"
#include "queue-runner/machine_registry.hh"
#include "queue-runner/step_executor.hh"

#include <map>
#include <memory>
#include <thread>

namespace hydra::qr {

/// The dispatch loop: reloads the machines file, asks the scheduler for assignments, reserves
/// slots and starts one thread per step; stops steps nobody needs and, on shutdown, all.
class Dispatcher {
public:
    Dispatcher(BuildQueue& queue, MachineRegistry& machines, const Clock& clock);
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    /// Set once, before run(): who runs the steps (the daemon's StepRunner needs cancel() in turn).
    void setExecutor(StepExecutor* executor) { executor_ = executor; }
    /// Runs rounds until `stop`, sleeping between them until there is work or nextWait() passes;
    /// then stops every step thread and waits for them.
    void run(const std::stop_token& stop);
    /// One round: reloads a changed machines file, reaps ended steps, assigns runnable steps to
    /// free slots and starts them, fails unsupported ones.
    void runOnce();
    /// How long the loop may sleep after a round with nothing to do: until a machine comes back
    /// from its back-off (at least 10 ms), at most 2 s (machines file, delayed retries).
    std::chrono::milliseconds nextWait() const;
    /// Steps whose threads have not ended yet.
    size_t runningCount() const;
    /// Stops the given steps where they run (a cancelled or deleted build no longer needs them).
    void cancel(const std::vector<std::string>& drvPaths);
    /// {"<drv>": "<machine>"} for the status JSON's active steps.
    nlohmann::json statusJson() const;
    /// Per step type ever started: {"<type>": {"running": n, "lastActive": unix time a step of
    /// the type last started}}, for the status JSON's machineTypes.
    nlohmann::json typeStatusJson() const;

private:
    /// A step thread and whether it has ended (so the loop can join it).
    struct StepThread {
        std::string machine;
        std::string stepType;
        std::shared_ptr<std::atomic<bool>> done;
        std::jthread thread;
    };
    void start(const Assignment& a, MachineSlot slot);
    void reapFinished();

    BuildQueue& queue_;
    MachineRegistry& machines_;
    const Clock& clock_;
    StepExecutor* executor_ = nullptr;
    mutable Sync<std::multimap<std::string, StepThread>> threads_;
    mutable Sync<std::map<std::string, long long>> lastActive_; ///< step type -> unix time of its last start
};

} // namespace hydra::qr
