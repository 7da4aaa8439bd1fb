// .drv parsing and printing: golden files written by Nix 2.8 round-trip byte for byte, the model
// holds what the queue runner reads, and malformed input fails with a precise hydra::Error.

#include "nix/derivation.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace hydra;
using namespace hydra::nix;

namespace {

const std::filesystem::path dataDir = std::filesystem::path(HYDRA_SOURCE_DIR) / "tests/data/drv";

std::string readFile(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Derivation golden(const std::string& name)
{
    auto path = dataDir / name;
    return parseDerivation(readFile(path), path.string());
}

/// The message of the Error that parsing `text` throws ("" if it parses).
std::string parseError(std::string_view text, std::string_view what = "test.drv")
{
    try {
        parseDerivation(text, what);
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

const std::string minimal = R"(Derive([("out","/nix/store/qqhn4pzmv8b0nqqsmnya5b8fb55p0fzr-a","","")],[],[],)"
                            R"("x86_64-linux","/bin/sh",["-c","echo a > $out"],[("name","a")]))";

} // namespace

TEST(Derivation, GoldenFilesRoundTripByteForByte)
{
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dataDir)) {
        if (entry.path().extension() != ".drv") continue;
        auto text = readFile(entry.path());
        EXPECT_EQ(printDerivation(parseDerivation(text, entry.path().string())), text) << entry.path();
        ++files;
    }
    EXPECT_GE(files, 8);
}

TEST(Derivation, ModelOfMultipleOutputsAndInputDrvs)
{
    auto lib = golden("seed-lib.drv");
    ASSERT_EQ(lib.outputs.size(), 3u);
    EXPECT_EQ(lib.outputs.at("dev").path, "/nix/store/c6j86701bcysymvnyrcr02mb7l8k9h4d-seed-lib-dev");
    EXPECT_EQ(lib.outputs.at("out").hashAlgo, "");
    EXPECT_EQ(lib.env.at("outputs"), "out dev lib");

    auto features = golden("seed-features.drv");
    ASSERT_EQ(features.inputDrvs.size(), 1u);
    EXPECT_EQ(features.inputDrvs.begin()->first, "/nix/store/lmh3qhhpsmc4c6mp7x3q6qlpdr4l3vc6-seed-lib.drv");
    EXPECT_EQ(features.inputDrvs.begin()->second, (std::set<std::string>{"dev", "out"}));
    EXPECT_EQ(features.platform, "x86_64-linux");
    EXPECT_EQ(features.builder, "/bin/sh");
    EXPECT_EQ(features.args.size(), 2u);
    EXPECT_EQ(features.requiredSystemFeatures(), (std::set<std::string>{"big-parallel", "kvm"}));
    EXPECT_TRUE(features.preferLocalBuild());
    EXPECT_FALSE(lib.preferLocalBuild());
    EXPECT_TRUE(lib.requiredSystemFeatures().empty());

    auto srcs = golden("seed-srcs.drv");
    EXPECT_EQ(srcs.inputSrcs,
              (std::set<std::string>{"/nix/store/jjrk6kmq4nys2xpjkq9nvngkq67w7swx-seed-script.sh"}));
}

TEST(Derivation, ModelOfFixedAndContentAddressedOutputs)
{
    auto fixed = golden("seed-fixed.drv").outputs.at("out");
    EXPECT_EQ(fixed.hashAlgo, "r:sha256");
    EXPECT_EQ(fixed.hash, std::string(64, '0'));
    EXPECT_EQ(golden("seed-flat.drv").outputs.at("out").hashAlgo, "sha1");
    auto ca = golden("seed-ca.drv").outputs.at("out");
    EXPECT_EQ(ca.path, "");
    EXPECT_EQ(ca.hashAlgo, "r:sha256");
    EXPECT_EQ(ca.hash, "");
}

TEST(Derivation, EscapesAreDecoded)
{
    auto d = golden("seed-escapes.drv");
    EXPECT_EQ(d.env.at("text"), "quote \" backslash \\ newline \n return \r tab \t unicode \xc3\xa9 end");
    EXPECT_EQ(d.args.at(1), "printf '%s\\n' \"a\tb\" > $out");
}

TEST(Derivation, StructuredAttrsGiveFeaturesAndPreferLocalBuild)
{
    auto d = golden("seed-structured.drv");
    EXPECT_EQ(d.requiredSystemFeatures(), (std::set<std::string>{"nixos-test"}));
    EXPECT_TRUE(d.preferLocalBuild());
    d.env["__json"] = "{not json";
    EXPECT_THROW(d.requiredSystemFeatures(), Error);
}

TEST(Derivation, FeatureAndPreferLocalBuildEnvEncoding)
{
    Derivation d;
    d.env["requiredSystemFeatures"] = "  kvm\tbig-parallel\n\nkvm  ";
    EXPECT_EQ(d.requiredSystemFeatures(), (std::set<std::string>{"big-parallel", "kvm"}));
    d.env["preferLocalBuild"] = "true"; // Nix writes true as "1" and false as ""
    EXPECT_FALSE(d.preferLocalBuild());
    d.env["preferLocalBuild"] = "1";
    EXPECT_TRUE(d.preferLocalBuild());
}

TEST(Derivation, PrintsTheExactNixLayout)
{
    Derivation d;
    d.outputs["out"] = {.path = "/nix/store/qqhn4pzmv8b0nqqsmnya5b8fb55p0fzr-a"};
    d.platform = "x86_64-linux";
    d.builder = "/bin/sh";
    d.args = {"-c", "echo a > $out"};
    d.env["name"] = "a";
    EXPECT_EQ(printDerivation(d), minimal);
    EXPECT_EQ(parseDerivation(minimal, "minimal"), d);

    d.env["z"] = "\"\\\n\r\t";
    d.inputDrvs["/nix/store/x.drv"] = {"out", "dev"};
    d.inputSrcs = {"/nix/store/b", "/nix/store/a"};
    EXPECT_EQ(printDerivation(d),
              R"(Derive([("out","/nix/store/qqhn4pzmv8b0nqqsmnya5b8fb55p0fzr-a","","")],)"
              R"([("/nix/store/x.drv",["dev","out"])],["/nix/store/a","/nix/store/b"],)"
              R"("x86_64-linux","/bin/sh",["-c","echo a > $out"],[("name","a"),("z","\"\\\n\r\t")]))");
}

TEST(Derivation, ErrorsSayWhatWhereAndInWhichFile)
{
    EXPECT_EQ(parseError(R"x(Derive([("out"))x", "/nix/store/x.drv"),
              "/nix/store/x.drv: invalid derivation at byte 14: expected ',', found ')'");
    EXPECT_EQ(parseError(""),
              "test.drv: invalid derivation at byte 0: expected 'Derive(', found end of file");
    EXPECT_EQ(parseError("DrvWithVersion(\"xp-dyn-drv\","),
              "test.drv: invalid derivation at byte 0: expected 'Derive(', found 'D'");
}

TEST(Derivation, RejectsEveryTruncation)
{
    auto text = readFile(dataDir / "seed-escapes.drv");
    for (std::size_t n = 0; n < text.size(); ++n) {
        auto msg = parseError(std::string_view(text).substr(0, n));
        EXPECT_NE(msg.find("test.drv: invalid derivation at byte"), std::string::npos)
            << "prefix " << n << ": " << msg;
    }
}

TEST(Derivation, RejectsMalformedInput)
{
    auto replaced = [](std::string s, std::string_view from, std::string_view to) {
        auto at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return s.replace(at, from.size(), to);
    };
    const std::pair<std::string, std::string> cases[] = {
        {replaced(minimal, "echo a", "echo \\a"), "expected one of \\\" \\\\ \\n \\r \\t, found 'a'"},
        {replaced(minimal, "\"-c\",", "\"-c\""), "expected ',' or ']', found '\"'"},
        {replaced(minimal, "[],[],", "[][],"), "expected ',', found '['"},
        {replaced(minimal, "[],[],", "[],[,],"), "expected '\"', found ','"},
        {replaced(minimal, "[],[],", "[],[\"relative\"],"), "byte 75: expected an absolute store path"},
        {replaced(minimal, "(\"name\",\"a\")", "(\"a\",\"1\"),(\"a\",\"2\")"), "not a duplicate"},
        {replaced(minimal, "(\"out\",", "(\"out\",\"/x\",\"\",\"\"),(\"out\","), "not a duplicate"},
        {minimal + "\n", "expected end of file after the closing ')', found byte 0x0a"},
        {minimal + ")", "expected end of file after the closing ')', found ')'"},
        {replaced(minimal, "Derive(", "Derive ("), "byte 0: expected 'Derive('"},
        {replaced(minimal, "\"echo a > $out\"", "\"echo a > $out"), "expected ',' or ']'"},
        {minimal.substr(0, minimal.size() - 1) + "\\", "expected ')', found '\\'"},
    };
    for (const auto& [text, expected] : cases) {
        auto msg = parseError(text);
        EXPECT_NE(msg.find(expected), std::string::npos) << "input: " << text << "\nmessage: " << msg;
    }
}

TEST(Derivation, EveryByteCorruptionFailsCleanlyOrRoundTrips)
{
    // What a fuzzer would find first: no crash, no exception but hydra::Error, and whatever
    // parses prints back to a fixed point.
    auto text = readFile(dataDir / "seed-features.drv");
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (char c : {'"', '\\', ',', '(', ')', '[', ']', 'x', '\0'}) {
            std::string bad = text;
            bad[i] = c;
            try {
                auto printed = printDerivation(parseDerivation(bad, "corrupt.drv"));
                EXPECT_EQ(printDerivation(parseDerivation(printed, "reprinted.drv")), printed);
            } catch (const Error&) {
            }
        }
    }
}

TEST(Derivation, LargeInputsRoundTrip)
{
    // 1 MB of escapes in one value and 100k arguments: a quadratic parser would not finish.
    Derivation d = parseDerivation(minimal, "minimal");
    std::string big;
    for (int i = 0; i < 200'000; ++i) big += "a\"\\\n\t";
    d.env["big"] = big;
    for (int i = 0; i < 100'000; ++i) d.args.push_back(std::to_string(i));
    auto text = printDerivation(d);
    EXPECT_GT(text.size(), 1'000'000u);
    auto parsed = parseDerivation(text, "big.drv");
    EXPECT_EQ(parsed, d);
    EXPECT_EQ(printDerivation(parsed), text);
}
