// Logging in to hydra-server in a real headless Chromium: the login page's form typed into and
// submitted as a person does (with the mouse, and with the keyboard alone), what the account
// menu then shows, the error a wrong password gets, and that focused controls are visibly marked.

#include "harness/browser_test.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

class BrowserLoginTest : public BrowserTest<ServerFixture> {
protected:
    void SetUp() override
    {
        BrowserTest::SetUp();
        startServer();
        createUser(conn(), "alice", "alice's password");
    }

    std::string url(const std::string& path) const { return at(port(), path); }

    /// The user name the header's account menu shows ("" when it offers to log in instead).
    std::string accountShown()
    {
        auto user = browser().findNow("header .account a[href^='/user/']");
        return user ? user->text() : "";
    }
};

TEST_F(BrowserLoginTest, TheLoginFormLogsInAndTheAccountMenuShowsTheUser)
{
    browser().navigate(url("/queue"));
    auto logIn = browser().find("header .account a");
    EXPECT_EQ(logIn.text(), "Log in");
    EXPECT_EQ(accountShown(), "");
    logIn.click();
    ASSERT_TRUE(browser().waitUntil([&] { return browser().findNow("form.login").has_value(); }))
        << browser().url();
    browser().screenshot("login-page");

    browser().find("form.login input[name=username]").sendKeys("alice");
    browser().find("form.login input[name=password]").sendKeys("alice's password");
    browser().find("form.login button[type=submit]").click();

    // Back on the page the user came from, now with the account menu naming them.
    ASSERT_TRUE(browser().waitUntil([&] { return accountShown() == "alice"; })) << browser().pageText();
    EXPECT_EQ(browser().url(), url("/queue"));
    EXPECT_EQ(browser().find("header .account button").text(), "Log out");
    browser().screenshot("logged-in");

    // The menu follows the user to every page, and logging out ends it.
    browser().navigate(url("/"));
    EXPECT_EQ(accountShown(), "alice");
    browser().find("header .account button").click();
    ASSERT_TRUE(browser().waitUntil([&] { return browser().find("header .account a").text() == "Log in"; }))
        << browser().pageText();
    browser().navigate(url("/current-user"));
    EXPECT_NE(browser().pageText().find("requires you to sign in"), std::string::npos)
        << browser().pageText();
}

TEST_F(BrowserLoginTest, AWrongPasswordShowsTheErrorOnTheLoginPage)
{
    logInWithForm(port(), "alice", "not the password");
    auto error = browser().find(".error[role=alert]");
    EXPECT_EQ(error.text(), "Bad username or password.");
    // The form is there again to try once more, and nobody is logged in.
    EXPECT_TRUE(browser().findNow("form.login input[name=password]").has_value());
    EXPECT_EQ(accountShown(), "");
    browser().screenshot("wrong-password");

    logInWithForm(port(), "alice", "alice's password");
    EXPECT_TRUE(browser().waitUntil([&] { return accountShown() == "alice"; })) << browser().pageText();
}

// What marks the focused element for a keyboard user: its outline or box shadow.
struct FocusLook {
    std::string what; ///< tag and text, for messages
    bool marked = false;
};

FocusLook focusLook(Browser& b)
{
    auto v = b.execute(R"js(
        const e = document.activeElement;
        const s = getComputedStyle(e);
        const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        return {what: e.tagName + ' "' + (e.innerText || e.name || e.value || '').trim().slice(0, 40) + '"',
                marked: outlined || s.boxShadow !== 'none'};
    )js");
    return {v["what"].get<std::string>(), v["marked"].get<bool>()};
}

TEST_F(BrowserLoginTest, TheKeyboardAloneLogsInAndFocusedControlsAreOutlined)
{
    browser().navigate(url("/login?next=/"));
    // The user name field has the focus on arrival: type, Tab to the password, Enter submits.
    // Chromium applies `autofocus` at the first rendering after the load, which can come after
    // the navigation returns on a busy machine: wait for it as a user's eye would.
    EXPECT_TRUE(browser().waitUntil([&] { return browser().activeElement().attribute("name") == "username"; },
                                    std::chrono::seconds(10)))
        << "focused: " << browser().activeElement().attribute("name").value_or("(no name)");
    browser().pressKeys(std::string("alice") + keys::tab + "alice's password" + keys::enter);
    ASSERT_TRUE(browser().waitUntil([&] { return accountShown() == "alice"; })) << browser().pageText();

    // Tab through the page: every link, field and button it reaches is visibly marked.
    browser().navigate(url("/"));
    std::vector<std::string> reached, unmarked;
    for (int i = 0; i < 10; ++i) {
        browser().pressKeys(keys::tab);
        auto look = focusLook(browser());
        if (look.what.starts_with("BODY ")) break; // past the last control: the focus left the page
        reached.push_back(look.what);
        if (!look.marked) unmarked.push_back(look.what);
        if (i == 1) browser().screenshot("focused-link");
    }
    EXPECT_TRUE(unmarked.empty()) << "reached " << ::testing::PrintToString(reached)
                                  << "; focused without a visible mark: "
                                  << ::testing::PrintToString(unmarked);
    auto reachedKind = [&](const std::string& prefix) {
        return std::any_of(reached.begin(), reached.end(),
                           [&](const auto& w) { return w.starts_with(prefix); });
    };
    EXPECT_TRUE(reachedKind("A ")) << ::testing::PrintToString(reached);
    EXPECT_TRUE(reachedKind("INPUT ")) << ::testing::PrintToString(reached);
    EXPECT_TRUE(reachedKind("BUTTON ")) << ::testing::PrintToString(reached);
}

} // namespace
} // namespace hydra::test
