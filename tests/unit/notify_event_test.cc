// Event: payloads of hydra-notify's channels are split and checked, and bad ones are named.

#include "notify/event.hh"
#include "util/error.hh"

#include <algorithm>
#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::notify;

TEST(NotifyEvent, BuildAndStepPayloadsGiveTheirIds)
{
    auto f = Event::parse("build_finished", "12\t13\t14");
    EXPECT_EQ(f.buildId(), 12);
    EXPECT_EQ(f.dependents(), (std::vector<int64_t>{13, 14}));
    auto s = Event::parse("step_finished", "12\t3\t/var/lib/hydra/build-logs/ab/cdef.drv");
    EXPECT_EQ(s.buildId(), 12);
    EXPECT_EQ(s.stepNr(), 3);
    EXPECT_EQ(s.logPath(), "/var/lib/hydra/build-logs/ab/cdef.drv");
    EXPECT_EQ(Event::parse("step_finished", "12\t3").logPath(), "");
    EXPECT_EQ(Event::parse("cached_build_queued", "7\t99").buildId(), 99);
    EXPECT_EQ(Event::parse("eval_added", "trace\t4\t5").buildId(), 0);
}

TEST(NotifyEvent, ABuildHandledWithAnEarlierPartIsLeftToItsDependents)
{
    auto e = Event::parse("build_finished", "12\t13\t14");
    EXPECT_EQ(e.buildsToHandle(), (std::vector<int64_t>{12, 13, 14}));
    e.buildHandled = true;
    EXPECT_EQ(e.buildsToHandle(), (std::vector<int64_t>{13, 14}));
    EXPECT_EQ(e.buildId(), 12) << "still the subject of what plugins report";
    EXPECT_EQ(Event::parse("step_started", "12\t3").buildsToHandle(), (std::vector<int64_t>{12}));
}

TEST(NotifyEvent, MalformedPayloadsAndUnknownChannelsAreNamed)
{
    for (auto [channel, payload] :
         std::vector<std::pair<std::string, std::string>>{{"build_finished", ""},
                                                          {"build_finished", "x"},
                                                          {"build_finished", "1\t-2"},
                                                          {"step_started", "1"},
                                                          {"step_finished", "1\t2\t/log\textra"},
                                                          {"build_queued", "1\t2"}}) {
        try {
            Event::parse(channel, payload);
            ADD_FAILURE() << channel << " accepted " << payload;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(channel), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(Event::parse("builds_added", "1"), Error);
}

TEST(NotifyEvent, EvalPayloadsNeedIntegerJobsetAndEvalIds)
{
    // The trace id is free text; the jobset and evaluation ids are not.
    EXPECT_EQ(Event::parse("eval_started", "any trace\t4").fields.size(), 2u);
    EXPECT_EQ(Event::parse("eval_failed", "\t4").fields.size(), 2u);
    EXPECT_EQ(Event::parse("eval_added", "t\t4\t5").fields.size(), 3u);
    EXPECT_EQ(Event::parse("eval_cached", "t\t4\t5").fields.size(), 3u);
    for (auto [channel, payload] :
         std::vector<std::pair<std::string, std::string>>{{"eval_started", "t\tjs"},
                                                          {"eval_started", "t\t"},
                                                          {"eval_failed", "t\t4x"},
                                                          {"eval_failed", "t\t-4"},
                                                          {"eval_added", "t\tjs\t5"},
                                                          {"eval_added", "t\t4\teval"},
                                                          {"eval_cached", "t\t4\t"},
                                                          {"eval_cached", "t\t4\t5.0"}}) {
        try {
            Event::parse(channel, payload);
            ADD_FAILURE() << channel << " accepted " << payload;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("malformed payload"), std::string::npos) << e.what();
        }
    }
}

TEST(NotifyEvent, ListensOnHydrasChannels)
{
    const auto& c = notifyChannels();
    for (auto name : {"build_queued", "build_started", "build_finished", "step_started", "step_finished",
                      "cached_build_queued", "cached_build_finished", "eval_started", "eval_added",
                      "eval_cached", "eval_failed"})
        EXPECT_NE(std::find(c.begin(), c.end(), name), c.end()) << name;
    EXPECT_EQ(c.size(), 11u);
}
