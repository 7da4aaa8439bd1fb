// The evaluator's SQL against a real PostgreSQL: which jobsets to schedule, loading a jobset,
// claiming and releasing it, recording a check, and writing evaluations (new and reused
// builds, errors, aggregates, current builds) with the exact notifications a LISTENing
// program receives.

#include "db/eval_writer.hh"
#include "db/jobsets.hh"
#include "db/schema.hh"
#include "harness/channel_recorder.hh"
#include "harness/pg_fixture.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <future>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <utility>
#include <vector>

using namespace hydra;
using namespace hydra::db;
using namespace std::chrono_literals;
using hydra::test::PgCluster;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

using test::Notes;

// The evaluator's channels, recorded as hydra-notify would receive them.
const std::vector<std::string> channels{
    "eval_started", "eval_failed",         "eval_cached",           "eval_added",
    "build_queued", "cached_build_queued", "cached_build_finished", "builds_added"};

std::string storePath(const std::string& name, const std::string& suffix = "")
{
    return "/nix/store/" + std::string(32, 'a') + "-" + name + suffix;
}

// A job with one output "out"; `version` changes its derivation and output paths.
EvalJob job(const std::string& name, const std::string& version = "1")
{
    EvalJob j;
    j.job = name;
    j.nixName = name + "-" + version;
    j.drvPath = storePath(name + "-" + version, ".drv");
    j.system = "x86_64-linux";
    j.outputs["out"] = storePath(name + "-" + version);
    return j;
}

class EvalStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        conninfo = PgCluster::get().conninfo(PgCluster::get().freshDatabase());
        conn = std::make_unique<pqxx::connection>(conninfo);
        initSchema(*conn);
        pqxx::work w(*conn);
        w.exec("INSERT INTO Users (userName, emailAddress, password) VALUES ('root', 'r@example.org', '!')");
        w.exec("INSERT INTO Projects (name, displayName, owner) VALUES ('proj', 'Proj', 'root')");
        w.exec("INSERT INTO Projects (name, displayName, owner, enabled) VALUES ('off', 'Off', 'root', 0)");
        jobsetId = addJobset(w, "proj", "js");
        w.commit();
    }

    static int addJobset(pqxx::transaction_base& t, const std::string& project, const std::string& name,
                         int enabled = 1)
    {
        return t
            .exec_params(
                "INSERT INTO Jobsets (name, project, nixExprInput, nixExprPath, enabled, checkInterval, "
                "emailOverride) VALUES ($1, $2, 'src', 'release.nix', $3, 60, '') RETURNING id",
                name, project, enabled)[0][0]
            .as<int>();
    }

    template <class F> auto inTxn(F f)
    {
        pqxx::work w(*conn);
        auto r = f(w);
        w.commit();
        return r;
    }

    pqxx::result query(const std::string& sql)
    {
        pqxx::work w(*conn);
        return w.exec(sql);
    }

    EvalWriteResult write(const NewEvaluation& ev, int64_t now)
    {
        return inTxn([&](pqxx::work& w) { return writeEvaluation(w, ev, now); });
    }

    // The five jobs of the first evaluation: a, b, c, d (two outputs) and an aggregate of a and b.
    NewEvaluation fiveJobs()
    {
        NewEvaluation ev;
        ev.jobsetId = jobsetId;
        ev.traceId = "trace-1";
        ev.hash = "hash-1";
        ev.checkoutTime = 3;
        ev.evalTime = 7;
        ev.nixExprInput = "src";
        ev.nixExprPath = "release.nix";
        for (auto n : {"a", "b", "c", "d"}) ev.jobs.push_back(job(n));
        ev.jobs[0].description = "the \"a\" job";
        ev.jobs[0].license = "mit, gpl3";
        ev.jobs[0].homepage = "https://example.org/a";
        ev.jobs[0].maintainers = "x@example.org, y@example.org";
        ev.jobs[0].schedulingPriority = 50;
        ev.jobs[0].timeout = 99;
        ev.jobs[0].maxSilent = 11;
        ev.jobs[0].isChannel = true;
        ev.jobs[3].outputs["dev"] = storePath("d-1-dev");
        auto agg = job("agg");
        agg.isAggregate = true;
        agg.constituentDrvs = {ev.jobs[0].drvPath, storePath("unknown", ".drv")};
        agg.constituentJobs = {"b", "nonexistent"};
        ev.jobs.push_back(agg);
        ev.errors.push_back({"broken", "error: boom"});
        ev.inputs.push_back({"src", 0, "git", "https://example.org/src.git", "abc123", std::nullopt,
                             std::nullopt, storePath("src"), "sha"});
        ev.inputs.push_back({"flag", 0, "boolean", std::nullopt, std::nullopt, "true", std::nullopt,
                             std::nullopt, std::nullopt});
        return ev;
    }

    std::string conninfo;
    std::unique_ptr<pqxx::connection> conn;
    int jobsetId = 0;
};

TEST_F(EvalStoreTest, SchedulesEnabledJobsetsOfEnabledProjectsAndFlagsUnfinishedLastEval)
{
    auto [disabled, oneShot, atATime, offProject] = inTxn([](pqxx::work& w) {
        w.exec("UPDATE Jobsets SET lastCheckedTime = 100, triggerTime = 150, startTime = 160");
        return std::tuple{addJobset(w, "proj", "disabled", 0), addJobset(w, "proj", "oneshot", 2),
                          addJobset(w, "proj", "atatime", 3), addJobset(w, "off", "js", 1)};
    });
    auto ev = fiveJobs();
    ev.jobsetId = atATime;
    ev.errors.clear();
    auto res = write(ev, 1000);
    ev.jobsetId = jobsetId; // unfinished builds too, but it is not one-at-a-time: not flagged
    write(ev, 1001);

    auto scheduled = [&] {
        pqxx::work w(*conn);
        return jobsetsToSchedule(w);
    };
    auto s = scheduled();
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].id, jobsetId);
    EXPECT_EQ(s[0].project, "proj");
    EXPECT_EQ(s[0].name, "js");
    EXPECT_EQ(s[0].mode, JobsetMode::Enabled);
    EXPECT_EQ(s[0].checkInterval, 60);
    EXPECT_EQ(s[0].lastCheckedTime, 100);
    EXPECT_EQ(s[0].triggerTime, 150);
    EXPECT_EQ(s[0].startTime, 160);
    EXPECT_FALSE(s[0].lastEvalHasUnfinished);
    EXPECT_EQ(s[1].id, oneShot);
    EXPECT_EQ(s[1].mode, JobsetMode::OneShot);
    EXPECT_FALSE(s[1].lastCheckedTime);
    EXPECT_EQ(s[2].id, atATime);
    EXPECT_EQ(s[2].mode, JobsetMode::OneAtATime);
    EXPECT_TRUE(s[2].lastEvalHasUnfinished);
    for (auto& j : s) EXPECT_TRUE(j.id != disabled && j.id != offProject);

    // Once every build of the latest evaluation has finished, the jobset may run again.
    inTxn([&](pqxx::work& w) {
        return w.exec("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = 1, stopTime = 2");
    });
    EXPECT_FALSE(scheduled()[2].lastEvalHasUnfinished);
    (void) res;
}

TEST_F(EvalStoreTest, LoadsAJobsetWithItsInputsAndAlternatives)
{
    inTxn([](pqxx::work& w) {
        w.exec("UPDATE Jobsets SET forceEval = true, enabled = 3");
        w.exec("INSERT INTO JobsetInputs (project, jobset, name, type, emailResponsible) VALUES "
               "('proj', 'js', 'src', 'git', 1), ('proj', 'js', 'nixpkgs', 'git', 0), "
               "('proj', 'js', 'empty', 'string', 0)");
        return w.exec("INSERT INTO JobsetInputAlts (project, jobset, input, altnr, value, revision) VALUES "
                      "('proj', 'js', 'src', 1, 'https://example.org/b.git', NULL), "
                      "('proj', 'js', 'src', 0, 'https://example.org/a.git main', 'abc'), "
                      "('proj', 'js', 'nixpkgs', 0, NULL, NULL)");
    });
    pqxx::work w(*conn);
    auto d = loadJobset(w, jobsetId);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->project, "proj");
    EXPECT_EQ(d->name, "js");
    EXPECT_EQ(d->type, 0);
    EXPECT_EQ(d->nixExprInput, "src");
    EXPECT_EQ(d->nixExprPath, "release.nix");
    EXPECT_EQ(d->flake, "");
    EXPECT_TRUE(d->forceEval);
    EXPECT_EQ(d->mode, JobsetMode::OneAtATime);
    ASSERT_EQ(d->inputs.size(), 3u);
    EXPECT_EQ(d->inputs[0].name, "empty");
    EXPECT_TRUE(d->inputs[0].alts.empty());
    EXPECT_EQ(d->inputs[1].name, "nixpkgs");
    ASSERT_EQ(d->inputs[1].alts.size(), 1u);
    EXPECT_EQ(d->inputs[1].alts[0].value, "");
    EXPECT_FALSE(d->inputs[1].alts[0].revision);
    auto& src = d->inputs[2];
    EXPECT_EQ(src.type, "git");
    EXPECT_TRUE(src.emailResponsible);
    ASSERT_EQ(src.alts.size(), 2u);
    EXPECT_EQ(src.alts[0].altNr, 0);
    EXPECT_EQ(src.alts[0].value, "https://example.org/a.git main");
    EXPECT_EQ(src.alts[0].revision, "abc");
    EXPECT_EQ(src.alts[1].altNr, 1);

    auto byName = loadJobset(w, "proj", "js");
    ASSERT_TRUE(byName);
    EXPECT_EQ(byName->id, jobsetId);
    EXPECT_EQ(byName->inputs.size(), 3u);
    EXPECT_FALSE(loadJobset(w, "proj", "nope"));
    EXPECT_FALSE(loadJobset(w, jobsetId + 100));
}

TEST_F(EvalStoreTest, OnlyOneClaimerGetsAJobsetEvenConcurrently)
{
    EXPECT_TRUE(inTxn([&](pqxx::work& w) { return claimJobset(w, jobsetId, 1000); }));
    EXPECT_FALSE(inTxn([&](pqxx::work& w) { return claimJobset(w, jobsetId, 1001); }));
    EXPECT_EQ(query("SELECT startTime FROM Jobsets")[0][0].as<int64_t>(), 1000);
    inTxn([&](pqxx::work& w) {
        releaseJobset(w, jobsetId);
        return 0;
    });
    EXPECT_TRUE(query("SELECT startTime FROM Jobsets")[0][0].is_null());

    // The second claimer waits for the first transaction, then sees the claim.
    pqxx::work first(*conn);
    ASSERT_TRUE(claimJobset(first, jobsetId, 2000));
    auto second = std::async(std::launch::async, [&] {
        pqxx::connection c(conninfo);
        pqxx::work w(c);
        bool got = claimJobset(w, jobsetId, 2001);
        w.commit();
        return got;
    });
    EXPECT_EQ(second.wait_for(300ms), std::future_status::timeout);
    first.commit();
    EXPECT_FALSE(second.get());
    EXPECT_EQ(query("SELECT startTime FROM Jobsets")[0][0].as<int64_t>(), 2000);
}

TEST_F(EvalStoreTest, FinishingACheckKeepsALateTriggerAndOnlyAnEvaluationDisablesAOneShot)
{
    auto oneShot = inTxn([](pqxx::work& w) { return addJobset(w, "proj", "oneshot", 2); });
    auto finish = [&](int id, int64_t claim, std::optional<int64_t> trigger, int64_t now,
                      bool evaluated = true) {
        inTxn([&](pqxx::work& w) {
            w.exec_params("UPDATE Jobsets SET forceEval = true, triggerTime = $2::bigint WHERE id = $1", id,
                          trigger ? std::to_string(*trigger).c_str() : nullptr);
            EXPECT_TRUE(claimJobset(w, id, claim));
            if (evaluated) markJobsetEvaluated(w, id);
            finishJobsetCheck(w, id, now);
            return 0;
        });
        pqxx::work w(*conn);
        return w.exec_params1(
            "SELECT lastCheckedTime, forceEval, triggerTime, startTime, enabled FROM Jobsets "
            "WHERE id = $1",
            id);
    };
    auto r = finish(jobsetId, 1000, 900, 1100); // triggered before the evaluation started
    EXPECT_EQ(r[0].as<int64_t>(), 1100);
    EXPECT_FALSE(r[1].as<bool>());
    EXPECT_TRUE(r[2].is_null());
    EXPECT_TRUE(r[3].is_null());
    EXPECT_EQ(r[4].as<int>(), 1);

    r = finish(jobsetId, 2000, 2500, 3000); // triggered while it ran: evaluate again
    EXPECT_EQ(r[0].as<int64_t>(), 3000);
    EXPECT_EQ(r[2].as<int64_t>(), 2500);
    EXPECT_TRUE(r[3].is_null());

    // A check that wrote no evaluation (failed or cached) keeps forceEval and the one-shot.
    r = finish(oneShot, 3500, std::nullopt, 3600, false);
    EXPECT_TRUE(r[1].as<bool>());
    EXPECT_EQ(r[4].as<int>(), 2);

    r = finish(oneShot, 4000, std::nullopt, 4100);
    EXPECT_FALSE(r[1].as<bool>());
    EXPECT_EQ(r[4].as<int>(), 0);
    EXPECT_TRUE(r[2].is_null());
}

TEST_F(EvalStoreTest, ErrorsAndUnlock)
{
    auto other = inTxn([](pqxx::work& w) { return addJobset(w, "proj", "other"); });
    inTxn([&](pqxx::work& w) {
        setJobsetError(w, jobsetId, 500, std::string("cannot evaluate"));
        setFetchError(w, jobsetId, std::string("cannot fetch"));
        return 0;
    });
    auto r = query("SELECT errorMsg, errorTime, fetchErrorMsg FROM Jobsets WHERE name = 'js'")[0];
    EXPECT_EQ(r[0].as<std::string>(), "cannot evaluate");
    EXPECT_EQ(r[1].as<int64_t>(), 500);
    EXPECT_EQ(r[2].as<std::string>(), "cannot fetch");
    inTxn([&](pqxx::work& w) {
        setJobsetError(w, jobsetId, 600, std::nullopt);
        setFetchError(w, jobsetId, std::nullopt);
        return 0;
    });
    r = query("SELECT errorMsg, errorTime, fetchErrorMsg FROM Jobsets WHERE name = 'js'")[0];
    EXPECT_TRUE(r[0].is_null() && r[1].is_null() && r[2].is_null());

    inTxn([&](pqxx::work& w) { return claimJobset(w, jobsetId, 10) && claimJobset(w, other, 10); });
    EXPECT_EQ(inTxn([](pqxx::work& w) { return unlockJobsets(w); }), 2);
    EXPECT_EQ(query("SELECT count(*) FROM Jobsets WHERE startTime IS NOT NULL")[0][0].as<int>(), 0);
    EXPECT_EQ(inTxn([](pqxx::work& w) { return unlockJobsets(w); }), 0);
}

TEST_F(EvalStoreTest, EvalNotificationsAndLatestEval)
{
    test::ChannelRecorder l(conninfo, channels);
    EXPECT_FALSE(inTxn([&](pqxx::work& w) { return latestEval(w, jobsetId); }));
    inTxn([&](pqxx::work& w) {
        notifyEvalStarted(w, "t1", jobsetId);
        notifyEvalFailed(w, "t1", jobsetId);
        notifyEvalCached(w, "t2", jobsetId, 42);
        return 0;
    });
    auto js = std::to_string(jobsetId);
    EXPECT_EQ(l.drain(), (Notes{{"eval_started", "t1\t" + js},
                                {"eval_failed", "t1\t" + js},
                                {"eval_cached", "t2\t" + js + "\t42"}}));
    EXPECT_THROW(inTxn([&](pqxx::work& w) {
                     notifyEvalStarted(w, "a\tb", jobsetId);
                     return 0;
                 }),
                 Error);

    auto tabbed = fiveJobs();
    tabbed.traceId = "a\tb";
    EXPECT_THROW(write(tabbed, 999), Error);

    auto first = write(fiveJobs(), 1000);
    auto same = write(fiveJobs(), 1001); // unchanged: hasNewBuilds = 0, still the latest
    auto latest = inTxn([&](pqxx::work& w) { return latestEval(w, jobsetId); });
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->id, same.evalId);
    EXPECT_NE(latest->id, first.evalId);
    EXPECT_EQ(latest->hash, "hash-1");
}

TEST_F(EvalStoreTest, WritesANewEvaluationWithEveryRowAndNotification)
{
    test::ChannelRecorder l(conninfo, channels);
    auto ev = fiveJobs();
    auto res = write(ev, 1000);

    ASSERT_EQ(res.newBuilds.size(), 5u);
    EXPECT_TRUE(std::is_sorted(res.newBuilds.begin(), res.newBuilds.end()));
    EXPECT_TRUE(res.reusedBuilds.empty());
    EXPECT_EQ(res.lowestNewBuild, res.newBuilds.front());

    auto builds =
        query("SELECT b.id, finished, timestamp, jobset_id, j.project, j.name, job, nixName, b.description, "
              "drvPath, system, license, homepage, maintainers, maxsilent, timeout, isChannel, "
              "isCurrent, priority, globalPriority FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id "
              "ORDER BY b.id");
    ASSERT_EQ(builds.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
        auto b = builds[i];
        EXPECT_EQ(b[0].as<int64_t>(), res.newBuilds[i]);
        EXPECT_EQ(b[1].as<int>(), 0);
        EXPECT_EQ(b[2].as<int64_t>(), 1000);
        EXPECT_EQ(b[3].as<int>(), jobsetId);
        EXPECT_EQ(b[4].as<std::string>(), "proj");
        EXPECT_EQ(b[5].as<std::string>(), "js");
        EXPECT_EQ(b[6].as<std::string>(), ev.jobs[i].job);
        EXPECT_EQ(b[7].as<std::string>(), ev.jobs[i].nixName);
        EXPECT_EQ(b[9].as<std::string>(), ev.jobs[i].drvPath);
        EXPECT_EQ(b[10].as<std::string>(), "x86_64-linux");
        EXPECT_EQ(b[17].as<int>(), 1);
        EXPECT_EQ(b[19].as<int>(), 0);
    }
    auto a = builds[0];
    EXPECT_EQ(a[8].as<std::string>(), "the \"a\" job");
    EXPECT_EQ(a[11].as<std::string>(), "mit, gpl3");
    EXPECT_EQ(a[12].as<std::string>(), "https://example.org/a");
    EXPECT_EQ(a[13].as<std::string>(), "x@example.org, y@example.org");
    EXPECT_EQ(a[14].as<int>(), 11);
    EXPECT_EQ(a[15].as<int>(), 99);
    EXPECT_EQ(a[16].as<int>(), 1);
    EXPECT_EQ(a[18].as<int>(), 50);
    auto b = builds[1];
    EXPECT_TRUE(b[8].is_null() && b[11].is_null() && b[12].is_null() && b[13].is_null());
    EXPECT_EQ(b[14].as<int>(), 7200);
    EXPECT_EQ(b[15].as<int>(), 36000);
    EXPECT_EQ(b[16].as<int>(), 0);
    EXPECT_EQ(b[18].as<int>(), 100);

    auto outs = query("SELECT o.build, o.name, o.path FROM BuildOutputs o ORDER BY o.build, o.name");
    ASSERT_EQ(outs.size(), 6u);
    EXPECT_EQ(outs[3][0].as<int64_t>(), res.newBuilds[3]);
    EXPECT_EQ(outs[3][1].as<std::string>(), "dev");
    EXPECT_EQ(outs[3][2].as<std::string>(), storePath("d-1-dev"));
    EXPECT_EQ(outs[4][1].as<std::string>(), "out");
    EXPECT_EQ(outs[4][2].as<std::string>(), storePath("d-1"));

    auto e =
        query("SELECT e.id, e.jobset_id, e.timestamp, e.checkoutTime, e.evalTime, e.hasNewBuilds, e.hash, "
              "e.nrBuilds, e.nrSucceeded, e.flake, e.nixExprInput, e.nixExprPath, r.errorMsg, r.errorTime "
              "FROM JobsetEvals e JOIN EvaluationErrors r ON r.id = e.evaluationerror_id");
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0][0].as<int64_t>(), res.evalId);
    EXPECT_EQ(e[0][1].as<int>(), jobsetId);
    EXPECT_EQ(e[0][2].as<int64_t>(), 1000);
    EXPECT_EQ(e[0][3].as<int>(), 3);
    EXPECT_EQ(e[0][4].as<int>(), 7);
    EXPECT_EQ(e[0][5].as<int>(), 1);
    EXPECT_EQ(e[0][6].as<std::string>(), "hash-1");
    EXPECT_EQ(e[0][7].as<int>(), 5);
    EXPECT_TRUE(e[0][8].is_null());
    EXPECT_TRUE(e[0][9].is_null());
    EXPECT_EQ(e[0][10].as<std::string>(), "src");
    EXPECT_EQ(e[0][11].as<std::string>(), "release.nix");
    EXPECT_EQ(e[0][12].as<std::string>(), "in job \xe2\x80\x98"
                                          "broken\xe2\x80\x99:\nerror: boom\n\n");
    EXPECT_EQ(e[0][13].as<int64_t>(), 1000);

    auto members = query("SELECT build, isNew FROM JobsetEvalMembers ORDER BY build");
    ASSERT_EQ(members.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(members[i][0].as<int64_t>(), res.newBuilds[i]);
        EXPECT_EQ(members[i][1].as<int>(), 1);
    }
    auto agg = query("SELECT aggregate, constituent FROM AggregateConstituents ORDER BY constituent");
    ASSERT_EQ(agg.size(), 2u);
    EXPECT_EQ(agg[0][0].as<int64_t>(), res.newBuilds[4]);
    EXPECT_EQ(agg[0][1].as<int64_t>(), res.newBuilds[0]); // by derivation
    EXPECT_EQ(agg[1][1].as<int64_t>(), res.newBuilds[1]); // by job name

    auto inputs = query("SELECT name, altNr, type, uri, revision, value, dependency, path, sha256hash "
                        "FROM JobsetEvalInputs ORDER BY name");
    ASSERT_EQ(inputs.size(), 2u);
    EXPECT_EQ(inputs[0][0].as<std::string>(), "flag");
    EXPECT_EQ(inputs[0][5].as<std::string>(), "true");
    EXPECT_TRUE(inputs[0][3].is_null() && inputs[0][6].is_null() && inputs[0][7].is_null());
    EXPECT_EQ(inputs[1][2].as<std::string>(), "git");
    EXPECT_EQ(inputs[1][3].as<std::string>(), "https://example.org/src.git");
    EXPECT_EQ(inputs[1][4].as<std::string>(), "abc123");
    EXPECT_EQ(inputs[1][7].as<std::string>(), storePath("src"));
    EXPECT_EQ(inputs[1][8].as<std::string>(), "sha");

    Notes expected;
    for (auto id : res.newBuilds) expected.emplace_back("build_queued", std::to_string(id));
    expected.emplace_back("eval_added",
                          "trace-1\t" + std::to_string(jobsetId) + "\t" + std::to_string(res.evalId));
    expected.emplace_back("builds_added", std::to_string(res.newBuilds.front()));
    EXPECT_EQ(l.drain(), expected);
}

TEST_F(EvalStoreTest, ChangedOutputsGetNewBuildsAndTheRestAreReused)
{
    auto first = write(fiveJobs(), 1000);
    inTxn([&](pqxx::work& w) { // a has been built meanwhile
        return w.exec_params("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = 1, stopTime = 2 "
                             "WHERE id = $1",
                             first.newBuilds[0]);
    });
    test::ChannelRecorder l(conninfo, channels);
    auto ev = fiveJobs();
    ev.traceId = "trace-2";
    ev.hash = "hash-2";
    ev.errors.clear();
    ev.jobs[2] = job("c", "2");
    ev.jobs[3].outputs["dev"] = storePath("d-2-dev"); // one of two outputs changed
    auto second = write(ev, 2000);

    ASSERT_EQ(second.newBuilds.size(), 2u);
    EXPECT_GT(second.newBuilds[0], first.newBuilds[4]);
    EXPECT_EQ(second.reusedBuilds,
              (std::vector<int64_t>{first.newBuilds[0], first.newBuilds[1], first.newBuilds[4]}));
    EXPECT_EQ(second.lowestNewBuild, second.newBuilds[0]);

    auto members =
        query("SELECT m.build, m.isNew, b.job FROM JobsetEvalMembers m JOIN Builds b ON b.id = m.build "
              "WHERE m.eval = " +
              std::to_string(second.evalId) + " ORDER BY b.job");
    ASSERT_EQ(members.size(), 5u);
    std::vector<std::tuple<std::string, int64_t, int>> got;
    for (auto m : members) got.emplace_back(m[2].as<std::string>(), m[0].as<int64_t>(), m[1].as<int>());
    EXPECT_EQ(got, (std::vector<std::tuple<std::string, int64_t, int>>{{"a", first.newBuilds[0], 0},
                                                                       {"agg", first.newBuilds[4], 0},
                                                                       {"b", first.newBuilds[1], 0},
                                                                       {"c", second.newBuilds[0], 1},
                                                                       {"d", second.newBuilds[1], 1}}));
    auto e = query("SELECT hasNewBuilds, nrBuilds, evaluationerror_id FROM JobsetEvals WHERE id = " +
                   std::to_string(second.evalId))[0];
    EXPECT_EQ(e[0].as<int>(), 1);
    EXPECT_EQ(e[1].as<int>(), 5);
    EXPECT_TRUE(e[2].is_null());
    EXPECT_EQ(query("SELECT count(*) FROM AggregateConstituents")[0][0].as<int>(), 2);

    std::set<int64_t> current;
    for (auto r : query("SELECT id FROM Builds WHERE isCurrent = 1")) current.insert(r[0].as<int64_t>());
    EXPECT_EQ(current, (std::set<int64_t>{first.newBuilds[0], first.newBuilds[1], first.newBuilds[4],
                                          second.newBuilds[0], second.newBuilds[1]}));
    EXPECT_EQ(query("SELECT count(*) FROM Builds WHERE isCurrent = 0")[0][0].as<int>(), 2);

    auto js = std::to_string(jobsetId), evalId = std::to_string(second.evalId);
    auto notes = l.drain();
    Notes expected{{"build_queued", std::to_string(second.newBuilds[0])},
                   {"build_queued", std::to_string(second.newBuilds[1])},
                   {"cached_build_finished", evalId + "\t" + std::to_string(first.newBuilds[0])},
                   {"cached_build_queued", evalId + "\t" + std::to_string(first.newBuilds[1])},
                   {"cached_build_queued", evalId + "\t" + std::to_string(first.newBuilds[4])},
                   {"eval_added", "trace-2\t" + js + "\t" + evalId},
                   {"builds_added", std::to_string(second.newBuilds[0])}};
    ASSERT_EQ(notes.size(), expected.size());
    std::sort(notes.begin() + 2, notes.end() - 2); // cached_build_* in any order
    EXPECT_EQ(notes, expected);

    // The same jobs again: nothing new, no members, the same builds stay current.
    ev.traceId = "trace-3";
    auto third = write(ev, 3000);
    EXPECT_TRUE(third.newBuilds.empty());
    EXPECT_FALSE(third.lowestNewBuild);
    EXPECT_EQ(third.reusedBuilds.size(), 5u);
    auto e3 =
        query("SELECT hasNewBuilds, nrBuilds FROM JobsetEvals WHERE id = " + std::to_string(third.evalId))[0];
    EXPECT_EQ(e3[0].as<int>(), 0);
    EXPECT_TRUE(e3[1].is_null());
    EXPECT_EQ(
        query("SELECT count(*) FROM JobsetEvalMembers WHERE eval = " + std::to_string(third.evalId))[0][0]
            .as<int>(),
        0);
    EXPECT_EQ(
        query("SELECT count(*) FROM JobsetEvalInputs WHERE eval = " + std::to_string(third.evalId))[0][0]
            .as<int>(),
        2);
    EXPECT_EQ(query("SELECT count(*) FROM Builds WHERE isCurrent = 1")[0][0].as<int>(), 5);
    EXPECT_EQ(l.drain(), (Notes{{"eval_added", "trace-3\t" + js + "\t" + std::to_string(third.evalId)}}));

    // A fourth evaluation compares with the second (the latest with new builds): one job fewer.
    ev.jobs.pop_back();
    auto fourth = write(ev, 4000);
    EXPECT_TRUE(fourth.newBuilds.empty());
    EXPECT_EQ(query("SELECT hasNewBuilds FROM JobsetEvals WHERE id = " + std::to_string(fourth.evalId))[0][0]
                  .as<int>(),
              1);
    EXPECT_EQ(query("SELECT isCurrent FROM Builds WHERE id = " + std::to_string(first.newBuilds[4]))[0][0]
                  .as<int>(),
              0);
}

TEST_F(EvalStoreTest, TimingOfTwentyThousandJobs)
{
    NewEvaluation ev;
    ev.jobsetId = jobsetId;
    ev.traceId = "big";
    ev.hash = "h";
    for (int i = 0; i < 20000; ++i) {
        auto j = job("pkgs.package" + std::to_string(i));
        j.description = "A package with \"quotes\", commas and \\ backslashes";
        j.outputs["dev"] = storePath("dev" + std::to_string(i));
        ev.jobs.push_back(std::move(j));
    }
    auto t0 = std::chrono::steady_clock::now();
    auto first = write(ev, 1000);
    auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20000; i += 100) ev.jobs[static_cast<size_t>(i)].outputs["out"] += "-changed";
    auto second = write(ev, 2000);
    auto t2 = std::chrono::steady_clock::now();
    EXPECT_EQ(first.newBuilds.size(), 20000u);
    EXPECT_EQ(second.newBuilds.size(), 200u);
    EXPECT_EQ(second.reusedBuilds.size(), 19800u);
    EXPECT_EQ(
        query("SELECT count(*) FROM Builds WHERE description = 'A package with \"quotes\", commas and \\ "
              "backslashes'")[0][0]
            .as<int>(),
        20200);
    auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    std::printf("writeEvaluation of 20000 jobs: %lld ms new, %lld ms with 19800 reused\n",
                static_cast<long long>(ms(t1 - t0)), static_cast<long long>(ms(t2 - t1)));
}

} // namespace
