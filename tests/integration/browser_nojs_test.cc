// The pages without JavaScript, in a real headless Chromium whose profile blocks scripts (as a
// user or an administrator may set it): logging in, the jobset page, a failed build's page and
// log, a running build's log as far as written, and a build's action buttons all work; only the
// live updates are missing.

#include "harness/browser_farm_test.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

constexpr int ticks = 12; // one line every 0.5 s

std::string jobsetText(const std::string& nonce)
{
    return shellJobset(
        "", fmt::format("  good = mk \"good\" \"echo {0} builds fine; echo {0} > $out\" [ ];\n"
                        "  bad = mk \"bad\" \"echo {0} is going to fail; exit 1\" [ ];\n"
                        "  ticker = mk \"ticker\" \"i=1; while [ $i -le {1} ]; do echo {0} tick $i; "
                        "sleep 0.5; i=$((i+1)); done; echo > $out\" [ ];\n",
                        nonce, ticks));
}

class BrowserNoScriptTest : public BrowserFarmTest {
protected:
    BrowserOptions browserOptions() const override { return {.javascript = false}; }

    void clickText(const std::string& selector, const std::string& text)
    {
        for (auto& e : browser().findAll(selector))
            if (e.text() == text) return e.click();
        FAIL() << "no " << selector << " '" << text << "' on " << browser().url();
    }
};

TEST_F(BrowserNoScriptTest, PagesWorkWithScriptsBlocked)
{
    // The profile really blocks scripts: a page's own script does not run.
    browser().navigate("data:text/html,<title>unchanged</title><script>document.title='script ran'</script>");
    ASSERT_EQ(browser().title(), "unchanged");

    auto nonce = randomNonce();
    auto report = evaluate(pathJobset("js", jobsetDir(jobsetText(nonce))));
    ASSERT_EQ(report.newBuilds, 3u) << report.error << report.jobErrorText;
    createUser(*conn_, "alice", "alice-pw", {"admin"});
    startRunner();
    ASSERT_NO_FATAL_FAILURE(startServer());

    // Logging in is a plain form post.
    logInWithForm(port_, "alice", "alice-pw");
    ASSERT_TRUE(browser().waitUntil([&] { return browser().findNow("header .account button").has_value(); }))
        << browser().pageText();

    // A running build's log page shows the log as far as written, and more after a reload.
    browser().navigate(url(buildPage("ticker")));
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            browser().refresh();
            return browser().find("p.big .status").text() == "Running";
        },
        120s))
        << browser().pageText() << runnerLog();
    clickText("a", "Log");
    ASSERT_TRUE(browser().waitForText(nonce + " tick 1", 30s, /*reload=*/true)) << browser().pageText();
    EXPECT_NE(browser().pageText().find("still running"), std::string::npos) << browser().pageText();
    browser().screenshot("running-log");
    EXPECT_TRUE(browser().waitForText(fmt::format("{} tick {}", nonce, ticks), 60s, /*reload=*/true))
        << browser().pageText();

    // The jobset page: every job with its outcome, each a link to its build.
    browser().navigate(url("/jobset/p/js"));
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            browser().refresh();
            auto text = browser().find("table.grid").text();
            return text.find("Queued") == std::string::npos && text.find("Running") == std::string::npos;
        },
        120s))
        << browser().pageText();
    auto grid = browser().find("table.grid").text();
    for (const auto* job : {"good", "bad", "ticker"}) EXPECT_NE(grid.find(job), std::string::npos) << grid;
    EXPECT_TRUE(browser().findNow("table.grid a[href='" + buildPage("bad") + "']").has_value()) << grid;
    browser().screenshot("jobset-page");

    // The failed build's page and its log, by their links.
    browser().find("table.grid a[href='" + buildPage("bad") + "']").click();
    EXPECT_EQ(browser().find("p.big .status").text(), "✘ Failed");
    browser().screenshot("failed-build");
    clickText("a", "Log");
    EXPECT_NE(browser().find("pre").text().find(nonce + " is going to fail"), std::string::npos)
        << browser().pageText();
    browser().screenshot("failed-log");
    browser().navigate(url(buildPage("bad")));
    clickText("a", "pretty");
    EXPECT_NE(browser().find("pre").text().find(nonce + " is going to fail"), std::string::npos)
        << browser().pageText();

    // An action button is a form of its own: Keep, and the page then offers to stop keeping.
    browser().navigate(url(buildPage("bad")));
    clickText("button", "Keep");
    ASSERT_TRUE(browser().waitUntil([&] {
        for (auto& b : browser().findAll("button"))
            if (b.text() == "Stop keeping") return true;
        return false;
    })) << browser().pageText();
    EXPECT_EQ(browser().url(), url(buildPage("bad")));
}

} // namespace
} // namespace hydra::test
