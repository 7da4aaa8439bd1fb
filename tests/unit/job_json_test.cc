// parseJobJson: a worker's JSON for one job becomes the Builds record, with Hydra's defaults,
// and malformed JSON is an error naming the job.

#include "evaluator/job_json.hh"
#include "util/error.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hydra;
using namespace hydra::evaluator;

namespace {

const char* minimal = R"({"t": "job", "drvPath": "/nix/store/aaaa-hello.drv", "name": "hello",
  "system": "x86_64-linux", "outputs": {"out": "/nix/store/bbbb-hello"}})";

std::string errorOf(const std::string& job, const std::string& text)
{
    try {
        parseJobJson(job, std::string_view(text));
    } catch (const Error& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(JobJson, MinimalJobTakesHydrasDefaults)
{
    auto j = parseJobJson("tests.hello", std::string_view(minimal));
    EXPECT_EQ(j.job, "tests.hello");
    EXPECT_EQ(j.nixName, "hello");
    EXPECT_EQ(j.drvPath, "/nix/store/aaaa-hello.drv");
    EXPECT_EQ(j.system, "x86_64-linux");
    EXPECT_EQ(j.outputs, (std::map<std::string, std::string>{{"out", "/nix/store/bbbb-hello"}}));
    EXPECT_EQ(j.schedulingPriority, 100);
    EXPECT_EQ(j.timeout, 36000);
    EXPECT_EQ(j.maxSilent, 7200);
    EXPECT_FALSE(j.isChannel);
    EXPECT_FALSE(j.description);
    EXPECT_FALSE(j.license);
    EXPECT_FALSE(j.homepage);
    EXPECT_FALSE(j.maintainers);
    EXPECT_FALSE(j.isAggregate);
}

TEST(JobJson, NullMetaFieldsAreDefaults)
{
    auto j = nlohmann::json::parse(minimal);
    j["description"] = nullptr;
    j["timeout"] = nullptr;
    auto r = parseJobJson("a", j);
    EXPECT_FALSE(r.description);
    EXPECT_EQ(r.timeout, 36000);
}

TEST(JobJson, MetaFieldsAndAggregates)
{
    auto j = nlohmann::json::parse(minimal);
    j["description"] = "Hello";
    j["license"] = "mit, gpl3";
    j["homepage"] = "https://example.org";
    j["maintainers"] = "a@example.org";
    j["schedulingPriority"] = 10;
    j["timeout"] = 60;
    j["maxSilent"] = 5;
    j["isHydraChannel"] = true;
    j["aggregate"] = true;
    j["constituents"] = {{{"drv", "/nix/store/cccc-x.drv"}}, {{"job", "other.job"}}};
    j["outputs"]["dev"] = "/nix/store/dddd-hello-dev";
    auto r = parseJobJson("a", j);
    EXPECT_EQ(r.description, "Hello");
    EXPECT_EQ(r.license, "mit, gpl3");
    EXPECT_EQ(r.homepage, "https://example.org");
    EXPECT_EQ(r.maintainers, "a@example.org");
    EXPECT_EQ(r.schedulingPriority, 10);
    EXPECT_EQ(r.timeout, 60);
    EXPECT_EQ(r.maxSilent, 5);
    EXPECT_TRUE(r.isChannel);
    EXPECT_TRUE(r.isAggregate);
    EXPECT_EQ(r.constituentDrvs, std::vector<std::string>{"/nix/store/cccc-x.drv"});
    EXPECT_EQ(r.constituentJobs, std::vector<std::string>{"other.job"});
    EXPECT_EQ(r.outputs.size(), 2u);
}

TEST(JobJson, ConstituentsOfANonAggregateAreIgnored)
{
    auto j = nlohmann::json::parse(minimal);
    j["constituents"] = {{{"job", "x"}}};
    EXPECT_TRUE(parseJobJson("a", j).constituentJobs.empty());
}

TEST(JobJson, InvalidJsonNamesTheJob)
{
    EXPECT_EQ(errorOf("tests.broken", "{\"drvPath\": "),
              "job 'tests.broken': the evaluator's output is not valid JSON");
    EXPECT_EQ(errorOf("x", "[1, 2]"), "job 'x': the evaluator's output is not an object");
}

TEST(JobJson, MissingOrMistypedFieldsNameJobAndField)
{
    auto without = [](const std::string& field) {
        auto j = nlohmann::json::parse(minimal);
        j.erase(field);
        return j.dump();
    };
    EXPECT_EQ(errorOf("j", without("drvPath")), "job 'j': the evaluator's output field drvPath is missing");
    EXPECT_EQ(errorOf("j", without("system")), "job 'j': the evaluator's output field system is missing");
    EXPECT_EQ(errorOf("j", without("outputs")), "job 'j': the evaluator's output field outputs is missing");

    auto with = [](const std::string& field, nlohmann::json v) {
        auto j = nlohmann::json::parse(minimal);
        j[field] = std::move(v);
        return j.dump();
    };
    EXPECT_EQ(errorOf("j", with("name", 3)), "job 'j': the evaluator's output field name is not a string");
    EXPECT_EQ(errorOf("j", with("timeout", "60")),
              "job 'j': the evaluator's output field timeout is not an integer");
    EXPECT_EQ(errorOf("j", with("timeout", 1LL << 40)),
              "job 'j': the evaluator's output field timeout is out of range");
    EXPECT_EQ(errorOf("j", with("outputs", nlohmann::json::object())),
              "job 'j': the evaluator's output field outputs is not a non-empty object");
    EXPECT_EQ(errorOf("j", with("outputs", {{"out", 1}})),
              "job 'j': the evaluator's output field outputs.out is not a string");
    EXPECT_NE(errorOf("j", with("drvPath", "/nix/store/aaaa-hello")).find("is not the path of a .drv file"),
              std::string::npos);
}

TEST(JobJson, ABadConstituentIsAnError)
{
    auto j = nlohmann::json::parse(minimal);
    j["aggregate"] = true;
    j["constituents"] = {42};
    EXPECT_EQ(
        errorOf("agg", j.dump()),
        "job 'agg': the evaluator's output field constituents holds an entry that is neither a derivation "
        "nor a job name");
}

} // namespace
