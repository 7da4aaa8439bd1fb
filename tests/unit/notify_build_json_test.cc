// The HYDRA_JSON document: Hydra's field names and types, nulls for NULL columns, products
// numbered from 1, event names as Hydra spells them.

#include "notify/build_json.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::notify;

namespace {

db::BuildDescription finishedBuild()
{
    db::BuildDescription b;
    b.id = 17;
    b.finished = true;
    b.timestamp = 1700000000;
    b.project = "p";
    b.jobset = "js";
    b.job = "hello";
    b.drvPath = "/nix/store/aaa-hello.drv";
    b.startTime = 1700000010;
    b.stopTime = 1700000020;
    b.buildStatus = 0;
    b.nixName = "hello-1.0";
    b.system = "x86_64-linux";
    b.homepage = "https://example.org";
    b.license = "GPL";
    b.outputs = {{"out", "/nix/store/bbb-hello"}};
    b.products = {{"file", "source-dist", 42, "abcd", "/nix/store/bbb-hello/x.tar", "x.tar", ""}};
    b.metrics = {{"size", "bytes", 12.5}, {"lines", "", 3}};
    return b;
}

TEST(BuildJson, FieldNamesInHydraOrder)
{
    auto j = buildJson(finishedBuild(), "buildFinished");
    std::vector<std::string> keys;
    for (auto& [k, v] : j.items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"event", "build", "finished", "timestamp", "project", "jobset",
                                              "job", "drvPath", "startTime", "stopTime", "buildStatus",
                                              "nixName", "system", "homepage", "description", "license",
                                              "outputs", "products", "metrics"}));
}

TEST(BuildJson, ExactDocumentOfAFinishedBuild)
{
    auto expected = nlohmann::ordered_json::parse(R"({
        "event": "buildFinished", "build": 17, "finished": true, "timestamp": 1700000000,
        "project": "p", "jobset": "js", "job": "hello", "drvPath": "/nix/store/aaa-hello.drv",
        "startTime": 1700000010, "stopTime": 1700000020, "buildStatus": 0, "nixName": "hello-1.0",
        "system": "x86_64-linux", "homepage": "https://example.org", "description": null,
        "license": "GPL",
        "outputs": [{"name": "out", "path": "/nix/store/bbb-hello"}],
        "products": [{"productNr": 1, "type": "file", "subtype": "source-dist", "fileSize": 42,
                      "sha256hash": "abcd", "path": "/nix/store/bbb-hello/x.tar", "name": "x.tar",
                      "defaultPath": ""}],
        "metrics": [{"name": "size", "unit": "bytes", "value": 12.5},
                    {"name": "lines", "unit": null, "value": 3.0}]})");
    EXPECT_EQ(buildJson(finishedBuild(), "buildFinished"), expected);
}

TEST(BuildJson, QueuedBuildHasNullTimesAndStatus)
{
    db::BuildDescription b;
    b.id = 3;
    auto j = buildJson(b, "buildQueued");
    EXPECT_EQ(j["event"], "buildQueued");
    EXPECT_EQ(j["finished"], false);
    EXPECT_TRUE(j["startTime"].is_null());
    EXPECT_TRUE(j["stopTime"].is_null());
    EXPECT_TRUE(j["buildStatus"].is_null());
    EXPECT_TRUE(j["outputs"].is_array());
    EXPECT_TRUE(j["products"].empty());
    EXPECT_TRUE(j["metrics"].is_array());
}

TEST(BuildJson, ProductsNumberedFromOne)
{
    auto b = finishedBuild();
    b.products.push_back(
        {"doc", "manual", std::nullopt, std::nullopt, "/nix/store/ccc", "manual", "index.html"});
    auto j = buildJson(b, "buildFinished");
    EXPECT_EQ(j["products"][1]["productNr"], 2);
    EXPECT_TRUE(j["products"][1]["fileSize"].is_null());
    EXPECT_TRUE(j["products"][1]["sha256hash"].is_null());
}

TEST(BuildJson, EventNames)
{
    EXPECT_EQ(eventName("build_finished"), "buildFinished");
    EXPECT_EQ(eventName("build_queued"), "buildQueued");
    EXPECT_EQ(eventName("step_finished"), "stepFinished");
    EXPECT_EQ(eventName("cached_build_queued"), "cachedBuildQueued");
}

} // namespace
