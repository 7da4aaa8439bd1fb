// inputsHash: the hash that tells the evaluator nothing changed since the previous evaluation
// changes with any input's revision, value or store path and with the expression's location,
// and not with the order the inputs come in.

#include "evaluator/inputs_hash.hh"

#include <gtest/gtest.h>

using namespace hydra;
using namespace hydra::evaluator;

namespace {

FetchedInput gitInput(const std::string& rev, const std::string& path)
{
    FetchedInput f;
    f.record.name = "src";
    f.record.type = "git";
    f.record.uri = "https://example.org/repo.git";
    f.record.revision = rev;
    f.record.path = path;
    f.record.sha256hash = "0aaa";
    return f;
}

FetchedInput stringInput(const std::string& name, const std::string& value)
{
    FetchedInput f;
    f.record.name = name;
    f.record.type = "string";
    f.record.value = value;
    f.arg = NixArg{name, NixArg::Kind::String, value};
    return f;
}

db::JobsetDefinition legacy()
{
    db::JobsetDefinition j;
    j.project = "p";
    j.name = "js";
    j.nixExprInput = "src";
    j.nixExprPath = "release.nix";
    return j;
}

const std::string storeA = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-source";
const std::string storeB = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-source";

TEST(InputsHash, IsSha256InHexAndStable)
{
    std::vector inputs{gitInput("abc", storeA), stringInput("system", "x86_64-linux")};
    auto h = inputsHash(inputs, legacy(), "");
    EXPECT_EQ(h.size(), 64u);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
    EXPECT_EQ(h, inputsHash(inputs, legacy(), ""));
}

TEST(InputsHash, DoesNotDependOnTheOrderOfInputs)
{
    std::vector one{gitInput("abc", storeA), stringInput("system", "x86_64-linux"), stringInput("a", "b")};
    std::vector two{stringInput("a", "b"), stringInput("system", "x86_64-linux"), gitInput("abc", storeA)};
    EXPECT_EQ(inputsHash(one, legacy(), ""), inputsHash(two, legacy(), ""));
}

TEST(InputsHash, ChangesWithRevisionValuePathOrHash)
{
    auto base = inputsHash({gitInput("abc", storeA), stringInput("system", "x86_64-linux")}, legacy(), "");
    EXPECT_NE(base,
              inputsHash({gitInput("abd", storeA), stringInput("system", "x86_64-linux")}, legacy(), ""));
    EXPECT_NE(base,
              inputsHash({gitInput("abc", storeB), stringInput("system", "x86_64-linux")}, legacy(), ""));
    EXPECT_NE(base,
              inputsHash({gitInput("abc", storeA), stringInput("system", "aarch64-linux")}, legacy(), ""));
    auto rehashed = gitInput("abc", storeA);
    rehashed.record.sha256hash = "0aab";
    EXPECT_NE(base, inputsHash({rehashed, stringInput("system", "x86_64-linux")}, legacy(), ""));
    // An input added, or renamed, is a change too.
    EXPECT_NE(base, inputsHash({gitInput("abc", storeA), stringInput("system", "x86_64-linux"),
                                stringInput("extra", "")},
                               legacy(), ""));
    EXPECT_NE(base,
              inputsHash({gitInput("abc", storeA), stringInput("systems", "x86_64-linux")}, legacy(), ""));
}

TEST(InputsHash, FieldsDoNotRunIntoEachOther)
{
    // "ab" + "c" and "a" + "bc" must not serialise alike.
    EXPECT_NE(inputsHash({stringInput("ab", "c")}, legacy(), ""),
              inputsHash({stringInput("a", "bc")}, legacy(), ""));
    auto unset = stringInput("x", "");
    unset.record.value.reset();
    EXPECT_NE(inputsHash({unset}, legacy(), ""), inputsHash({stringInput("x", "")}, legacy(), ""));
}

TEST(InputsHash, ChangesWithTheExpressionOrTheLockedFlake)
{
    std::vector inputs{gitInput("abc", storeA)};
    auto base = inputsHash(inputs, legacy(), "");
    auto otherPath = legacy();
    otherPath.nixExprPath = "ci.nix";
    EXPECT_NE(base, inputsHash(inputs, otherPath, ""));
    auto otherInput = legacy();
    otherInput.nixExprInput = "nixpkgs";
    EXPECT_NE(base, inputsHash(inputs, otherInput, ""));

    auto flake = legacy();
    flake.type = 1;
    flake.flake = "github:o/r";
    auto locked = inputsHash({}, flake, "github:o/r/1111111111111111111111111111111111111111");
    EXPECT_NE(locked, inputsHash({}, flake, "github:o/r/2222222222222222222222222222222222222222"));
    EXPECT_EQ(locked, inputsHash({}, flake, "github:o/r/1111111111111111111111111111111111111111"));
}

} // namespace
