// InfluxDB: the line protocol written for finished builds.

#include "notify/influxdb.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::notify;

namespace {

db::BuildDescription build(db::BuildId id, const std::string& jobset, int status)
{
    db::BuildDescription b;
    b.id = id;
    b.project = "p";
    b.jobset = jobset;
    b.job = "hello";
    b.system = "x86_64-linux";
    b.finished = true;
    b.buildStatus = status;
    b.timestamp = 1000;
    b.startTime = 1010;
    b.stopTime = 1070;
    return b;
}

} // namespace

TEST(InfluxDB, StatusNames)
{
    EXPECT_EQ(influxStatusClass(0), "success");
    EXPECT_EQ(influxStatusClass(1), "failed");
    EXPECT_EQ(influxStatusClass(4), "canceled");
    EXPECT_EQ(influxStatusDetail(2), "dependency-failed");
    EXPECT_EQ(influxStatusDetail(7), "timed-out");
    EXPECT_EQ(influxStatusDetail(3), "aborted");
}

TEST(InfluxDB, LineOfASucceededBuild)
{
    EXPECT_EQ(influxLine(build(7, "js", 0), {false, 100, 2000}, 7, "host-a"),
              "hydra_build_status,cached=false,job=hello,jobset=js,project=p,repo=js,result=success,"
              "status=success,system=x86_64-linux,host=host-a "
              "build_id=\"7\",build_status=0i,closure_size=2000i,duration=60i,main_build_id=\"7\",queued=10i,"
              "size=100i 1070");
}

TEST(InfluxDB, PullRequestJobsetRepoAndDependent)
{
    auto line = influxLine(build(8, "hydra.pr-12", 2), {true, 0, 0}, 7, "");
    EXPECT_EQ(line,
              "hydra_build_status,cached=true,job=hello,jobset=hydra.pr-12,project=p,repo=hydra,"
              "result=dependency-failed,status=failed,system=x86_64-linux "
              "build_id=\"8\",build_status=2i,closure_size=0i,duration=60i,main_build_id=\"7\",queued=10i,"
              "size=0i 1070");
}

TEST(InfluxDB, TagValuesAreEscaped)
{
    EXPECT_EQ(influxEscapeTag("a b,c=d"), "a\\ b\\,c\\=d");
}

TEST(InfluxDB, WriteUrl)
{
    EXPECT_EQ(influxWriteUrl({"http://influx:8086/", "hydra", {}}),
              "http://influx:8086/write?db=hydra&precision=s");
}
