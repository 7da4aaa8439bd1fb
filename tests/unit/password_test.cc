#include "util/password.hh"

#include <gtest/gtest.h>

using namespace hydra;

TEST(Password, HashIsSaltedArgon2idAndVerifies)
{
    auto a = hashPassword("correct horse");
    auto b = hashPassword("correct horse");
    EXPECT_TRUE(a.starts_with("$argon2id$v=19$m=65536,t=3,p=1$")) << a;
    EXPECT_NE(a, b) << "same password must get different salts";
    EXPECT_TRUE(verifyPassword("correct horse", a));
    EXPECT_FALSE(verifyPassword("correct horsE", a));
}

TEST(Password, LegacySha1HashesOfOldHydraStillVerify)
{
    // sha1("foobar"), as old Hydra versions stored it.
    std::string legacy = "8843d7f92416211de9ebb963ff4ce28125932878";
    EXPECT_TRUE(isSupportedPasswordHash(legacy));
    EXPECT_TRUE(verifyPassword("foobar", legacy));
    EXPECT_FALSE(verifyPassword("foobaz", legacy));
}

TEST(Password, UnknownFormatsAreRejected)
{
    EXPECT_FALSE(isSupportedPasswordHash("plaintext"));
    EXPECT_FALSE(isSupportedPasswordHash("$2b$12$abcdefghijklmnopqrstuv"));
    EXPECT_FALSE(verifyPassword("plaintext", "plaintext"));
}
