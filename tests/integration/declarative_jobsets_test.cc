// Declarative projects: evaluating the `.jobsets` jobset reads the specification file from its
// input and creates, changes and disables the project's jobsets; a declared jobset is then
// evaluated for real (sandboxed Nix).

#include "db/project_writes.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/sandbox_shell.hh"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hydra::test {
namespace {

using evaluator::EvalOutcome;
using nlohmann::json;
namespace fs = std::filesystem;

class DeclarativeJobsetsTest : public EvaluatorFixture {
protected:
    void SetUp() override
    {
        EvaluatorFixture::SetUp();
        specDir_ = jobsetDir("{}: {}"); // the directory holding spec.json
        exprDir_ = jobsetDir(generatedJobset(2, randomNonce()));
    }

    void writeSpec(const json& spec) { std::ofstream(fs::path(specDir_) / "spec.json") << spec.dump(2); }

    // A jobset of the specification: release.nix from the input "src", with the shell input.
    json declared(const std::string& description, int checkInterval) const
    {
        auto shell = shellInput();
        return {{"description", description},
                {"nixexprinput", "src"},
                {"nixexprpath", "release.nix"},
                {"checkinterval", checkInterval},
                {"schedulingshares", 10},
                {"enableemail", false},
                {"inputs",
                 {{"src", {{"type", "path"}, {"value", exprDir_}}},
                  {shell.name, {{"type", shell.type}, {"value", shell.value}}}}}};
    }

    int declarativeProject()
    {
        pqxx::work t(*conn_);
        t.exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('owner', '', '!')");
        db::ProjectConfig c{.name = "decl", .displayName = "Declarative", .owner = "owner"};
        c.declFile = "spec.json";
        c.declType = "path";
        c.declValue = specDir_;
        db::createProject(t, c, 1000);
        auto id = t.exec1("SELECT id FROM Jobsets WHERE project = 'decl' AND name = '.jobsets'")[0].as<int>();
        t.commit();
        return id;
    }

    std::string jobsetRow(const std::string& name)
    {
        return query1<std::string>(
            "SELECT coalesce(description, '') || ' ' || enabled || ' ' || hidden || ' ' || "
            "checkInterval || ' ' || schedulingShares || ' ' || enableEmail FROM Jobsets "
            "WHERE project = 'decl' AND name = '" +
            name + "'");
    }

    std::string specDir_, exprDir_;
};

TEST_F(DeclarativeJobsetsTest, TheSpecificationCreatesChangesAndDisablesJobsets)
{
    writeSpec({{"main", declared("the main line", 60)}, {"old", declared("to be dropped", 0)}});
    int dotJobsets = declarativeProject();
    EXPECT_EQ(query1<std::string>("SELECT hidden || ' ' || (triggerTime IS NOT NULL) FROM Jobsets "
                                  "WHERE name = '.jobsets'"),
              "1 true");

    auto r = evaluate(dotJobsets);
    ASSERT_EQ(r.outcome, EvalOutcome::Declared) << r.error << r.jobErrorText;
    EXPECT_EQ(r.jobs, 2U);
    EXPECT_EQ(jobsetRow("main"), "the main line 1 0 60 10 0");
    EXPECT_EQ(jobsetRow("old"), "to be dropped 1 0 0 10 0");
    EXPECT_EQ(
        query1<std::string>("SELECT string_agg(name || '=' || type, ',' ORDER BY name) FROM JobsetInputs "
                            "WHERE project = 'decl' AND jobset = 'main'"),
        "busybox=path,src=path");
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvals"), 0); // nothing to build for .jobsets

    // The specification changes: main changes, old goes, new arrives.
    auto changed = declared("changed", 120);
    changed["enabled"] = 3;
    changed["inputs"].erase("src");
    changed["inputs"]["src"] = {{"type", "path"}, {"value", exprDir_}};
    writeSpec({{"main", changed}, {"new", declared("a new one", 300)}});
    r = evaluate(dotJobsets);
    ASSERT_EQ(r.outcome, EvalOutcome::Declared) << r.error;
    EXPECT_EQ(jobsetRow("main"), "changed 3 0 120 10 0");
    EXPECT_EQ(jobsetRow("new"), "a new one 1 0 300 10 0");
    EXPECT_EQ(jobsetRow("old"), "to be dropped 0 1 0 10 0"); // disabled and hidden, history kept
    EXPECT_EQ(query1<long long>("SELECT enabled FROM Jobsets WHERE name = '.jobsets'"), 1);

    // A declared jobset is evaluated like any other, for real.
    auto mainId = query1<int>("SELECT id FROM Jobsets WHERE project = 'decl' AND name = 'main'");
    auto eval = evaluate(mainId);
    ASSERT_EQ(eval.outcome, EvalOutcome::Added) << eval.error;
    EXPECT_GT(eval.newBuilds, 0U);
}

TEST_F(DeclarativeJobsetsTest, ABadSpecificationIsRecordedAndChangesNothing)
{
    writeSpec({{"main", declared("main", 60)}});
    int dotJobsets = declarativeProject();
    ASSERT_EQ(evaluate(dotJobsets).outcome, EvalOutcome::Declared);
    auto before = jobsetRow("main");

    std::ofstream(fs::path(specDir_) / "spec.json") << "{\"main\": ";
    auto r = evaluate(dotJobsets);
    EXPECT_EQ(r.outcome, EvalOutcome::Failed);
    EXPECT_NE(r.error.find("not valid JSON"), std::string::npos) << r.error;
    EXPECT_NE(
        query1<std::string>("SELECT errorMsg FROM Jobsets WHERE name = '.jobsets'").find("not valid JSON"),
        std::string::npos);
    EXPECT_EQ(jobsetRow("main"), before);

    // One bad jobset is reported by name; the good ones are still applied.
    auto bad = declared("bad", 60);
    bad["schedulingshares"] = 0;
    auto unknown = declared("unknown key", 60);
    unknown["colour"] = "blue";
    writeSpec({{"main", declared("main again", 30)}, {"bad", bad}, {"odd", unknown}});
    r = evaluate(dotJobsets);
    ASSERT_EQ(r.outcome, EvalOutcome::Declared) << r.error;
    EXPECT_EQ(r.jobErrors, 2U);
    EXPECT_NE(r.jobErrorText.find("jobset bad: ‘schedulingshares’ must be positive"), std::string::npos)
        << r.jobErrorText;
    EXPECT_NE(r.jobErrorText.find("colour"), std::string::npos) << r.jobErrorText;
    EXPECT_EQ(jobsetRow("main"), "main again 1 0 30 10 0");
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE name IN ('bad', 'odd')"), 0);
    EXPECT_NE(query1<std::string>("SELECT errorMsg FROM Jobsets WHERE name = '.jobsets'").find("jobset bad"),
              std::string::npos);

    // A missing file is a fetch error of the .jobsets jobset.
    fs::remove(fs::path(specDir_) / "spec.json");
    r = evaluate(dotJobsets);
    EXPECT_EQ(r.outcome, EvalOutcome::Failed);
    EXPECT_NE(query1<std::string>("SELECT coalesce(fetchErrorMsg, '') FROM Jobsets WHERE name = '.jobsets'"),
              "");
    EXPECT_EQ(jobsetRow("main"), "main again 1 0 30 10 0");
}

TEST_F(DeclarativeJobsetsTest, AGeneratedSpecificationIsEvaluatedBuiltAndThenApplied)
{
    // Hydra's other form: spec.json configures .jobsets, whose job `jobsets` builds the real
    // specification (here with the project's name, one of the inputs Hydra adds).
    auto shell = shellInput();
    std::ofstream(fs::path(specDir_) / "jobsets.nix") << fmt::format(R"(
{{ declInput, projectName, busybox, system ? builtins.currentSystem, ... }}:
let
  spec = {{
    main = {{
      description = "generated for ${{projectName}}";
      nixexprinput = "src";
      nixexprpath = "release.nix";
      checkinterval = 60;
      schedulingshares = 10;
      enableemail = false;
      inputs = {{
        src = {{ type = "path"; value = "{}"; }};
        busybox = {{ type = "path"; value = "{}"; }};
      }};
    }};
  }};
in {{
  jobsets = derivation {{
    name = "jobsets-{}";
    inherit system;
    builder = "${{busybox}}/bin/sh";
    args = [ "-c" "echo '${{builtins.toJSON spec}}' > $out" ];
  }};
}}
)",
                                                                     exprDir_, shell.value, randomNonce());
    writeSpec({{"enabled", 1},
               {"hidden", true},
               {"description", "generates the jobsets"},
               {"nixexprinput", "src"},
               {"nixexprpath", "jobsets.nix"},
               {"checkinterval", 300},
               {"schedulingshares", 100},
               {"enableemail", false},
               {"keepnr", 3},
               {"inputs",
                {{"src", {{"type", "path"}, {"value", specDir_}}},
                 {shell.name, {{"type", shell.type}, {"value", shell.value}}}}}});
    int dotJobsets = declarativeProject();

    auto r = evaluate(dotJobsets);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error << r.jobErrorText;
    EXPECT_EQ(query1<std::string>("SELECT nixExprPath || ' ' || hidden FROM Jobsets WHERE name = '.jobsets'"),
              "jobsets.nix 1");
    EXPECT_EQ(
        query1<std::string>("SELECT string_agg(name || '=' || type, ',' ORDER BY name) FROM JobsetInputs "
                            "WHERE jobset = '.jobsets'"),
        "busybox=path,declInput=path,projectName=string,src=path");
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE job = 'jobsets'"), 1);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE project = 'decl'"), 1); // not built yet

    startRunner();
    waitForCount("SELECT count(*) FROM Builds WHERE job = 'jobsets' AND finished = 1 AND buildStatus = 0", 1,
                 std::chrono::seconds(180));
    r = evaluate(dotJobsets);
    EXPECT_EQ(r.outcome, EvalOutcome::Cached) << r.error; // its inputs did not change
    EXPECT_EQ(jobsetRow("main"), "generated for decl 1 0 60 10 0");
    // Applying the same specification again at every check does not trigger the jobsets.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE name = 'main' AND triggerTime IS NULL"),
              1);
}

} // namespace
} // namespace hydra::test
