// Serve protocol: every request encoded and every reply decoded against hand-written bytes.

#include "nix/serve_protocol.hh"
#include "util/error.hh"

#include "support/golden_bytes.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::nix;
using namespace hydra::nix::serve;
using namespace std::string_literals;

using hydra::test::errorOf;
using hydra::test::str;
using hydra::test::u64;

namespace {

const std::string pathA = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";
const std::string pathB = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";
const std::string drvPath = "/nix/store/dddddddddddddddddddddddddddddddd-x.drv";
const std::string outPath = "/nix/store/oooooooooooooooooooooooooooooooo-x";
const std::string devPath = "/nix/store/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv-x-dev";

Derivation sampleDerivation()
{
    Derivation d;
    d.outputs["out"] = {.path = outPath};
    d.outputs["dev"] = {.path = devPath, .hashAlgo = "r:sha256", .hash = "0a1b"};
    d.inputDrvs[drvPath] = {"out"}; // never sent: the builder gets the inputs' outputs
    d.inputSrcs = {pathB, pathA};
    d.platform = "x86_64-linux";
    d.builder = "/bin/sh";
    d.args = {"-c", "echo"};
    d.env = {{"out", outPath}, {"a", "1"}};
    return d;
}

// The sample derivation as BasicDerivation bytes: maps in key order, args in their order.
const std::string sampleDerivationBytes = u64(2) +                                                    //
                                          str("dev") + str(devPath) + str("r:sha256") + str("0a1b") + //
                                          str("out") + str(outPath) + str("") + str("") +             //
                                          u64(2) + str(pathA) + str(pathB) +                          //
                                          str("x86_64-linux") + str("/bin/sh") +                      //
                                          u64(2) + str("-c") + str("echo") +                          //
                                          u64(2) + str("a") + str("1") + str("out") + str(outPath);

const BuildOptions sampleOptions{.maxSilentTime = 11,
                                 .buildTimeout = 22,
                                 .maxLogSize = 33,
                                 .nrRepeats = 44,
                                 .enforceDeterminism = true,
                                 .keepFailed = true};

template <typename F> std::string encode(F&& f)
{
    StringSink out;
    f(out);
    return out.take();
}

} // namespace

// ---- requests ----

TEST(ServeEncode, Hello)
{
    EXPECT_EQ(encode([](Sink& s) { writeHello(s); }), "\xeb\x9d\x0c\x39\0\0\0\0\x07\x02\0\0\0\0\0\0"s);
}

TEST(ServeEncode, QueryValidPaths)
{
    EXPECT_EQ(encode([](Sink& s) {
                  writeQueryValidPaths(s, {pathB, pathA}, true, false);
              }),
              u64(1) + u64(1) + u64(0) + u64(2) + str(pathA) + str(pathB));
}

TEST(ServeEncode, QueryPathInfosDumpImportExport)
{
    EXPECT_EQ(encode([](Sink& s) { writeQueryPathInfos(s, {pathA}); }), u64(2) + u64(1) + str(pathA));
    EXPECT_EQ(encode([](Sink& s) { writeDumpStorePath(s, pathA); }), u64(3) + str(pathA));
    EXPECT_EQ(encode([](Sink& s) { writeImportPaths(s); }), u64(4));
    EXPECT_EQ(encode([](Sink& s) { writeExportPaths(s, {pathA}); }), u64(5) + u64(0) + u64(1) + str(pathA));
}

TEST(ServeEncode, BuildPathsSettingsFollowTheVersion)
{
    auto head = u64(6) + u64(1) + str(drvPath + "!out") + u64(11) + u64(22);
    auto at = [&](unsigned minor) {
        return encode([&](Sink& s) { writeBuildPaths(s, {drvPath + "!out"}, sampleOptions, minor); });
    };
    EXPECT_EQ(at(1), head);
    EXPECT_EQ(at(2), head + u64(33));
    EXPECT_EQ(at(6), head + u64(33) + u64(44) + u64(1));
    EXPECT_EQ(at(7), head + u64(33) + u64(44) + u64(1) + u64(1));
    // A newer server reads what our announced 2.7 carries, no more.
    EXPECT_EQ(at(9), at(7));
}

TEST(ServeEncode, QueryClosure)
{
    EXPECT_EQ(encode([](Sink& s) {
                  writeQueryClosure(s, {pathA, pathB}, true);
              }),
              u64(7) + u64(1) + u64(2) + str(pathA) + str(pathB));
}

TEST(ServeEncode, BuildDerivation)
{
    auto got =
        encode([](Sink& s) { writeBuildDerivation(s, drvPath, sampleDerivation(), sampleOptions, 7); });
    EXPECT_EQ(got, u64(8) + str(drvPath) + sampleDerivationBytes + u64(11) + u64(22) + u64(33) + u64(44) +
                       u64(1) + u64(1));
    StringSource in(sampleDerivationBytes);
    auto back = readBasicDerivation(in);
    auto expected = sampleDerivation();
    expected.inputDrvs.clear();
    EXPECT_EQ(back, expected);
}

TEST(ServeEncode, AddToStoreNar)
{
    AddToStoreInfo info{.path = pathB,
                        .deriver = drvPath,
                        .narHash = "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
                        .references = {pathA},
                        .registrationTime = 1700000000,
                        .narSize = 120,
                        .ultimate = true,
                        .sigs = {"cache:sig"},
                        .ca = ""};
    EXPECT_EQ(encode([&](Sink& s) { writeAddToStoreNar(s, info); }),
              u64(9) + str(pathB) + str(drvPath) +
                  str("sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s") + u64(1) + str(pathA) +
                  u64(1700000000) + u64(120) + u64(1) + u64(1) + str("cache:sig") + str(""));
}

// ---- replies ----

TEST(ServeDecode, HelloReply)
{
    StringSource ok("\xcb\xee\x52\x54\0\0\0\0\x07\x02\0\0\0\0\0\0"s);
    EXPECT_EQ(readHelloReply(ok), 0x207u);

    StringSource banner("Welcome to host\n"s, "builder1");
    EXPECT_EQ(
        errorOf([&] { readHelloReply(banner); }),
        "builder1 does not speak the nix-store --serve protocol (greeting 0x20656d6f636c6557 instead of "
        "0x5452eecb)");
    StringSource v3(u64(0x5452eecb) + u64(0x300), "builder1");
    EXPECT_EQ(errorOf([&] { readHelloReply(v3); }),
              "builder1 speaks nix-store --serve protocol 3.0; only major version 2 is supported");
    StringSource cut(u64(0x5452eecb), "builder1");
    EXPECT_EQ(errorOf([&] { readHelloReply(cut); }),
              "unexpected end of builder1 while reading the serve protocol version");
}

TEST(ServeDecode, PathSet)
{
    StringSource in(u64(2) + str(pathB) + str(pathA));
    EXPECT_EQ(readPathSet(in, "valid paths"), (std::set<std::string>{pathA, pathB}));
}

TEST(ServeDecode, PathInfosWithAndWithoutHashes)
{
    auto hash = "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"s;
    StringSource v4(str(pathA) + str("") + u64(0) + u64(100) + u64(200) + str(hash) + str("") + u64(0) + //
                    str(pathB) + str(drvPath) + u64(1) + str(pathA) + u64(5) + u64(6) + str(hash) +
                    str("fixed:r:sha256:abc") + u64(1) + str("k:sig") + //
                    str(""));
    auto infos = readPathInfos(v4, 7);
    ASSERT_EQ(infos.size(), 2u);
    EXPECT_EQ(infos[0], (PathInfo{.path = pathA, .downloadSize = 100, .narSize = 200, .narHash = hash}));
    EXPECT_EQ(infos[1], (PathInfo{.path = pathB,
                                  .deriver = drvPath,
                                  .references = {pathA},
                                  .downloadSize = 5,
                                  .narSize = 6,
                                  .narHash = hash,
                                  .ca = "fixed:r:sha256:abc",
                                  .sigs = {"k:sig"}}));
    EXPECT_EQ(v4.remaining(), 0u);

    StringSource v3(str(pathA) + str("") + u64(0) + u64(100) + u64(200) + str(""));
    EXPECT_EQ(readPathInfos(v3, 3),
              (std::vector<PathInfo>{{.path = pathA, .downloadSize = 100, .narSize = 200}}));
    EXPECT_EQ(v3.remaining(), 0u);
}

TEST(ServeDecode, BuildPathsResult)
{
    StringSource ok(u64(0));
    EXPECT_EQ(readBuildPathsResult(ok), BuildPathsResult{});
    StringSource failed(u64(100) + str("build of x failed"));
    EXPECT_EQ(readBuildPathsResult(failed), (BuildPathsResult{100, "build of x failed"}));
}

TEST(ServeDecode, BuildResultAtEachVersion)
{
    auto id = "sha256:6e1b4c0a1c7c6fc2b07a8fd1d20d2a7d8b6c3a7f1d9e0c4b5a6978877665544!out"s;
    auto json = R"({"dependentRealisations":{},"id":")" + id +
                R"(","outPath":"oooooooooooooooooooooooooooooooo-x","signatures":["k:s"]})";
    auto v7 =
        u64(0) + str("") + u64(1) + u64(0) + u64(1700000000) + u64(1700000005) + u64(1) + str(id) + str(json);
    StringSource in7(v7);
    auto r = readBuildResult(in7, 7);
    EXPECT_EQ(r.status, BuildStatus::Built);
    EXPECT_EQ(r.timesBuilt, 1u);
    EXPECT_FALSE(r.isNonDeterministic);
    EXPECT_EQ(r.startTime, 1700000000u);
    EXPECT_EQ(r.stopTime, 1700000005u);
    ASSERT_EQ(r.builtOutputs.size(), 1u);
    EXPECT_EQ(
        r.builtOutputs.at(id),
        (Realisation{.id = id, .outPath = "oooooooooooooooooooooooooooooooo-x", .signatures = {"k:s"}}));
    EXPECT_EQ(r.builtOutputs.at(id).outputName(), "out");
    EXPECT_EQ(in7.remaining(), 0u);

    StringSource in5(u64(3) + str("builder failed") + u64(1) + u64(1) + u64(10) + u64(20));
    EXPECT_EQ(readBuildResult(in5, 5), (BuildResult{.status = BuildStatus::PermanentFailure,
                                                    .errorMsg = "builder failed",
                                                    .timesBuilt = 1,
                                                    .isNonDeterministic = true,
                                                    .startTime = 10,
                                                    .stopTime = 20}));
    EXPECT_EQ(in5.remaining(), 0u);

    StringSource in2(u64(8) + str("timed out"));
    EXPECT_EQ(readBuildResult(in2, 2),
              (BuildResult{.status = BuildStatus::TimedOut, .errorMsg = "timed out"}));
    EXPECT_EQ(in2.remaining(), 0u);
}

TEST(ServeDecode, BadRealisations)
{
    auto reply = [](const std::string& json) {
        return u64(0) + str("") + u64(1) + u64(0) + u64(0) + u64(0) + u64(1) + str("h!out") + str(json);
    };
    auto error = [&](const std::string& json) {
        StringSource in(reply(json), "builder1");
        return errorOf([&] { readBuildResult(in, 6); });
    };
    EXPECT_EQ(error("{"), "realisation h!out from builder1 is not a JSON object");
    EXPECT_EQ(error("[]"), "realisation h!out from builder1 is not a JSON object");
    EXPECT_EQ(error(R"({"id":"h!out"})"), "realisation h!out from builder1 has no outPath");
    EXPECT_EQ(error(R"({"outPath":5})"), "realisation h!out from builder1: field 'outPath' is not a string");
    EXPECT_EQ(error(R"({"outPath":"p","signatures":{}})"),
              "realisation h!out from builder1: signatures is not a list");
}

TEST(ServeDecode, StatusNames)
{
    EXPECT_EQ(buildStatusName(BuildStatus::Built), "Built");
    EXPECT_EQ(buildStatusName(BuildStatus::PermanentFailure), "PermanentFailure");
    EXPECT_EQ(buildStatusName(BuildStatus::NoSubstituters), "NoSubstituters");
    EXPECT_EQ(buildStatusName(static_cast<BuildStatus>(15)), "unknown status 15");
    EXPECT_TRUE(isSuccess(BuildStatus::AlreadyValid));
    EXPECT_FALSE(isSuccess(BuildStatus::CachedFailure));
}

TEST(ServeDecode, SuccessMarker)
{
    StringSource one(u64(1));
    readSuccessMarker(one, "ImportPaths");
    StringSource zero(u64(0), "builder1");
    EXPECT_EQ(errorOf([&] { readSuccessMarker(zero, "ImportPaths"); }),
              "builder1 answered 0 to ImportPaths instead of 1 (success)");
}

// ---- a whole session over scripted streams ----

TEST(ServeClientSession, CommandsAndRepliesInOrder)
{
    auto nar =
        str("nix-archive-1") + str("(") + str("type") + str("symlink") + str("target") + str("x") + str(")");
    StringSource replies("\xcb\xee\x52\x54\0\0\0\0\x06\x02\0\0\0\0\0\0"s + // 2.6
                             u64(1) + str(pathA) +                         // valid paths
                             nar +                                         // DumpStorePath
                             u64(2) + str("") + u64(1) + u64(0) + u64(0) + u64(0) +
                             u64(0) + // BuildDerivation
                             u64(1),  // AddToStoreNar
                         "builder1");
    StringSink requests;
    ServeClient client(replies, requests);
    client.handshake();
    EXPECT_EQ(client.serverMinor(), 6u);
    EXPECT_EQ(client.queryValidPaths({pathA, pathB}), std::set<std::string>{pathA});
    StringSink narOut;
    client.dumpStorePath(pathA, narOut);
    EXPECT_EQ(narOut.data(), nar);
    auto r = client.buildDerivation(drvPath, sampleDerivation(), sampleOptions);
    EXPECT_EQ(r.status, BuildStatus::AlreadyValid);
    client.addToStoreNar({.path = pathA, .narHash = "h", .narSize = nar.size()},
                         [&](Sink& s) { s.write(nar); });
    EXPECT_EQ(replies.remaining(), 0u);

    EXPECT_EQ(requests.data(),
              "\xeb\x9d\x0c\x39\0\0\0\0\x07\x02\0\0\0\0\0\0"s +                 //
                  u64(1) + u64(0) + u64(0) + u64(2) + str(pathA) + str(pathB) + //
                  u64(3) + str(pathA) +                                         //
                  u64(8) + str(drvPath) + sampleDerivationBytes +               //
                  u64(11) + u64(22) + u64(33) + u64(44) + u64(1) +              // no keepFailed at 2.6
                  u64(9) + str(pathA) + str("") + str("h") + u64(0) + u64(0) + u64(nar.size()) + u64(0) +
                  u64(0) + str("") + nar);
}

TEST(ServeClientSession, RefusesCommandsBeforeHandshakeAndWrongNarSizes)
{
    StringSource replies("\xcb\xee\x52\x54\0\0\0\0\x07\x02\0\0\0\0\0\0"s);
    StringSink requests;
    ServeClient client(replies, requests);
    EXPECT_EQ(errorOf([&] { client.queryValidPaths({pathA}); }),
              "nix-store --serve session used before its handshake");
    client.handshake();
    EXPECT_EQ(errorOf([&] {
                  client.addToStoreNar({.path = pathA, .narSize = 10}, [](Sink& s) { s.write("short"); });
              }),
              "NAR of " + pathA + " is 5 bytes, but 10 were announced");
    // Half a request went out: the session is out of step and refuses further commands.
    EXPECT_EQ(errorOf([&] { client.queryValidPaths({pathA}); }),
              "nix-store --serve session with in-memory data is unusable after an earlier error");
}
