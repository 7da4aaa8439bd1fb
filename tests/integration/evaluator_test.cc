// hydra-evaluator end to end: real jobsets (path, git, flake), a real Nix store and a real
// PostgreSQL; the rows and notifications an evaluation leaves are what Hydra's would be.

#include "db/projects.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;
using evaluator::EvalOutcome;

namespace {

std::string nonce()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

/// Two jobs that fail to evaluate (a throw and a type error) and an aggregate of three jobs.
const std::string brokenAndAggregate = R"(
  broken = throw "this job is broken on purpose";
  mistyped = mk (1 + "x") [ ];
  all = (mk "all" [ ]) // { _hydraAggregate = true; constituents = [ job0 job1 "job2" ]; };
)";

/// 47 generated jobs + 2 broken + 1 aggregate = 50 attributes.
std::string fiftyJobs(const std::string& n)
{
    auto text = generatedJobset(47, n, brokenAndAggregate);
    text.replace(text.find("in {"), 4, "in rec {"); // the aggregate refers to job0 and job1
    return text;
}

std::string git(const std::string& repo, const std::string& args)
{
    return runChecked(
        {.argv = {"sh", "-c", "cd '" + repo + "' && git -c user.name=t -c user.email=t@t " + args}});
}

std::string newGitRepo(const std::string& releaseNix)
{
    auto repo = makeTempDir("hydra-eval-git");
    git(repo, "init -q -b main");
    std::ofstream(repo + "/release.nix") << releaseNix;
    git(repo, "add release.nix && git -c user.name=t -c user.email=t@t commit -q -m one");
    return repo;
}

std::string currentSystem()
{
    auto out = runChecked(
        {.argv = {"nix-instantiate", "--eval", "-E", "builtins.currentSystem"}, .setEnv = nixTestEnv()});
    return out.substr(1, out.find('"', 1) - 1);
}

template <typename F> void waitFor(F&& ready, std::chrono::seconds limit, const std::string& what)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!ready()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting for " << what;
        std::this_thread::sleep_for(100ms);
    }
}

/// The SQL giving the job names of the constituents of aggregate `job`, comma-separated.
std::string constituentsSql(const std::string& job)
{
    return "SELECT coalesce(string_agg(c.job, ',' ORDER BY c.job), '') FROM AggregateConstituents a "
           "JOIN Builds b ON b.id = a.aggregate JOIN Builds c ON c.id = a.constituent WHERE b.job = '" +
           job + "'";
}

/// An aggregate job: `mk` with _hydraAggregate and `attrs` (constituents, ...) added.
std::string aggregate(const std::string& name, const std::string& attrs)
{
    return fmt::format("  {} = (mk \"{}\" [ ]) // {{ _hydraAggregate = true; {} }};\n", name, name, attrs);
}

} // namespace

class EvaluatorTest : public EvaluatorFixture {};

TEST_F(EvaluatorTest, FiftyJobsGiveExactlyTheRowsAndNotificationsOfOneEvaluation)
{
    int js = pathJobset("fifty", jobsetDir(fiftyJobs(nonce())));
    auto r = evaluate(js);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    EXPECT_EQ(r.jobs, 48U);
    EXPECT_EQ(r.jobErrors, 2U);
    EXPECT_EQ(r.newBuilds, 48U);

    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvals"), 1);
    EXPECT_EQ(query1<std::string>("SELECT hasNewBuilds || ' ' || nrBuilds || ' ' || nixExprInput || ':' || "
                                  "nixExprPath FROM JobsetEvals"),
              "1 48 src:release.nix");
    auto errors = query1<std::string>(
        "SELECT e.errorMsg FROM JobsetEvals v JOIN EvaluationErrors e ON e.id = v.evaluationerror_id");
    EXPECT_NE(errors.find("this job is broken on purpose"), std::string::npos) << errors;
    EXPECT_NE(errors.find("‘mistyped’"), std::string::npos) << errors;
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE finished = 0 AND isCurrent = 1"), 48);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildOutputs"), 48);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvalMembers WHERE isNew = 1"), 48);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE job IN ('broken', 'mistyped')"), 0);
    EXPECT_EQ(
        query1<std::string>("SELECT priority || ' ' || timeout || ' ' || maxsilent || ' ' || description "
                            "FROM Builds WHERE job = 'job7'"),
        "50 1234 321 job seven");
    EXPECT_EQ(query1<std::string>("SELECT priority || ' ' || timeout || ' ' || maxsilent FROM Builds "
                                  "WHERE job = 'job8'"),
              "100 36000 7200");
    EXPECT_EQ(query1<std::string>("SELECT string_agg(c.job, ',' ORDER BY c.job) FROM AggregateConstituents a "
                                  "JOIN Builds b ON b.id = a.aggregate JOIN Builds c ON c.id = a.constituent "
                                  "WHERE b.job = 'all'"),
              "job0,job1,job2");
    {
        pqxx::read_transaction t(*conn_);
        for (const auto& row : t.exec("SELECT drvPath FROM Builds")) {
            auto drv = row[0].as<std::string>();
            EXPECT_TRUE(validLocally(drv)) << drv;
            // Rooted, so that a garbage collection cannot take a queued build's derivation.
            auto root = std::filesystem::path(*settings_.workers.gcRootsDir) / drv.substr(drv.rfind('/') + 1);
            EXPECT_EQ(std::filesystem::read_symlink(root).string(), drv);
        }
    }
    EXPECT_EQ(
        query1<std::string>("SELECT type || ' ' || (path IS NOT NULL) || ' ' || (sha256hash IS NOT NULL) "
                            "FROM JobsetEvalInputs WHERE name = 'src'"),
        "path true true");
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM Jobsets WHERE startTime IS NULL AND lastCheckedTime IS NOT "
                          "NULL AND errorMsg LIKE '%broken on purpose%'"),
        1);

    // Notifications arrive after the commit, on the listener's thread.
    auto lowest = query1<long long>("SELECT min(id) FROM Builds");
    waitFor([&] { return !payloads("builds_added").empty(); }, 10s, "builds_added");
    EXPECT_EQ(payloads("builds_added"), std::vector<std::string>{std::to_string(lowest)});
    EXPECT_EQ(payloads("build_queued").size(), 48U);
    auto started = payloads("eval_started");
    ASSERT_EQ(started.size(), 1U);
    auto trace = started[0].substr(0, started[0].find('\t'));
    EXPECT_EQ(started[0], fmt::format("{}\t{}", trace, js));
    EXPECT_EQ(payloads("eval_added"),
              std::vector<std::string>{fmt::format("{}\t{}\t{}", trace, js, *r.evalId)});
    // Live pages heard how many jobs were found as the workers went, the last count being all.
    auto progress = payloads("eval_progress");
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), fmt::format("{}\t{}\t{}", trace, js, r.jobs));
    long long previous = 0;
    for (const auto& p : progress) {
        auto n = std::stoll(p.substr(p.rfind('\t') + 1));
        EXPECT_GT(n, previous) << p;
        previous = n;
    }
}

TEST_F(EvaluatorTest, UnchangedGitInputIsCachedAndANewCommitReusesUnchangedBuilds)
{
    auto n = nonce();
    auto repo = newGitRepo(generatedJobset(6, n));
    int js = jobsetWithInput("git", "git", "file://" + repo + " main");
    auto first = evaluate(js);
    ASSERT_EQ(first.outcome, EvalOutcome::Added) << first.error;
    EXPECT_EQ(query1<std::string>("SELECT revision FROM JobsetEvalInputs WHERE name = 'src'"),
              git(repo, "rev-parse HEAD").substr(0, 40));

    auto second = evaluate(js);
    EXPECT_EQ(second.outcome, EvalOutcome::Cached) << second.error;
    EXPECT_EQ(second.evalId, first.evalId);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvals"), 1);

    // A forced evaluation of the same inputs records an evaluation with nothing new.
    exec(fmt::format("UPDATE Jobsets SET forceEval = true WHERE id = {}", js));
    auto forced = evaluate(js);
    ASSERT_EQ(forced.outcome, EvalOutcome::Added) << forced.error;
    EXPECT_EQ(forced.newBuilds, 0U);
    EXPECT_EQ(
        query1<std::string>(fmt::format("SELECT hasNewBuilds || ' ' || (forceEval IS TRUE) FROM JobsetEvals, "
                                        "Jobsets WHERE JobsetEvals.id = {} AND Jobsets.id = {}",
                                        *forced.evalId, js)),
        "0 false");

    std::ofstream(repo + "/release.nix") << generatedJobset(6, n, "  extra = mk \"extra\" [ ];\n");
    git(repo, "commit -q -am two");
    auto third = evaluate(js);
    ASSERT_EQ(third.outcome, EvalOutcome::Added) << third.error;
    EXPECT_EQ(third.newBuilds, 1U);
    EXPECT_EQ(third.reusedBuilds, 6U);
    EXPECT_EQ(query1<long long>(fmt::format(
                  "SELECT count(*) FROM JobsetEvalMembers WHERE eval = {} AND isNew = 0", *third.evalId)),
              6);
    EXPECT_EQ(query1<std::string>(fmt::format(
                  "SELECT revision FROM JobsetEvalInputs WHERE name = 'src' AND eval = {}", *third.evalId)),
              git(repo, "rev-parse HEAD").substr(0, 40));
    auto extraId = query1<long long>("SELECT id FROM Builds WHERE job = 'extra'");
    waitFor([&] { return payloads("builds_added").size() == 2; }, 10s, "second builds_added");
    EXPECT_EQ(payloads("builds_added").back(), std::to_string(extraId));
    EXPECT_EQ(payloads("cached_build_queued").size(), 6U);
    ASSERT_EQ(payloads("eval_cached").size(), 1U);
    EXPECT_EQ(payloads("eval_cached")[0].substr(payloads("eval_cached")[0].find('\t') + 1),
              fmt::format("{}\t{}", js, *first.evalId));
}

namespace {

/// A flake without inputs whose `outputs` set is `outputs` ({0}: the system, {1}: a nonce).
std::string flakeDir(const std::string& outputs)
{
    auto dir = makeTempDir("hydra-eval-flake");
    auto text = fmt::format(fmt::runtime(outputs), currentSystem(), nonce());
    std::ofstream(dir + "/flake.nix") << "{ outputs = { self }: " << text << "; }\n";
    return dir;
}

const std::string flakeDrv = R"(derivation {{
  name = "hello-{1}"; system = "{0}"; builder = "/bin/sh"; args = [ "-c" "echo hi > $out" ]; }})";

} // namespace

TEST_F(EvaluatorTest, FlakeJobsetEvaluatesHydraJobsOrElseChecks)
{
    auto sys = currentSystem();
    auto jobs =
        flakeDir("{{ hydraJobs.hello.{0} = " + flakeDrv + "; checks.{0}.other = " + flakeDrv + "; }}");
    auto checks = flakeDir("{{ checks.{0}.hello = " + flakeDrv + "; }}");
    int withJobs = 0;
    int withChecks = 0;
    {
        pqxx::work t(*conn_);
        withJobs = db::createJobsetIfMissing(
                       t, {.project = "p", .jobset = "jobs", .type = 1, .flake = "path:" + jobs})
                       .first;
        withChecks = db::createJobsetIfMissing(
                         t, {.project = "p", .jobset = "checks", .type = 1, .flake = "path:" + checks})
                         .first;
        t.commit();
    }
    auto r = evaluate(withJobs);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    EXPECT_EQ(query1<std::string>("SELECT string_agg(job, ',') FROM Builds"), "hello." + sys);
    auto locked = query1<std::string>("SELECT flake FROM JobsetEvals");
    EXPECT_NE(locked.find("narHash"), std::string::npos) << locked;

    auto c = evaluate(withChecks);
    ASSERT_EQ(c.outcome, EvalOutcome::Added) << c.error;
    EXPECT_EQ(query1<std::string>(fmt::format("SELECT job FROM Builds WHERE jobset_id = {}", withChecks)),
              sys + ".hello");
}

TEST_F(EvaluatorTest, SyntaxErrorIsRecordedOnTheJobset)
{
    int js = pathJobset("syntax", jobsetDir("{ job = ; }"));
    auto r = evaluate(js);
    EXPECT_EQ(r.outcome, EvalOutcome::Failed);
    auto msg = query1<std::string>("SELECT errorMsg FROM Jobsets");
    EXPECT_NE(msg.find("syntax error"), std::string::npos) << msg;
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvals"), 0);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE startTime IS NULL"), 1);
    waitFor([&] { return payloads("eval_failed").size() == 1; }, 10s, "eval_failed");
}

TEST_F(EvaluatorTest, MissingAndUnreachableInputsAreFetchErrors)
{
    int unreachable = jobsetWithInput("unreachable", "git", "http://127.0.0.1:1/nothing.git");
    auto r = evaluate(unreachable);
    EXPECT_EQ(r.outcome, EvalOutcome::Failed);
    EXPECT_NE(r.error.find("127.0.0.1:1"), std::string::npos) << r.error;
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE fetchErrorMsg LIKE '%127.0.0.1:1%'"), 1);

    // A build input without a build has no value: the expression it should hold is missing.
    int noBuild = jobsetWithInput("nobuild", "build", "p:nobuild:nosuchjob");
    auto r2 = evaluate(noBuild);
    EXPECT_EQ(r2.outcome, EvalOutcome::Failed);
    EXPECT_NE(r2.error.find("‘src’ is not one of its inputs"), std::string::npos) << r2.error;

    int missing = pathJobset("missing", "/nonexistent/hydra-jobset");
    auto r3 = evaluate(missing);
    EXPECT_EQ(r3.outcome, EvalOutcome::Failed);
    EXPECT_NE(r3.error.find("/nonexistent/hydra-jobset"), std::string::npos) << r3.error;
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvals"), 0);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE fetchErrorMsg IS NOT NULL"), 3);
    waitFor([&] { return payloads("eval_failed").size() == 3; }, 10s, "eval_failed for each");
}

TEST_F(EvaluatorTest, InitialHeapSizeIsSetForTheWorkersOnly)
{
    settings_.workers.initialHeapSize = 33554432;
    settings_.workers.restrictEval = false; // so that builtins.getEnv shows the workers' environment
    auto job =
        "  heap = (mk \"heap\" [ ]) // { meta.description = builtins.getEnv \"GC_INITIAL_HEAP_SIZE\"; };\n";
    int js = pathJobset("heap", jobsetDir(generatedJobset(1, nonce(), job)));
    auto r = evaluate(js);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    EXPECT_EQ(query1<std::string>("SELECT description FROM Builds WHERE job = 'heap'"), "33554432");
    EXPECT_EQ(std::getenv("GC_INITIAL_HEAP_SIZE"), nullptr); // NOLINT(concurrency-mt-unsafe)
}

TEST_F(EvaluatorTest, AJobThatExhaustsTheWorkersMemoryIsAnErrorOfThatJobOnly)
{
    settings_.workers.maxMemoryMiB = 200;
    auto hog =
        "  hog = mk (toString (builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) 50000000))) [ ];\n";
    int js = pathJobset("hog", jobsetDir(generatedJobset(4, nonce(), hog)));
    auto r = evaluate(js);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    EXPECT_EQ(r.jobs, 4U);
    ASSERT_EQ(r.jobErrors, 1U);
    auto msg = query1<std::string>("SELECT errorMsg FROM EvaluationErrors");
    EXPECT_NE(msg.find("‘hog’"), std::string::npos) << msg;
    EXPECT_NE(msg.find("200 MiB"), std::string::npos) << msg;
}

TEST_F(EvaluatorTest, DaemonEvaluatesJobsetsConcurrentlyAndTheQueueRunnerBuildsEverything)
{
    addConfig("max_concurrent_evals = 2\nevaluator_workers = 2\n");
    int a = pathJobset("a", jobsetDir(generatedJobset(8, nonce())), 3600);
    int b = pathJobset("b", jobsetDir(generatedJobset(8, nonce())), 3600);
    int bad = pathJobset("bad", jobsetDir("{ job = ; }"), 3600);
    exec(fmt::format("UPDATE Jobsets SET enabled = 2 WHERE id = {}", b)); // one-shot
    // Left marked as running by an evaluator that died: freed when the evaluator starts.
    exec(fmt::format("UPDATE Jobsets SET startTime = 1 WHERE id = {}", a));
    startRunner();
    startEvaluator();
    waitForCount("SELECT count(*) FROM JobsetEvals", 2, 120s);
    waitForCount(
        fmt::format("SELECT count(*) FROM Jobsets WHERE id = {} AND errorMsg LIKE '%syntax error%'", bad), 1,
        60s);
    // Every build either evaluation committed gets built, without restarting anything.
    waitForCount("SELECT count(*) FROM Builds WHERE finished = 1 AND buildStatus = 0", 16, 180s);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds"), 16);
    waitForCount(fmt::format("SELECT count(*) FROM Jobsets WHERE id = {} AND enabled = 0", b), 1, 30s);

    // A trigger re-evaluates at once; unchanged inputs are cached.
    exec(fmt::format("UPDATE Jobsets SET triggerTime = extract(epoch from now())::bigint WHERE id = {}", a));
    waitFor([&] { return !payloads("eval_cached").empty(); }, 60s, "eval_cached after a trigger");
    waitForCount(fmt::format("SELECT count(*) FROM Jobsets WHERE id = {} AND triggerTime IS NULL", a), 1,
                 30s);

    EXPECT_EQ(stopEvaluator(), 0) << evaluatorLog();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE startTime IS NOT NULL"), 0);
}

TEST_F(EvaluatorTest, SigtermInterruptsARunningEvaluationAndFreesTheJobset)
{
    // A job whose evaluation waits for ever: it reads a FIFO nobody writes to.
    auto fifoDir = makeTempDir("hydra-eval-fifo");
    auto fifo = fifoDir + "/never";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int js = pathJobset("stuck", jobsetDir("{ stuck = builtins.readFile " + fifo + "; }"), 3600);
    addConfig("evaluator_restrict_eval = false\n"); // the FIFO is outside the jobset's inputs
    startEvaluator();
    waitForCount(fmt::format("SELECT count(*) FROM Jobsets WHERE id = {} AND startTime IS NOT NULL", js), 1,
                 60s);
    std::this_thread::sleep_for(1s); // let it reach the FIFO
    EXPECT_EQ(stopEvaluator(), 0) << evaluatorLog();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE startTime IS NOT NULL"), 0)
        << evaluatorLog();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvals"), 0);
    std::filesystem::remove_all(fifoDir);
}

TEST_F(EvaluatorTest, HydraEvalRunsOneEvaluationAndUnlockFreesAStaleJobset)
{
    int js = pathJobset("cli", jobsetDir(generatedJobset(3, nonce())));
    auto hydra = std::string(HYDRA_BINARY_DIR) + "/bin/hydra";
    auto r = run({.argv = {hydra, "eval", "p", "cli"}, .setEnv = runnerEnv()});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("evaluation 1 of p:cli: 3 jobs"), std::string::npos) << r.out;
    auto missing = run({.argv = {hydra, "eval", "p", "nosuch"}, .setEnv = runnerEnv()});
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.err.find("p:nosuch does not exist"), std::string::npos) << missing.err;

    exec(fmt::format("UPDATE Jobsets SET startTime = 1 WHERE id = {}", js));
    auto busy = run({.argv = {hydra, "eval", "p", "cli"}, .setEnv = runnerEnv()});
    EXPECT_NE(busy.status, 0);
    auto unlock = run({.argv = {evaluatorBinary(), "--unlock"}, .setEnv = runnerEnv()});
    EXPECT_EQ(unlock.status, 0) << unlock.err;
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE startTime IS NOT NULL"), 0);
}

TEST_F(EvaluatorTest, GlobConstituentsMatchJobNamesButNeverTheAggregateItself)
{
    auto jobs = "  packages = { a = mk \"pkg-a\" [ ]; b = mk \"pkg-b\" [ ]; };\n" +
                aggregate("some", "_hydraGlobConstituents = true; constituents = [ \"packages.*\" ];") +
                aggregate("everything", "_hydraGlobConstituents = true; constituents = [ \"*\" ];") +
                aggregate("indirect", "constituents = [ \"some\" ];");
    int js = pathJobset("glob", jobsetDir(generatedJobset(2, nonce(), jobs)));
    auto r = evaluate(js);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    EXPECT_EQ(r.jobErrors, 0U) << query1<std::string>("SELECT coalesce(errorMsg, '') FROM Jobsets");
    EXPECT_EQ(query1<std::string>(constituentsSql("some")), "packages.a,packages.b");
    EXPECT_EQ(query1<std::string>(constituentsSql("indirect")), "some");
    EXPECT_EQ(query1<std::string>(constituentsSql("everything")),
              "indirect,job0,job1,packages.a,packages.b,some");
    // Built only after its constituents: the aggregate that reaches them through `some` too.
    auto drv = query1<std::string>("SELECT drvPath FROM Builds WHERE job = 'indirect'");
    auto refs = run({.argv = {"nix-store", "--query", "--requisites", drv}, .setEnv = nixTestEnv()}).out;
    EXPECT_NE(refs.find(query1<std::string>("SELECT drvPath FROM Builds WHERE job = 'some'")),
              std::string::npos);
    EXPECT_NE(refs.find(query1<std::string>("SELECT drvPath FROM Builds WHERE job = 'packages.b'")),
              std::string::npos)
        << refs;
}

TEST_F(EvaluatorTest, AggregatesInACycleOrWithMissingConstituentsAreErrorsWithoutBuilds)
{
    auto jobs = aggregate("ok_aggregate",
                          "_hydraGlobConstituents = true; constituents = [ \"indirect_aggregate\" ];") +
                aggregate("indirect_aggregate", "constituents = [ \"ok_aggregate\" ];") +
                aggregate("outer", "constituents = [ \"ok_aggregate\" \"job0\" ];") +
                aggregate("typo", "constituents = [ \"nosuch\" ];") +
                aggregate("nomatch", "_hydraGlobConstituents = true; constituents = [ \"tests.*\" ];") +
                "  nothing = null;\n" + aggregate("ofnull", "constituents = [ \"nothing\" ];");
    int js = pathJobset("cycle", jobsetDir(generatedJobset(2, nonce(), jobs)));
    auto r = evaluate(js);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    EXPECT_EQ(r.jobErrors, 6U);
    auto msg = query1<std::string>("SELECT errorMsg FROM Jobsets");
    for (const auto* text :
         {"in job ‘ok_aggregate’:\naggregate job ‘ok_aggregate’ failed with the error: "
          "Dependency cycle: indirect_aggregate <-> ok_aggregate",
          "in job ‘indirect_aggregate’:\naggregate job ‘indirect_aggregate’ failed with the "
          "error: Dependency cycle: indirect_aggregate <-> ok_aggregate",
          "aggregate job ‘outer’ failed with the error: ok_aggregate: Dependency cycle",
          "aggregate job ‘typo’ failed with the error: nosuch: does not exist",
          "aggregate job ‘nomatch’ failed with the error: tests.*: constituent glob pattern "
          "had no matches",
          "aggregate job ‘ofnull’ failed with the error: nothing: does not exist"})
        EXPECT_NE(msg.find(text), std::string::npos) << text << "\n---\n" << msg;
    EXPECT_EQ(query1<std::string>("SELECT string_agg(job, ',' ORDER BY job) FROM Builds"), "job0,job1");
}

TEST_F(EvaluatorTest, AConstituentWithTwoJobNamesIsTheBuildOfTheShortestName)
{
    // Equal derivations: `b` and the longer alias, which sorts first, are two builds of one.
    auto jobs = std::string("  aaa_long_alias = mk \"aliased\" [ ];\n  b = mk \"aliased\" [ ];\n") +
                aggregate("byname", "constituents = [ \"aaa_long_alias\" ];") +
                aggregate("byvalue", "constituents = [ (mk \"aliased\" [ ]) ];");
    int js = pathJobset("alias", jobsetDir(generatedJobset(1, nonce(), jobs)));
    auto r = evaluate(js);
    ASSERT_EQ(r.outcome, EvalOutcome::Added) << r.error;
    ASSERT_EQ(
        query1<std::string>("SELECT string_agg(job, ',' ORDER BY job) FROM Builds WHERE nixName = 'aliased'"),
        "aaa_long_alias,b");
    EXPECT_EQ(query1<std::string>(constituentsSql("byname")), "b");
    EXPECT_EQ(query1<std::string>(constituentsSql("byvalue")), "b");
}

TEST_F(EvaluatorTest, ABuildInputWithoutASuccessfulBuildIsLeftOutUntilTheJobHasOne)
{
    // As Hydra's dependent jobsets: the job an input names is built by the first evaluation.
    int js = pathJobset(
        "dependent", jobsetDir(generatedJobset(1, nonce(), "  build2 = { dep }: mk \"build2\" [ dep ];\n")));
    {
        pqxx::work t(*conn_);
        db::addJobsetInputIfMissing(t, "p", "dependent", {.name = "dep", .type = "build", .value = "job0"});
        t.commit();
    }
    auto first = evaluate(js);
    ASSERT_EQ(first.outcome, EvalOutcome::Added) << first.error;
    EXPECT_EQ(query1<std::string>("SELECT string_agg(job, ',') FROM Builds"), "job0");
    EXPECT_EQ(first.jobErrors, 1U);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM JobsetEvalInputs WHERE name = 'dep'"), 0);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Jobsets WHERE fetchErrorMsg IS NOT NULL"), 0);

    auto drv = query1<std::string>("SELECT drvPath FROM Builds WHERE job = 'job0'");
    runChecked({.argv = {"nix-store", "--realise", drv}, .setEnv = nixTestEnv()});
    exec("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = 1, stopTime = 2 WHERE job = 'job0'");
    auto second = evaluate(js);
    ASSERT_EQ(second.outcome, EvalOutcome::Added) << second.error;
    EXPECT_EQ(second.jobErrors, 0U);
    EXPECT_EQ(second.newBuilds, 1U);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE job = 'build2'"), 1);
    EXPECT_EQ(query1<std::string>("SELECT i.dependency = b.id FROM JobsetEvalInputs i, Builds b WHERE i.name "
                                  "= 'dep' AND b.job = 'job0'"),
              "t");
}

TEST_F(EvaluatorTest, HydraEvalSucceedsWhenJobsFailToEvaluateAndPrintsTheirErrors)
{
    pathJobset("jobfails",
               jobsetDir(generatedJobset(2, nonce(), "  broken = throw \"broken on purpose\";\n")));
    auto hydra = std::string(HYDRA_BINARY_DIR) + "/bin/hydra";
    auto r = run({.argv = {hydra, "eval", "p", "jobfails"}, .setEnv = runnerEnv()});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("2 jobs, 1 job errors, 2 new builds"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("in job ‘broken’:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("broken on purpose"), std::string::npos) << r.err;
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds"), 2);
}
