// evaluateJobs against the real nix-instantiate: jobs and their metadata, per-job errors that
// leave the other jobs alone, the memory budget, flakes, whole-expression errors and stopping.

#include "evaluator/eval_workers.hh"
#include "support/temp_files.hh"
#include "util/process.hh"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>
#include <thread>

using namespace hydra;
using namespace hydra::evaluator;
using namespace std::chrono_literals;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
// Without network: no substituter to wait for.
const bool nixConfigured = [] { return ::setenv("NIX_CONFIG", "substituters =", 0) == 0; }();

std::string nonce()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

// Shared helpers of the generated expressions: trivial derivations with a fresh nonce.
std::string prelude(const std::string& n)
{
    return fmt::format(R"(
  system = builtins.currentSystem;
  mk = name: attrs: derivation ({{
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" "echo {} > $out" ];
  }} // attrs);
)",
                       n);
}

std::string jobsetText(const std::string& n)
{
    return "{ greeting, unused ? \"x\" }:\nlet\n" + prelude(n) + R"(
  shared = mk "shared" { };
  numbered = builtins.listToAttrs (builtins.genList (i: {
    name = "job${toString i}";
    value = mk "job-${toString i}" { dep = shared; };
  }) 20);
in numbered // {
  nested = {
    recurseForDerivations = true;
    a = mk "nested-a" { dep = shared; };
    deeper = { recurseForDerivations = true; b = mk "nested-b" { }; };
    notRecursed = { c = mk "not-recursed" { }; };
    broken = abort "nested abort";
  };
  plain = { x = mk "plain-x" { }; };
  broken = throw "this job is broken";
  assertion = assert greeting == "nope"; mk "assertion" { };
  aborted = abort "gave up";
  typeError = mk (1 + "a") { };
  withMeta = mk "with-meta" { } // {
    meta = {
      description = "A job with metadata";
      license = { shortName = "mit"; fullName = "MIT License"; };
      homepage = [ "https://example.org/" "https://example.com/" ];
      maintainers = [ { email = "alice@example.org"; } { name = "no mail"; } "bob@example.org" ];
      schedulingPriority = 50;
      timeout = 600;
      maxSilent = 60;
      isHydraChannel = true;
      platforms = x: x;
    };
  };
  licenses = mk "licenses" { } // { meta.license = [ { spdxId = "GPL-3.0"; } "BSD" ]; };
  multi = mk "multi" { outputs = [ "out" "dev" ]; args = [ "-c" "echo > $out; echo > $dev" ]; };
  agg = mk "agg" { } // { _hydraAggregate = true; constituents = [ numbered.job1 "job2" (mk "hidden" { }) ]; };
  greeting = mk "greeting-${greeting}" { };
  "dotted.name" = mk "dotted" { };
  number = 42;
  func = x: x;
}
)";
}

/// A job or an error as one comparable line.
std::vector<std::string> summary(const JobsEvaluation& r)
{
    std::vector<std::string> out;
    for (auto& j : r.jobs)
        out.push_back(fmt::format("{} {} {} {}", j.job, j.nixName, j.drvPath, j.outputs.size()));
    for (auto& e : r.errors) out.push_back(fmt::format("error {}: {}", e.job, e.message));
    return out;
}

std::vector<std::string> names(const JobsEvaluation& r)
{
    std::vector<std::string> out;
    for (auto& j : r.jobs) out.push_back(j.job);
    return out;
}

const db::EvalJob& findJob(const JobsEvaluation& r, const std::string& name)
{
    for (auto& j : r.jobs)
        if (j.job == name) return j;
    throw Error("no job {}", name);
}

std::string errorOf(const JobsEvaluation& r, const std::string& name)
{
    for (auto& e : r.errors)
        if (e.job == name) return e.message;
    return "<no error for " + name + ">";
}

bool storeValid(const std::string& path)
{
    return exitedOk(run({.argv = {"nix-store", "--check-validity", path}}).status);
}

class EvalWorkersTest : public test::TempFilesTest {
protected:
    JobSource legacy(const std::string& text)
    {
        JobSource src;
        src.nixFile = write("release.nix", text);
        src.args = {{"greeting", NixArg::Kind::String, "hello"}};
        src.searchPath = {{"src", dir.string()}}; // as the evaluator puts the expression's input
        return src;
    }
    std::stop_source stop;
};

TEST_F(EvalWorkersTest, EvaluatesJobsMetadataAndPerJobErrors)
{
    auto r = evaluateJobs(legacy(jobsetText(nonce())), {}, stop.get_token());

    std::vector<std::string> expected = {"agg",
                                         "greeting",
                                         "job0",
                                         "job1",
                                         "job10",
                                         "job11",
                                         "job12",
                                         "job13",
                                         "job14",
                                         "job15",
                                         "job16",
                                         "job17",
                                         "job18",
                                         "job19",
                                         "job2",
                                         "job3",
                                         "job4",
                                         "job5",
                                         "job6",
                                         "job7",
                                         "job8",
                                         "job9",
                                         "licenses",
                                         "multi",
                                         "nested.a",
                                         "nested.deeper.b",
                                         "nested.notRecursed.c",
                                         "plain.x",
                                         "withMeta"};
    EXPECT_EQ(names(r), expected);
    // Values that are neither jobs, sets nor null are errors of their attribute, as in Hydra.
    ASSERT_EQ(r.errors.size(), 7u) << fmt::format("{}", fmt::join(summary(r), "\n"));
    EXPECT_NE(errorOf(r, "number").find("‘number’ is a int, which is not a job"), std::string::npos)
        << errorOf(r, "number");
    EXPECT_NE(errorOf(r, "func").find("is a lambda"), std::string::npos) << errorOf(r, "func");
    EXPECT_EQ(r.errors[0].job, "aborted");
    EXPECT_NE(errorOf(r, "aborted").find("gave up"), std::string::npos);
    EXPECT_NE(errorOf(r, "assertion").find("assertion"), std::string::npos) << errorOf(r, "assertion");
    EXPECT_NE(errorOf(r, "broken").find("this job is broken"), std::string::npos) << errorOf(r, "broken");
    EXPECT_NE(errorOf(r, "nested.broken").find("nested abort"), std::string::npos);
    EXPECT_NE(errorOf(r, "typeError").find("error:"), std::string::npos) << errorOf(r, "typeError");

    for (auto& j : r.jobs) {
        EXPECT_TRUE(storeValid(j.drvPath)) << j.job << " " << j.drvPath;
        EXPECT_EQ(j.system, findJob(r, "job0").system);
    }
    EXPECT_EQ(findJob(r, "greeting").nixName, "greeting-hello");
    auto& m = findJob(r, "withMeta");
    EXPECT_EQ(m.description, "A job with metadata");
    EXPECT_EQ(m.license, "mit");
    EXPECT_EQ(m.homepage, "https://example.org/");
    EXPECT_EQ(m.maintainers, "alice@example.org, bob@example.org");
    EXPECT_EQ(m.schedulingPriority, 50);
    EXPECT_EQ(m.timeout, 600);
    EXPECT_EQ(m.maxSilent, 60);
    EXPECT_TRUE(m.isChannel);
    EXPECT_EQ(findJob(r, "licenses").license, "GPL-3.0, BSD");
    auto& plain = findJob(r, "job3");
    EXPECT_EQ(plain.schedulingPriority, 100);
    EXPECT_EQ(plain.timeout, 36000);
    EXPECT_EQ(plain.maxSilent, 7200);
    EXPECT_FALSE(plain.description);
    EXPECT_FALSE(plain.isAggregate);
    auto& multi = findJob(r, "multi");
    ASSERT_EQ(multi.outputs.size(), 2u);
    EXPECT_TRUE(multi.outputs.at("dev").ends_with("-multi-dev"));

    auto& agg = findJob(r, "agg");
    EXPECT_TRUE(agg.isAggregate);
    // Named constituents are resolved to the derivations of the jobs they name.
    ASSERT_EQ(agg.constituentDrvs.size(), 3u);
    EXPECT_EQ(agg.constituentDrvs[0], findJob(r, "job1").drvPath);
    EXPECT_TRUE(storeValid(agg.constituentDrvs[1])) << agg.constituentDrvs[1];
    EXPECT_EQ(agg.constituentDrvs[2], findJob(r, "job2").drvPath);
    EXPECT_TRUE(agg.constituentJobs.empty());
    // The job named as a constituent is an input of the aggregate's derivation: built first.
    auto refs = run({.argv = {"nix-store", "--query", "--references", agg.drvPath}}).out;
    EXPECT_NE(refs.find(findJob(r, "job2").drvPath), std::string::npos) << refs;
}

TEST_F(EvalWorkersTest, TwoWorkersGiveTheSameResultAsOne)
{
    auto src = legacy(jobsetText(nonce()));
    std::vector<EvalProgress> reports;
    auto one = evaluateJobs(src, {.workers = 1}, stop.get_token());
    auto two = evaluateJobs(src, {.workers = 2}, stop.get_token(), [&](auto& p) { reports.push_back(p); });
    EXPECT_EQ(summary(one), summary(two));
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.back().jobs, two.jobs.size());
    EXPECT_EQ(reports.back().errors, two.errors.size());
    EXPECT_EQ(reports.back().pending, 0u);
}

TEST_F(EvalWorkersTest, AJobOverTheMemoryBudgetFailsAlone)
{
    std::string text = "let\n" + prelude(nonce()) + R"(
in builtins.listToAttrs (builtins.genList (i: { name = "job${toString i}"; value = mk "job-${toString i}" { }; }) 12) // {
  hog = mk "hog-${toString (builtins.length (builtins.genList (x: x * 2) 30000000))}" { };
}
)";
    auto r = evaluateJobs(legacy(text), {.workers = 2, .maxMemoryMiB = 150}, stop.get_token());
    EXPECT_EQ(r.jobs.size(), 12u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].job, "hog");
    EXPECT_EQ(r.errors[0].message, "evaluation used more than 150 MiB (evaluator_max_memory_size)");
}

TEST_F(EvalWorkersTest, ASyntaxErrorFailsTheWholeEvaluationNamingTheFile)
{
    auto src = legacy("{ greeting }: { a = ; }\n");
    try {
        evaluateJobs(src, {}, stop.get_token());
        FAIL() << "no ExpressionError";
    } catch (const ExpressionError& e) {
        EXPECT_NE(std::string(e.what()).find(src.nixFile.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
    }
}

TEST_F(EvalWorkersTest, AMissingArgumentOrANonAttrsetFailsTheWholeEvaluation)
{
    auto missing = legacy("{ greeting, other }: { }\n");
    EXPECT_THROW(evaluateJobs(missing, {}, stop.get_token()), ExpressionError);
    auto number = legacy("{ ... }: 42\n");
    EXPECT_THROW(evaluateJobs(number, {}, stop.get_token()), ExpressionError);
}

TEST_F(EvalWorkersTest, JobsetsWithAnEllipsisGetEveryArgumentAndPlainSetsNone)
{
    auto n = nonce();
    auto ellipsis =
        legacy("{ ... }@args: let\n" + prelude(n) +
               "in { names = mk (builtins.concatStringsSep \"-\" (builtins.attrNames args)) { }; }\n");
    ellipsis.args.push_back({"count", NixArg::Kind::Expr, "1 + 2"});
    auto r = evaluateJobs(ellipsis, {}, stop.get_token());
    ASSERT_EQ(r.jobs.size(), 1u);
    EXPECT_EQ(r.jobs[0].nixName, "count-greeting");

    auto plain = legacy("let\n" + prelude(n) + "in { plain = mk \"plain\" { }; }\n");
    r = evaluateJobs(plain, {}, stop.get_token());
    ASSERT_EQ(r.jobs.size(), 1u);
    EXPECT_EQ(r.jobs[0].job, "plain");
}

TEST_F(EvalWorkersTest, EvaluatesAFlakesHydraJobs)
{
    auto system = run({.argv = {"nix-instantiate", "--eval", "--json", "-E", "builtins.currentSystem"}}).out;
    write("flake/flake.nix", fmt::format(R"({{
  outputs = {{ self }}: {{
    hydraJobs.pkg.{0} = derivation {{
      name = "flake-pkg"; system = {0}; builder = "/bin/sh"; args = [ "-c" "echo {1} > $out" ];
    }};
    hydraJobs.notAJob = 3;
    hydraJobs.nothing = null;
  }};
}}
)",
                                         system.substr(0, system.find('\n')), nonce()));
    JobSource src;
    src.flakeRef = "path:" + (dir / "flake").string();
    auto r = evaluateJobs(src, {.workers = 2}, stop.get_token());
    ASSERT_EQ(r.jobs.size(), 1u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].job, "notAJob");
    auto unquoted = system.substr(1, system.find('"', 1) - 1);
    EXPECT_EQ(r.jobs[0].job, "pkg." + unquoted);
    EXPECT_EQ(r.jobs[0].nixName, "flake-pkg");
    EXPECT_TRUE(storeValid(r.jobs[0].drvPath));
}

TEST_F(EvalWorkersTest, AFlakeWithoutHydraJobsOrChecksFailsNamingTheFlake)
{
    write("empty/flake.nix", "{ outputs = { self }: { packages = { }; }; }\n");
    JobSource src;
    src.flakeRef = "path:" + (dir / "empty").string();
    try {
        evaluateJobs(src, {}, stop.get_token());
        FAIL() << "no ExpressionError";
    } catch (const ExpressionError& e) {
        EXPECT_NE(
            std::string(e.what()).find("flake ‘" + src.flakeRef + "’ provides neither hydraJobs nor checks"),
            std::string::npos)
            << e.what();
    }
}

TEST_F(EvalWorkersTest, NestedFunctionsAreCalledAndInputsAreOnTheSearchPath)
{
    auto n = nonce();
    write("lib/default.nix", "{ prefix = \"from-the-input\"; }\n");
    auto src = legacy("{ greeting }: let\n" + prelude(n) + R"(
in {
  called = { greeting, unused ? 1 }: { job = mk "called-${greeting}" { }; };
  fromInput = mk (import <lib>).prefix { };
  fromNixPath = mk (import <leaked>).prefix { };
  nothing = null;
  marked = { recurseForDerivations = true; inner = mk "inner" { }; };
}
)");
    src.searchPath.emplace_back("lib", (dir / "lib").string());
    // The evaluator's own NIX_PATH must not leak into the jobset.
    ::setenv("NIX_PATH", ("leaked=" + (dir / "lib").string()).c_str(), 1); // NOLINT(concurrency-mt-unsafe)
    auto r = evaluateJobs(src, {}, stop.get_token());
    ::unsetenv("NIX_PATH"); // NOLINT(concurrency-mt-unsafe)
    EXPECT_EQ(names(r), (std::vector<std::string>{"called.job", "fromInput", "marked.inner"}));
    EXPECT_EQ(findJob(r, "called.job").nixName, "called-hello");
    EXPECT_EQ(findJob(r, "fromInput").nixName, "from-the-input");
    ASSERT_EQ(r.errors.size(), 1u) << fmt::format("{}", fmt::join(summary(r), "\n"));
    EXPECT_NE(errorOf(r, "fromNixPath").find("was not found in the Nix search path"), std::string::npos)
        << errorOf(r, "fromNixPath");
}

TEST_F(EvalWorkersTest, AJobsetReadsOnlyItsInputsAndNoEnvironment)
{
    // A file outside the jobset's inputs (the test's directory is its only input).
    std::string outside = (std::filesystem::temp_directory_path() / "hydra-secret-XXXXXX").string();
    ASSERT_NE(::mkdtemp(outside.data()), nullptr);
    std::ofstream(outside + "/secret") << "s3cret";
    auto src =
        legacy("{ greeting }: let\n" + prelude(nonce()) + "in {\n  leak = mk (builtins.readFile " + outside +
               "/secret" + ") { };\n  env = mk \"env-${builtins.getEnv \"HYDRA_TEST_SECRET\"}\" { };\n}\n");
    ::setenv("HYDRA_TEST_SECRET", "s3cret", 1); // NOLINT(concurrency-mt-unsafe)
    auto r = evaluateJobs(src, {}, stop.get_token());
    ::unsetenv("HYDRA_TEST_SECRET"); // NOLINT(concurrency-mt-unsafe)
    std::filesystem::remove_all(outside);
    EXPECT_EQ(names(r), std::vector<std::string>{"env"});
    EXPECT_EQ(findJob(r, "env").nixName, "env-");
    EXPECT_NE(errorOf(r, "leak").find("forbidden in restricted mode"), std::string::npos)
        << errorOf(r, "leak");
}

TEST_F(EvalWorkersTest, NamedConstituentsAreCheckedAndNestedAggregatesRewritten)
{
    auto src = legacy("{ greeting }: let\n" + prelude(nonce()) + R"(
in {
  a = mk "a" { };
  inner = mk "inner" { } // { _hydraAggregate = true; constituents = [ "a" ]; };
  outer = mk "outer" { } // { _hydraAggregate = true; constituents = [ "inner" ]; };
  typo = mk "typo" { } // { _hydraAggregate = true; constituents = [ "nosuch" ]; };
}
)");
    auto r = evaluateJobs(src, {}, stop.get_token());
    EXPECT_EQ(names(r), (std::vector<std::string>{"a", "inner", "outer"}));
    ASSERT_EQ(r.errors.size(), 1u) << fmt::format("{}", fmt::join(summary(r), "\n"));
    EXPECT_EQ(errorOf(r, "typo"), "aggregate job ‘typo’ failed with the error: nosuch: does not exist");
    // The outer aggregate waits for the inner one as it is built: rewritten with its own input.
    auto refs = run({.argv = {"nix-store", "--query", "--references", findJob(r, "outer").drvPath}}).out;
    EXPECT_NE(refs.find(findJob(r, "inner").drvPath), std::string::npos) << refs;
}

TEST_F(EvalWorkersTest, AnEvaluationPastItsTimeLimitFailsSayingSo)
{
    auto fifo = dir / "never-written";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto src = legacy("{ greeting }: let\n" + prelude(nonce()) + "in {\n  stuck = mk (builtins.readFile " +
                      fifo.string() + ") { };\n}\n");
    try {
        evaluateJobs(src, {.workers = 2, .timeout = 2s}, stop.get_token());
        FAIL() << "the evaluation ended although it never could";
    } catch (const ExpressionError& e) {
        EXPECT_NE(std::string(e.what()).find("did not finish within 2 s (evaluator_timeout)"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(EvalWorkersTest, StopInterruptsAnEvaluationThatWouldNeverEnd)
{
    auto fifo = dir / "never-written";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // Reading a FIFO nobody writes blocks forever: only the stop request can end this.
    auto src = legacy("{ greeting }: let\n" + prelude(nonce()) + "in {\n  stuck = mk (builtins.readFile " +
                      fifo.string() + ") { };\n  fine = mk \"fine\" { };\n}\n");
    std::jthread stopper([&] {
        std::this_thread::sleep_for(1s);
        stop.request_stop();
    });
    try {
        evaluateJobs(src, {.workers = 2}, stop.get_token());
        FAIL() << "the evaluation ended without the stop request";
    } catch (const ExpressionError& e) {
        FAIL() << e.what();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("interrupted"), std::string::npos) << e.what();
    }
}

} // namespace
