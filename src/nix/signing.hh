#pragma once
// SigningKey: Nix's ed25519 binary cache keys ("name:base64", as
// `nix-store --generate-binary-cache-key` writes them) and the signatures of narinfo files.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::nix {

/// A secret key that signs store paths for a binary cache.
class SigningKey {
public:
    /// Parses "name:base64(64-byte secret key)"; throws hydra::Error naming `what` (the file).
    static SigningKey parse(std::string_view text, std::string_view what);
    /// Reads and parses the key file; throws hydra::Error naming it.
    static SigningKey load(const std::string& file);

    ~SigningKey();
    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;

    const std::string& name() const { return name_; }
    /// "name:base64(signature)" of `data`.
    std::string sign(std::string_view data) const;
    /// "name:base64(32-byte public key)", what clients put in trusted-public-keys.
    std::string publicKey() const;

private:
    SigningKey() = default;
    std::string name_;
    std::vector<unsigned char> secret_; ///< 64 bytes: seed, then public key
};

/// What a binary cache signs for a path: "1;PATH;NARHASH;NARSIZE;REF1,REF2,..." with the NAR
/// hash as "sha256:<base32>" and the references as full paths.
std::string pathFingerprint(const std::string& path, const std::string& narHashBase32, uint64_t narSize,
                            const std::vector<std::string>& references);

/// Base64 as Nix writes keys and signatures (with padding).
std::string base64Encode(std::string_view data);
/// Decodes base64; throws hydra::Error naming `what` when malformed.
std::string base64Decode(std::string_view text, std::string_view what);

} // namespace hydra::nix
