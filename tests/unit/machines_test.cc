// Machines file: every column and its default, comments and separators, store URI forms, the
// host key, which steps a machine accepts, the files Hydra reads, and every error message.

#include "nix/machines.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace hydra;
using namespace hydra::nix;

namespace {

// "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests root@builder\n", as `base64 -w0 key.pub` writes it.
const std::string keyText = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests root@builder";
const std::string keyBase64 =
    "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUZha2VLZXlGb3JUZXN0cyByb290QGJ1aWxkZXIK";

Machine parseOne(const std::string& line)
{
    auto ms = parseMachines(line, "machines");
    if (ms.size() != 1) throw Error("expected one machine from '{}', got {}", line, ms.size());
    return ms[0];
}

/// The exact message parseMachines throws for `text`, or "" if it accepts it.
std::string errorOf(const std::string& text)
{
    try {
        parseMachines(text, "/etc/nix/machines");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

/// A fresh directory under the system's temporary directory, removed at the end of the test.
class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "machines-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw Error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string write(const std::string& name, const std::string& text) const
    {
        auto p = (path_ / name).string();
        std::ofstream(p) << text;
        return p;
    }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

} // namespace

TEST(Machines, EveryColumn)
{
    auto m = parseOne("ssh://root@builder x86_64-linux,i686-linux /var/lib/hydra/id_ed25519 8 2.5 "
                      "kvm,nixos-test benchmark " +
                      keyBase64);
    EXPECT_EQ(m.storeUri, "ssh://root@builder");
    EXPECT_EQ(m.kind, MachineKind::Ssh);
    EXPECT_EQ(m.user, "root");
    EXPECT_EQ(m.host, "builder");
    EXPECT_EQ(m.port, 0);
    EXPECT_EQ(m.systems, (std::set<std::string>{"i686-linux", "x86_64-linux"}));
    EXPECT_EQ(m.sshKey, "/var/lib/hydra/id_ed25519");
    EXPECT_EQ(m.maxJobs, 8u);
    EXPECT_EQ(m.speedFactor, 2.5);
    // Mandatory features are supported features too, as in Hydra's queue runner.
    EXPECT_EQ(m.supportedFeatures, (std::set<std::string>{"benchmark", "kvm", "nixos-test"}));
    EXPECT_EQ(m.mandatoryFeatures, (std::set<std::string>{"benchmark"}));
    EXPECT_EQ(m.publicHostKey, keyBase64);
    EXPECT_EQ(m.publicHostKeyText, keyText);
}

TEST(Machines, DefaultsWhenColumnsAreMissing)
{
    auto m = parseOne("builder x86_64-linux");
    EXPECT_EQ(m.kind, MachineKind::Ssh);
    EXPECT_EQ(m.user, "");
    EXPECT_EQ(m.host, "builder");
    EXPECT_EQ(m.sshKey, "");
    EXPECT_EQ(m.maxJobs, 1u);
    EXPECT_EQ(m.speedFactor, 1.0);
    EXPECT_TRUE(m.supportedFeatures.empty());
    EXPECT_TRUE(m.mandatoryFeatures.empty());
    EXPECT_EQ(m.publicHostKey, "");
    EXPECT_EQ(m.publicHostKeyText, "");
}

TEST(Machines, DashMeansDefaultInEveryOptionalColumn)
{
    EXPECT_EQ(parseOne("builder x86_64-linux - - - - - -"), parseOne("builder x86_64-linux"));
    auto m = parseOne("builder x86_64-linux - 4 - kvm");
    EXPECT_EQ(m.sshKey, "");
    EXPECT_EQ(m.maxJobs, 4u);
    EXPECT_EQ(m.speedFactor, 1.0);
    EXPECT_EQ(m.supportedFeatures, (std::set<std::string>{"kvm"}));
}

TEST(Machines, CommentsBlankLinesAndWhitespace)
{
    auto ms = parseMachines("# build farm\n"
                            "\n"
                            "   \t  \n"
                            "a x86_64-linux - 2   # two jobs; not a second machine\n"
                            "\tb\t\taarch64-linux \r\n"
                            "#c x86_64-linux\n"
                            "c x86_64-linux#no space needed",
                            "machines");
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].host, "a");
    EXPECT_EQ(ms[0].maxJobs, 2u);
    EXPECT_EQ(ms[1].host, "b");
    EXPECT_EQ(ms[1].systems, (std::set<std::string>{"aarch64-linux"}));
    EXPECT_EQ(ms[2].host, "c");
    EXPECT_TRUE(parseMachines("", "machines").empty());
    EXPECT_TRUE(parseMachines("# only a comment", "machines").empty());
}

TEST(Machines, SemicolonSeparatesMachinesOnOneLine)
{
    auto ms = parseMachines("a x86_64-linux ; b aarch64-linux - 3;;c i686-linux", "machines");
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].host, "a");
    EXPECT_EQ(ms[1].host, "b");
    EXPECT_EQ(ms[1].maxJobs, 3u);
    EXPECT_EQ(ms[2].host, "c");
}

TEST(Machines, ListsSkipEmptyItems)
{
    auto m = parseOne("builder x86_64-linux,,i686-linux, - 1 1 ,kvm,,big-parallel, benchmark,");
    EXPECT_EQ(m.systems, (std::set<std::string>{"i686-linux", "x86_64-linux"}));
    EXPECT_EQ(m.supportedFeatures, (std::set<std::string>{"benchmark", "big-parallel", "kvm"}));
    EXPECT_EQ(m.mandatoryFeatures, (std::set<std::string>{"benchmark"}));
    // A dash inside a list is "nothing" too, never a feature named "-".
    auto dashes = parseOne("builder x86_64-linux,- - 1 1 -,kvm -,");
    EXPECT_EQ(dashes.systems, std::set<std::string>{"x86_64-linux"});
    EXPECT_EQ(dashes.supportedFeatures, std::set<std::string>{"kvm"});
    EXPECT_TRUE(dashes.mandatoryFeatures.empty());
}

TEST(Machines, StoreUriForms)
{
    auto bare = parseOne("nix@scratchy.example.org x86_64-linux");
    EXPECT_EQ(bare.kind, MachineKind::Ssh);
    EXPECT_EQ(bare.user, "nix");
    EXPECT_EQ(bare.host, "scratchy.example.org");
    EXPECT_EQ(bare.storeUri, "nix@scratchy.example.org");

    auto withPort = parseOne("ssh://hydra@10.0.0.7:2222 x86_64-linux");
    EXPECT_EQ(withPort.kind, MachineKind::Ssh);
    EXPECT_EQ(withPort.user, "hydra");
    EXPECT_EQ(withPort.host, "10.0.0.7");
    EXPECT_EQ(withPort.port, 2222);
    EXPECT_EQ(withPort.sshDestination(), "hydra@10.0.0.7");

    auto noUser = parseOne("ssh://builder_1:22 x86_64-linux");
    EXPECT_EQ(noUser.user, "");
    EXPECT_EQ(noUser.host, "builder_1");
    EXPECT_EQ(noUser.port, 22);
    EXPECT_EQ(noUser.sshDestination(), "builder_1");

    for (std::string local : {"localhost", "ssh://localhost", "ssh-ng://localhost"}) {
        auto m = parseOne(local + " x86_64-linux");
        EXPECT_EQ(m.kind, MachineKind::Localhost) << local;
        EXPECT_EQ(m.storeUri, local);
    }
    // With a user or a port it is an ssh connection like any other.
    EXPECT_EQ(parseOne("ssh://root@localhost x86_64-linux").kind, MachineKind::Ssh);
    EXPECT_EQ(parseOne("localhost:2222 x86_64-linux").kind, MachineKind::Ssh);

    for (std::string other : {"ssh-ng://root@builder", "unix:///run/nix/socket", "/var/lib/store", "daemon",
                              "local?root=/tmp/x", "auto"}) {
        auto m = parseOne(other + " x86_64-linux");
        EXPECT_EQ(m.kind, MachineKind::Other) << other;
        EXPECT_EQ(m.storeUri, other);
        EXPECT_EQ(m.host, "");
    }
}

TEST(Machines, Ipv6Hosts)
{
    auto m = parseOne("ssh://root@[fe80::1%eth0]:2222 x86_64-linux");
    EXPECT_EQ(m.kind, MachineKind::Ssh);
    EXPECT_EQ(m.user, "root");
    EXPECT_EQ(m.host, "fe80::1%eth0");
    EXPECT_EQ(m.port, 2222);
    auto loopback = parseOne("[::1] x86_64-linux");
    EXPECT_EQ(loopback.host, "::1");
    EXPECT_EQ(loopback.port, 0);
    EXPECT_EQ(loopback.sshDestination(), "::1");
}

TEST(Machines, HostKeyDecodes)
{
    auto m = parseOne("builder x86_64-linux - 1 1 - - " + keyBase64);
    EXPECT_EQ(m.publicHostKeyText, keyText);
    EXPECT_EQ(m.knownHostsLine(), "builder " + keyText);
    auto withPort = parseOne("ssh://builder:2222 x86_64-linux - 1 1 - - " + keyBase64);
    EXPECT_EQ(withPort.knownHostsLine(), "[builder]:2222 " + keyText);
    // Without the trailing newline, and without padding: the same key text.
    auto unpadded = parseOne("b x86_64-linux - 1 1 - - c3NoLWVkMjU1MTkgQUFBQQ");
    EXPECT_EQ(unpadded.publicHostKeyText, "ssh-ed25519 AAAA");
    EXPECT_EQ(parseOne("b x86_64-linux - 1 1 - - c3NoLWVkMjU1MTkgQUFBQQ==").publicHostKeyText,
              "ssh-ed25519 AAAA");
}

TEST(Machines, SpeedFactorIsAFloat)
{
    EXPECT_EQ(parseOne("b x86_64-linux - 1 0.5").speedFactor, 0.5);
    EXPECT_EQ(parseOne("b x86_64-linux - 1 3").speedFactor, 3.0);
    EXPECT_EQ(parseOne("b x86_64-linux - 1 1e2").speedFactor, 100.0);
    EXPECT_EQ(parseOne("b x86_64-linux - 0").maxJobs, 0u);
}

TEST(Machines, LaterLineForTheSameMachineWins)
{
    auto ms = parseMachines("a x86_64-linux - 1\n"
                            "b x86_64-linux\n"
                            "ssh://a aarch64-linux - 7\n"
                            "ssh://a:2222 x86_64-linux\n",
                            "machines");
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].storeUri, "ssh://a"); // replaces line 1 in its place
    EXPECT_EQ(ms[0].maxJobs, 7u);
    EXPECT_EQ(ms[0].systems, (std::set<std::string>{"aarch64-linux"}));
    EXPECT_EQ(ms[1].storeUri, "b");
    EXPECT_EQ(ms[2].storeUri, "ssh://a:2222");
}

TEST(Machines, SupportsTruthTable)
{
    auto plain = parseOne("p x86_64-linux,i686-linux - 1 1 kvm");
    EXPECT_TRUE(plain.supports("x86_64-linux", {}));
    EXPECT_TRUE(plain.supports("i686-linux", {"kvm"}));
    EXPECT_FALSE(plain.supports("aarch64-linux", {}));
    EXPECT_FALSE(plain.supports("x86_64-linux", {"big-parallel"}));
    EXPECT_FALSE(plain.supports("x86_64-linux", {"kvm", "big-parallel"}));
    EXPECT_TRUE(plain.supports("builtin", {}));
    EXPECT_FALSE(plain.supports("builtin", {"big-parallel"}));

    auto bench = parseOne("b x86_64-linux - 1 1 kvm benchmark");
    EXPECT_FALSE(bench.supports("x86_64-linux", {}));           // benchmark is not required
    EXPECT_FALSE(bench.supports("x86_64-linux", {"kvm"}));      // still not required
    EXPECT_TRUE(bench.supports("x86_64-linux", {"benchmark"})); // mandatory counts as supported
    EXPECT_TRUE(bench.supports("x86_64-linux", {"benchmark", "kvm"}));
    EXPECT_FALSE(bench.supports("x86_64-linux", {"benchmark", "nixos-test"}));
    EXPECT_FALSE(bench.supports("aarch64-linux", {"benchmark"}));

    auto two = parseOne("t x86_64-linux - 1 1 - benchmark,kvm");
    EXPECT_FALSE(two.supports("x86_64-linux", {"benchmark"}));
    EXPECT_TRUE(two.supports("x86_64-linux", {"benchmark", "kvm"}));

    // Hydra: a mandatory "local" feature is met by a preferLocalBuild step.
    auto local = parseOne("localhost x86_64-linux - 1 1 - local");
    EXPECT_FALSE(local.supports("x86_64-linux", {}));
    EXPECT_TRUE(local.supports("x86_64-linux", {}, true));
    EXPECT_TRUE(local.supports("x86_64-linux", {"local"}));
    EXPECT_FALSE(bench.supports("x86_64-linux", {}, true));
}

TEST(Machines, PrintsWhatParsesBack)
{
    std::string text = "ssh://root@[::1]:2222 x86_64-linux,i686-linux /k 8 0.1 kvm,benchmark benchmark " +
                       keyBase64 + "\nlocalhost x86_64-linux ; ssh-ng://x aarch64-linux - 0 1e300\n";
    auto ms = parseMachines(text, "machines");
    auto printed = printMachines(ms);
    EXPECT_EQ(printed, "ssh://root@[::1]:2222 i686-linux,x86_64-linux /k 8 0.1 kvm benchmark " + keyBase64 +
                           "\n"
                           "localhost x86_64-linux - 1 1 - - -\n"
                           "ssh-ng://x aarch64-linux - 0 1e+300 - - -\n");
    EXPECT_EQ(parseMachines(printed, "printed"), ms);
}

TEST(Machines, ErrorMessages)
{
    auto at = [](int line, const std::string& rest) {
        return "/etc/nix/machines:" + std::to_string(line) + ": " + rest;
    };
    const std::string uri =
        "expected a store URI ([ssh://][user@]host[:port], localhost or scheme://...), got ";
    const std::string port = "expected a port from 1 to 65535 in the store URI, got ";
    const std::string systems = "expected systems (comma-separated, e.g. x86_64-linux) in column 2";
    const std::string jobs = "expected max jobs (a whole number) in column 4, got ";
    const std::string speed = "expected a speed factor (a number > 0) in column 5, got ";
    const std::string key = "expected a base64-encoded public host key (one line of text) in column 8, got ";

    EXPECT_EQ(errorOf("a x86_64-linux\n\nbuilder"), at(3, systems + ", got end of line"));
    EXPECT_EQ(errorOf("builder -"), at(1, systems + ", got '-'"));
    EXPECT_EQ(errorOf("builder ,,"), at(1, systems + ", got ',,'"));
    EXPECT_EQ(errorOf("builder -,"), at(1, systems + ", got '-,'"));
    EXPECT_EQ(errorOf("b x86_64-linux - four"), at(1, jobs + "'four'"));
    EXPECT_EQ(errorOf("b x86_64-linux - -1"), at(1, jobs + "'-1'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 2.5"), at(1, jobs + "'2.5'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 99999999999"), at(1, jobs + "'99999999999'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 0"), at(1, speed + "'0'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 -2"), at(1, speed + "'-2'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 fast"), at(1, speed + "'fast'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 inf"), at(1, speed + "'inf'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 nan"), at(1, speed + "'nan'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 1 - - not*base64"), at(1, key + "'not*base64'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 1 - - QUJD="), at(1, key + "'QUJD='"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 1 - - QQ=A"), at(1, key + "'QQ=A'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 1 - - YQpi"), at(1, key + "'YQpi'")); // "a\nb": two lines
    EXPECT_EQ(errorOf("b x86_64-linux - 1 1 - - Cg=="), at(1, key + "'Cg=='")); // "\n": no key
    EXPECT_EQ(errorOf("- x86_64-linux"), at(1, uri + "'-'"));
    EXPECT_EQ(errorOf("ssh://-oProxyCommand=x x86_64-linux"), at(1, uri + "'ssh://-oProxyCommand=x'"));
    EXPECT_EQ(errorOf("ssh:// x86_64-linux"), at(1, uri + "'ssh://'"));
    EXPECT_EQ(errorOf("ssh://a@b@c x86_64-linux"), at(1, uri + "'ssh://a@b@c'"));
    EXPECT_EQ(errorOf("ssh://host?ssh-key=/k x86_64-linux"), at(1, uri + "'ssh://host?ssh-key=/k'"));
    EXPECT_EQ(errorOf("ssh://[nothex::1] x86_64-linux"), at(1, uri + "'ssh://[nothex::1]'"));
    EXPECT_EQ(errorOf("1ssh://host x86_64-linux"), at(1, uri + "'1ssh://host'"));
    EXPECT_EQ(errorOf("ssh://host:0 x86_64-linux"), at(1, port + "'ssh://host:0'"));
    EXPECT_EQ(errorOf("ssh://host:65536 x86_64-linux"), at(1, port + "'ssh://host:65536'"));
    EXPECT_EQ(errorOf("host:ssh x86_64-linux"), at(1, port + "'host:ssh'"));
    EXPECT_EQ(errorOf("b x86_64-linux - 1 1 - - - extra"), at(1, "expected at most 8 columns, got 'extra'"));
    EXPECT_EQ(errorOf("b x86_64\x01-linux"), at(1, "expected printable text, got 'x86_64\\x01-linux'"));
    EXPECT_EQ(errorOf("a x86_64-linux; b - "), at(1, systems + ", got '-'"));
    EXPECT_EQ(errorOf("@/etc/nix/more-machines"),
              at(1, "expected a machine (includes work only in machines files read from disk), got "
                    "'@/etc/nix/more-machines'"));
}

TEST(Machines, Includes)
{
    TempDir dir;
    auto extra = dir.write("extra", "b aarch64-linux - 2\n");
    auto main = dir.write("machines",
                          "a x86_64-linux\n@" + extra + "\n@ " + dir.path("missing") + " ; c i686-linux\n");
    auto ms = loadMachines({main});
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].host, "a");
    EXPECT_EQ(ms[1].host, "b");
    EXPECT_EQ(ms[1].maxJobs, 2u);
    EXPECT_EQ(ms[2].host, "c");

    // Errors name the included file; includes need absolute paths and may not loop forever.
    auto bad = dir.write("bad", "\nb aarch64-linux - x\n");
    try {
        loadMachines({dir.write("m2", "@" + bad)});
        ADD_FAILURE() << "bad included line accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), bad + ":2: expected max jobs (a whole number) in column 4, got 'x'");
    }
    try {
        loadMachines({dir.write("m3", "@extra")});
        ADD_FAILURE() << "relative include accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  dir.path("m3") + ":1: expected an absolute path after '@', got '@extra'");
    }
    auto loop = dir.path("loop");
    dir.write("loop", "@" + loop);
    try {
        loadMachines({loop});
        ADD_FAILURE() << "include loop accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  loop + ":1: expected includes nested at most 8 deep, got '@" + loop + "'");
    }
}

TEST(Machines, FilePathsFollowHydra)
{
    TempDir dir;
    auto missingDefault = dir.path("nope");
    auto presentDefault = dir.write("machines", "");
    EXPECT_EQ(machinesFilePaths(std::nullopt, missingDefault), std::vector<std::string>{});
    EXPECT_EQ(machinesFilePaths(std::nullopt, presentDefault), std::vector<std::string>{presentDefault});
    EXPECT_EQ(machinesFilePaths(std::string("/a:/b::/c"), presentDefault),
              (std::vector<std::string>{"/a", "/b", "/c"}));
    EXPECT_EQ(machinesFilePaths(std::string(""), presentDefault), std::vector<std::string>{});

    ::setenv("NIX_REMOTE_SYSTEMS", (dir.path("x") + ":" + dir.path("y")).c_str(), 1);
    EXPECT_EQ(machinesFilePaths(), (std::vector<std::string>{dir.path("x"), dir.path("y")}));
    ::unsetenv("NIX_REMOTE_SYSTEMS");
}

TEST(Machines, LoadReadsFilesInOrderAndSkipsMissingOnes)
{
    TempDir dir;
    auto first = dir.write("first", "a x86_64-linux - 1\nb x86_64-linux\n");
    auto second = dir.write("second", "a x86_64-linux - 5\n");
    auto ms = loadMachines({first, dir.path("missing"), second});
    ASSERT_EQ(ms.size(), 2u); // one list: the second file's "a" replaces the first's
    EXPECT_EQ(ms[0].host, "a");
    EXPECT_EQ(ms[0].maxJobs, 5u);
    EXPECT_EQ(ms[1].host, "b");
    EXPECT_TRUE(loadMachines({dir.path("missing")}).empty());
    EXPECT_TRUE(loadMachines(std::vector<std::string>{}).empty());

    ::setenv("NIX_REMOTE_SYSTEMS", second.c_str(), 1);
    EXPECT_EQ(loadMachines().size(), 1u);
    ::unsetenv("NIX_REMOTE_SYSTEMS");
}

TEST(Machines, UnreadableFileIsAnError)
{
    TempDir dir;
    auto sub = dir.path("sub");
    std::filesystem::create_directory(sub);
    auto file = dir.write("sub/machines", "a x86_64-linux\n");
    if (::geteuid() == 0) {
        // root reads anything; a directory in place of a file is unreadable for everyone.
        try {
            loadMachines({sub});
            ADD_FAILURE() << "directory accepted as a machines file";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("machines file '" + sub + "': Is a directory"),
                      std::string::npos)
                << e.what();
        }
        return;
    }
    std::filesystem::permissions(file, std::filesystem::perms::none);
    try {
        loadMachines({file});
        ADD_FAILURE() << "unreadable file accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot read machines file '" + file + "': Permission denied");
    }
}

TEST(Machines, LocalhostDefault)
{
    auto m = localhostMachine("x86_64-linux", 4, {"kvm", "nixos-test"});
    EXPECT_EQ(m.kind, MachineKind::Localhost);
    EXPECT_EQ(m.storeUri, "localhost");
    EXPECT_EQ(m.systems, (std::set<std::string>{"i686-linux", "x86_64-linux"}));
    EXPECT_EQ(m.maxJobs, 4u);
    EXPECT_TRUE(m.supports("i686-linux", {"kvm"}));
    EXPECT_EQ(localhostMachine("aarch64-linux", 1, {}).systems, std::set<std::string>{"aarch64-linux"});
    EXPECT_EQ(parseMachines(printMachines({m}), "printed"), std::vector<Machine>{m});
}
