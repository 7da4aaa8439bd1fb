#include "nix/base32.hh"

#include "util/error.hh"

#include <array>

namespace hydra::nix {

namespace {

constexpr std::uint8_t invalidDigit = 0xff;

constexpr std::array<std::uint8_t, 256> makeDigitTable()
{
    std::array<std::uint8_t, 256> table{};
    table.fill(invalidDigit);
    for (std::size_t i = 0; i < base32Alphabet.size(); ++i)
        table[static_cast<unsigned char>(base32Alphabet[i])] = static_cast<std::uint8_t>(i);
    return table;
}

constexpr std::array<std::uint8_t, 256> digitTable = makeDigitTable();

/// Byte count whose encoding is `len` characters long, or SIZE_MAX if there is none.
std::size_t decodedSize(std::size_t len)
{
    std::size_t bytes = len * 5 / 8;
    return base32Len(bytes) == len ? bytes : SIZE_MAX;
}

} // namespace

bool isBase32Char(char c)
{
    return digitTable[static_cast<unsigned char>(c)] != invalidDigit;
}

std::string base32Encode(std::span<const std::uint8_t> bytes)
{
    std::size_t len = base32Len(bytes.size());
    std::string out;
    out.reserve(len);
    // Character k (counting from the end) holds bits 5k..5k+4 of the little-endian number.
    for (std::size_t k = len; k-- > 0;) {
        std::size_t bit = k * 5;
        std::size_t i = bit / 8;
        unsigned shift = static_cast<unsigned>(bit % 8);
        unsigned v = static_cast<unsigned>(bytes[i]) >> shift;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned>(bytes[i + 1]) << (8 - shift);
        out.push_back(base32Alphabet[v & 0x1f]);
    }
    return out;
}

std::vector<std::uint8_t> base32Decode(std::string_view s)
{
    std::size_t size = decodedSize(s.size());
    if (size == SIZE_MAX)
        throw Error("invalid base-32 string '{}': length {} encodes no whole number of bytes", s, s.size());
    std::vector<std::uint8_t> out(size, 0);
    for (std::size_t k = 0; k < s.size(); ++k) {
        char c = s[s.size() - 1 - k];
        std::uint8_t digit = digitTable[static_cast<unsigned char>(c)];
        if (digit == invalidDigit) throw Error("invalid base-32 string '{}': illegal character '{}'", s, c);
        std::size_t bit = k * 5;
        std::size_t i = bit / 8;
        unsigned shift = static_cast<unsigned>(bit % 8);
        out[i] = static_cast<std::uint8_t>(out[i] | (digit << shift));
        unsigned carry = static_cast<unsigned>(digit) >> (8 - shift);
        if (i + 1 < size)
            out[i + 1] = static_cast<std::uint8_t>(out[i + 1] | carry);
        else if (carry != 0)
            throw Error("invalid base-32 string '{}': bits set beyond the last byte", s);
    }
    return out;
}

} // namespace hydra::nix
