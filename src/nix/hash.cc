#include "nix/hash.hh"

#include "nix/base32.hh"
#include "util/error.hh"

#include <openssl/evp.h>

#include <algorithm>

namespace hydra::nix {

namespace {

constexpr std::string_view hexDigits = "0123456789abcdef";
constexpr std::string_view base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::size_t base16Len = Hash::size * 2;
constexpr std::size_t base64Len = (Hash::size + 2) / 3 * 4;

int hexValue(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string base64Encode(std::span<const std::uint8_t> in)
{
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::size_t n = std::min<std::size_t>(3, in.size() - i);
        unsigned v = static_cast<unsigned>(in[i]) << 16;
        if (n > 1) v |= static_cast<unsigned>(in[i + 1]) << 8;
        if (n > 2) v |= in[i + 2];
        for (std::size_t k = 0; k < 4; ++k)
            out.push_back(k <= n ? base64Digits[(v >> (18 - 6 * k)) & 0x3f] : '=');
    }
    return out;
}

/// Decodes padded standard base-64 into exactly Hash::size bytes; `whole` names the input.
Hash base64DecodeHash(std::string_view s, std::string_view whole)
{
    if (s.size() != base64Len) throw Error("invalid SHA-256 hash '{}': base-64 part has wrong length", whole);
    Hash h;
    std::size_t outPos = 0, bits = 0;
    unsigned acc = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '=') {
            // Only the padding the 32-byte size implies, and no stray set bits before it.
            if (i < s.size() - (base64Len - (Hash::size * 8 + 5) / 6) || (acc & ((1u << bits) - 1)) != 0)
                throw Error("invalid SHA-256 hash '{}': bad base-64 padding", whole);
            continue;
        }
        auto digit = base64Digits.find(s[i]);
        if (digit == std::string_view::npos)
            throw Error("invalid SHA-256 hash '{}': illegal base-64 character '{}'", whole, s[i]);
        acc = (acc << 6) | static_cast<unsigned>(digit);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (outPos == Hash::size)
                throw Error("invalid SHA-256 hash '{}': too many base-64 digits", whole);
            h.bytes[outPos++] = static_cast<std::uint8_t>(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (outPos != Hash::size) throw Error("invalid SHA-256 hash '{}': too few base-64 digits", whole);
    return h;
}

Hash base16DecodeHash(std::string_view s, std::string_view whole)
{
    Hash h;
    for (std::size_t i = 0; i < Hash::size; ++i) {
        int hi = hexValue(s[2 * i]), lo = hexValue(s[2 * i + 1]);
        if (hi < 0 || lo < 0) throw Error("invalid SHA-256 hash '{}': illegal base-16 digit", whole);
        h.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return h;
}

Hash decodeAnyBase(std::string_view s, std::string_view whole)
{
    if (s.size() == base16Len) return base16DecodeHash(s, whole);
    if (s.size() == base64Len) return base64DecodeHash(s, whole);
    if (s.size() == base32Len(Hash::size)) {
        try {
            auto bytes = base32Decode(s);
            Hash h;
            std::copy(bytes.begin(), bytes.end(), h.bytes.begin());
            return h;
        } catch (const Error& e) {
            throw Error("invalid SHA-256 hash '{}': {}", whole, e.what());
        }
    }
    throw Error("invalid SHA-256 hash '{}': length {} is none of {} (base-16), {} (base-32), {} (base-64)",
                whole, s.size(), base16Len, base32Len(Hash::size), base64Len);
}

} // namespace

std::string Hash::toBase16() const
{
    std::string out;
    out.reserve(base16Len);
    for (auto b : bytes) {
        out.push_back(hexDigits[b >> 4]);
        out.push_back(hexDigits[b & 0xf]);
    }
    return out;
}

std::string Hash::toBase32() const
{
    return base32Encode(bytes);
}
std::string Hash::toSri() const
{
    return "sha256-" + base64Encode(bytes);
}
std::string Hash::toTyped() const
{
    return "sha256:" + toBase32();
}

Hash Hash::parse(std::string_view s)
{
    auto sep = s.find_first_of(":-");
    if (sep == std::string_view::npos)
        throw Error("invalid hash '{}': expected 'sha256:<hash>' or 'sha256-<base64>'", s);
    auto type = s.substr(0, sep);
    if (type != "sha256")
        throw Error("unsupported hash type '{}' in '{}': only sha256 is supported", type, s);
    auto rest = s.substr(sep + 1);
    if (s[sep] == '-') return base64DecodeHash(rest, s);
    return decodeAnyBase(rest, s);
}

Hash Hash::parseUntyped(std::string_view s)
{
    return decodeAnyBase(s, s);
}

struct Sha256Hasher::Ctx {
    EVP_MD_CTX* md = nullptr;
    Ctx() : md(EVP_MD_CTX_new())
    {
        if (!md || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1)
            throw Error("cannot initialise OpenSSL SHA-256 context");
    }
    ~Ctx() { EVP_MD_CTX_free(md); }
    Ctx(const Ctx&) = delete;
    Ctx& operator=(const Ctx&) = delete;
};

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Ctx>()) {}
Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

void Sha256Hasher::update(std::string_view data)
{
    if (EVP_DigestUpdate(ctx_->md, data.data(), data.size()) != 1)
        throw Error("OpenSSL SHA-256 update failed");
    bytes_ += data.size();
}

void Sha256Hasher::update(std::span<const std::uint8_t> data)
{
    update(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

Hash Sha256Hasher::finish()
{
    Hash h;
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx_->md, h.bytes.data(), &len) != 1 || len != Hash::size)
        throw Error("OpenSSL SHA-256 finalisation failed");
    if (EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) throw Error("cannot reset SHA-256 context");
    bytes_ = 0;
    return h;
}

Hash hashString(std::string_view data)
{
    Sha256Hasher hasher;
    hasher.update(data);
    return hasher.finish();
}

} // namespace hydra::nix
