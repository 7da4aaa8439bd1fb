// hydra-notify with a build_finished split into parts (too many dependents for one PostgreSQL
// notification): every build in every part gets its RunCommand once, the failed build itself
// once however many parts name it, and no build stays pending, whether the parts come together,
// one after another, behind other events, or while hydra-notify is stopped.

#include "db/queue_notify.hh"
#include "harness/notify_fixture.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

using namespace hydra;
using namespace hydra::test;

namespace {

const std::string pendingSql = "SELECT count(*) FROM Builds WHERE notificationPendingSince IS NOT NULL";

class NotifyPartsTest : public NotifyFixture {
protected:
    void SetUp() override
    {
        NotifyFixture::SetUp();
        // One shell and no other program per build: thousands of builds stay quick.
        addConfig("<runcommand>\n  job = *:*:*\n  command = read -r j < \"$HYDRA_JSON\"; echo \"$j\" >> " +
                  state_ + "/handled\n</runcommand>");
    }

    // `n` builds finished together, pending: the first failed, the others depend on it.
    std::vector<long long> failedTogether(int n)
    {
        pqxx::work t(*conn_);
        auto r = t.exec_params(
            "INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system, buildStatus, "
            "startTime, stopTime, notificationPendingSince) "
            "SELECT 1, 1700000000, $1, 'j' || i, 'j' || i, '/nix/store/aaaa-j' || i || '.drv', "
            "'x86_64-linux', "
            "CASE WHEN i = 1 THEN 1 ELSE 2 END, 1700000000, 1700000010, 1700000010 "
            "FROM generate_series(1, $2) i ORDER BY i RETURNING id",
            jobsetId_, n);
        t.commit();
        std::vector<long long> ids;
        for (auto row : r) ids.push_back(row[0].as<long long>());
        std::sort(ids.begin(), ids.end());
        return ids;
    }

    void send(const std::vector<std::string>& payloads)
    {
        pqxx::work t(*conn_);
        for (const auto& p : payloads) t.exec_params("SELECT pg_notify('build_finished', $1)", p);
        t.commit();
    }

    // How many times RunCommand ran for each build, from the lines its command wrote.
    std::map<long long, int> handled()
    {
        std::map<long long, int> out;
        std::istringstream in(readFile(state_ + "/handled"));
        std::string line;
        while (std::getline(in, line)) {
            auto j = nlohmann::json::parse(line);
            EXPECT_EQ(j.at("event"), "buildFinished");
            ++out[j.at("build").get<long long>()];
        }
        return out;
    }

    void expectEachHandledOnce(const std::vector<long long>& ids)
    {
        waitForCount(pendingSql, 0);
        std::map<long long, int> want;
        for (auto id : ids) want[id] = 1;
        EXPECT_EQ(handled(), want);
        EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs"), static_cast<long long>(ids.size()));
        EXPECT_EQ(count("SELECT count(*) FROM TaskRetries"), 0);
    }
};

std::vector<db::BuildId> dependentsOf(const std::vector<long long>& ids)
{
    return {ids.begin() + 1, ids.end()};
}

std::string part(long long top, const std::vector<long long>& ids, size_t from, size_t to)
{
    std::vector<db::BuildId> deps(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                  ids.begin() + static_cast<std::ptrdiff_t>(to));
    return db::buildFinishedPayload(top, deps);
}

} // namespace

TEST_F(NotifyPartsTest, PartsSentTogetherHandleEveryBuildOnce)
{
    startNotify();
    auto ids = failedTogether(2000);
    auto deps = dependentsOf(ids);
    auto parts = db::buildFinishedPayloads(ids.front(), deps);
    ASSERT_GE(parts.size(), 2u) << "1,999 dependents do not fit in one notification";
    send(parts);
    expectEachHandledOnce(ids);
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyPartsTest, APartAfterTheBuildWasHandledActsForItsDependentsOnly)
{
    startNotify();
    auto ids = failedTogether(9);
    send({part(ids[0], ids, 1, 5)});
    waitForCount("SELECT count(*) FROM Builds WHERE notificationPendingSince IS NULL", 5);
    send({part(ids[0], ids, 5, 7), part(ids[0], ids, 7, 9)});
    expectEachHandledOnce(ids);
    EXPECT_NE(notifyLog().find("handled already; this build_finished is for 2 of its dependents"),
              std::string::npos)
        << notifyLog();
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyPartsTest, PartsSentWhileStoppedAreHandledAtStart)
{
    startNotify();
    auto ids = failedTogether(9);
    send({part(ids[0], ids, 1, 4)});
    waitForCount(pendingSql, 5);
    ASSERT_EQ(stopNotify(), 0);
    send({part(ids[0], ids, 4, 6), part(ids[0], ids, 6, 9)}); // nobody listens
    startNotify();
    expectEachHandledOnce(ids);
    EXPECT_EQ(stopNotify(), 0);
}

// A worker that handled a build while other events wait clears its pending flag later, together
// with the next builds'; the build's second part, queued behind it, must still find the build
// handled and act for its dependents only.
TEST_F(NotifyPartsTest, APartQueuedWhileOtherEventsWaitFindsTheBuildHandled)
{
    startNotify();
    auto ids = failedTogether(9);
    auto others = failedTogether(20);
    std::vector<std::string> payloads{part(ids[0], ids, 1, 5), part(ids[0], ids, 5, 9)};
    for (auto id : others) payloads.push_back(std::to_string(id));
    send(payloads);
    auto all = ids;
    all.insert(all.end(), others.begin(), others.end());
    expectEachHandledOnce(all);
    EXPECT_NE(notifyLog().find("handled already; this build_finished is for 4 of its dependents"),
              std::string::npos)
        << notifyLog();
    EXPECT_EQ(stopNotify(), 0);
}
