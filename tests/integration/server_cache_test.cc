// hydra-server as a binary cache: what the farm built is substituted by another machine's Nix
// (a build host with its own, empty store) from the server, with only the cache's public key
// trusted; a wrong key, an unsigned cache and a narinfo altered on the way are refused by Nix.

#include "harness/build_host.hh"
#include "harness/evaluator_fixture.hh"
#include "harness/nix_graph.hh"
#include "harness/server_fixture.hh"
#include "util/process.hh"

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <httplib.h>
#include <regex>
#include <thread>

using namespace std::chrono_literals;

namespace hydra::test {
namespace {

class ServerCacheTest : public EvaluatorFixture {
protected:
    // A key pair as `nix-store --generate-binary-cache-key` makes it; returns the public key.
    std::string generateKey(const std::string& name)
    {
        auto sec = state_ + "/" + name + ".sec", pub = state_ + "/" + name + ".pub";
        auto r = run({.argv = {"nix-store", "--generate-binary-cache-key", name, sec, pub},
                      .setEnv = nixTestEnv(),
                      .pipeStdout = true,
                      .pipeStderr = true});
        EXPECT_TRUE(exitedOk(r.status)) << r.err;
        std::ifstream in(pub);
        std::string key;
        std::getline(in, key);
        return key;
    }

    void startServer(const std::string& keyName = "")
    {
        if (!keyName.empty())
            addConfig("binary_cache_secret_key_file = " + state_ + "/" + keyName + ".sec\n");
        server_ = std::make_unique<TestDaemon>(serverBinary(), state_ + "/server.log");
        port_ = startServerDaemon(*server_, runnerEnv());
        ASSERT_NE(port_, 0);
    }

    // `nix-store -r` on the host from `cacheUrl`, trusting only `publicKey`.
    RunResult substitute(BuildHost& host, const std::string& path, const std::string& cacheUrl,
                         const std::string& publicKey)
    {
        return host.run(
            fmt::format("nix-store -r {} --option substituters {} --option trusted-public-keys '{}' "
                        "--option narinfo-cache-negative-ttl 0",
                        path, cacheUrl, publicKey));
    }

    bool validOn(BuildHost& host, const std::string& path)
    {
        return exitedOk(host.run("nix-store --check-validity " + path).status);
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    std::unique_ptr<TestDaemon> server_;
    int port_ = 0;
};

TEST_F(ServerCacheTest, AnotherMachineSubstitutesWhatTheFarmBuiltTrustingOnlyTheCachesKey)
{
    auto key = generateKey("farm-cache-1");
    auto nonce = randomNonce();
    pathJobset("js", jobsetDir(goodBadDependentJobset(nonce)), 3600);
    startRunner();
    startEvaluator();
    waitForCount("SELECT count(*) FROM Builds WHERE finished = 1", 3, 240s);
    auto out = query1<std::string>("SELECT o.path FROM BuildOutputs o JOIN Builds b ON b.id = o.build WHERE "
                                   "b.job = 'good' AND o.name = 'out'");
    ASSERT_TRUE(validLocally(out));
    startServer("farm-cache-1");

    auto info = httpRequest(port_, "GET", "/nix-cache-info");
    EXPECT_EQ(info.status, 200);
    EXPECT_NE(info.body.find("StoreDir: /nix/store"), std::string::npos) << info.body;
    auto hashPart = out.substr(11, 32);
    auto narinfo = httpRequest(port_, "GET", "/" + hashPart + ".narinfo");
    ASSERT_EQ(narinfo.status, 200) << narinfo.body;
    EXPECT_NE(narinfo.body.find("StorePath: " + out + "\n"), std::string::npos) << narinfo.body;
    EXPECT_NE(narinfo.body.find("Compression: zstd\n"), std::string::npos) << narinfo.body;
    EXPECT_NE(narinfo.body.find("Sig: farm-cache-1:"), std::string::npos) << narinfo.body;
    // A path the store lacks: 404, which proxies may keep a while.
    auto missing = httpRequest(port_, "GET", "/" + std::string(32, '0') + ".narinfo");
    EXPECT_EQ(missing.status, 404);
    EXPECT_NE(missing.header("Cache-Control").find("max-age"), std::string::npos);
    EXPECT_EQ(httpRequest(port_, "GET", "/not-a-hash.narinfo").status, 400);

    BuildHost host;
    ASSERT_FALSE(validOn(host, out));
    auto r = substitute(host, out, url(), key);
    EXPECT_TRUE(exitedOk(r.status)) << r.out << r.err;
    EXPECT_TRUE(validOn(host, out));
    EXPECT_EQ(server_->stop(), 0) << server_->log();
}

TEST_F(ServerCacheTest, AWholeClosureComesByNixCopyAndAnOldNixGetsXz)
{
    auto key = generateKey("closure-cache-1");
    auto graph = NixGraph::closure(6);
    auto built = graph.build();
    auto top = built.at("top").outputs.at("out");
    startServer("closure-cache-1");
    BuildHost host;
    // `nix copy --from`, the other way users fetch from a cache, with the signatures checked.
    auto r = host.run(fmt::format("nix --extra-experimental-features nix-command copy --from {} "
                                  "--option trusted-public-keys '{}' {}",
                                  url(), key, top));
    ASSERT_TRUE(exitedOk(r.status)) << r.out << r.err;
    auto closure = host.runChecked("nix-store --query --requisites " + top);
    EXPECT_EQ(std::count(closure.begin(), closure.end(), '\n'), 6) << closure;

    // Nix before 2.4 cannot read zstd: it is pointed at an xz NAR, which decompresses to the NAR.
    auto hashPart = top.substr(11, 32);
    auto old =
        httpRequest(port_, "GET", "/" + hashPart + ".narinfo", "", {{"User-Agent", "curl/7.0 Nix/2.3.16"}});
    EXPECT_NE(old.body.find("Compression: xz\n"), std::string::npos) << old.body;
    EXPECT_NE(old.body.find("URL: nar/" + hashPart + ".nar.xz\n"), std::string::npos) << old.body;
    auto xz = httpRequest(port_, "GET", "/nar/" + hashPart + ".nar.xz");
    ASSERT_EQ(xz.status, 200);
    auto unpacked = run({.argv = {"xz", "-dc"}, .pipeStdout = true}, xz.body);
    auto dumped = run({.argv = {"nix-store", "--dump", top}, .setEnv = nixTestEnv(), .pipeStdout = true});
    EXPECT_EQ(unpacked.out, dumped.out);
    EXPECT_EQ(httpRequest(port_, "GET", "/nar/" + hashPart + ".nar").body, dumped.out);
}

TEST_F(ServerCacheTest, NixRefusesAWrongKeyAnUnsignedCacheAndAnAlteredNarinfo)
{
    generateKey("right-key-1");
    auto other = generateKey("other-key-1");
    auto graph = NixGraph::closure(3);
    auto top = graph.build().at("top").outputs.at("out");
    startServer("right-key-1");
    BuildHost host;

    auto wrong = substitute(host, top, url(), other);
    EXPECT_FALSE(exitedOk(wrong.status)) << wrong.out << wrong.err;
    EXPECT_NE(wrong.err.find("is not signed by any of the keys in 'trusted-public-keys'"), std::string::npos)
        << wrong.err;
    EXPECT_FALSE(validOn(host, top));

    // A man in the middle drops a reference from the signed narinfo.
    auto right = [&] {
        std::ifstream in(state_ + "/right-key-1.pub");
        std::string k;
        std::getline(in, k);
        return k;
    }();
    httplib::Server proxy;
    proxy.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
        auto reply = httpRequest(port_, "GET", req.path);
        auto body = reply.body;
        if (req.path.ends_with(".narinfo"))
            body = std::regex_replace(body, std::regex("References: (\\S+) (\\S+)"), "References: $1");
        res.status = reply.status;
        res.set_content(body, reply.header("Content-Type").c_str());
    });
    int proxyPort = proxy.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { proxy.listen_after_bind(); });
    auto altered = substitute(host, top, "http://127.0.0.1:" + std::to_string(proxyPort), right);
    proxy.stop();
    serving.join();
    EXPECT_FALSE(exitedOk(altered.status)) << altered.out << altered.err;
    EXPECT_NE(altered.err.find("is not signed by any of the keys in 'trusted-public-keys'"),
              std::string::npos)
        << altered.err;
    EXPECT_FALSE(validOn(host, top));

    // Without a key the narinfo is unsigned, and Nix (which requires signatures) refuses it.
    server_->stop();
    std::ofstream(state_ + "/hydra.conf", std::ios::trunc) << "";
    server_ = std::make_unique<TestDaemon>(serverBinary(), state_ + "/server2.log");
    port_ = startServerDaemon(*server_, runnerEnv());
    auto hashPart = top.substr(11, 32);
    EXPECT_EQ(httpRequest(port_, "GET", "/" + hashPart + ".narinfo").body.find("Sig:"), std::string::npos);
    auto unsigned_ = substitute(host, top, url(), right);
    EXPECT_FALSE(exitedOk(unsigned_.status)) << unsigned_.out << unsigned_.err;
    EXPECT_NE(unsigned_.err.find("is not signed by any of the keys in 'trusted-public-keys'"),
              std::string::npos)
        << unsigned_.err;
    EXPECT_FALSE(validOn(host, top));
}

// A jobset of packages (directories, so each gets Hydra's "nix-build" product), one nested.
std::string packageJobset(const std::string& nonce)
{
    return fmt::format(R"(
{{ system ? builtins.currentSystem, busybox, ... }}:
let
  pkg = name: derivation {{
    inherit name system;
    builder = "${{busybox}}/bin/sh";
    args = [ "-c" "mkdir -p $out/share; echo {0} > $out/share/{0}" ];
  }};
in {{
  hello = pkg "hello-2.12";
  tools.fmt = pkg "fmt-10.1";
}}
)",
                       nonce);
}

TEST_F(ServerCacheTest, NixChannelSubscribesToAJobsetAndInstallsFromTheCache)
{
    auto key = generateKey("channel-cache-1");
    pathJobset("js", jobsetDir(packageJobset(randomNonce())), 3600);
    startRunner();
    startEvaluator();
    waitForCount("SELECT count(*) FROM Builds WHERE finished = 1 AND buildStatus = 0", 2, 240s);
    auto hello = query1<std::string>(
        "SELECT o.path FROM BuildOutputs o JOIN Builds b ON b.id = o.build WHERE b.job = 'hello'");
    startServer("channel-cache-1");

    auto channel =
        httpRequest(port_, "GET", "/jobset/p/js/channel/latest", "", {{"Accept", "application/json"}});
    ASSERT_EQ(channel.status, 200) << channel.body;
    EXPECT_EQ(channel.json()["builds"].size(), 2u) << channel.body;
    EXPECT_EQ(httpRequest(port_, "GET", "/jobset/p/js/channel/latest/binary-cache-url").body, url() + "/\n");
    EXPECT_EQ(httpRequest(port_, "GET", "/jobset/p/nope/channel/latest/nixexprs.tar.bz2").status, 404);

    // The real nix-channel, on a machine with its own store and profiles.
    BuildHost host;
    host.runChecked(fmt::format(
        "nix-channel --add {}/jobset/p/js/channel/latest farm && nix-channel --update farm", url()));
    auto listed =
        host.runChecked("nix-env -qaP --out-path -f /nix/var/nix/profiles/per-user/root/channels/farm");
    EXPECT_NE(listed.find("hello-2.12"), std::string::npos) << listed;
    EXPECT_NE(listed.find(hello), std::string::npos) << listed;
    EXPECT_NE(listed.find("tools.fmt"), std::string::npos) << listed;
    // Installing a package substitutes it from the farm, trusting only the farm's key.
    auto installed = host.run(fmt::format(
        "nix-env -iA hello -f /nix/var/nix/profiles/per-user/root/channels/farm --option substituters {} "
        "--option trusted-public-keys '{}'",
        url(), key));
    EXPECT_TRUE(exitedOk(installed.status)) << installed.out << installed.err;
    EXPECT_TRUE(validOn(host, hello));

    // The evaluation's own channel offers the same builds.
    auto evalId = query1<long long>("SELECT max(id) FROM JobsetEvals");
    auto evalChannel = httpRequest(port_, "GET", "/eval/" + std::to_string(evalId) + "/channel", "",
                                   {{"Accept", "application/json"}});
    EXPECT_EQ(evalChannel.json()["builds"].size(), 2u) << evalChannel.body;
}

} // namespace
} // namespace hydra::test
