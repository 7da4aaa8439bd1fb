// The listing that runs before the workers, against the real nix-instantiate: nested sets are
// opened so that the workers share out every job at once, a value that throws stays a path for a
// worker to report, and a listing that dies part-way loses no job.

#include "evaluator/eval_workers.hh"
#include "evaluator/worker_batch.hh"
#include "support/temp_files.hh"

#include <csignal>
#include <cstdlib>
#include <gtest/gtest.h>
#include <random>

using namespace hydra;
using namespace hydra::evaluator;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
// Without network: no substituter to wait for.
const bool nixConfigured = [] { return ::setenv("NIX_CONFIG", "substituters =", 0) == 0; }();

std::string nonce()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

/// A jobset of trivial derivations with `body` as the attributes of its top level.
std::string jobset(const std::string& body)
{
    return fmt::format(R"(let
  system = builtins.currentSystem;
  mk = name: derivation {{ inherit name system; builder = "/bin/sh"; args = [ "-c" "echo {} > $out" ]; }};
in {{
{}
}}
)",
                       nonce(), body);
}

// Nested five levels: the listing opens four of them, the workers the last.
const std::string nestedBody = R"(
  a = mk "a";
  sets = { b = mk "b"; inner = { c = mk "c"; recurseForDerivations = true; }; };
  deep = { l2 = { l3 = { l4 = { l5 = { d = mk "d"; }; }; }; }; };
  thrown = { e = mk "e"; } // (throw "no set here");
  nothing = null;
)";

std::vector<std::string> pathsOf(const nlohmann::json& result)
{
    std::vector<std::string> out;
    for (const auto& p : result.at("paths")) out.push_back(jobName(p.get<AttrPath>()));
    return out;
}

std::vector<std::string> jobNames(const JobsEvaluation& r)
{
    std::vector<std::string> out;
    for (const auto& j : r.jobs) out.push_back(j.job);
    return out;
}

class EvalListingTest : public test::TempFilesTest {
protected:
    JobSource source(const std::string& text)
    {
        JobSource src;
        src.nixFile = write("release.nix", text);
        src.searchPath = {{"src", dir.string()}};
        return src;
    }
    std::stop_source stop;
};

TEST_F(EvalListingTest, OpensNestedSetsAndLeavesWhatThrowsToTheWorkers)
{
    auto o = runListing(source(jobset(nestedBody)), {}, 4, stop.get_token());
    ASSERT_EQ(o.end, BatchOutcome::End::Complete) << o.error;
    ASSERT_EQ(o.results.size(), 6u); // the top level, then one per name, in order
    EXPECT_EQ(o.results[0].at("names"), nlohmann::json({"a", "deep", "nothing", "sets", "thrown"}));
    EXPECT_EQ(pathsOf(o.results[1]), std::vector<std::string>{"a"});
    EXPECT_EQ(pathsOf(o.results[2]), std::vector<std::string>{"deep.l2.l3.l4.l5"});
    EXPECT_EQ(pathsOf(o.results[3]), std::vector<std::string>{"nothing"});
    EXPECT_EQ(pathsOf(o.results[4]), (std::vector<std::string>{"sets.b", "sets.inner.c"}));
    EXPECT_EQ(pathsOf(o.results[5]), std::vector<std::string>{"thrown"});
}

TEST_F(EvalListingTest, EveryJobAndErrorIsFoundWithTheListingOpeningSets)
{
    auto r = evaluateJobs(source(jobset(nestedBody)), {.workers = 2}, stop.get_token());
    EXPECT_EQ(jobNames(r), (std::vector<std::string>{"a", "deep.l2.l3.l4.l5.d", "sets.b", "sets.inner.c"}));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].job, "thrown");
    EXPECT_NE(r.errors[0].message.find("no set here"), std::string::npos) << r.errors[0].message;
}

TEST_F(EvalListingTest, AListingThatDiesPartWayLosesNoJob)
{
    // abort is beyond tryEval: the listing process dies on "m", after opening the names before it.
    auto text = jobset(nestedBody + "  m = { f = mk \"f\"; } // abort \"gave up\";\n"
                                    "  z = { g = mk \"g\"; };\n");
    auto src = source(text);
    auto o = runListing(src, {}, 4, stop.get_token());
    EXPECT_NE(o.end, BatchOutcome::End::Complete);
    EXPECT_EQ(o.results.size(), 3u); // the top level, "a" and "deep"
    EXPECT_NE(o.error.find("gave up"), std::string::npos) << o.error;

    auto r = evaluateJobs(src, {.workers = 2}, stop.get_token());
    EXPECT_EQ(jobNames(r),
              (std::vector<std::string>{"a", "deep.l2.l3.l4.l5.d", "sets.b", "sets.inner.c", "z.g"}));
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_EQ(r.errors[0].job, "m");
    EXPECT_NE(r.errors[0].message.find("gave up"), std::string::npos) << r.errors[0].message;
    EXPECT_EQ(r.errors[1].job, "thrown");
}

TEST_F(EvalListingTest, ATopLevelThatIsNoSetFailsTheWholeEvaluation)
{
    auto src = source("let x = 1; in [ x ]\n");
    EXPECT_THROW(evaluateJobs(src, {}, stop.get_token()), ExpressionError);
}

} // namespace
