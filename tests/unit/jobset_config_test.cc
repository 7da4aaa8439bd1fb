// Parsing and checking of project and jobset configurations (Hydra's JSON bodies and
// declarative specifications).

#include "db/jobset_config.hh"

#include <gtest/gtest.h>

using namespace hydra::db;
using nlohmann::json;

namespace {

std::string fieldOfError(const std::function<void()>& f)
{
    try {
        f();
    } catch (const ConfigError& e) {
        return e.field();
    }
    return "(accepted)";
}

json legacyJobset()
{
    return json{{"nixexprinput", "src"},
                {"nixexprpath", "release.nix"},
                {"enabled", "1"},
                {"visible", "1"},
                {"checkinterval", "3600"},
                {"schedulingshares", 50},
                {"keepnr", 5},
                {"enableemail", true},
                {"emailoverride", " a@example.org "},
                {"inputs",
                 {{"src", {{"type", "path"}, {"value", " /srv/src "}}},
                  {"greeting", {{"type", "string"}, {"value", " hi "}, {"emailresponsible", 1}}}}}};
}

} // namespace

TEST(JobsetConfig, names)
{
    EXPECT_TRUE(isProjectName("nix_pkgs-2"));
    EXPECT_TRUE(isProjectName("_p"));
    EXPECT_FALSE(isProjectName("2p"));
    EXPECT_FALSE(isProjectName("a.b"));
    EXPECT_FALSE(isProjectName(""));
    EXPECT_FALSE(isProjectName("a'; drop table Projects; --"));
    EXPECT_TRUE(isJobsetName("release-24.05"));
    EXPECT_FALSE(isJobsetName(".jobsets"));
    EXPECT_FALSE(isJobsetName("a/b"));
    EXPECT_TRUE(isInputName("nixpkgs-src_2"));
    EXPECT_FALSE(isInputName("_src"));
    EXPECT_TRUE(isRelativePath("ci/release.nix"));
    EXPECT_FALSE(isRelativePath("../etc/passwd"));
    EXPECT_FALSE(isRelativePath("a/../b"));
    EXPECT_FALSE(isRelativePath("/abs.nix"));
    EXPECT_FALSE(isRelativePath("a//b"));
    EXPECT_TRUE(isUserName("alice.b"));
    EXPECT_FALSE(isUserName("Alice"));
}

TEST(JobsetConfig, legacyJobsetFromHydraBody)
{
    auto c = parseJobsetConfig(legacyJobset(), "trunk");
    EXPECT_EQ(c.name, "trunk");
    EXPECT_EQ(c.type, 0);
    EXPECT_EQ(c.nixExprInput, "src");
    EXPECT_EQ(c.nixExprPath, "release.nix");
    EXPECT_EQ(c.enabled, 1);
    EXPECT_FALSE(c.hidden);
    EXPECT_EQ(c.checkInterval, 3600);
    EXPECT_EQ(c.schedulingShares, 50);
    EXPECT_EQ(c.keepNr, 5);
    EXPECT_TRUE(c.enableEmail);
    EXPECT_EQ(c.emailOverride, "a@example.org");
    ASSERT_EQ(c.inputs.size(), 2U);
    // nlohmann::json orders object keys: greeting before src.
    EXPECT_EQ(c.inputs[0].name, "greeting");
    EXPECT_EQ(c.inputs[0].value, " hi "); // a string input keeps its spaces
    EXPECT_TRUE(c.inputs[0].emailResponsible);
    EXPECT_EQ(c.inputs[1].value, "/srv/src");
    EXPECT_FALSE(c.inputs[1].emailResponsible);
}

TEST(JobsetConfig, absentFlagsAreOffAsInHydra)
{
    auto c = parseJobsetConfig(json{{"nixexprinput", "src"}, {"nixexprpath", "default.nix"}}, "j");
    EXPECT_EQ(c.enabled, 0);
    EXPECT_TRUE(c.hidden);
    EXPECT_FALSE(c.enableEmail);
    EXPECT_EQ(c.schedulingShares, 1);
    EXPECT_EQ(c.checkInterval, 0);
    auto p = parseProjectConfig(json{{"displayname", "P"}}, "p");
    EXPECT_FALSE(p.enabled);
    EXPECT_TRUE(p.hidden);
    auto q = parseProjectConfig(json{{"displayname", "P"}, {"enabled", false}, {"visible", true}}, "p");
    EXPECT_FALSE(q.enabled);
    EXPECT_FALSE(q.hidden);
}

TEST(JobsetConfig, flakeJobset)
{
    auto c = parseJobsetConfig(json{{"type", 1}, {"flake", "github:NixOS/nix"}, {"enabled", 1}}, "f");
    EXPECT_EQ(c.type, 1);
    EXPECT_EQ(c.flake, "github:NixOS/nix");
    EXPECT_TRUE(c.inputs.empty());
    EXPECT_EQ(fieldOfError([] { parseJobsetConfig(json{{"type", 1}, {"flake", "/tmp/x"}}, "f"); }), "flake");
}

TEST(JobsetConfig, eachBadFieldIsNamed)
{
    auto with = [](const std::string& key, json value) {
        auto b = legacyJobset();
        b[key] = std::move(value);
        return fieldOfError([&] { parseJobsetConfig(b, "j"); });
    };
    EXPECT_EQ(with("name", "bad name"), "name");
    EXPECT_EQ(with("nixexprpath", "../x.nix"), "nixexprpath");
    EXPECT_EQ(with("nixexprinput", "1src"), "nixexprinput");
    EXPECT_EQ(with("type", 2), "type");
    EXPECT_EQ(with("enabled", 4), "enabled");
    EXPECT_EQ(with("enabled", "yes"), "enabled");
    EXPECT_EQ(with("schedulingshares", 0), "schedulingshares");
    EXPECT_EQ(with("checkinterval", -1), "checkinterval");
    EXPECT_EQ(with("keepnr", "many"), "keepnr");
    EXPECT_EQ(with("visible", "perhaps"), "visible");
    EXPECT_EQ(with("description", json::array()), "description");
    EXPECT_EQ(with("emailoverride", std::string(5000, 'a')), "emailoverride");
    EXPECT_EQ(with("inputs", json{{"src", {{"type", "svn"}, {"value", "x"}}}}), "inputs.src.type");
    EXPECT_EQ(with("inputs", json{{"bad name", {{"type", "path"}, {"value", "x"}}}}), "inputs.bad name");
    EXPECT_EQ(with("inputs", json{{"b", {{"type", "boolean"}, {"value", "yes"}}}}), "inputs.b.value");
    EXPECT_EQ(with("inputs", json::array()), "inputs");
    EXPECT_EQ(with("inputs", json{{"src", "path"}}), "inputs.src");
    EXPECT_EQ(fieldOfError([] { parseJobsetConfig(json::array(), "j"); }), "the body");
    EXPECT_EQ(fieldOfError([] { parseJobsetConfig(legacyJobset(), "no/slash"); }), "name");
}

TEST(JobsetConfig, projectFields)
{
    auto p = parseProjectConfig(
        json{{"name", "renamed"},
             {"displayname", " Nix "},
             {"description", "d"},
             {"homepage", "https://nixos.org"},
             {"owner", "alice"},
             {"enabled", "1"},
             {"visible", "1"},
             {"declarative", {{"file", "spec.json"}, {"type", "path"}, {"value", "/srv"}}}},
        "p");
    EXPECT_EQ(p.name, "renamed");
    EXPECT_EQ(p.displayName, "Nix");
    EXPECT_EQ(p.owner, "alice");
    EXPECT_EQ(p.declFile, "spec.json");
    EXPECT_EQ(p.declType, "path");
    EXPECT_EQ(p.declValue, "/srv");
    auto project = [](json b) { return fieldOfError([&] { parseProjectConfig(b, "p"); }); };
    EXPECT_EQ(project(json::object()), "displayname");
    EXPECT_EQ(project(json{{"displayname", "x"}, {"name", "a b"}}), "name");
    EXPECT_EQ(project(json{{"displayname", "x"}, {"owner", "Robert'); --"}}), "owner");
    EXPECT_EQ(project(json{{"displayname", "x"}, {"declarative", "spec.json"}}), "declarative");
    EXPECT_EQ(project(json{{"displayname", "x"}, {"declarative", {{"file", "../s.json"}}}}),
              "declarative.file");
    EXPECT_EQ(project(json{{"displayname", "x"}, {"declarative", {{"file", "s.json"}, {"type", "cvs"}}}}),
              "declarative.type");
    EXPECT_EQ(project(json{{"displayname", "x"}, {"declarative", {{"file", "s.json"}, {"type", "git"}}}}),
              "declarative.value");
    // An empty file means "not declarative": the other two are ignored.
    auto plain =
        parseProjectConfig(json{{"displayname", "x"}, {"declarative", {{"file", ""}, {"type", "cvs"}}}}, "p");
    EXPECT_TRUE(plain.declFile.empty());
    EXPECT_TRUE(plain.declType.empty());
}

TEST(JobsetConfig, declarativeJobsetKeepsSchemaDefaultsAndRefusesUnknownKeys)
{
    auto c = parseDeclarativeJobset(
        "main", json{{"nixexprinput", "src"},
                     {"nixexprpath", "release.nix"},
                     {"hidden", false},
                     {"inputs", {{"src", {{"type", "git"}, {"value", "https://example.org/r.git main"}}}}}});
    EXPECT_EQ(c.name, "main");
    EXPECT_EQ(c.enabled, 1);
    EXPECT_EQ(c.checkInterval, 300);
    EXPECT_EQ(c.schedulingShares, 100);
    EXPECT_EQ(c.keepNr, 3);
    EXPECT_TRUE(c.enableEmail);
    EXPECT_FALSE(c.hidden);
    ASSERT_EQ(c.inputs.size(), 1U);
    EXPECT_EQ(fieldOfError([] {
                  parseDeclarativeJobset(
                      "main", json{{"nixexprinput", "src"}, {"nixexprpath", "r.nix"}, {"visible", 1}});
              }),
              "main.visible");
    EXPECT_EQ(fieldOfError([] {
                  parseDeclarativeJobset("bad name", json{{"type", 1}, {"flake", "git+https://x"}});
              }),
              "name");
}

TEST(JobsetConfig, toBodyParsesBackToTheSameConfiguration)
{
    auto c = parseJobsetConfig(legacyJobset(), "trunk");
    auto again = parseJobsetConfig(toBody(c), "ignored");
    EXPECT_EQ(toBody(again), toBody(c));
    EXPECT_EQ(again.name, "trunk");
    ASSERT_EQ(again.inputs.size(), 2U);
    EXPECT_EQ(again.inputs[0].value, " hi ");
    auto flake = parseJobsetConfig(json{{"type", 1}, {"flake", "github:a/b"}, {"enabled", 3}}, "f");
    EXPECT_EQ(toBody(parseJobsetConfig(toBody(flake), "f")), toBody(flake));
    auto p =
        parseProjectConfig(json{{"displayname", "P"},
                                {"enabled", true},
                                {"declarative", {{"file", "s.json"}, {"type", "git"}, {"value", "u b"}}}},
                           "p");
    auto back = parseProjectConfig(toBody(p), "other");
    EXPECT_EQ(toBody(back), toBody(p));
    EXPECT_EQ(back.name, "p");
    EXPECT_EQ(back.declValue, "u b");
}
