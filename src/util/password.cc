#include "util/password.hh"

#include "util/error.hh"

#include <argon2.h>
#include <array>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <optional>

namespace hydra {

namespace {

// OWASP's recommended Argon2id floor: 64 MiB, 3 passes, one lane.
constexpr uint32_t timeCost = 3;
constexpr uint32_t memoryKiB = 64 * 1024;
constexpr uint32_t lanes = 1;
constexpr size_t saltLen = 16;
constexpr size_t hashLen = 32;

bool isSha1Hex(std::string_view s)
{
    if (s.size() != 40) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string sha1Hex(std::string_view s)
{
    std::array<unsigned char, SHA_DIGEST_LENGTH> md{};
    SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md.data());
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : md) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::optional<argon2_type> argonType(std::string_view stored)
{
    if (stored.starts_with("$argon2id$")) return Argon2_id;
    if (stored.starts_with("$argon2i$")) return Argon2_i;
    if (stored.starts_with("$argon2d$")) return Argon2_d;
    return std::nullopt;
}

} // namespace

std::string hashPassword(std::string_view password)
{
    std::array<unsigned char, saltLen> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
        throw Error("cannot hash the password: no random bytes for the salt");
    size_t len = argon2_encodedlen(timeCost, memoryKiB, lanes, saltLen, hashLen, Argon2_id);
    std::string encoded(len, '\0');
    int rc = argon2id_hash_encoded(timeCost, memoryKiB, lanes, password.data(), password.size(), salt.data(),
                                   salt.size(), hashLen, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) throw Error("cannot hash the password: {}", argon2_error_message(rc));
    encoded.resize(encoded.find('\0'));
    return encoded;
}

bool verifyPassword(std::string_view password, std::string_view stored)
{
    if (auto type = argonType(stored)) {
        std::string s(stored);
        return argon2_verify(s.c_str(), password.data(), password.size(), *type) == ARGON2_OK;
    }
    if (isSha1Hex(stored)) {
        std::string h = sha1Hex(password);
        return CRYPTO_memcmp(h.data(), stored.data(), h.size()) == 0;
    }
    return false;
}

bool isSupportedPasswordHash(std::string_view hash)
{
    return argonType(hash) || isSha1Hex(hash);
}

} // namespace hydra
