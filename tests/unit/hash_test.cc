// SHA-256: known digests, streaming equal to one-shot, every textual form and its parser, and
// agreement with the NAR hash the real Nix store records.

#include "nix/hash.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace hydra;
using namespace hydra::nix;

namespace {

const std::string abcBase16 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string abcBase32 = "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
const std::string abcBase64 = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";

ProcessOptions nixCommand(std::vector<std::string> argv)
{
    ProcessOptions opts{.argv = std::move(argv)};
    opts.setEnv["NIX_CONFIG"] = "substituters =";
    return opts;
}

std::string trimmed(std::string s)
{
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

} // namespace

TEST(Hash, KnownDigests)
{
    EXPECT_EQ(hashString("").toBase16(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hashString("abc").toBase16(), abcBase16);
    EXPECT_EQ(hashString("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").toBase16(),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Hash, StreamingInChunksEqualsOneShot)
{
    std::string data(1'000'000, 'a');
    std::mt19937 rng(7);
    Sha256Hasher hasher;
    for (std::size_t pos = 0; pos < data.size();) {
        std::size_t n = std::min<std::size_t>(rng() % 70000, data.size() - pos);
        hasher.update(std::string_view(data).substr(pos, n));
        pos += n;
    }
    EXPECT_EQ(hasher.bytesHashed(), data.size());
    auto h = hasher.finish();
    EXPECT_EQ(h.toBase16(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    EXPECT_EQ(h, hashString(data));
    // finish() resets: the same hasher can hash the next stream.
    EXPECT_EQ(hasher.bytesHashed(), 0u);
    hasher.update("abc");
    EXPECT_EQ(hasher.finish().toBase16(), abcBase16);
}

TEST(Hash, TextualForms)
{
    auto h = hashString("abc");
    EXPECT_EQ(h.toBase32(), abcBase32);
    EXPECT_EQ(h.toSri(), "sha256-" + abcBase64);
    EXPECT_EQ(h.toTyped(), "sha256:" + abcBase32);
}

TEST(Hash, ParsesEveryFormBack)
{
    auto h = hashString("abc");
    for (const auto& s : {"sha256:" + abcBase32, "sha256:" + abcBase16, "sha256:" + abcBase64,
                          "sha256-" + abcBase64, h.toSri(), h.toTyped()})
        EXPECT_EQ(Hash::parse(s), h) << s;
    for (const auto& s : {abcBase16, abcBase32, abcBase64}) EXPECT_EQ(Hash::parseUntyped(s), h) << s;
    // Nix accepts upper-case base-16 too.
    std::string upper = abcBase16;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(Hash::parseUntyped(upper), h);
}

TEST(Hash, RejectsMalformedHashesNamingThem)
{
    const std::string bad[] = {
        "",
        "sha256",
        "sha1:a9993e364706816aba3e25717850c26c9cd0d89d",                  // unsupported type
        "sha512-" + abcBase64,                                            // unsupported type
        "sha256:" + abcBase16.substr(1),                                  // wrong length
        "sha256:" + abcBase32.substr(0, 51) + "e",                        // 'e' is not a base-32 digit
        "sha256:z" + abcBase32.substr(1),                                 // bits beyond 256
        "sha256:" + abcBase16.substr(0, 63) + "g",                        // bad hex digit
        "sha256-" + abcBase64.substr(0, 43) + "A",                        // missing padding
        "sha256-" + abcBase64.substr(0, 42) + "==",                       // padding too early
        "sha256-" + abcBase64.substr(0, 42) + "1=",                       // stray bits before the padding
        "sha256-" + abcBase64.substr(0, 10) + "!" + abcBase64.substr(11), // bad character
        "sha256-" + abcBase32,                                            // SRI is base-64 only
    };
    for (const auto& s : bad) {
        try {
            Hash::parse(s);
            ADD_FAILURE() << "accepted '" << s << "'";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("'" + s + "'"), std::string::npos) << e.what();
        }
    }
}

TEST(Hash, NarHashMatchesNixStore)
{
    signal(SIGPIPE, SIG_IGN);
    // A fresh store path, so the test does not depend on what the machine holds.
    char dir[] = "/tmp/hash-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string file = std::string(dir) + "/payload";
    std::ofstream(file) << "hash test nonce " << std::random_device{}() << "\n" << std::string(100000, 'x');
    auto path = trimmed(runChecked(nixCommand({"nix-store", "--add", file})));
    std::filesystem::remove_all(dir);

    auto expected = trimmed(runChecked(nixCommand({"nix-store", "--query", "--hash", path})));
    auto nar = runChecked(nixCommand({"nix-store", "--dump", path}));
    Sha256Hasher hasher;
    for (std::size_t pos = 0; pos < nar.size(); pos += 4096)
        hasher.update(std::string_view(nar).substr(pos, 4096));
    EXPECT_EQ(hasher.finish().toTyped(), expected) << path;
    EXPECT_EQ(Hash::parse(expected), hashString(nar));
}
