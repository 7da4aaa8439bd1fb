#include "util/config_file.hh"
#include "util/error.hh"

#include "support/temp_files.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace hydra;
namespace fs = std::filesystem;

namespace {

// A private directory of configuration files, removed afterwards.
class ConfigFileTest : public hydra::test::TempFilesTest {
protected:
    std::string errorOf(const std::string& path)
    {
        try {
            parseConfigFile(path);
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    }
};

ConfigSection parse(const std::string& text)
{
    return parseConfigText(text, "hydra.conf");
}

std::string errorOfText(const std::string& text)
{
    try {
        parse(text);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST(ConfigFile, KeyValueFormsCommentsAndBlanks)
{
    auto c = parse("# a comment\n"
                   "\n"
                   "a = 1\n"
                   "b 2\n"
                   "c     three words   \n"
                   "   indented=yes\t\n"
                   "d = x = y\n"
                   "e = foo # trailing comment\n"
                   "f = bar\\#baz\n"
                   "empty =\n"
                   "bare\n");
    EXPECT_EQ(c.get("a"), "1");
    EXPECT_EQ(c.get("b"), "2");
    EXPECT_EQ(c.get("c"), "three words");
    EXPECT_EQ(c.get("indented"), "yes");
    EXPECT_EQ(c.get("d"), "x = y");
    EXPECT_EQ(c.get("e"), "foo");
    EXPECT_EQ(c.get("f"), "bar#baz");
    EXPECT_EQ(c.get("empty"), "");
    EXPECT_EQ(c.get("bare"), "");
    EXPECT_EQ(c.get("missing"), std::nullopt);
    EXPECT_EQ(c.last("a")->loc.str(), "hydra.conf:3");
}

TEST(ConfigFile, KeysAreCaseSensitive)
{
    auto c = parse("Key = upper\nkey = lower\n");
    EXPECT_EQ(c.get("Key"), "upper");
    EXPECT_EQ(c.get("key"), "lower");
}

TEST(ConfigFile, QuotedValues)
{
    auto c = parse("a = \"quoted value\"\n"
                   "b = \"has \\\"escaped\\\" quotes\"\n"
                   "c = \" spaced \"\n"
                   "d = 'single quotes stay'\n"
                   "e = \"only\" partly\n");
    EXPECT_EQ(c.get("a"), "quoted value");
    EXPECT_EQ(c.get("b"), "has \"escaped\" quotes");
    EXPECT_EQ(c.get("c"), " spaced ");
    EXPECT_EQ(c.get("d"), "'single quotes stay'");
    EXPECT_EQ(c.get("e"), "\"only\" partly");
}

TEST(ConfigFile, RepeatedKeysKeepEveryValue)
{
    auto c = parse("k = 1\nother = x\nk = 2\nk = 3\n");
    EXPECT_EQ(c.get("k"), "3");
    auto all = c.all("k");
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0]->value, "1");
    EXPECT_EQ(all[1]->value, "2");
    EXPECT_EQ(all[2]->value, "3");
    EXPECT_EQ(all[1]->loc.line, 3);
}

TEST(ConfigFile, ContinuationLines)
{
    auto c = parse("a = one \\\n     two \\\n  three\nb = 2\n");
    EXPECT_EQ(c.get("a"), "one two three");
    EXPECT_EQ(c.get("b"), "2");
    EXPECT_EQ(c.last("b")->loc.line, 4);
}

TEST(ConfigFile, HereDocuments)
{
    auto c = parse("a <<EOF\n"
                   "line one\n"
                   "  line two # not a comment\n"
                   "EOF\n"
                   "b = <<END\n"
                   "    four\n"
                   "      six\n"
                   "    END\n"
                   "c = after\n");
    EXPECT_EQ(c.get("a"), "line one\n  line two # not a comment");
    EXPECT_EQ(c.get("b"), "four\n  six");
    EXPECT_EQ(c.get("c"), "after");
    EXPECT_EQ(c.last("c")->loc.line, 9);
}

TEST(ConfigFile, CStyleComments)
{
    auto c = parse("/* one line */\n"
                   "/* several\n"
                   "x = 1\n"
                   "*/\n"
                   "y = http://host/*path\n");
    EXPECT_EQ(c.get("x"), std::nullopt);
    EXPECT_EQ(c.get("y"), "http://host/*path");
}

TEST(ConfigFile, SectionsNestAndRepeat)
{
    auto c = parse("top = 1\n"
                   "<runcommand>\n"
                   "  job = *:*:*\n"
                   "  command = echo one\n"
                   "</runcommand>\n"
                   "<runcommand>\n"
                   "  command = echo two\n"
                   "</RunCommand>\n"
                   "<hydra_notify>\n"
                   "  <prometheus>\n"
                   "    port = 9199\n"
                   "  </prometheus>\n"
                   "</hydra_notify>\n"
                   "<empty>\n"
                   "</empty>\n");
    EXPECT_EQ(c.get("top"), "1");
    EXPECT_EQ(c.get("command"), std::nullopt);
    auto rc = c.blocks("runcommand");
    ASSERT_EQ(rc.size(), 2u);
    EXPECT_EQ(rc[0]->get("job"), "*:*:*");
    EXPECT_EQ(rc[0]->get("command"), "echo one");
    EXPECT_EQ(rc[1]->get("job"), std::nullopt);
    EXPECT_EQ(rc[1]->get("command"), "echo two");
    EXPECT_EQ(rc[1]->loc.str(), "hydra.conf:6");
    EXPECT_EQ(c.block("runcommand"), rc[1]);
    ASSERT_NE(c.block("hydra_notify"), nullptr);
    auto prom = c.block("hydra_notify")->block("prometheus");
    ASSERT_NE(prom, nullptr);
    EXPECT_EQ(prom->get("port"), "9199");
    ASSERT_NE(c.block("empty"), nullptr);
    EXPECT_TRUE(c.block("empty")->entries.empty());
    EXPECT_EQ(c.block("RunCommand"), nullptr);
    ASSERT_EQ(c.sections.size(), 4u);
    EXPECT_EQ(c.sections[2].name, "hydra_notify");
}

TEST(ConfigFile, SectionLabels)
{
    auto c = parse("<foo bar>\nx = 1\n</foo>\n<foo \"b c\">\nx = 2\n</foo>\n< spaced >\n</spaced >\n");
    auto foos = c.blocks("foo");
    ASSERT_EQ(foos.size(), 2u);
    EXPECT_EQ(foos[0]->label, "bar");
    EXPECT_EQ(foos[1]->label, "b c");
    EXPECT_EQ(foos[1]->get("x"), "2");
    ASSERT_NE(c.block("spaced"), nullptr);
}

TEST(ConfigFile, MalformedLinesNameFileLineAndExpectation)
{
    EXPECT_EQ(errorOfText("a = 1\n= 2\n"),
              "hydra.conf:2: expected 'key = value', '<section>' or '</section>', got '= 2'");
    EXPECT_EQ(errorOfText("<foo\n"),
              "hydra.conf:1: expected 'key = value', '<section>' or '</section>', got '<foo'");
    EXPECT_EQ(errorOfText("\n<>\n"),
              "hydra.conf:2: expected 'key = value', '<section>' or '</section>', got '<>'");
    EXPECT_EQ(errorOfText("<a>k=1</a>\n"),
              "hydra.conf:1: expected 'key = value', '<section>' or '</section>', got '<a>k=1</a>'");
    EXPECT_EQ(errorOfText("<a>\n</>\n"),
              "hydra.conf:2: expected 'key = value', '<section>' or '</section>', got '</>'");
}

TEST(ConfigFile, UnbalancedSections)
{
    EXPECT_EQ(errorOfText("x = 1\n<githubstatus>\n  jobs = .*\n"),
              "hydra.conf:2: section <githubstatus> is never closed: expected </githubstatus> before the end "
              "of hydra.conf");
    EXPECT_EQ(errorOfText("x = 1\n</slack>\n"), "hydra.conf:2: </slack> without a matching <slack>");
    EXPECT_EQ(errorOfText("<ldap>\n<config>\n<store>\n</config>\n"),
              "hydra.conf:4: expected </store> to close <store> opened at line 3, got </config>");
}

TEST(ConfigFile, UnterminatedMultiLineConstructs)
{
    EXPECT_EQ(errorOfText("a = 1\nb <<EOT\nx\n"),
              "hydra.conf:2: here-document <<EOT is never terminated: expected a line 'EOT'");
    EXPECT_EQ(errorOfText("/* open\nx = 1\n"), "hydra.conf:1: comment '/*' is never closed: expected '*/'");
}

TEST_F(ConfigFileTest, IncludesResolveAgainstTheIncludingFile)
{
    write("conf.d/secrets.conf", "token = s3cret\ninclude ../more/extra.conf\n");
    write("more/extra.conf", "extra = yes\n");
    write("conf.d/block.conf", "inside = 1\n");
    write("quoted dir/q.conf", "quoted = 1\n");
    write("legacy.conf", "legacy = 1\n");
    auto main = write("hydra.conf", "before = 1\n"
                                    "Include conf.d/secrets.conf\n"
                                    "<githubstatus>\n"
                                    "  INCLUDE conf.d/block.conf\n"
                                    "</githubstatus>\n"
                                    "include \"quoted dir/q.conf\"\n"
                                    "<<include legacy.conf>>\n"
                                    "after = 1\n");
    auto c = parseConfigFile(main);
    EXPECT_EQ(c.get("before"), "1");
    EXPECT_EQ(c.get("token"), "s3cret");
    EXPECT_EQ(c.get("extra"), "yes");
    EXPECT_EQ(c.get("quoted"), "1");
    EXPECT_EQ(c.get("legacy"), "1");
    EXPECT_EQ(c.get("inside"), std::nullopt);
    ASSERT_NE(c.block("githubstatus"), nullptr);
    EXPECT_EQ(c.block("githubstatus")->get("inside"), "1");
    EXPECT_EQ(c.last("token")->loc.str(), (dir / "conf.d/secrets.conf").string() + ":1");
    EXPECT_EQ(c.last("extra")->loc.str(), (dir / "conf.d/../more/extra.conf").string() + ":1");
    // Entries keep file order across the include boundary.
    ASSERT_EQ(c.entries.size(), 6u);
    EXPECT_EQ(c.entries[1].key, "token");
    EXPECT_EQ(c.entries[5].key, "after");
}

TEST_F(ConfigFileTest, AbsoluteIncludeAndIncludingTwice)
{
    auto shared = write("shared.conf", "count = x\n");
    auto main = write("hydra.conf", "include " + shared + "\ninclude shared.conf\n");
    EXPECT_EQ(parseConfigFile(main).all("count").size(), 2u);
}

TEST_F(ConfigFileTest, MissingIncludeNamesTheIncludingLine)
{
    auto main = write("hydra.conf", "a = 1\ninclude nope.conf\n");
    EXPECT_EQ(errorOf(main),
              main + ":2: cannot include 'nope.conf': " + (dir / "nope.conf").string() + " does not exist");
    fs::create_directories(dir / "adir");
    auto second = write("second.conf", "include adir\n");
    EXPECT_EQ(errorOf(second),
              second + ":1: cannot include 'adir': " + (dir / "adir").string() + " is not a regular file");
}

TEST_F(ConfigFileTest, IncludeCyclesAreRejected)
{
    auto a = write("a.conf", "x = 1\ninclude b.conf\n");
    auto b = write("b.conf", "include a.conf\n");
    EXPECT_EQ(errorOf(a), b + ":1: cannot include 'a.conf': include cycle " + a + " -> " + b + " -> " +
                              (dir / "a.conf").string());
    auto self = write("self.conf", "include self.conf\n");
    EXPECT_EQ(errorOf(self), self + ":1: cannot include 'self.conf': include cycle " + self + " -> " + self);
}

TEST_F(ConfigFileTest, IncludeDepthIsLimited)
{
    for (int i = 0; i < 5; ++i) write(fmt::format("d{}.conf", i), fmt::format("include d{}.conf\n", i + 1));
    write("d5.conf", "deep = 1\n");
    auto top = (dir / "d0.conf").string();
    EXPECT_EQ(parseConfigFile(top, {.maxIncludeDepth = 5}).get("deep"), "1");
    EXPECT_EQ(errorOf(top), "(no error)");
    try {
        parseConfigFile(top, {.maxIncludeDepth = 4});
        FAIL() << "deep includes accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  (dir / "d4.conf").string() +
                      ":1: cannot include 'd5.conf': includes are nested more than 4 deep");
    }
}

TEST_F(ConfigFileTest, ErrorsInsideIncludedFilesNameThatFile)
{
    write("bad.conf", "ok = 1\n<slack>\n");
    auto main = write("hydra.conf", "include bad.conf\n");
    EXPECT_EQ(errorOf(main), (dir / "bad.conf").string() +
                                 ":2: section <slack> is never closed: expected "
                                 "</slack> before the end of " +
                                 (dir / "bad.conf").string());
}

TEST_F(ConfigFileTest, MissingTopLevelFile)
{
    auto path = (dir / "absent.conf").string();
    EXPECT_EQ(errorOf(path), "cannot read " + path + ": No such file or directory");
}

TEST_F(ConfigFileTest, WindowsLineEndings)
{
    auto c = parseConfigFile(write("crlf.conf", "a = 1\r\n<b>\r\nc = 2\r\n</b>\r\n"));
    EXPECT_EQ(c.get("a"), "1");
    EXPECT_EQ(c.block("b")->get("c"), "2");
}
