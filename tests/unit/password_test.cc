#include "util/error.hh"
#include "util/password.hh"

#include <argon2.h>
#include <cctype>
#include <gtest/gtest.h>

using namespace hydra;

namespace {

// sha1("foobar"), as old Hydra versions stored it.
const std::string foobarSha1 = "8843d7f92416211de9ebb963ff4ce28125932878";

std::string argonWith(argon2_type type, uint32_t passes, uint32_t memoryKiB, const std::string& password)
{
    const std::string salt = "0123456789abcdef";
    std::string out(argon2_encodedlen(passes, memoryKiB, 1, static_cast<uint32_t>(salt.size()), 32, type),
                    '\0');
    EXPECT_EQ(argon2_hash(passes, memoryKiB, 1, password.data(), password.size(), salt.data(), salt.size(),
                          nullptr, 32, out.data(), out.size(), type, ARGON2_VERSION_13),
              ARGON2_OK);
    out.resize(out.find('\0'));
    return out;
}

} // namespace

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
    std::string legacy = foobarSha1;
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

TEST(Password, UpgradedSha1HashStillAcceptsTheOldPasswordAndAsksForARehash)
{
    auto upgraded = upgradeLegacySha1Hash(foobarSha1);
    EXPECT_TRUE(upgraded.starts_with("$argon2id$")) << upgraded;
    auto check = checkPassword("foobar", upgraded);
    EXPECT_TRUE(check.valid);
    EXPECT_TRUE(check.rehash) << "a SHA-1 inside Argon2 is to be replaced at login, as in Hydra";
    EXPECT_FALSE(verifyPassword("foobaz", upgraded));
    EXPECT_FALSE(isLegacySha1Hash(upgraded)) << "a second upgrade must find nothing to do";
}

TEST(Password, FreshHashNeedsNoRehashButLegacyOnesDo)
{
    auto fresh = checkPassword("foobar", hashPassword("foobar"));
    EXPECT_TRUE(fresh.valid);
    EXPECT_FALSE(fresh.rehash);
    auto legacy = checkPassword("foobar", foobarSha1);
    EXPECT_TRUE(legacy.valid);
    EXPECT_TRUE(legacy.rehash);
    EXPECT_FALSE(checkPassword("foobaz", foobarSha1).rehash) << "a wrong password changes nothing";
}

TEST(Password, WeakerArgonHashesAreRehashedStrongerOnesKept)
{
    auto weak = checkPassword("foobar", argonWith(Argon2_id, 1, 4096, "foobar"));
    EXPECT_TRUE(weak.valid);
    EXPECT_TRUE(weak.rehash);
    auto argon2i = checkPassword("foobar", argonWith(Argon2_i, 3, 64 * 1024, "foobar"));
    EXPECT_TRUE(argon2i.valid);
    EXPECT_TRUE(argon2i.rehash);
    auto strong = checkPassword("foobar", argonWith(Argon2_id, 4, 128 * 1024, "foobar"));
    EXPECT_TRUE(strong.valid);
    EXPECT_FALSE(strong.rehash) << "a hash stronger than ours must not be weakened at login";
}

TEST(Password, ArgonHashesMadeByHydraVerify)
{
    // From Hydra's tests: the Argon2id (256 MiB) hash of "foobar".
    std::string hydra = "$argon2id$v=19$m=262144,t=3,p=1$tMnV5paYjmIrUIb6hylaNA$M8/e0i3NGrjhOliVLa5LqQ";
    EXPECT_TRUE(isSupportedPasswordHash(hydra));
    auto check = checkPassword("foobar", hydra);
    EXPECT_TRUE(check.valid);
    EXPECT_FALSE(check.rehash);
    EXPECT_FALSE(verifyPassword("foobaz", hydra));
}

TEST(Password, OnlyLowerCaseFortyHexDigitsAreLegacySha1)
{
    EXPECT_TRUE(isLegacySha1Hash(foobarSha1));
    std::string upper = foobarSha1;
    for (auto& c : upper) c = static_cast<char>(std::toupper(c));
    EXPECT_FALSE(isLegacySha1Hash(upper));
    EXPECT_FALSE(isLegacySha1Hash(foobarSha1.substr(1)));
    EXPECT_FALSE(isLegacySha1Hash("!"));
    EXPECT_THROW(upgradeLegacySha1Hash("!"), Error);
}
