#pragma once
// Html: builds a page in which every value is escaped unless it is markup written in the
// program itself, so that text from users, logs and builds can never become markup.

#include <cstddef>
#include <string>
#include <string_view>

namespace hydra::server {

/// Markup that can only come from a string literal in the program, never from data.
class Markup {
public:
    template <size_t N>
    consteval Markup(const char (&s)[N]) : text_(s, N - 1) // NOLINT(google-explicit-constructor)
    {}
    std::string_view text() const { return text_; }

private:
    std::string_view text_;
};

/// An HTML fragment under construction.
class Html {
public:
    /// Program markup, as is.
    Html& raw(Markup m);
    /// Data: escaped for element content or attribute values.
    Html& text(std::string_view s);
    Html& number(long long n);
    /// <tag>text</tag> with the text escaped.
    Html& element(Markup tag, std::string_view s);
    /// <a href="url">text</a>, both escaped.
    Html& link(std::string_view url, std::string_view s);
    /// <a class="cls" href="url">text</a>.
    Html& link(Markup cls, std::string_view url, std::string_view s);
    /// Another fragment, already built safely.
    Html& append(const Html& other);

    const std::string& str() const { return out_; }
    bool empty() const { return out_.empty(); }

private:
    std::string out_;
};

/// `s` with & < > " ' replaced by entities.
std::string escapeHtml(std::string_view s);

} // namespace hydra::server
