#pragma once
// SHA-256 digests and their textual forms (base-16, Nix base-32, SRI), and an incremental
// hasher for data that streams past, such as NARs.

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace hydra::nix {

/// A SHA-256 digest, the only hash type Hydra computes (NAR hashes, fixed outputs).
struct Hash {
    static constexpr std::size_t size = 32;
    std::array<std::uint8_t, size> bytes{};

    std::string toBase16() const;
    std::string toBase32() const;
    /// "sha256-<base64>", as `nix hash --sri` and the narinfo/JSON world print it.
    std::string toSri() const;
    /// "sha256:<base32>", as `nix-store --query --hash` prints and the serve protocol sends.
    std::string toTyped() const;

    /// Parses "sha256:<hash>" (hash in base-16, Nix base-32 or base-64) or "sha256-<base64>".
    /// Throws hydra::Error naming `s`, also for other hash types ("sha1:...").
    static Hash parse(std::string_view s);
    /// Parses an untyped SHA-256 in base-16, Nix base-32 or base-64, told apart by length.
    static Hash parseUntyped(std::string_view s);

    auto operator<=>(const Hash&) const = default;
};

/// Incremental SHA-256 over OpenSSL EVP: feed any number of chunks, then finish() once.
class Sha256Hasher {
public:
    Sha256Hasher();
    ~Sha256Hasher();
    Sha256Hasher(Sha256Hasher&&) noexcept;
    Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
    Sha256Hasher(const Sha256Hasher&) = delete;
    Sha256Hasher& operator=(const Sha256Hasher&) = delete;

    void update(std::string_view data);
    void update(std::span<const std::uint8_t> data);
    /// Number of bytes fed so far (a NAR's size, when hashing a NAR).
    std::uint64_t bytesHashed() const { return bytes_; }
    /// Returns the digest and resets the hasher, so it can hash a new stream.
    Hash finish();

private:
    struct Ctx;
    std::unique_ptr<Ctx> ctx_;
    std::uint64_t bytes_ = 0;
};

/// SHA-256 of a whole string.
Hash hashString(std::string_view data);

} // namespace hydra::nix
