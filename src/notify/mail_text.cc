#include "notify/mail_text.hh"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fmt/format.h>

namespace hydra::notify {

namespace {

std::string base64(std::string_view in)
{
    static constexpr std::string_view digits =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        size_t n = std::min<size_t>(3, in.size() - i);
        uint32_t v = 0;
        for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
        for (size_t k = 0; k < 4; ++k) out += k <= n ? digits[(v >> (18 - 6 * k)) & 0x3f] : '=';
    }
    return out;
}

bool plainAscii(std::string_view s)
{
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

std::string rfc5322Date()
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    long off = tm.tm_gmtoff / 60;
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} {}{:02}{:02}",
                       days.at(static_cast<size_t>(tm.tm_wday)), tm.tm_mday,
                       months.at(static_cast<size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, off < 0 ? '-' : '+', std::abs(off) / 60, std::abs(off) % 60);
}

} // namespace

std::string encodeHeaderValue(std::string_view value)
{
    std::string v(value);
    for (char& c : v)
        if (c == '\r' || c == '\n') c = ' '; // no header injection
    if (plainAscii(v)) return v;
    // Encoded words of at most 45 bytes of text each (60 in base64), never splitting a UTF-8
    // character, folded onto continuation lines.
    std::string out;
    size_t i = 0;
    while (i < v.size()) {
        size_t end = std::min(v.size(), i + 45);
        while (end < v.size() && end > i + 1 && (static_cast<unsigned char>(v[end]) & 0xc0) == 0x80) --end;
        if (!out.empty()) out += "\n ";
        out += "=?UTF-8?B?" + base64(std::string_view(v).substr(i, end - i)) + "?=";
        i = end;
    }
    return out;
}

std::string quotedPrintable(std::string_view text)
{
    std::string out;
    size_t col = 0;
    auto put = [&](std::string_view piece) {
        if (col + piece.size() > 75) { // room for the soft break's '='
            out += "=\n";
            col = 0;
        }
        out += piece;
        col += piece.size();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        bool lineEnd = i + 1 == text.size() || text[i + 1] == '\n';
        if (c == '\n') {
            out += '\n';
            col = 0;
        } else if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !lineEnd)) {
            put(std::string(1, static_cast<char>(c)));
        } else {
            put(fmt::format("={:02X}", c));
        }
    }
    return out;
}

std::string mailText(const MailHeaders& headers, std::string_view body)
{
    std::string out;
    for (const auto& [name, value] : headers) out += name + ": " + encodeHeaderValue(value) + "\n";
    out += "Date: " + rfc5322Date() + "\n";
    out += "MIME-Version: 1.0\n";
    out += "Content-Type: text/plain; charset=\"UTF-8\"\n";
    out += "Content-Transfer-Encoding: quoted-printable\n\n";
    out += quotedPrintable(body);
    return out;
}

} // namespace hydra::notify
