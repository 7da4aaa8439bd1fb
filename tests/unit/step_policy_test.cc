// StepPolicy: what a step's end means (success, retry after a growing delay, failure, stop)
// and what it says about the machine.

#include "queue-runner/step_policy.hh"

#include <gtest/gtest.h>

#include <cmath>

using namespace hydra;
using namespace hydra::qr;
using namespace std::chrono_literals;
using Health = StepDecision::Health;

namespace {

const RetryPolicy hydraDefaults{}; // max_tries 5, retry_interval 60, retry_backoff 3

} // namespace

TEST(StepPolicy, ASuccessIsRecordedAndTheMachineIsSound)
{
    auto d = decideStepEnd({.outputsValid = true}, hydraDefaults);
    EXPECT_EQ(d.verdict, StepVerdict::Succeeded);
    EXPECT_EQ(d.machine, Health::Sound);
}

TEST(StepPolicy, AFailureOfTheDerivationFailsAtOnceAndSaysNothingOfTheMachine)
{
    auto d = decideStepEnd({.transient = false}, hydraDefaults);
    EXPECT_EQ(d.verdict, StepVerdict::Failed);
    EXPECT_EQ(d.machine, Health::Unchanged);
}

TEST(StepPolicy, ATransientFailureIsRetriedAfterAGrowingDelayAndCountsAgainstTheMachine)
{
    for (unsigned tries = 0; tries < 4; ++tries) {
        auto d = decideStepEnd({.transient = true, .tries = tries}, hydraDefaults);
        EXPECT_EQ(d.verdict, StepVerdict::Retry) << tries;
        EXPECT_EQ(d.machine, Health::Failing);
        EXPECT_EQ(d.delay, std::chrono::seconds(60 * static_cast<int>(std::pow(3, tries)))) << tries;
    }
}

TEST(StepPolicy, TheLastAllowedAttemptFailsForGood)
{
    // max_tries = 5: the fifth attempt (four earlier transient failures) is the last.
    auto d = decideStepEnd({.transient = true, .tries = 4}, hydraDefaults);
    EXPECT_EQ(d.verdict, StepVerdict::Failed);
    EXPECT_EQ(d.machine, Health::Failing);
    // max_tries = 1: never retried.
    EXPECT_EQ(decideStepEnd({.transient = true}, RetryPolicy{.maxTries = 1}).verdict, StepVerdict::Failed);
}

TEST(StepPolicy, AStopOverridesWhatTheInterruptedBuildReported)
{
    for (bool valid : {false, true})
        for (bool transient : {false, true}) {
            auto d = decideStepEnd({.stopRequested = true, .outputsValid = valid, .transient = transient},
                                   hydraDefaults);
            EXPECT_EQ(d.verdict, StepVerdict::Stopped);
            EXPECT_EQ(d.machine, Health::Unchanged);
        }
}

TEST(StepPolicy, DelaysFollowAFractionalBackoffAndSaturateInsteadOfOverflowing)
{
    RetryPolicy p{.maxTries = 1000, .interval = 10s, .backoff = 1.5};
    EXPECT_EQ(p.delayAfter(0), 10s);
    EXPECT_EQ(p.delayAfter(2), 22500ms);
    auto huge = p.delayAfter(900);
    EXPECT_GT(huge, std::chrono::hours(24 * 300));
    EXPECT_LE(huge, std::chrono::hours(24 * 366));
    EXPECT_EQ(RetryPolicy{.interval = 0s}.delayAfter(3), 0s);
}
