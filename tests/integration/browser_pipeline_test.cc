// The farm as a person uses it in a real headless Chromium, against the real system (private
// PostgreSQL, hydra-evaluator, hydra-queue-runner building in Nix's sandbox, hydra-server): a
// project and a jobset made through the pages' forms, an evaluation started with the jobset
// page's button, a failed build's log opened from the jobset page, a restart that succeeds, and
// the queue and running pages while a build runs.

#include "harness/browser_farm_test.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/sandbox_shell.hh"
#include "harness/server_fixture.hh"
#include "harness/web_session.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

// good succeeds, bad fails with a message, needsBad depends on bad; flaky succeeds whenever it
// is really built (see the restart below); slow runs long enough to be watched.
std::string farmJobset(const std::string& nonce)
{
    return shellJobset(
        fmt::format("  bad = mk \"bad\" \"echo {} is going to fail; exit 1\" [ ];\n", nonce),
        fmt::format("  good = mk \"good\" \"echo {0} builds fine; echo {0} > $out\" [ ];\n"
                    "  inherit bad;\n"
                    "  needsBad = mk \"needs-bad\" \"echo > $out\" [ bad ];\n"
                    "  flaky = mk \"flaky\" \"echo {0} flaky built for real; echo {0} > $out\" [ ];\n",
                    nonce));
}

class BrowserPipelineTest : public BrowserFarmTest {
protected:
    /// Types `value` into the form field `name`, replacing what it held.
    void fill(const std::string& name, const std::string& value)
    {
        auto field = browser().find("form.config [name='" + name + "']");
        field.clear();
        field.sendKeys(value);
    }

    /// Picks the option labelled `label` of the select `name`, with a click as a person does.
    void choose(const std::string& name, const std::string& label)
    {
        for (auto& option : browser().findAll("form.config select[name='" + name + "'] option"))
            if (option.text() == label) return option.click();
        FAIL() << "select " << name << " has no option " << label;
    }

    /// Clicks the link whose text is exactly `text`.
    void clickLink(const std::string& text)
    {
        for (auto& a : browser().findAll("a"))
            if (a.text() == text) return a.click();
        FAIL() << "no link '" << text << "' on " << browser().url();
    }

    /// Presses the button whose text is exactly `text`.
    void clickButton(const std::string& text)
    {
        for (auto& b : browser().findAll("button"))
            if (b.text() == text) return b.click();
        FAIL() << "no button '" << text << "' on " << browser().url();
    }

    /// The jobset page's cell of `job` in the newest evaluation (its status link).
    std::optional<Element> jobCell(const std::string& job)
    {
        for (auto& row : browser().findAll("table.grid tbody tr")) {
            auto cells = row.findAll("td");
            if (cells.size() < 2 || cells[0].text() != job) continue;
            auto links = cells[1].findAll("a");
            if (links.empty()) return std::nullopt;
            return links[0];
        }
        return std::nullopt;
    }

    std::string jobStatus(const std::string& job)
    {
        auto cell = jobCell(job);
        return cell ? cell->text() : "";
    }

    /// The status badge at the top of a build page.
    std::string buildStatusShown() { return browser().find("p.big .status").text(); }
};

TEST_F(BrowserPipelineTest, FromNewProjectToFailedLogToSuccessfulRestart)
{
    auto nonce = randomNonce();
    auto src = jobsetDir(farmJobset(nonce));
    createUser(*conn_, "alice", "alice-pw", {"create-projects"});
    startEvaluator();
    startServer();
    logInWithForm(port_, "alice", "alice-pw");

    // A project through the create-project form, linked from the front page.
    ASSERT_TRUE(browser().waitUntil(
        [&] { return browser().findNow("header .account a[href^='/user/']").has_value(); }));
    browser().navigate(url("/"));
    clickLink("Create a project");
    fill("name", "demo");
    fill("displayname", "Demo project");
    fill("description", "Built in the browser test");
    browser().screenshot("create-project-form");
    browser().find("form.config button[type=submit]").click();
    ASSERT_TRUE(browser().waitUntil([&] { return browser().url() == url("/project/demo"); }))
        << browser().url();
    EXPECT_NE(browser().pageText().find("Demo project"), std::string::npos) << browser().pageText();

    // A jobset through the project page's link: the expression's input and the shell its
    // derivations run, both paths, as pathJobset gives them; evaluated only when asked.
    clickLink("Create a jobset");
    fill("name", "main");
    fill("description", "good, bad and flaky");
    fill("nixexprinput", "src");
    fill("nixexprpath", "release.nix");
    fill("checkinterval", "0");
    fill("input-0-name", "src");
    choose("input-0-type", "path");
    fill("input-0-value", src);
    fill("input-1-name", "busybox");
    choose("input-1-type", "path");
    fill("input-1-value", shellInput().value);
    browser().screenshot("create-jobset-form");
    browser().find("form.config button[type=submit]").click();
    ASSERT_TRUE(browser().waitUntil([&] { return browser().url() == url("/jobset/demo/main"); }))
        << browser().url() << "\n"
        << browser().pageText();

    // "Evaluate now", then the jobs appear on the jobset page, queued (no runner yet).
    clickButton("Evaluate now");
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            browser().navigate(url("/jobset/demo/main"));
            return jobStatus("flaky") == "Queued" && jobStatus("good") == "Queued";
        },
        120s))
        << browser().pageText() << evaluatorLog();
    browser().screenshot("evaluated");

    // Before the runner starts, flaky's output is put in the failed-paths cache, as Hydra
    // records a failed build's outputs so that they are not built again (say, a test that
    // failed once by chance). The first build of flaky then fails from that cache without
    // running; the restart forgets the cached failure and the runner builds it for real. (The
    // sandbox hides every outside file, so a derivation cannot itself fail only the first time.)
    exec("INSERT INTO FailedPaths (path) SELECT o.path FROM BuildOutputs o JOIN Builds b ON b.id = o.build "
         "WHERE b.job = 'flaky'");
    startRunner();
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            browser().navigate(url("/jobset/demo/main"));
            return jobStatus("good").ends_with("Succeeded") && jobStatus("bad").ends_with("Failed") &&
                   jobStatus("needsBad").ends_with("Dependency failed") &&
                   jobStatus("flaky").ends_with("Failed");
        },
        180s))
        << browser().pageText() << runnerLog();
    browser().screenshot("built");

    // The failed build, one click from the jobset page, and its log, one more.
    jobCell("bad")->click();
    EXPECT_EQ(buildStatusShown(), "✘ Failed");
    browser().screenshot("failed-build");
    clickLink("Log");
    EXPECT_TRUE(browser().waitForText(nonce + " is going to fail", 10s)) << browser().pageText();
    browser().screenshot("failed-log");

    // flaky's cached failure, restarted with the build page's button, then built and shown green.
    browser().navigate(url("/jobset/demo/main"));
    jobCell("flaky")->click();
    EXPECT_EQ(buildStatusShown(), "✘ Failed");
    auto buildPage = browser().url();
    clickButton("Restart");
    ASSERT_TRUE(browser().waitUntil([&] { return browser().url() == buildPage; })) << browser().url();
    ASSERT_TRUE(browser().waitUntil(
        [&] {
            browser().refresh();
            return buildStatusShown() == "✔ Succeeded";
        },
        180s))
        << browser().pageText() << runnerLog();
    browser().screenshot("restarted-and-succeeded");
    clickLink("Log");
    EXPECT_TRUE(browser().waitForText(nonce + " flaky built for real", 10s)) << browser().pageText();
}

} // namespace
} // namespace hydra::test
