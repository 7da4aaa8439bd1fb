// Every result code a builder can send, mapped to the status Hydra records and the retry decision.

#include "queue-runner/build_outcome.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::qr;
using db::BuildStatus;
using SBS = nix::serve::BuildStatus;

namespace {

struct Case {
    SBS code;
    BuildStatus status;
    bool transient;
    bool canCache;
    bool isCached;
};

// The whole serve-protocol range, 0..14: each code once.
const Case cases[] = {
    {SBS::Built, BuildStatus::Success, false, false, false},
    {SBS::Substituted, BuildStatus::Success, false, false, true},
    {SBS::AlreadyValid, BuildStatus::Success, false, false, true},
    {SBS::PermanentFailure, BuildStatus::Failed, false, true, false},
    {SBS::InputRejected, BuildStatus::Failed, false, true, false},
    {SBS::OutputRejected, BuildStatus::Failed, false, true, false},
    {SBS::TransientFailure, BuildStatus::Failed, true, false, false},
    {SBS::CachedFailure, BuildStatus::Aborted, false, false, false},
    {SBS::TimedOut, BuildStatus::TimedOut, false, false, false},
    {SBS::MiscFailure, BuildStatus::Aborted, true, false, false},
    {SBS::DependencyFailed, BuildStatus::DepFailed, false, false, false},
    {SBS::LogLimitExceeded, BuildStatus::LogLimitExceeded, false, false, false},
    {SBS::NotDeterministic, BuildStatus::NotDeterministic, false, true, false},
    {SBS::ResolvesToAlreadyValid, BuildStatus::Success, false, false, true},
    {SBS::NoSubstituters, BuildStatus::Aborted, false, false, false},
};

} // namespace

TEST(BuildOutcome, EveryResultCodeMapsAsHydraDoes)
{
    for (const auto& c : cases) {
        SCOPED_TRACE(nix::serve::buildStatusName(c.code));
        auto m = mapBuildResult(c.code);
        EXPECT_EQ(m.status, c.status) << db::buildStatusName(m.status);
        EXPECT_EQ(m.transient, c.transient);
        EXPECT_EQ(m.canCache, c.canCache);
        EXPECT_EQ(m.isCached, c.isCached);
        EXPECT_EQ(m.outputsValid(), c.status == BuildStatus::Success);
    }
}

TEST(BuildOutcome, FailedMarkerTurnsSuccessIntoFailedWithOutput)
{
    for (auto code : {SBS::Built, SBS::Substituted, SBS::AlreadyValid}) {
        auto m = mapBuildResult(code, true);
        EXPECT_EQ(m.status, BuildStatus::FailedWithOutput);
        EXPECT_TRUE(m.outputsValid());
        EXPECT_FALSE(m.transient);
        EXPECT_FALSE(m.canCache); // outputs exist: nothing goes to FailedPaths
    }
    // A failure stays what it is, whatever an old output might hold.
    EXPECT_EQ(mapBuildResult(SBS::PermanentFailure, true).status, BuildStatus::Failed);
    EXPECT_EQ(mapBuildResult(SBS::TimedOut, true).status, BuildStatus::TimedOut);
}

TEST(BuildOutcome, UnknownCodesAreAbortedWithoutRetry)
{
    auto m = mapBuildResult(static_cast<SBS>(99));
    EXPECT_EQ(m.status, BuildStatus::Aborted);
    EXPECT_FALSE(m.transient);
}

// Nix 2.8 colours its errors and appends the builder's last log lines after the first line.
TEST(BuildOutcome, NixMessagesLoseTheirColoursAndLogLinesShowTheFirstLine)
{
    std::string coloured = "builder for '\x1b[35;1m/nix/store/abc-x.drv\x1b[0m' failed with exit code 3;\n"
                           "last 1 log lines:\n> \x1b[31;1mboom\x1b[0m\n\n";
    EXPECT_EQ(plainNixMessage(coloured),
              "builder for '/nix/store/abc-x.drv' failed with exit code 3;\nlast 1 log lines:\n> boom");
    EXPECT_EQ(firstLine(coloured), "builder for '/nix/store/abc-x.drv' failed with exit code 3;");
    EXPECT_EQ(plainNixMessage("plain"), "plain");
    EXPECT_EQ(firstLine(""), "");
    EXPECT_EQ(plainNixMessage("cut \x1b[12"), "cut"); // an escape cut short ends the text
}

TEST(BuildOutcome, BuildPathsExitStatuses)
{
    EXPECT_EQ(mapBuildPathsStatus(0), (ResultMapping{.status = BuildStatus::Success}));
    EXPECT_EQ(mapBuildPathsStatus(0, true).status, BuildStatus::FailedWithOutput);
    auto failed = mapBuildPathsStatus(100);
    EXPECT_EQ(failed.status, BuildStatus::Failed);
    EXPECT_TRUE(failed.canCache);
    EXPECT_FALSE(failed.transient);
    EXPECT_EQ(mapBuildPathsStatus(101).status, BuildStatus::TimedOut);
    EXPECT_EQ(mapBuildPathsStatus(102).status, BuildStatus::Failed);
    EXPECT_EQ(mapBuildPathsStatus(104).status, BuildStatus::NotDeterministic);
    for (uint64_t other : {1u, 2u, 103u, 255u}) {
        auto m = mapBuildPathsStatus(other);
        EXPECT_EQ(m.status, BuildStatus::Aborted) << other;
        EXPECT_TRUE(m.transient) << other;
    }
}

TEST(BuildOutcome, RecognisesTheDaemonsRefusalOfBuildDerivation)
{
    EXPECT_TRUE(
        isBuildDerivationRefusal("error: you are not privileged to build input-addressed derivations"));
    EXPECT_TRUE(isBuildDerivationRefusal("unexpected end of stream from ‘localhost’ (stderr: error: you "
                                         "are not privileged to build derivations)"));
    EXPECT_FALSE(isBuildDerivationRefusal("builder for '/nix/store/x.drv' failed with exit code 1"));
    EXPECT_FALSE(isBuildDerivationRefusal(""));
}
