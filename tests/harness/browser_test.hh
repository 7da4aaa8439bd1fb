#pragma once
// BrowserTest<Fixture>: a fixture that runs hydra-server (ServerFixture, EvaluatorFixture...)
// plus one headless Chromium shared by the test program's tests, as a fresh visitor in each test,
// with a screenshot kept when a test fails.

#include "harness/webdriver.hh"

#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <utility>

namespace hydra::test {

/// `Base` with a browser; the browser starts with the first test and ends after the last.
template <typename Base> class BrowserTest : public Base {
protected:
    static void TearDownTestSuite()
    {
        browser_.reset();
        Base::TearDownTestSuite();
    }

    void SetUp() override
    {
        Base::SetUp();
        clearBrowserArtifacts();
        if (!browser_) browser_ = std::make_unique<Browser>(browserOptions());
        browser_->reset();
    }

    void TearDown() override
    {
        keepFailureScreenshot();
        Base::TearDown();
    }

    /// When the test failed, a screenshot of what the browser shows; a fixture that stops
    /// servers in its TearDown calls this first, while the page is as the failure left it.
    void keepFailureScreenshot()
    {
        if (!this->HasFailure() || !browser_ || std::exchange(failureShot_, true)) return;
        try {
            browser_->screenshot("failure");
        } catch (const std::exception& e) { // the browser itself may be what failed
            ADD_FAILURE() << "no screenshot of the failure: " << e.what();
        }
    }

    /// How the program's browser starts (JavaScript on, unless a suite says otherwise).
    virtual BrowserOptions browserOptions() const { return {}; }

    Browser& browser() { return *browser_; }

    /// The address of `path` on hydra-server at 127.0.0.1:`port`.
    static std::string at(int port, const std::string& path)
    {
        return "http://127.0.0.1:" + std::to_string(port) + path;
    }

    /// Logs in as a person does: the login page's form, typed in and submitted with its button.
    void logInWithForm(int port, const std::string& user, const std::string& password)
    {
        browser().navigate(at(port, "/login"));
        browser().find("form.login input[name=username]").sendKeys(user);
        browser().find("form.login input[name=password]").sendKeys(password);
        browser().find("form.login button[type=submit]").click();
    }

private:
    inline static std::unique_ptr<Browser> browser_;
    bool failureShot_ = false;
};

} // namespace hydra::test
