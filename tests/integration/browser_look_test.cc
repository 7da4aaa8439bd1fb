// How the pages of real builds look in a real headless Chromium: at a phone's width nothing
// needs sideways scrolling, and in the dark colour scheme the page is dark with readable text,
// links and status badges. Screenshots of both are kept.

#include "harness/browser_farm_test.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

class BrowserLookTest : public BrowserFarmTest {
protected:
    void SetUp() override
    {
        BrowserFarmTest::SetUp();
        nonce_ = randomNonce();
        auto report = evaluate(pathJobset("js", jobsetDir(goodBadDependentJobset(nonce_))));
        ASSERT_EQ(report.newBuilds, 3u) << report.error << report.jobErrorText;
        startRunner();
        waitForCount("SELECT count(*) FROM Builds WHERE finished = 1", 3, 180s);
        ASSERT_NO_FATAL_FAILURE(startServer());
        // Logged in, the pages carry their action buttons and account menu too.
        createUser(*conn_, "alice", "alice-pw", {"admin"});
        logInWithForm(port_, "alice", "alice-pw");
        ASSERT_TRUE(
            browser().waitUntil([&] { return browser().findNow("header .account button").has_value(); }));
    }

    /// What is wider than the screen on the page shown: "" when nothing.
    std::string overflow()
    {
        return browser()
            .execute(R"js(
            const root = document.documentElement;
            if (root.scrollWidth <= window.innerWidth && root.scrollWidth <= root.clientWidth) return '';
            const wide = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1)
                .slice(0, 5).map(e => e.tagName + (e.className ? '.' + e.className : '') + ' ' +
                                      Math.round(e.getBoundingClientRect().right) + 'px');
            return 'page ' + root.scrollWidth + 'px wide on a ' + root.clientWidth + 'px screen: ' + wide.join(', ');
        )js")
            .get<std::string>();
    }

    std::string nonce_;
};

TEST_F(BrowserLookTest, PagesFitAPhoneScreen)
{
    browser().emulatePhone(390, 844);
    auto bad = buildPage("bad");
    for (const auto& path : std::vector<std::string>{bad,
                                                     bad + "/log",
                                                     bad + "/step/1",
                                                     buildPage("needsBad"),
                                                     "/",
                                                     "/project/p",
                                                     "/jobset/p/js",
                                                     "/jobset/p/js/evals",
                                                     "/eval/1",
                                                     "/job/p/js/good",
                                                     "/queue",
                                                     "/status",
                                                     "/machines",
                                                     "/evals",
                                                     "/steps",
                                                     "/search?query=bad",
                                                     "/user/alice",
                                                     "/user/alice/tokens",
                                                     "/admin/users",
                                                     "/create-project",
                                                     "/project/p/edit",
                                                     "/project/p/create-jobset",
                                                     "/jobset/p/js/edit",
                                                     "/login"}) {
        SCOPED_TRACE(path);
        browser().navigate(url(path));
        // The page was laid out for the phone (the viewport meta tag), not zoomed out to fit.
        EXPECT_EQ(browser().execute("return window.innerWidth").get<int>(), 390);
        EXPECT_EQ(overflow(), "");
    }
    browser().navigate(url(buildPage("bad")));
    EXPECT_EQ(browser().find("p.big .status").text(), "✘ Failed");
    browser().screenshot("build-page-phone");
    browser().navigate(url("/jobset/p/js"));
    browser().screenshot("jobset-page-phone");
    browser().navigate(url("/jobset/p/js/edit"));
    browser().screenshot("jobset-form-phone");
}

// The page background's luminance, and for each selector of arguments[0] WCAG's contrast ratio
// of its first element's text against the background it is drawn on (0 when none matches).
const char* const lookScript = R"js(
    const lum = c => {
        const [r, g, b] = c.match(/[\d.]+/g).map(Number).map(v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
    const backgroundOf = e => {
        for (; e; e = e.parentElement) {
            const bg = getComputedStyle(e).backgroundColor;
            if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
    };
    const look = {background: lum(backgroundOf(document.body))};
    for (const sel of arguments[0]) {
        const e = document.querySelector(sel);
        look[sel] = e ? ratio(getComputedStyle(e).color, backgroundOf(e)) : 0;
    }
    return look;
)js";

TEST_F(BrowserLookTest, TheBuildPageIsDarkAndReadableInTheDarkScheme)
{
    const nlohmann::json parts = {"main dl dd", "main a", "p.big .status", "header a"};
    for (bool dark : {false, true}) {
        SCOPED_TRACE(dark ? "dark" : "light");
        browser().emulateDarkScheme(dark);
        browser().navigate(url(buildPage("bad")));
        auto look = browser().execute(lookScript, nlohmann::json::array({parts}));
        if (dark)
            EXPECT_LT(look["background"].get<double>(), 0.05) << look.dump();
        else
            EXPECT_GT(look["background"].get<double>(), 0.8) << look.dump();
        // Text, links and the status badge at WCAG AA's 4.5:1 for normal text.
        for (const auto& part : parts)
            EXPECT_GE(look[part.get<std::string>()].get<double>(), 4.5) << look.dump();
        browser().screenshot(dark ? "build-page-dark" : "build-page-light");
    }
    // The log in the dark: its box and its text keep apart too.
    browser().navigate(url(buildPage("bad") + "/log"));
    EXPECT_NE(browser().find("pre").text().find(nonce_ + " is going to fail"), std::string::npos);
    auto look = browser().execute(lookScript, nlohmann::json::array({nlohmann::json::array({"pre"})}));
    EXPECT_LT(look["background"].get<double>(), 0.05) << look.dump();
    EXPECT_GE(look["pre"].get<double>(), 4.5) << look.dump();
    browser().screenshot("log-page-dark");
}

} // namespace
} // namespace hydra::test
