// The live farm in a real headless Chromium, against the real system (private PostgreSQL,
// hydra-queue-runner building in Nix's sandbox, hydra-server): a running build's log grows on
// screen as the build writes it, and the queue and running pages follow the builds, all without
// the page being loaded again.

#include "harness/browser_farm_test.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/server_fixture.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <set>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

constexpr int ticks = 20; // one line every 0.5 s: the ticker runs for about 10 s

// ticker prints "NONCE tick N" every half second; quick is done at once.
std::string liveJobset(const std::string& nonce)
{
    return shellJobset(
        "", fmt::format("  ticker = mk \"ticker\" \"i=1; while [ $i -le {1} ]; do echo {0} tick $i; "
                        "sleep 0.5; i=$((i+1)); done; echo > $out\" [ ];\n"
                        "  quick = mk \"quick\" \"echo {0} quick > $out\" [ ];\n",
                        nonce, ticks));
}

class BrowserLiveTest : public BrowserFarmTest {
protected:
    void SetUp() override
    {
        BrowserFarmTest::SetUp();
        nonce_ = randomNonce();
        ASSERT_NO_FATAL_FAILURE(startServer());
    }

    /// Evaluates `text` as jobset p:`name`, which must give `builds` new builds.
    void evaluateJobset(const std::string& name, const std::string& text, size_t builds)
    {
        auto report = evaluate(pathJobset(name, jobsetDir(text)));
        ASSERT_EQ(report.newBuilds, builds) << report.error << report.jobErrorText;
    }

    /// Marks the page now shown; a page loaded again afterwards has lost the mark.
    void markPage() { browser().execute("window.hydraTestMark = 'still the same page'; return null;"); }
    bool pageStillMarked()
    {
        return browser().execute("return window.hydraTestMark === 'still the same page';").get<bool>();
    }

    /// The text of the page's main part.
    std::string mainText() { return browser().find("main").text(); }

    std::string nonce_;
};

// The ticks seen in a log's text: each must appear once, in order, with nothing between.
int ticksIn(const std::string& text, const std::string& nonce)
{
    int n = 0;
    while (text.find(fmt::format("{} tick {}\n", nonce, n + 1)) != std::string::npos) ++n;
    return n;
}

TEST_F(BrowserLiveTest, ARunningBuildsLogGrowsOnScreenUntilTheStepEnds)
{
    ASSERT_NO_FATAL_FAILURE(evaluateJobset("live", liveJobset(nonce_), 2));
    startRunner();
    auto ticker = buildOf("ticker");
    // The build page, as a person keeps it open, until it shows the build running; then its log.
    browser().navigate(url("/build/" + std::to_string(ticker)));
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            if (browser().find("p.big .status").text() == "Running") return true;
            browser().refresh();
            return false;
        },
        120s))
        << browser().pageText() << runnerLog();
    for (auto& a : browser().findAll("a"))
        if (a.text() == "Log") {
            a.click();
            break;
        }
    ASSERT_TRUE(browser().findNow("pre#log").has_value()) << browser().url() << "\n" << browser().pageText();
    EXPECT_NE(browser().find("#log-state").text().find("still running"), std::string::npos);
    markPage();
    int first = ticksIn(browser().find("pre#log").text() + "\n", nonce_);
    EXPECT_LT(first, ticks) << "the log was complete when its page opened";

    // Watch it grow: every 100 ms the ticks on screen are counted. The page is never loaded
    // again, so each new count was appended while the build ran; a busy machine may open the
    // page late, so three counts (two appends at least) are asked for, not one per tick.
    std::set<int> seen{first};
    std::string text;
    bool ended = browser().waitUntil(
        [&] {
            text = browser().find("pre#log").text() + "\n";
            seen.insert(ticksIn(text, nonce_));
            return browser().find("#log-state").text().find("has ended") != std::string::npos;
        },
        60s);
    browser().screenshot("log-after-the-step-ended");
    ASSERT_TRUE(ended) << text << runnerLog();
    EXPECT_TRUE(pageStillMarked()) << "the page was loaded again";
    text = browser().find("pre#log").text() + "\n";
    EXPECT_EQ(ticksIn(text, nonce_), ticks) << text;
    // Every line once: a resumed or repeated stream would show a tick twice.
    for (int i = 1; i <= ticks; ++i) {
        auto line = fmt::format("{} tick {}\n", nonce_, i);
        auto at = text.find(line);
        EXPECT_EQ(text.find(line, at + 1), std::string::npos) << "shown twice: " << line;
    }
    EXPECT_GE(seen.size(), 3u) << "the log did not grow on screen while the build ran: counts seen "
                               << ::testing::PrintToString(seen);
}

TEST_F(BrowserLiveTest, TheQueueAndRunningPagesFollowTheBuildsWithoutReloading)
{
    ASSERT_NO_FATAL_FAILURE(evaluateJobset("live", liveJobset(nonce_), 2));
    auto quick = "/build/" + std::to_string(buildOf("quick"));
    auto ticker = "/build/" + std::to_string(buildOf("ticker"));
    // Both builds wait in the queue: nothing builds yet.
    browser().navigate(url("/queue"));
    EXPECT_TRUE(browser().findNow("main a[href='" + quick + "']").has_value()) << mainText();
    EXPECT_TRUE(browser().findNow("main a[href='" + ticker + "']").has_value()) << mainText();
    browser().screenshot("queue-before-the-runner");
    markPage();

    // The runner starts: quick is done at once and leaves the open queue page by itself.
    startRunner();
    ASSERT_TRUE(browser().waitUntil([&] { return !browser().findNow("main a[href='" + quick + "']"); }, 60s))
        << mainText() << runnerLog();
    EXPECT_TRUE(pageStillMarked()) << "the queue page was loaded again";
    EXPECT_TRUE(browser().findNow("main a[href='" + ticker + "']").has_value()) << mainText();
    browser().screenshot("queue-while-ticker-runs");

    // The running page lists the ticker's step while it builds, then drops it by itself.
    browser().navigate(url("/status"));
    markPage();
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            auto text = mainText();
            return text.find("ticker") != std::string::npos && text.find("building") != std::string::npos;
        },
        30s))
        << mainText();
    browser().screenshot("running-page");
    ASSERT_TRUE(browser().waitUntil([&] { return mainText().find("ticker") == std::string::npos; }, 60s))
        << mainText() << runnerLog();
    EXPECT_TRUE(pageStillMarked()) << "the running page was loaded again";

    browser().navigate(url("/queue"));
    EXPECT_NE(mainText().find("The queue is empty."), std::string::npos) << mainText();
}

// top needs slow, which prints a line every half second for about 6 s.
std::string chainJobset(const std::string& nonce)
{
    return shellJobset(
        fmt::format("  slow = mk \"slow\" \"i=1; while [ $i -le 12 ]; do echo {0} slow $i; sleep 0.5; "
                    "i=$((i+1)); done; echo > $out\" [ ];\n",
                    nonce),
        fmt::format("  top = mk \"top\" \"echo {0} top > $out\" [ slow ];\n", nonce));
}

TEST_F(BrowserLiveTest, ABuildPageFollowsItsProgressWithoutReloading)
{
    ASSERT_NO_FATAL_FAILURE(evaluateJobset("chain", chainJobset(nonce_), 1));
    browser().navigate(url("/build/" + std::to_string(buildOf("top"))));
    // Nothing built yet: both derivations wait.
    EXPECT_NE(browser().find("#progress").text().find("0 running · 2 waiting"), std::string::npos)
        << browser().find("#progress").text();
    markPage();

    startRunner();
    // The dependency's step runs, named with its machine, stage and live log, on the open page.
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            auto running = browser().findNow("#progress ul.running li");
            return running && running->text().find("-slow.drv") != std::string::npos &&
                   running->text().find("live log") != std::string::npos;
        },
        60s))
        << mainText() << runnerLog();
    EXPECT_NE(browser().find("#progress").text().find("1 running"), std::string::npos)
        << browser().find("#progress").text();
    browser().screenshot("progress-while-the-dependency-builds");

    // Then the build itself is done, and its page says so by itself.
    ASSERT_TRUE(
        browser().waitUntil([&] { return browser().find("p.big .status").text() == "✔ Succeeded"; }, 90s))
        << mainText() << runnerLog();
    EXPECT_TRUE(pageStillMarked()) << "the build page was loaded again";
    browser().screenshot("succeeded");
}

TEST_F(BrowserLiveTest, TheEvaluationsPageShowsANewEvaluationWithoutReloading)
{
    browser().navigate(url("/evals"));
    EXPECT_FALSE(browser().findNow("main a[href='/eval/1']").has_value()) << mainText();
    markPage();
    ASSERT_NO_FATAL_FAILURE(evaluateJobset("live", liveJobset(nonce_), 2));
    ASSERT_TRUE(
        browser().waitUntil([&] { return browser().findNow("main a[href='/eval/1']").has_value(); }, 30s))
        << mainText();
    EXPECT_TRUE(pageStillMarked()) << "the evaluations page was loaded again";
    EXPECT_NE(mainText().find("p:live"), std::string::npos) << mainText();
    browser().screenshot("new-evaluation");
}

} // namespace
} // namespace hydra::test
