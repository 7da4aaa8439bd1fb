// StepIndexSet: the reverse dependencies of a step, small or huge, against std::set.

#include "queue-runner/step_index_set.hh"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

using hydra::qr::StepIndexSet;

namespace {

void expectSame(const StepIndexSet& s, const std::set<uint32_t>& want)
{
    ASSERT_EQ(s.size(), want.size());
    std::set<uint32_t> got(s.begin(), s.end());
    EXPECT_EQ(got, want);
    for (uint32_t v : want) EXPECT_TRUE(s.contains(v));
}

} // namespace

TEST(StepIndexSet, InsertAndEraseAreSetOperationsOnEitherSideOfTheIndexedSize)
{
    StepIndexSet s;
    std::set<uint32_t> want;
    EXPECT_TRUE(s.empty());
    EXPECT_FALSE(s.erase(7));
    // Grows past the size where positions are indexed, with duplicates refused on the way.
    for (uint32_t v = 0; v < 3 * StepIndexSet::indexedFrom; ++v) {
        EXPECT_TRUE(s.insert(v * 3));
        EXPECT_FALSE(s.insert(v * 3));
        want.insert(v * 3);
    }
    expectSame(s, want);
    EXPECT_FALSE(s.contains(1));
    // Erasing from the middle and the end keeps every other element findable.
    for (uint32_t v : {0U, 30U, static_cast<uint32_t>(3 * (3 * StepIndexSet::indexedFrom - 1)), 90U}) {
        EXPECT_TRUE(s.erase(v));
        EXPECT_FALSE(s.erase(v));
        want.erase(v);
        expectSame(s, want);
    }
    s.clear();
    EXPECT_TRUE(s.empty());
    EXPECT_FALSE(s.contains(3));
    EXPECT_TRUE(s.insert(3));
    expectSame(s, {3});
}

TEST(StepIndexSet, ARandomSequenceOfChangesMatchesStdSet)
{
    std::mt19937 rng(11);
    StepIndexSet s;
    std::set<uint32_t> want;
    for (int i = 0; i < 20000; ++i) {
        auto v = static_cast<uint32_t>(rng() % 200);
        if (rng() % 3 == 0)
            EXPECT_EQ(s.erase(v), want.erase(v) == 1);
        else
            EXPECT_EQ(s.insert(v), want.insert(v).second);
        if (i % 997 == 0) expectSame(s, want);
    }
    expectSame(s, want);
}
