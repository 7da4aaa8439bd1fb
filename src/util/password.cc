#include "util/password.hh"

#include "util/error.hh"

#include <algorithm>
#include <argon2.h>
#include <array>
#include <charconv>
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

bool argonMatches(std::string_view password, const std::string& stored, argon2_type type)
{
    return argon2_verify(stored.c_str(), password.data(), password.size(), type) == ARGON2_OK;
}

// Hashes made with fewer passes or less memory than ours (older Argon2 version, other
// variant) are replaced at the next login; stronger ones, such as Hydra's 256 MiB, are kept.
bool weakerThanOurs(std::string_view stored)
{
    constexpr std::string_view ours = "$argon2id$v=19$";
    if (!stored.starts_with(ours)) return true;
    std::string_view params = stored.substr(ours.size());
    params = params.substr(0, params.find('$'));
    uint32_t m = 0;
    uint32_t t = 0;
    while (!params.empty()) {
        std::string_view item = params.substr(0, params.find(','));
        params.remove_prefix(std::min(params.size(), item.size() + 1));
        uint32_t* target = item.starts_with("m=") ? &m : item.starts_with("t=") ? &t : nullptr;
        if (target) std::from_chars(item.data() + 2, item.data() + item.size(), *target);
    }
    return m < memoryKiB || t < timeCost;
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

PasswordCheck checkPassword(std::string_view password, std::string_view stored)
{
    if (auto type = argonType(stored)) {
        std::string s(stored);
        if (argonMatches(password, s, *type)) return {.valid = true, .rehash = weakerThanOurs(stored)};
        // An old SHA-1 hash that `hydra init` wrapped in Argon2: as Hydra does, the login
        // succeeds and the caller replaces it with a hash of the password itself.
        if (argonMatches(sha1Hex(password), s, *type)) return {.valid = true, .rehash = true};
        return {};
    }
    if (isLegacySha1Hash(stored)) {
        std::string h = sha1Hex(password);
        if (CRYPTO_memcmp(h.data(), stored.data(), h.size()) == 0) return {.valid = true, .rehash = true};
    }
    return {};
}

bool verifyPassword(std::string_view password, std::string_view stored)
{
    return checkPassword(password, stored).valid;
}

bool isLegacySha1Hash(std::string_view stored)
{
    if (stored.size() != 40) return false;
    for (char c : stored)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string upgradeLegacySha1Hash(std::string_view sha1Hex)
{
    if (!isLegacySha1Hash(sha1Hex)) throw Error("not a legacy SHA-1 password hash");
    return hashPassword(sha1Hex);
}

bool isSupportedPasswordHash(std::string_view hash)
{
    return argonType(hash) || isLegacySha1Hash(hash);
}

} // namespace hydra
