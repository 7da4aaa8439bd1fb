#include "nix/hash.hh"
#include "nix/narinfo.hh"
#include "nix/signing.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

using namespace hydra::nix;

namespace {

std::string unhex(std::string_view hex)
{
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

// RFC 8032, section 7.1, test 1: the seed and public key laid out as Nix stores a secret key.
const std::string seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const std::string pub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const std::string emptySig =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
    "1cf9b46bd25bf5f0595bbe24655141438e7a100b";

SigningKey rfcKey()
{
    return SigningKey::parse("cache.example.org-1:" + base64Encode(unhex(seed + pub)) + "\n", "test key");
}

} // namespace

TEST(Signing, SignsAsEd25519WithNixsKeyLayout)
{
    auto key = rfcKey();
    EXPECT_EQ(key.name(), "cache.example.org-1");
    EXPECT_EQ(key.sign(""), "cache.example.org-1:" + base64Encode(unhex(emptySig)));
    EXPECT_EQ(key.publicKey(), "cache.example.org-1:" + base64Encode(unhex(pub)));
}

TEST(Signing, RefusesWhatIsNotASecretKeyNamingTheFile)
{
    try {
        SigningKey::parse("cache-1:" + base64Encode(unhex(pub)), "/etc/hydra/cache.sec");
        FAIL();
    } catch (const hydra::Error& e) {
        EXPECT_NE(std::string(e.what()).find("/etc/hydra/cache.sec"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("public key"), std::string::npos);
    }
    EXPECT_THROW(SigningKey::parse("no-colon", "k"), hydra::Error);
    EXPECT_THROW(SigningKey::parse("k:***", "k"), hydra::Error);
}

TEST(Signing, Base64RoundTrips)
{
    for (std::string s : {"a", "ab", "abc", "abcd"}) EXPECT_EQ(base64Decode(base64Encode(s), "t"), s);
    EXPECT_EQ(base64Encode("ab"), "YWI=");
}

TEST(NarInfo, HasNixsFieldsAndASignatureOverTheFingerprint)
{
    StorePathInfo info;
    info.path = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-top";
    info.narHash = "sha256:" + std::string(64, 'a');
    info.narSize = 1234;
    info.references = {"/nix/store/1123456789abcdfghijklmnpqrsvwxyz-dep", info.path};
    info.deriver = "/nix/store/2123456789abcdfghijklmnpqrsvwxyz-top.drv";
    auto key = rfcKey();
    auto text = renderNarInfo(info, "nar/x.nar.zst", "zstd", &key);
    EXPECT_NE(text.find("StorePath: " + info.path + "\nURL: nar/x.nar.zst\nCompression: zstd\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("NarSize: 1234\nReferences: 1123456789abcdfghijklmnpqrsvwxyz-dep "
                        "0123456789abcdfghijklmnpqrsvwxyz-top\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("Deriver: 2123456789abcdfghijklmnpqrsvwxyz-top.drv\n"), std::string::npos);
    auto fingerprint =
        pathFingerprint(info.path, hydra::nix::Hash::parse(info.narHash).toTyped(), 1234, info.references);
    EXPECT_EQ(fingerprint, "1;" + info.path + ";" + hydra::nix::Hash::parse(info.narHash).toTyped() +
                               ";1234;/nix/store/1123456789abcdfghijklmnpqrsvwxyz-dep," + info.path);
    EXPECT_NE(text.find("Sig: " + key.sign(fingerprint) + "\n"), std::string::npos) << text;
    // No references still writes the field with its one space, as Nix reads it.
    info.references.clear();
    EXPECT_NE(renderNarInfo(info, "u", "none", nullptr).find("References: \n"), std::string::npos);
    EXPECT_EQ(renderNarInfo(info, "u", "none", nullptr).find("Sig:"), std::string::npos);
}
