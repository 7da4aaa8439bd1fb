// Machine registry: the default localhost, reloading the machines files (only on change, keeping
// the old list on a bad file, keeping removed machines' state), slots under contention, the
// failure back-off, the status JSON, and the local Nix settings.

#include "queue-runner/local_system.hh"
#include "queue-runner/machine_registry.hh"
#include "util/clock.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;

namespace {

/// A fresh directory under the system's temporary directory, removed at the end of the test.
class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "qr-machines-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw Error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

    /// Replaces the file as editors and config management do: write a copy, rename it over.
    std::string replace(const std::string& name, const std::string& text) const
    {
        auto p = path(name);
        std::ofstream(p + ".new") << text;
        std::filesystem::rename(p + ".new", p);
        return p;
    }
    /// Rewrites the file in place (same inode), as `echo ... > file` does.
    std::string overwrite(const std::string& name, const std::string& text) const
    {
        auto p = path(name);
        std::ofstream(p, std::ios::trunc) << text;
        return p;
    }

private:
    std::filesystem::path path_;
};

BackoffPolicy noJitter()
{
    BackoffPolicy p;
    p.maxJitter = 0s;
    return p;
}

MachineRegistryOptions withFiles(std::vector<std::string> files)
{
    MachineRegistryOptions o;
    o.machinesFiles = std::move(files);
    o.localSystem.system = "x86_64-linux";
    o.backoff = noJitter();
    return o;
}

std::vector<std::string> names(const std::vector<MachineView>& views)
{
    std::vector<std::string> out;
    out.reserve(views.size());
    for (const auto& v : views) out.push_back(v.name);
    return out;
}

const MachineView& find(const std::vector<MachineView>& views, const std::string& name)
{
    for (const auto& v : views)
        if (v.name == name) return v;
    throw Error("no machine '{}' in the snapshot", name);
}

const std::string twoMachines = "ssh://alice@host-a x86_64-linux - 2 1\n"
                                "ssh://host-b x86_64-linux,aarch64-linux - 4 2 kvm\n";

} // namespace

TEST(MachineRegistry, WithoutMachinesFileLocalhostServesThisMachine)
{
    FakeClock clock;
    MachineRegistryOptions o;
    o.localSystem = {"x86_64-linux", {"x86_64-v2-linux"}, 3, {"kvm", "big-parallel"}};
    MachineRegistry reg(o, clock);

    auto all = reg.snapshot();
    ASSERT_EQ(names(all), std::vector<std::string>{"localhost"});
    const auto& m = *all[0].machine;
    EXPECT_EQ(m.kind, nix::MachineKind::Localhost);
    EXPECT_EQ(m.systems, (std::set<std::string>{"x86_64-linux", "i686-linux", "x86_64-v2-linux"}));
    EXPECT_EQ(m.maxJobs, 3U);
    EXPECT_EQ(m.supportedFeatures, (std::set<std::string>{"kvm", "big-parallel"}));
    EXPECT_TRUE(m.supports("x86_64-linux", {"kvm"}));
    EXPECT_FALSE(reg.reloadIfChanged().changed);
    EXPECT_FALSE(reg.lastError());
}

TEST(MachineRegistry, LoadsMachinesFileAndReloadsOnlyWhenItChanges)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);
    EXPECT_EQ(names(reg.snapshot()), (std::vector<std::string>{"ssh://alice@host-a", "ssh://host-b"}));
    EXPECT_EQ(find(reg.snapshot(), "ssh://host-b").machine->maxJobs, 4U);

    auto gen = reg.generation();
    EXPECT_FALSE(reg.reloadIfChanged().changed);
    EXPECT_FALSE(reg.reloadIfChanged().changed);
    EXPECT_EQ(reg.generation(), gen);

    dir.replace("machines", twoMachines + "host-c aarch64-linux - 1 1\n");
    auto r = reg.reloadIfChanged();
    EXPECT_TRUE(r.changed);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(names(reg.snapshot()),
              (std::vector<std::string>{"ssh://alice@host-a", "ssh://host-b", "host-c"}));
    EXPECT_GT(reg.generation(), gen);
    EXPECT_FALSE(reg.reloadIfChanged().changed);
}

TEST(MachineRegistry, TouchingTheFileIsNotAChange)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);
    std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now() - 1h);
    EXPECT_FALSE(reg.reloadIfChanged().changed);
    EXPECT_EQ(reg.snapshot().size(), 2U);
}

TEST(MachineRegistry, SameSizeEditInPlaceIsSeen)
{
    // Both writes may land in one timestamp tick with the same size and inode.
    FakeClock clock;
    TempDir dir;
    auto file = dir.overwrite("machines", "host-a x86_64-linux - 1\n");
    MachineRegistry reg(withFiles({file}), clock);
    dir.overwrite("machines", "host-b x86_64-linux - 1\n");
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    EXPECT_EQ(names(reg.snapshot()), (std::vector<std::string>{"host-b", "host-a"}));
    EXPECT_TRUE(find(reg.snapshot(), "host-a").removed);
}

TEST(MachineRegistry, ChangeInAnIncludedFileIsSeen)
{
    FakeClock clock;
    TempDir dir;
    auto inc = dir.replace("more", "host-x x86_64-linux\n");
    auto file = dir.replace("machines", "host-a x86_64-linux\n@" + inc + "\n");
    MachineRegistry reg(withFiles({file}), clock);
    EXPECT_EQ(names(reg.snapshot()), (std::vector<std::string>{"host-a", "host-x"}));
    dir.replace("more", "host-x x86_64-linux\nhost-y x86_64-linux\n");
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    EXPECT_EQ(names(reg.snapshot()), (std::vector<std::string>{"host-a", "host-x", "host-y"}));
}

TEST(MachineRegistry, MissingConfiguredFileMeansNoMachinesUntilItAppears)
{
    FakeClock clock;
    TempDir dir;
    MachineRegistry reg(withFiles({dir.path("machines")}), clock);
    EXPECT_TRUE(reg.snapshot().empty()); // configured but absent: no localhost either (Hydra)
    EXPECT_FALSE(reg.lastError());
    EXPECT_FALSE(reg.reloadIfChanged().changed);
    dir.replace("machines", twoMachines);
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    EXPECT_EQ(reg.snapshot().size(), 2U);
}

TEST(MachineRegistry, RemovedMachineKeepsStateAndRunningStepAndGetsItBackOnReturn)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);

    auto slot = reg.tryReserve("ssh://host-b");
    ASSERT_TRUE(slot);
    auto state = reg.state("ssh://host-b");
    state->recordStepDone({10s, 8s, 2s});

    dir.replace("machines", "ssh://alice@host-a x86_64-linux - 2 1\n");
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    auto b = find(reg.snapshot(), "ssh://host-b"); // a copy: the snapshot is a temporary
    EXPECT_TRUE(b.removed);
    EXPECT_EQ(b.slotsInUse, 1U);
    EXPECT_EQ(b.state, state);
    EXPECT_EQ(names(reg.available()), std::vector<std::string>{"ssh://alice@host-a"});
    EXPECT_FALSE(reg.tryReserve("ssh://host-b")); // no new steps on it

    auto status = reg.statusJson();
    ASSERT_TRUE(status.contains("ssh://host-b"));
    EXPECT_EQ(status["ssh://host-b"]["enabled"], false);
    EXPECT_EQ(status["ssh://host-b"]["nrStepsDone"], 1);
    EXPECT_EQ(status["ssh://host-b"]["currentJobs"], 1);

    // The running step finishes normally on the removed machine.
    EXPECT_EQ(slot->machine().maxJobs, 4U);
    slot.reset();
    EXPECT_EQ(state->slotsInUse(), 0U);

    dir.replace("machines", twoMachines);
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    auto back = find(reg.snapshot(), "ssh://host-b");
    EXPECT_FALSE(back.removed);
    EXPECT_EQ(back.state, state);
    EXPECT_EQ(back.state->stepsDone(), 1U);
    EXPECT_TRUE(reg.tryReserve("ssh://host-b"));
}

TEST(MachineRegistry, ChangedSettingsKeepTheMachinesState)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);
    auto state = reg.state("ssh://host-b");
    state->recordStepDone({1s, 1s, 0s});
    dir.replace("machines", "ssh://alice@host-a x86_64-linux - 2 1\nssh://host-b x86_64-linux - 1 1\n");
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    auto b = find(reg.snapshot(), "ssh://host-b");
    EXPECT_EQ(b.machine->maxJobs, 1U);
    EXPECT_EQ(b.state, state);
    EXPECT_EQ(b.state->stepsDone(), 1U);
}

TEST(MachineRegistry, BadFileKeepsThePreviousListAndReportsFileAndLineOnce)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);
    auto gen = reg.generation();

    dir.replace("machines", "ssh://alice@host-a x86_64-linux - 2 1\nssh://host-b x86_64-linux - four\n");
    auto r = reg.reloadIfChanged();
    EXPECT_FALSE(r.changed);
    ASSERT_TRUE(r.error);
    EXPECT_NE(r.error->find(file + ":2:"), std::string::npos) << *r.error;
    EXPECT_EQ(reg.lastError(), r.error);
    EXPECT_EQ(names(reg.snapshot()), (std::vector<std::string>{"ssh://alice@host-a", "ssh://host-b"}));
    EXPECT_EQ(reg.generation(), gen);
    EXPECT_TRUE(reg.tryReserve("ssh://host-b"));

    auto again = reg.reloadIfChanged(); // same bad text: nothing new to report
    EXPECT_FALSE(again.changed);
    EXPECT_FALSE(again.error);

    dir.replace("machines", "ssh://host-b x86_64-linux - 3\n");
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    EXPECT_FALSE(reg.lastError());
    EXPECT_EQ(names(reg.available()), std::vector<std::string>{"ssh://host-b"});
}

TEST(MachineRegistry, BadFileAtStartReportsAndStartsEmptyUntilFixed)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", "host-a\n");
    MachineRegistry reg(withFiles({file}), clock);
    ASSERT_TRUE(reg.lastError());
    EXPECT_NE(reg.lastError()->find(file + ":1:"), std::string::npos) << *reg.lastError();
    EXPECT_TRUE(reg.snapshot().empty());
    dir.replace("machines", "host-a x86_64-linux\n");
    EXPECT_TRUE(reg.reloadIfChanged().changed);
    EXPECT_EQ(names(reg.available()), std::vector<std::string>{"host-a"});
}

TEST(MachineRegistry, SlotsNeverExceedMaxJobsUnderManyThreads)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", "host-a x86_64-linux - 3\n");
    MachineRegistry reg(withFiles({file}), clock);

    std::atomic<int> holding{0};
    std::atomic<int> most{0};
    std::atomic<int> granted{0};
    {
        constexpr int threadCount = 16;
        std::vector<std::jthread> threads;
        threads.reserve(threadCount);
        for (int t = 0; t < threadCount; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 2000; ++i) {
                    auto slot = reg.tryReserve("host-a");
                    if (!slot) continue;
                    ++granted;
                    int now = ++holding;
                    int seen = most.load();
                    while (now > seen && !most.compare_exchange_weak(seen, now)) {
                    }
                    std::this_thread::yield();
                    --holding;
                }
            });
    }
    EXPECT_LE(most.load(), 3);
    EXPECT_GT(granted.load(), 0);
    EXPECT_EQ(reg.state("host-a")->slotsInUse(), 0U);

    std::vector<MachineSlot> held;
    while (auto slot = reg.tryReserve("host-a")) held.push_back(std::move(*slot));
    EXPECT_EQ(held.size(), 3U);
    EXPECT_EQ(reg.snapshot()[0].freeSlots(), 0U);
}

TEST(MachineState, BackoffGrowsByHydrasFactorUpToTheCapAndResetsOnSuccess)
{
    FakeClock clock;
    MachineState m(clock, noJitter());
    EXPECT_FALSE(m.disabled());
    std::vector<Clock::Duration> expected = {60s, 180s, 540s, 1620s, 1620s};
    for (auto want : expected) {
        EXPECT_EQ(m.recordFailure("cannot connect"), want);
        EXPECT_TRUE(m.disabled());
        clock.advance(want);
        EXPECT_FALSE(m.disabled());
    }
    EXPECT_EQ(m.failureInfo().consecutiveFailures, 4U);

    m.recordSuccess();
    EXPECT_EQ(m.failureInfo().consecutiveFailures, 0U);
    EXPECT_EQ(m.recordFailure("cannot connect"), 60s);
    m.recordSuccess();
    EXPECT_FALSE(m.disabled()); // the machine has proven to work
}

TEST(MachineState, ParallelFailuresOfOneIncidentCountOnce)
{
    FakeClock clock;
    MachineState m(clock, noJitter());
    EXPECT_EQ(m.recordFailure("step 1: connection reset"), 60s);
    clock.advance(10s);
    EXPECT_EQ(m.recordFailure("step 2: connection reset"), 50s);
    EXPECT_EQ(m.failureInfo().consecutiveFailures, 1U);
    EXPECT_EQ(m.failureInfo().lastFailureMessage, "step 2: connection reset");
}

TEST(MachineState, JitterStaysWithinItsBound)
{
    FakeClock clock;
    BackoffPolicy p; // Hydra's defaults: 60 s + up to 30 s
    for (int i = 0; i < 50; ++i) {
        MachineState m(clock, p);
        auto d = m.recordFailure("down");
        EXPECT_GE(d, 60s);
        EXPECT_LE(d, 90s);
    }
}

TEST(MachineRegistry, DisabledMachineIsNotAvailableUntilItsTimePasses)
{
    FakeClock clock;
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);
    EXPECT_FALSE(reg.nextReenable());

    reg.state("ssh://alice@host-a")->recordFailure("ssh: connect to host host-a: Connection refused");
    EXPECT_EQ(names(reg.available()), std::vector<std::string>{"ssh://host-b"});
    EXPECT_TRUE(find(reg.snapshot(), "ssh://alice@host-a").disabled);
    EXPECT_FALSE(reg.tryReserve("ssh://alice@host-a"));
    EXPECT_EQ(reg.nextReenable(), clock.now() + 60s);

    clock.advance(59s);
    EXPECT_EQ(reg.available().size(), 1U);
    clock.advance(1s);
    EXPECT_EQ(names(reg.available()), (std::vector<std::string>{"ssh://alice@host-a", "ssh://host-b"}));
    EXPECT_TRUE(reg.tryReserve("ssh://alice@host-a"));
    EXPECT_FALSE(reg.nextReenable());
}

TEST(MachineRegistry, StatusJsonHasHydrasFieldsPerMachine)
{
    FakeClock clock;
    clock.setUnixBase(1'700'000'000);
    TempDir dir;
    auto file = dir.replace("machines", twoMachines);
    MachineRegistry reg(withFiles({file}), clock);
    auto b = reg.state("ssh://host-b");
    b->recordStepDone({10s, 8s, 2s});
    b->recordStepDone({20s, 12s, 8s});
    clock.advance(5s);
    b->recordFailure("disconnected");

    auto j = reg.statusJson()["ssh://host-b"];
    EXPECT_EQ(j["enabled"], true);
    EXPECT_EQ(j["systemTypes"], nlohmann::json({"aarch64-linux", "x86_64-linux"}));
    EXPECT_EQ(j["supportedFeatures"], nlohmann::json({"kvm"}));
    EXPECT_EQ(j["maxJobs"], 4);
    EXPECT_EQ(j["speedFactor"], 2.0);
    EXPECT_EQ(j["nrStepsDone"], 2);
    EXPECT_EQ(j["currentJobs"], 0);
    EXPECT_EQ(j["idleSince"], 1'700'000'000);
    EXPECT_EQ(j["totalStepTime"], 30);
    EXPECT_EQ(j["totalStepBuildTime"], 20);
    EXPECT_EQ(j["totalStepOverhead"], 10);
    EXPECT_FLOAT_EQ(j["avgStepTime"].get<float>(), 15.0F);
    EXPECT_FLOAT_EQ(j["avgStepBuildTime"].get<float>(), 10.0F);
    EXPECT_EQ(j["lastFailure"], 1'700'000'005);
    EXPECT_EQ(j["disabledUntil"], 1'700'000'065);
    EXPECT_EQ(j["consecutiveFailures"], 1);

    auto a = reg.statusJson()["ssh://alice@host-a"];
    EXPECT_EQ(a["nrStepsDone"], 0);
    EXPECT_FALSE(a.contains("avgStepTime"));
    EXPECT_EQ(a["disabledUntil"], 0);
    auto slot = reg.tryReserve("ssh://alice@host-a");
    EXPECT_FALSE(reg.statusJson()["ssh://alice@host-a"].contains("idleSince")); // busy
}

TEST(MachineState, SendLockSerialisesSenders)
{
    FakeClock clock;
    MachineState m(clock, noJitter());
    std::unique_lock first(m.sendLock());
    std::unique_lock second(m.sendLock(), std::try_to_lock);
    EXPECT_FALSE(second.owns_lock());
}

TEST(LocalSystem, ParsesNixShowConfigJson)
{
    auto local = parseNixConfigJson(R"({
        "system": {"value": "x86_64-linux", "description": "..."},
        "extra-platforms": {"value": ["i686-linux", "x86_64-v2-linux"]},
        "max-jobs": {"value": 8},
        "system-features": {"value": ["benchmark", "kvm"]},
        "cores": {"value": 2}
    })");
    EXPECT_EQ(local,
              (LocalSystem{"x86_64-linux", {"i686-linux", "x86_64-v2-linux"}, 8, {"benchmark", "kvm"}}));
    EXPECT_THROW(parseNixConfigJson(R"({"max-jobs": {"value": 1}})"), Error);
    EXPECT_THROW(parseNixConfigJson("not json"), Error);
    EXPECT_EQ(
        parseNixConfigJson(R"({"system": {"value": "aarch64-linux"}, "max-jobs": {"value": 0}})").maxJobs,
        1U);
}

TEST(LocalSystem, DetectsTheInstalledNixsSystem)
{
    ::setenv("NIX_CONFIG", "substituters =", 0); // no network
    ProcessOptions eval;
    eval.argv = {"nix-instantiate", "--eval", "--json", "-E", "builtins.currentSystem"};
    auto expected = nlohmann::json::parse(runChecked(eval)).get<std::string>();

    auto local = detectLocalSystem();
    EXPECT_EQ(local.system, expected);
    EXPECT_GE(local.maxJobs, 1U);
}
