#pragma once
// Mail text: an RFC 5322 message with UTF-8 headers (RFC 2047) and a quoted-printable
// UTF-8 plain-text body, as Hydra's mails are built.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hydra::notify {

/// Header names and values in order; values are UTF-8 text (CR and LF become spaces).
using MailHeaders = std::vector<std::pair<std::string, std::string>>;

/// The whole message: `headers`, Date, MIME-Version, Content-Type text/plain UTF-8,
/// Content-Transfer-Encoding quoted-printable, a blank line and the encoded body. Lines end in LF.
std::string mailText(const MailHeaders& headers, std::string_view body);

/// Quoted-printable (RFC 2045): lines of at most 76 characters, LF line ends kept.
std::string quotedPrintable(std::string_view text);

/// A header value as is when it is printable ASCII, else as RFC 2047 "=?UTF-8?B?...?=" words.
std::string encodeHeaderValue(std::string_view value);

} // namespace hydra::notify
