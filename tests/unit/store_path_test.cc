// StorePath: Nix's rules for the hash part and the name, a configurable store directory, and
// error messages that name the offending path.

#include "nix/store_path.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::nix;

namespace {

const std::string hashPart = "lhr0mkgh8g0rzmmwn7c4d8wmbhijmlwq";

/// Runs `f` expecting an Error whose message contains `needle`.
template <typename F> void expectErrorContaining(F&& f, const std::string& needle)
{
    try {
        f();
        ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

} // namespace

TEST(StorePath, ParsesParts)
{
    auto p = StorePath::parse("/nix/store/" + hashPart + "-hello-2.12.1");
    EXPECT_EQ(p.hashPart(), hashPart);
    EXPECT_EQ(p.name(), "hello-2.12.1");
    EXPECT_EQ(p.baseName(), hashPart + "-hello-2.12.1");
    EXPECT_EQ(p.storeDir(), "/nix/store");
    EXPECT_EQ(p.toString(), "/nix/store/" + hashPart + "-hello-2.12.1");
    EXPECT_FALSE(p.isDerivation());
    EXPECT_TRUE(StorePath::parse("/nix/store/" + hashPart + "-hello-2.12.1.drv").isDerivation());
}

TEST(StorePath, AcceptsEveryNameCharacterNixAllows)
{
    std::string name = "aZ09+-._?=";
    EXPECT_EQ(StorePath::parse("/nix/store/" + hashPart + "-" + name).name(), name);
    EXPECT_TRUE(StorePath::isValid("/nix/store/" + hashPart + "-" + std::string(211, 'x')));
    EXPECT_TRUE(StorePath::isValid("/nix/store/" + hashPart + "-.hidden"));
    EXPECT_TRUE(StorePath::isValid("/nix/store/" + hashPart + "-...-x"));
}

TEST(StorePath, StoreDirIsConfigurable)
{
    auto p = StorePath::parse("/tmp/store/" + hashPart + "-x", "/tmp/store");
    EXPECT_EQ(p.storeDir(), "/tmp/store");
    EXPECT_EQ(p.toString(), "/tmp/store/" + hashPart + "-x");
    expectErrorContaining([&] { StorePath::parse("/nix/store/" + hashPart + "-x", "/tmp/store"); },
                          "not in the store directory '/tmp/store'");
    EXPECT_FALSE(StorePath::isValid("/tmp/storex/" + hashPart + "-x", "/tmp/store"));
}

TEST(StorePath, FromBaseName)
{
    auto p = StorePath::fromBaseName(hashPart + "-foo.drv");
    EXPECT_EQ(p.toString(), "/nix/store/" + hashPart + "-foo.drv");
    EXPECT_TRUE(p.isDerivation());
    expectErrorContaining([&] { StorePath::fromBaseName("short-x"); }, "'short-x'");
}

TEST(StorePath, RejectsBadPathsNamingThem)
{
    std::string dir = "/nix/store/";
    const std::pair<std::string, std::string> cases[] = {
        {"", "not in the store directory"},
        {"/nix/store", "not in the store directory"},
        {"/nix/stor/" + hashPart + "-x", "not in the store directory"},
        {dir + hashPart + "-x/bin/sh", "not directly in the store directory"},
        {dir + hashPart, "<32-character hash>-<name>"},
        {dir + hashPart + "-", "<32-character hash>-<name>"},
        {dir + hashPart + "_x", "<32-character hash>-<name>"},
        {dir + "-" + hashPart.substr(1) + "-x", "illegal base-32 character '-'"},
        {dir + "e" + hashPart.substr(1) + "-x", "illegal base-32 character 'e'"},
        {dir + "L" + hashPart.substr(1) + "-x", "illegal base-32 character 'L'"},
        {dir + hashPart + "-" + std::string(212, 'x'), "longer than 211"},
        {dir + hashPart + "-a b", "illegal character ' '"},
        {dir + hashPart + "-a\tb", "illegal character '\\x09'"},
        {dir + hashPart + "-caf\xc3\xa9", "illegal character '\\xc3'"},
        {dir + hashPart + "-a:b", "illegal character ':'"},
        {dir + hashPart + "-.", "must not start with '.'"},
        {dir + hashPart + "-..", "must not start with '..'"},
        {dir + hashPart + "-.-x", "must not start with '.'"},
        {dir + hashPart + "-..-x", "must not start with '..'"},
    };
    for (const auto& c : cases) {
        const std::string& path = c.first;
        const std::string& why = c.second;
        expectErrorContaining([&] { StorePath::parse(path); }, why);
        expectErrorContaining([&] { StorePath::parse(path); }, "'" + path + "'");
        EXPECT_FALSE(StorePath::isValid(path)) << path;
    }
}

TEST(StorePath, OrdersAndComparesByFullPath)
{
    auto a = StorePath::parse("/nix/store/" + hashPart + "-a");
    auto b = StorePath::parse("/nix/store/" + hashPart + "-b");
    EXPECT_LT(a, b);
    EXPECT_EQ(a, StorePath::parse(a.toString()));
}
