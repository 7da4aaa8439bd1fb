// buildFinishedPayloads: a build_finished naming more dependents than PostgreSQL takes in one
// notification is split into parts of at most 7,000 bytes, each starting with the build.

#include "db/queue_notify.hh"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <string>
#include <vector>

using namespace hydra::db;

namespace {

std::vector<BuildId> fieldsOf(const std::string& payload)
{
    std::vector<BuildId> out;
    size_t from = 0;
    for (;;) {
        auto tab = payload.find('\t', from);
        out.push_back(
            std::stoll(payload.substr(from, tab == std::string::npos ? std::string::npos : tab - from)));
        if (tab == std::string::npos) return out;
        from = tab + 1;
    }
}

// Every part starts with `id` and fits; together they name each dependent once, in order.
void expectSplitOf(BuildId id, const std::vector<BuildId>& deps, const std::vector<std::string>& parts)
{
    std::vector<BuildId> named;
    for (const auto& p : parts) {
        EXPECT_LE(p.size(), buildFinishedPartLimit);
        auto f = fieldsOf(p);
        ASSERT_FALSE(f.empty());
        EXPECT_EQ(f.front(), id) << p.substr(0, 40);
        named.insert(named.end(), f.begin() + 1, f.end());
    }
    EXPECT_EQ(named, deps);
}

// `n` four-digit dependents: five bytes each with their tab.
std::vector<BuildId> fourDigitIds(size_t n)
{
    std::vector<BuildId> ids(n);
    std::iota(ids.begin(), ids.end(), BuildId{1000});
    return ids;
}

} // namespace

TEST(BuildFinishedPayloads, NoDependentsIsOnePartWithTheBuildAlone)
{
    EXPECT_EQ(buildFinishedPayloads(42, {}), std::vector<std::string>{"42"});
}

TEST(BuildFinishedPayloads, FewDependentsAreOnePartAsBefore)
{
    std::vector<BuildId> deps{7, 8, 123456789012};
    EXPECT_EQ(buildFinishedPayloads(5, deps), std::vector<std::string>{buildFinishedPayload(5, deps)});
}

TEST(BuildFinishedPayloads, ExactlyTheLimitIsOnePart)
{
    // 5 bytes of id and 1,399 dependents of 5 bytes: 7,000 bytes.
    auto deps = fourDigitIds(1399);
    auto parts = buildFinishedPayloads(12345, deps);
    ASSERT_EQ(parts.size(), 1u);
    EXPECT_EQ(parts[0].size(), 7000u);
    expectSplitOf(12345, deps, parts);
}

TEST(BuildFinishedPayloads, OneByteOverTheLimitMovesTheLastIdWhole)
{
    // 5 + 1,398 * 5 + 6 = 7,001 bytes: the six-byte last dependent goes to a second part.
    auto deps = fourDigitIds(1398);
    deps.push_back(10000);
    auto parts = buildFinishedPayloads(12345, deps);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].size(), 6995u);
    EXPECT_EQ(parts[1], "12345\t10000");
    expectSplitOf(12345, deps, parts);
}

TEST(BuildFinishedPayloads, ThousandsOfDependentsFillEachPartAndNameEachOnce)
{
    std::vector<BuildId> deps;
    for (BuildId i = 0; i < 5000; ++i) deps.push_back(i % 3 == 0 ? 9'000'000'000 + i : 100 + i);
    auto parts = buildFinishedPayloads(987654, deps);
    ASSERT_GE(parts.size(), 4u);
    expectSplitOf(987654, deps, parts);
    // A part is closed only when the next id would not fit.
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto next = fieldsOf(parts[i + 1]).at(1);
        EXPECT_GT(parts[i].size() + 1 + std::to_string(next).size(), buildFinishedPartLimit) << "part " << i;
    }
    std::map<BuildId, int> seen;
    for (const auto& p : parts) {
        auto f = fieldsOf(p);
        for (size_t i = 1; i < f.size(); ++i) ++seen[f[i]];
    }
    EXPECT_EQ(seen.size(), deps.size());
    for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}
