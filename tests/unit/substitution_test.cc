// substituteDerivations: which of a build's missing derivations are fetched instead of built,
// tried from the top down, against a fake store (pure logic).

#include "queue-runner/substitution.hh"

#include "util/error.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::qr;

namespace {

std::string drv(const std::string& name)
{
    return "/nix/store/" + std::string(32, 'd') + "-" + name + ".drv";
}

std::string out(const std::string& name, const std::string& output = "out")
{
    return "/nix/store/" + std::string(32, 'o') + "-" + name + (output == "out" ? "" : "-" + output);
}

/// A store: what is valid, what its caches hold, and every call it got.
struct FakeStore {
    std::set<std::string> valid;
    std::set<std::string> cached;
    std::vector<std::set<std::string>> fetches;
    bool broken = false;

    SubstitutionStore api()
    {
        return {.valid =
                    [this](const std::set<std::string>& p) {
                        std::set<std::string> r;
                        for (const auto& x : p)
                            if (valid.contains(x)) r.insert(x);
                        return r;
                    },
                .substitute =
                    [this](const std::set<std::string>& p) {
                        if (broken) throw Error("cache unreachable");
                        fetches.push_back(p);
                        std::set<std::string> r;
                        for (const auto& x : p)
                            if (cached.contains(x)) {
                                valid.insert(x);
                                r.insert(x);
                            }
                        return r;
                    }};
    }
};

/// A missing derivation `name` with outputs and inputs (by name) in `d`.
void add(Discovery& d, const std::string& name, std::vector<std::string> inputs = {},
         std::vector<std::string> outputs = {"out"})
{
    nix::Derivation x;
    for (const auto& o : outputs) x.outputs[o] = {.path = out(name, o)};
    for (const auto& i : inputs) x.inputDrvs[drv(i)] = {"out"};
    d.derivations[drv(name)] = x;
}

std::set<std::string> fetchedDrvs(const SubstitutionResult& r)
{
    std::set<std::string> s;
    for (const auto& o : r.outputs) s.insert(o.drvPath);
    return s;
}

class SubstitutionTest : public ::testing::Test {
protected:
    SubstitutionResult run() { return substituteDerivations(d, drv("top"), store.api(), clock, {}); }

    Discovery d;
    FakeStore store;
    FakeClock clock;
};

} // namespace

TEST_F(SubstitutionTest, CachedTopLevelIsFetchedAndItsInputsAreNotTried)
{
    add(d, "lib");
    add(d, "top", {"lib"});
    store.cached = {out("top"), out("lib")};
    auto r = run();
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_EQ(r.outputs[0].drvPath, drv("top"));
    EXPECT_EQ(r.outputs[0].name, "out");
    EXPECT_EQ(r.outputs[0].path, out("top"));
    EXPECT_EQ(r.outputs[0].startTime, clock.unixTime());
    ASSERT_EQ(store.fetches.size(), 1u) << "lib is not needed once top is fetched";
    EXPECT_TRUE(r.error.empty());
}

TEST_F(SubstitutionTest, UncachedTopLevelIsBuiltOnFetchedInputs)
{
    add(d, "a");
    add(d, "b");
    add(d, "c", {"a"});
    add(d, "top", {"b", "c"});
    store.cached = {out("a"), out("b")};
    auto r = run();
    EXPECT_EQ(fetchedDrvs(r), (std::set<std::string>{drv("a"), drv("b")}));
    // One attempt per level: top, then b and c together, then a.
    ASSERT_EQ(store.fetches.size(), 3u);
    EXPECT_EQ(store.fetches[1], (std::set<std::string>{out("b"), out("c")}));
}

TEST_F(SubstitutionTest, DerivationWithAnOutputMissingFromTheCacheIsBuilt)
{
    add(d, "top", {}, {"out", "dev"});
    store.cached = {out("top")};
    auto r = run();
    EXPECT_TRUE(r.outputs.empty()) << "its dev output cannot be fetched";
}

TEST_F(SubstitutionTest, OutputsValidBeforeAreNotRecordedAndNotFetched)
{
    add(d, "top", {}, {"out", "dev"});
    store.valid = {out("top")};
    store.cached = {out("top", "dev")};
    auto r = run();
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_EQ(r.outputs[0].name, "dev");
    ASSERT_EQ(store.fetches.size(), 1u);
    EXPECT_EQ(store.fetches[0], (std::set<std::string>{out("top", "dev")}));
}

TEST_F(SubstitutionTest, SharedInputIsTriedOnce)
{
    add(d, "base");
    add(d, "left", {"base"});
    add(d, "right", {"base"});
    add(d, "top", {"left", "right"});
    auto r = run();
    EXPECT_TRUE(r.outputs.empty());
    ASSERT_EQ(store.fetches.size(), 3u);
    EXPECT_EQ(store.fetches[2], (std::set<std::string>{out("base")}));
}

TEST_F(SubstitutionTest, StoreErrorEndsTheAttemptAndIsReported)
{
    add(d, "top");
    store.cached = {out("top")};
    store.broken = true;
    auto r = run();
    EXPECT_TRUE(r.outputs.empty());
    EXPECT_NE(r.error.find("cache unreachable"), std::string::npos) << r.error;
}

TEST_F(SubstitutionTest, StopRequestedTriesNothing)
{
    add(d, "top");
    store.cached = {out("top")};
    std::stop_source stop;
    stop.request_stop();
    auto r = substituteDerivations(d, drv("top"), store.api(), clock, stop.get_token());
    EXPECT_TRUE(r.outputs.empty());
    EXPECT_TRUE(store.fetches.empty());
}
