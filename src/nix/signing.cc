#include "nix/signing.hh"

#include "util/error.hh"

#include <fstream>
#include <openssl/evp.h>
#include <sstream>

namespace hydra::nix {

namespace {

constexpr std::size_t secretKeySize = 64; // libsodium's layout: 32-byte seed, 32-byte public key
constexpr std::size_t seedSize = 32;

struct PkeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

} // namespace

std::string base64Encode(std::string_view data)
{
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string base64Decode(std::string_view text, std::string_view what)
{
    if (text.empty() || text.size() % 4 != 0) throw Error("{}: malformed base64", what);
    std::string out(text.size() / 4 * 3, '\0');
    int n =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) throw Error("{}: malformed base64", what);
    // EVP_DecodeBlock counts the padding as zero bytes.
    size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    out.resize(static_cast<size_t>(n) - pad);
    return out;
}

SigningKey SigningKey::parse(std::string_view text, std::string_view what)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.remove_suffix(1);
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0)
        throw Error(
            "{}: not a Nix secret key (expected NAME:BASE64, as nix-store --generate-binary-cache-key "
            "writes it)",
            what);
    auto secret = base64Decode(text.substr(colon + 1), what);
    if (secret.size() != secretKeySize)
        throw Error("{}: the secret key has {} bytes instead of {} (is it the public key?)", what,
                    secret.size(), secretKeySize);
    SigningKey k;
    k.name_ = std::string(text.substr(0, colon));
    k.secret_.assign(secret.begin(), secret.end());
    return k;
}

SigningKey SigningKey::load(const std::string& file)
{
    std::ifstream in(file);
    if (!in) throw Error("cannot read the binary cache secret key file {}", file);
    std::stringstream s;
    s << in.rdbuf();
    return parse(s.str(), file);
}

SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

std::string SigningKey::sign(std::string_view data) const
{
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, secret_.data(), seedSize));
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    unsigned char sig[64];
    size_t len = sizeof sig;
    if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1)
        throw Error("cannot sign with the binary cache key {}", name_);
    return name_ + ":" + base64Encode(std::string_view(reinterpret_cast<const char*>(sig), len));
}

std::string SigningKey::publicKey() const
{
    return name_ + ":" +
           base64Encode(std::string_view(reinterpret_cast<const char*>(secret_.data()) + seedSize,
                                         secretKeySize - seedSize));
}

std::string pathFingerprint(const std::string& path, const std::string& narHashBase32, uint64_t narSize,
                            const std::vector<std::string>& references)
{
    std::string refs;
    for (const auto& r : references) refs += (refs.empty() ? "" : ",") + r;
    return "1;" + path + ";" + narHashBase32 + ";" + std::to_string(narSize) + ";" + refs;
}

} // namespace hydra::nix
