// The machine registry. Facts from Hydra's queue runner (hydra-queue-runner.cc): machines are
// keyed by the first column as written; a machine that reappears reuses the state object of
// its old entry; a vanished one stays as a disabled entry "to make sure stats are maintained";
// with no machines file configured, `localhost` gets this machine's system (plus i686-linux on
// x86_64-linux), max-jobs and system-features. Where we differ: localhost also serves Nix's
// extra-platforms (Nix builds them locally too), and a bad machines file keeps the previous
// list instead of being half-applied.

#include "queue-runner/machine_registry.hh"

#include "util/error.hh"
#include "util/logging.hh"

#include <algorithm>
#include <fmt/ranges.h>
#include <map>
#include <nlohmann/json.hpp>

namespace hydra::qr {

MachineSlot::MachineSlot(std::shared_ptr<const nix::Machine> machine, std::shared_ptr<MachineState> state)
    : machine_(std::move(machine)), state_(std::move(state))
{}

MachineSlot::MachineSlot(MachineSlot&& other) noexcept
    : machine_(std::move(other.machine_)), state_(std::move(other.state_))
{}

MachineSlot& MachineSlot::operator=(MachineSlot&& other) noexcept
{
    if (this != &other) {
        if (state_) state_->releaseSlot();
        machine_ = std::move(other.machine_);
        state_ = std::move(other.state_);
    }
    return *this;
}

MachineSlot::~MachineSlot()
{
    if (state_) state_->releaseSlot();
}

MachineRegistry::MachineRegistry(MachineRegistryOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), watch_(options_.machinesFiles)
{
    if (options_.machinesFiles.empty()) {
        install(defaultMachines());
        return;
    }
    reloadIfChanged();
}

std::vector<nix::Machine> MachineRegistry::defaultMachines() const
{
    const auto& local = options_.localSystem;
    auto m = nix::localhostMachine(local.system, std::max(1U, local.maxJobs), local.systemFeatures);
    m.systems.insert(local.extraPlatforms.begin(), local.extraPlatforms.end());
    return {m};
}

ReloadResult MachineRegistry::reloadIfChanged()
{
    std::lock_guard reloading(reloadMutex_);
    if (options_.machinesFiles.empty() || !watch_.changed()) return {};
    std::vector<nix::Machine> machines;
    try {
        machines = nix::loadMachines(options_.machinesFiles);
    } catch (const std::exception& e) {
        std::string what = e.what();
        auto data = data_.lock();
        if (data->entries.empty())
            log::error("machines file not applied, no build machines until it is fixed: {}", what);
        else
            log::error("machines file not applied, keeping the previous {} machine(s): {}",
                       data->entries.size(), what);
        data->lastError = what;
        return {false, what};
    }
    if (machines.empty())
        log::warn("no build machines are defined in {}", fmt::join(options_.machinesFiles, ", "));
    return {install(std::move(machines)), std::nullopt};
}

bool MachineRegistry::install(std::vector<nix::Machine> machines)
{
    auto data = data_.lock();
    data->lastError.reset();
    const auto& old = data->entries;
    std::map<std::string, std::size_t> oldIndex;
    for (std::size_t i = 0; i < old.size(); ++i) oldIndex.emplace(old[i].machine->storeUri, i);
    std::vector<bool> kept(old.size());
    std::vector<Entry> entries;
    bool changed = false;
    for (auto& m : machines) {
        auto it = oldIndex.find(m.storeUri);
        if (it == oldIndex.end()) {
            log::info("adding machine '{}'", m.storeUri);
            auto state = std::make_shared<MachineState>(clock_, options_.backoff);
            entries.push_back({std::make_shared<const nix::Machine>(std::move(m)), std::move(state)});
            changed = true;
            continue;
        }
        kept[it->second] = true;
        Entry e = old[it->second];
        changed = changed || it->second != entries.size();
        if (e.removed || *e.machine != m) {
            log::info("{} machine '{}'", e.removed ? "restoring" : "updating", m.storeUri);
            e.machine = std::make_shared<const nix::Machine>(std::move(m));
            e.removed = false;
            changed = true;
        }
        entries.push_back(std::move(e));
    }
    for (std::size_t i = 0; i < old.size(); ++i) {
        if (kept[i]) continue;
        Entry e = old[i];
        if (!e.removed) {
            log::info("removing machine '{}' (its statistics are kept)", e.machine->storeUri);
            e.removed = true;
            changed = true;
        }
        entries.push_back(std::move(e));
    }
    data->entries = std::move(entries);
    if (changed) ++data->generation;
    return changed;
}

MachineView MachineRegistry::view(const Entry& e, Clock::TimePoint now) const
{
    MachineView v;
    v.name = e.machine->storeUri;
    v.machine = e.machine;
    v.slotsInUse = e.state->slotsInUse();
    auto failures = e.state->failureInfo();
    v.disabledUntil = failures.disabledUntil;
    v.consecutiveFailures = failures.consecutiveFailures;
    v.disabled = now < v.disabledUntil;
    v.removed = e.removed;
    v.state = e.state;
    return v;
}

std::vector<MachineView> MachineRegistry::snapshot() const
{
    auto now = clock_.now();
    auto data = data_.lock();
    std::vector<MachineView> out;
    out.reserve(data->entries.size());
    for (const auto& e : data->entries) out.push_back(view(e, now));
    return out;
}

std::vector<MachineView> MachineRegistry::available() const
{
    auto all = snapshot();
    std::erase_if(all, [](const MachineView& v) { return v.removed || v.disabled; });
    return all;
}

std::optional<Clock::TimePoint> MachineRegistry::nextReenable() const
{
    std::optional<Clock::TimePoint> next;
    for (const auto& v : snapshot())
        if (!v.removed && v.disabled && (!next || v.disabledUntil < *next)) next = v.disabledUntil;
    return next;
}

std::optional<MachineSlot> MachineRegistry::tryReserve(const std::string& name)
{
    std::shared_ptr<const nix::Machine> machine;
    std::shared_ptr<MachineState> state;
    {
        auto data = data_.lock();
        auto it = std::find_if(data->entries.begin(), data->entries.end(),
                               [&](const Entry& e) { return e.machine->storeUri == name; });
        if (it == data->entries.end() || it->removed) return std::nullopt;
        machine = it->machine;
        state = it->state;
    }
    if (state->disabled() || !state->tryAcquireSlot(machine->maxJobs)) return std::nullopt;
    return MachineSlot(std::move(machine), std::move(state));
}

std::shared_ptr<MachineState> MachineRegistry::state(const std::string& name) const
{
    auto data = data_.lock();
    for (const auto& e : data->entries)
        if (e.machine->storeUri == name) return e.state;
    return nullptr;
}

nlohmann::json MachineRegistry::statusJson() const
{
    auto out = nlohmann::json::object();
    for (const auto& v : snapshot()) out[v.name] = v.state->statusJson(*v.machine, !v.removed);
    return out;
}

std::optional<std::string> MachineRegistry::lastError() const
{
    return data_.lock()->lastError;
}

std::uint64_t MachineRegistry::generation() const
{
    return data_.lock()->generation;
}

} // namespace hydra::qr
