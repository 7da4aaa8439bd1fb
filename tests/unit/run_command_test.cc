// RunCommand's pure parts: which jobs a <runcommand> block matches, and how a command is
// started (directly, so that a missing program is an errno as in Hydra, or through a shell).

#include "notify/run_command.hh"

#include <gtest/gtest.h>

using namespace hydra::notify;

using Argv = std::vector<std::string>;

TEST(RunCommandMatcher, EmptyAndShortPatternsMatchEveryJobBelowThem)
{
    EXPECT_TRUE(jobMatches("", "p", "js", "job"));
    EXPECT_TRUE(jobMatches("p", "p", "js", "job"));
    EXPECT_TRUE(jobMatches("p:js", "p", "js", "job"));
    EXPECT_TRUE(jobMatches("p:js:", "p", "js", "job"));
    EXPECT_TRUE(jobMatches("*:*:*", "p", "js", "job"));
    EXPECT_FALSE(jobMatches("q", "p", "js", "job"));
    EXPECT_FALSE(jobMatches("p::job", "p", "js", "job")) << "an empty part in the middle names no jobset";
    EXPECT_FALSE(jobMatches(":js:job", "p", "js", "job"));
    EXPECT_FALSE(jobMatches("p:js:job:x", "p", "js", "job"));
}

TEST(RunCommandArgv, PlainCommandsAreExecutedDirectly)
{
    EXPECT_EQ(commandArgv("true"), (Argv{"true"}));
    EXPECT_EQ(commandArgv("  invalid-command-this-does-not-exist  a\tb\n"),
              (Argv{"invalid-command-this-does-not-exist", "a", "b"}));
    EXPECT_EQ(commandArgv("/nix/store/abc-hook"), (Argv{"/nix/store/abc-hook"}));
    EXPECT_EQ(commandArgv("cmd --opt=1 -x,y 50% #no-comment"),
              (Argv{"cmd", "--opt=1", "-x,y", "50%", "#no-comment"}));
    EXPECT_EQ(commandArgv("cmd arg 2>&1"), (Argv{"cmd", "arg"})) << "stderr goes to the log anyway";
}

TEST(RunCommandArgv, ShellSyntaxGoesThroughTheShell)
{
    for (const std::string c :
         {"cp \"$HYDRA_JSON\" /tmp/x", "a; b", "a | b", "a > f", "a && b", "echo *", "echo ~", "echo `x`",
          "echo 'x'", "a\nb", "FOO=1 cmd", "exec cmd", ". ./script", "cmd 2>&1 | cat", "cmd 2>&1x"})
        EXPECT_EQ(commandArgv(c), (Argv{"/bin/sh", "-c", c})) << c;
}
