// The ssh command line for a build machine: no forwarding, batch mode, keep-alives, the key,
// the port, the pinned host key, and nothing after the destination but the remote command.

#include "nix/machines.hh"
#include "nix/ssh_args.hh"

#include <gtest/gtest.h>

#include <algorithm>

using namespace hydra::nix;

namespace {

const std::vector<std::string> serveCmd = {"nix-store", "--serve", "--write"};

Machine parseOne(const std::string& line)
{
    return parseMachines(line, "machines").at(0);
}

ptrdiff_t indexOf(const std::vector<std::string>& argv, const std::string& arg)
{
    auto it = std::find(argv.begin(), argv.end(), arg);
    return it == argv.end() ? -1 : it - argv.begin();
}

/// True if `argv` holds `flag` immediately followed by `value`, before the "--".
bool hasPair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value)
{
    auto end = indexOf(argv, "--");
    for (ptrdiff_t i = 0; i + 1 < end; ++i)
        if (argv[static_cast<size_t>(i)] == flag && argv[static_cast<size_t>(i) + 1] == value) return true;
    return false;
}

bool mentions(const std::vector<std::string>& argv, const std::string& prefix)
{
    return std::any_of(argv.begin(), argv.end(),
                       [&](const std::string& a) { return a.rfind(prefix, 0) == 0; });
}

} // namespace

TEST(SshArgs, PlainHostGetsSafeDefaultsAndNothingElse)
{
    auto argv = sshArgv(parseOne("ssh://builder x86_64-linux"), {}, "", serveCmd);
    std::vector<std::string> expected = {"ssh",       "-x",
                                         "-a",        "-T",
                                         "-o",        "BatchMode=yes",
                                         "-o",        "ConnectTimeout=30",
                                         "-o",        "ServerAliveInterval=30",
                                         "-o",        "ServerAliveCountMax=4",
                                         "-o",        "LogLevel=ERROR",
                                         "--",        "builder",
                                         "nix-store", "--serve",
                                         "--write"};
    EXPECT_EQ(argv, expected);
}

TEST(SshArgs, KeyPortUserAndPinnedHostKey)
{
    auto m = parseOne("ssh://hydra@10.0.0.5:2222 x86_64-linux /etc/hydra/id_ed25519 4 1 - - "
                      "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUZha2VLZXlGb3JUZXN0cw==");
    auto argv = sshArgv(m, {}, "/run/hydra/kh", serveCmd);
    EXPECT_TRUE(hasPair(argv, "-i", "/etc/hydra/id_ed25519"));
    EXPECT_TRUE(hasPair(argv, "-o", "IdentitiesOnly=yes"));
    EXPECT_TRUE(hasPair(argv, "-p", "2222"));
    EXPECT_TRUE(hasPair(argv, "-o", "UserKnownHostsFile=/run/hydra/kh"));
    EXPECT_TRUE(hasPair(argv, "-o", "GlobalKnownHostsFile=/dev/null"));
    EXPECT_TRUE(hasPair(argv, "-o", "StrictHostKeyChecking=yes"));
    EXPECT_TRUE(hasPair(argv, "-o", "BatchMode=yes"));
    auto dd = indexOf(argv, "--");
    ASSERT_GT(dd, 0);
    EXPECT_EQ(argv[static_cast<size_t>(dd) + 1], "hydra@10.0.0.5");
    EXPECT_EQ(std::vector<std::string>(argv.begin() + dd + 2, argv.end()), serveCmd);
}

TEST(SshArgs, WithoutPinnedKeyTheOperatorsKnownHostsDecide)
{
    auto argv = sshArgv(parseOne("ssh://root@builder x86_64-linux /k"), {}, "", serveCmd);
    EXPECT_FALSE(mentions(argv, "UserKnownHostsFile="));
    EXPECT_FALSE(mentions(argv, "GlobalKnownHostsFile="));
    EXPECT_FALSE(mentions(argv, "StrictHostKeyChecking="));
    EXPECT_TRUE(hasPair(argv, "-o", "BatchMode=yes")); // still never prompts
    EXPECT_FALSE(hasPair(argv, "-p", "22"));
}

TEST(SshArgs, OptionsAreHonoured)
{
    SshOptions opts;
    opts.program = "/opt/ssh/bin/ssh";
    opts.connectTimeout = 7;
    opts.serverAliveInterval = 3;
    opts.serverAliveCountMax = 2;
    opts.configFile = "/dev/null";
    opts.extraArgs = {"-o", "Ciphers=aes128-ctr"};
    auto argv = sshArgv(parseOne("ssh://builder x86_64-linux"), opts, "", {"nix-store", "--serve"});
    EXPECT_EQ(argv.front(), "/opt/ssh/bin/ssh");
    EXPECT_TRUE(hasPair(argv, "-F", "/dev/null"));
    EXPECT_TRUE(hasPair(argv, "-o", "ConnectTimeout=7"));
    EXPECT_TRUE(hasPair(argv, "-o", "ServerAliveInterval=3"));
    EXPECT_TRUE(hasPair(argv, "-o", "ServerAliveCountMax=2"));
    EXPECT_TRUE(hasPair(argv, "-o", "Ciphers=aes128-ctr"));
    EXPECT_EQ(argv.back(), "--serve");
}

TEST(SshArgs, NoForwardingOfAgentX11OrTerminal)
{
    auto argv = sshArgv(parseOne("ssh://builder x86_64-linux"), {}, "", serveCmd);
    auto dd = indexOf(argv, "--");
    for (const char* flag : {"-x", "-a", "-T"}) {
        auto i = indexOf(argv, flag);
        EXPECT_GT(i, 0) << flag;
        EXPECT_LT(i, dd) << flag;
    }
    EXPECT_EQ(indexOf(argv, "-A"), -1);
    EXPECT_EQ(indexOf(argv, "-X"), -1);
    EXPECT_EQ(indexOf(argv, "-t"), -1);
}

TEST(SshArgs, DestinationCannotBeTakenForAnOption)
{
    Machine m;
    m.kind = MachineKind::Ssh;
    m.host = "-oProxyCommand=evil";
    auto argv = sshArgv(m, {}, "", serveCmd);
    auto dd = indexOf(argv, "--");
    ASSERT_GT(dd, 0);
    EXPECT_EQ(argv[static_cast<size_t>(dd) + 1], "-oProxyCommand=evil");
}
