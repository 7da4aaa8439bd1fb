#pragma once
// MachineRegistry: the build machines the dispatcher may use, from the machines files (re-read
// when they change) or the default `localhost`, each with its shared MachineState.

#include "nix/machines.hh"
#include "queue-runner/local_system.hh"
#include "queue-runner/machine_state.hh"
#include "queue-runner/machines_file_watch.hh"
#include "util/clock.hh"
#include "util/sync.hh"

#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hydra::qr {

/// What the registry is built from.
struct MachineRegistryOptions {
    /// nix::machinesFilePaths(): empty means none configured, so `localhost` serves this machine.
    std::vector<std::string> machinesFiles;
    /// This machine's Nix settings (detectLocalSystem()); used only without machines files.
    LocalSystem localSystem;
    BackoffPolicy backoff;
};

/// One machine as the scheduler sees it at one moment; a plain copy, safe to keep.
struct MachineView {
    std::string name; ///< the store URI as written in the machines file (BuildSteps.machine)
    std::shared_ptr<const nix::Machine> machine;
    unsigned slotsInUse = 0;
    bool disabled = false; ///< failing: no new steps before disabledUntil
    bool removed = false;  ///< gone from the machines file; kept for its statistics
    Clock::TimePoint disabledUntil{};
    unsigned consecutiveFailures = 0;
    std::shared_ptr<MachineState> state;

    unsigned freeSlots() const { return slotsInUse < machine->maxJobs ? machine->maxJobs - slotsInUse : 0; }
};

/// A slot held on a machine for one step; released when destroyed. Move-only.
class MachineSlot {
public:
    MachineSlot(std::shared_ptr<const nix::Machine> machine, std::shared_ptr<MachineState> state);
    MachineSlot(MachineSlot&& other) noexcept;
    MachineSlot& operator=(MachineSlot&& other) noexcept;
    MachineSlot(const MachineSlot&) = delete;
    MachineSlot& operator=(const MachineSlot&) = delete;
    ~MachineSlot();

    /// The machine's settings when the slot was taken (a reload does not change them mid-step).
    const nix::Machine& machine() const { return *machine_; }
    const std::string& name() const { return machine_->storeUri; }
    MachineState& state() const { return *state_; }

private:
    std::shared_ptr<const nix::Machine> machine_;
    std::shared_ptr<MachineState> state_;
};

/// Result of reloadIfChanged().
struct ReloadResult {
    bool changed = false;             ///< the machine list changed (wake the dispatcher)
    std::optional<std::string> error; ///< the files could not be used; the old list stays
};

/// The machines of the queue runner; thread-safe (dispatcher, step threads, status dumps).
class MachineRegistry {
public:
    /// Loads the machines files (or sets up `localhost`). A bad file is logged and reported by
    /// lastError(); the registry then starts empty and picks the fixed file up on reload.
    MachineRegistry(MachineRegistryOptions options, const Clock& clock);

    /// Re-reads the machines files if their text changed; cheap otherwise (stat() calls only).
    /// Machines that disappear are marked removed (their state is kept, running steps finish);
    /// a machine that reappears gets its state back. On a bad file the previous list stays and
    /// the error (file:line) is logged once.
    ReloadResult reloadIfChanged();

    /// Every machine, in file order, removed ones last.
    std::vector<MachineView> snapshot() const;
    /// The machines that may take new steps now: not removed, not disabled (full ones included,
    /// with freeSlots() == 0, so the scheduler sees their load).
    std::vector<MachineView> available() const;
    /// The earliest time a currently disabled machine comes back, if any.
    std::optional<Clock::TimePoint> nextReenable() const;

    /// Takes a slot on the named machine, unless it is removed, disabled, full or unknown.
    std::optional<MachineSlot> tryReserve(const std::string& name);
    /// The state of a machine known now or before (removed ones too), or nullptr.
    std::shared_ptr<MachineState> state(const std::string& name) const;

    /// {"<name>": {Hydra's per-machine status fields}, ...} for the status JSON's "machines".
    nlohmann::json statusJson() const;
    /// The last reload error, cleared by a successful reload.
    std::optional<std::string> lastError() const;
    /// Bumped whenever the machine list changes.
    std::uint64_t generation() const;

private:
    /// A machine as currently configured, with the state that survives reloads.
    struct Entry {
        std::shared_ptr<const nix::Machine> machine;
        std::shared_ptr<MachineState> state;
        bool removed = false;
    };
    struct Data {
        std::vector<Entry> entries; ///< file order, then removed machines
        std::optional<std::string> lastError;
        std::uint64_t generation = 0;
    };

    std::vector<nix::Machine> defaultMachines() const;
    bool install(std::vector<nix::Machine> machines);
    MachineView view(const Entry& e, Clock::TimePoint now) const;

    const MachineRegistryOptions options_;
    const Clock& clock_;
    std::mutex reloadMutex_; ///< guards watch_: one reload at a time
    MachinesFileWatch watch_;
    mutable Sync<Data> data_;
};

} // namespace hydra::qr
