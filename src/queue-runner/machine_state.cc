// Per-machine state. Facts from Hydra's queue runner (build-remote.cc, state.hh,
// hydra-queue-runner.cc): a connection failure disables the machine for
// retry_interval × retry_backoff^(n-1) + rand(30) seconds with n = consecutive failures capped
// at 4, a failure within 30 s of the last counted one is not counted again, a successful
// connection resets the count; the status JSON reports per machine the fields below, with
// idleSince only while no job runs and the averages only once a step is done.
// Unlike Hydra, a success also lifts the disabled-until time: the machine has proven to work.

#include "queue-runner/machine_state.hh"

#include "nix/machines.hh"

#include <cassert>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

namespace hydra::qr {

namespace {

std::int64_t toMs(Clock::Duration d)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

Clock::Duration randomUpTo(Clock::Duration max)
{
    if (max <= Clock::Duration::zero()) return Clock::Duration::zero();
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<Clock::Duration::rep> dist(0, max.count());
    return Clock::Duration(dist(rng));
}

} // namespace

MachineState::MachineState(const Clock& clock, BackoffPolicy policy)
    : clock_(clock), policy_(policy), idleSinceUnix_(clock.unixTime())
{}

bool MachineState::tryAcquireSlot(unsigned maxJobs)
{
    auto inUse = slotsInUse_.load();
    do {
        if (inUse >= maxJobs) return false;
    } while (!slotsInUse_.compare_exchange_weak(inUse, inUse + 1));
    return true;
}

void MachineState::releaseSlot()
{
    auto before = slotsInUse_.fetch_sub(1);
    assert(before > 0);
    if (before == 1) idleSinceUnix_ = clock_.unixTime();
}

Clock::Duration MachineState::recordFailure(std::string_view message)
{
    auto now = clock_.now();
    auto f = failures_.lock();
    f->lastFailureUnix = clock_.unixTime();
    f->lastFailureMessage = std::string(message);
    bool sameIncident =
        f->consecutiveFailures > 0 && now - f->lastCountedFailure < policy_.sameIncidentWindow;
    if (!sameIncident) {
        f->consecutiveFailures = std::min(f->consecutiveFailures + 1, policy_.maxCountedFailures);
        f->lastCountedFailure = now;
        auto exponent = static_cast<double>(f->consecutiveFailures - 1);
        std::chrono::duration<double> base(static_cast<double>(policy_.interval.count()) *
                                           std::pow(policy_.factor, exponent));
        f->disabledUntil =
            now + std::chrono::duration_cast<Clock::Duration>(base) + randomUpTo(policy_.maxJitter);
    }
    return f->disabledUntil > now ? f->disabledUntil - now : Clock::Duration::zero();
}

void MachineState::recordSuccess()
{
    auto f = failures_.lock();
    f->consecutiveFailures = 0;
    f->disabledUntil = {};
}

bool MachineState::disabled() const
{
    auto until = failures_.lock()->disabledUntil;
    return clock_.now() < until;
}

FailureInfo MachineState::failureInfo() const
{
    return *failures_.lock();
}

void MachineState::recordStepDone(const StepTimes& times)
{
    totalStepMs_ += toMs(times.total);
    totalBuildMs_ += toMs(times.build);
    totalOverheadMs_ += toMs(times.overhead);
    ++stepsDone_;
}

long long MachineState::toUnix(Clock::TimePoint t) const
{
    if (t == Clock::TimePoint{}) return 0;
    auto offset = std::chrono::ceil<std::chrono::seconds>(t - clock_.now());
    return clock_.unixTime() + offset.count();
}

nlohmann::json MachineState::statusJson(const nix::Machine& machine, bool enabled) const
{
    auto f = failureInfo();
    auto inUse = slotsInUse();
    nlohmann::json j = {
        {"enabled", enabled},
        {"systemTypes", machine.systems},
        {"supportedFeatures", machine.supportedFeatures},
        {"mandatoryFeatures", machine.mandatoryFeatures},
        {"maxJobs", machine.maxJobs},
        {"speedFactor", machine.speedFactor},
        {"nrStepsDone", stepsDone()},
        {"currentJobs", inUse},
        {"disabledUntil", toUnix(f.disabledUntil)},
        {"lastFailure", f.lastFailureUnix},
        {"consecutiveFailures", f.consecutiveFailures},
    };
    if (!f.lastFailureMessage.empty()) j["lastFailureMessage"] = f.lastFailureMessage;
    if (inUse == 0) j["idleSince"] = idleSinceUnix_.load();
    if (auto done = stepsDone(); done > 0) {
        // Hydra reports whole seconds for totals and float seconds for averages.
        auto step = static_cast<double>(totalStepMs_.load()) / 1000.0;
        auto build = static_cast<double>(totalBuildMs_.load()) / 1000.0;
        j["totalStepTime"] = totalStepMs_.load() / 1000;
        j["totalStepBuildTime"] = totalBuildMs_.load() / 1000;
        j["totalStepOverhead"] = totalOverheadMs_.load() / 1000;
        j["avgStepTime"] = static_cast<float>(step / static_cast<double>(done));
        j["avgStepBuildTime"] = static_cast<float>(build / static_cast<double>(done));
    }
    return j;
}

} // namespace hydra::qr
