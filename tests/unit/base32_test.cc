// Nix base-32: golden vectors from Nix, agreement with the installed nix-hash, and rejection of
// every kind of malformed input.

#include "nix/base32.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <gtest/gtest.h>
#include <random>

using namespace hydra;
using namespace hydra::nix;

namespace {

std::vector<std::uint8_t> fromHex(std::string_view hex)
{
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

std::string toHex(const std::vector<std::uint8_t>& bytes)
{
    std::string out;
    for (auto b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

struct Vector {
    const char* hex;
    const char* base32;
};

// Produced by `nix-hash --type <sha256|sha1|md5> --to-base32 <hex>` (Nix 2.8).
const Vector goldens[] = {
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"},
    {"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"},
    {"0102030405060708090a0b0c0d0e0f1011121314", "2h9i448h1w70s30b184hh1q60l2060h1"},
    {"ffffffffffffffffffffffffffffffffffffffff", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"},
    {"000102030405060708090a0b0c0d0e0f", "0g1q6hq2qa1440f1h50h1h4080"},
};

} // namespace

TEST(Base32, LengthsMatchNix)
{
    EXPECT_EQ(base32Len(0), 0u);
    EXPECT_EQ(base32Len(1), 2u);
    EXPECT_EQ(base32Len(16), 26u);
    EXPECT_EQ(base32Len(20), 32u);
    EXPECT_EQ(base32Len(32), 52u);
    EXPECT_EQ(base32Len(64), 103u);
}

TEST(Base32, GoldenVectorsEncodeAndDecode)
{
    for (const auto& v : goldens) {
        auto bytes = fromHex(v.hex);
        EXPECT_EQ(base32Encode(bytes), v.base32) << v.hex;
        EXPECT_EQ(toHex(base32Decode(v.base32)), v.hex) << v.base32;
    }
}

TEST(Base32, RoundTripsEverySizeUpTo100Bytes)
{
    std::mt19937 rng(42);
    for (std::size_t n = 0; n <= 100; ++n) {
        std::vector<std::uint8_t> bytes(n);
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
        auto text = base32Encode(bytes);
        EXPECT_EQ(text.size(), base32Len(n));
        EXPECT_EQ(base32Decode(text), bytes) << "size " << n;
    }
}

TEST(Base32, RejectsCharactersOutsideTheAlphabet)
{
    std::string good = "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
    for (char bad : {'e', 'o', 't', 'u', 'A', '-', '\0'}) {
        std::string s = good;
        s[10] = bad;
        EXPECT_THROW(base32Decode(s), Error) << "character " << int(bad);
    }
    for (char c : base32Alphabet) EXPECT_TRUE(isBase32Char(c));
    EXPECT_FALSE(isBase32Char('e'));
}

TEST(Base32, RejectsLengthsThatEncodeNoWholeByteCount)
{
    for (std::size_t len : {1u, 3u, 6u, 30u, 51u, 54u}) {
        try {
            base32Decode(std::string(len, '0'));
            ADD_FAILURE() << "length " << len << " accepted";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("length"), std::string::npos) << e.what();
        }
    }
}

TEST(Base32, RejectsBitsBeyondTheLastByte)
{
    // 52 characters carry 260 bits; a SHA-256 has 256, so the first character may only be 0 or 1.
    std::string s = "1mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
    EXPECT_EQ(toHex(base32Decode(s)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8d5");
    s[0] = '2';
    EXPECT_THROW(base32Decode(s), Error);
    s[0] = 'z';
    try {
        base32Decode(s);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << "error names the input: " << e.what();
    }
}

TEST(Base32, AgreesWithInstalledNixHash)
{
    std::mt19937 rng(std::random_device{}());
    for (auto [type, size] : {std::pair{"sha256", 32}, std::pair{"sha1", 20}, std::pair{"md5", 16}}) {
        for (int round = 0; round < 5; ++round) {
            std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
            for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
            ProcessOptions opts{.argv = {"nix-hash", "--type", type, "--to-base32", toHex(bytes)}};
            opts.setEnv["NIX_CONFIG"] = "substituters =";
            auto out = runChecked(opts);
            while (!out.empty() && out.back() == '\n') out.pop_back();
            EXPECT_EQ(base32Encode(bytes), out) << type << " " << toHex(bytes);
            EXPECT_EQ(base32Decode(out), bytes);
        }
    }
}
