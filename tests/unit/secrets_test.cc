#include "util/secrets.hh"

#include <gtest/gtest.h>

using namespace hydra;

TEST(Secrets, RandomTokensAreHexOfTheAskedLengthAndDiffer)
{
    auto a = randomToken();
    auto b = randomToken();
    EXPECT_EQ(a.size(), 64U);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
    EXPECT_EQ(randomToken(4).size(), 8U);
}

TEST(Secrets, Sha256HexMatchesTheKnownDigest)
{
    EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Secrets, HmacSha256MatchesRfc4231Case2)
{
    EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Secrets, ConstantTimeEqualsComparesWholeStrings)
{
    EXPECT_TRUE(constantTimeEquals("abc", "abc"));
    EXPECT_FALSE(constantTimeEquals("abc", "abd"));
    EXPECT_FALSE(constantTimeEquals("abc", "abcd"));
    EXPECT_TRUE(constantTimeEquals("", ""));
}
