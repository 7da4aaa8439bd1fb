#include "server/html.hh"

namespace hydra::server {

std::string escapeHtml(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

Html& Html::raw(Markup m)
{
    out_ += m.text();
    return *this;
}

Html& Html::text(std::string_view s)
{
    out_ += escapeHtml(s);
    return *this;
}

Html& Html::number(long long n)
{
    out_ += std::to_string(n);
    return *this;
}

Html& Html::element(Markup tag, std::string_view s)
{
    std::string_view t = tag.text();
    auto space = t.find(' ');
    out_ += '<';
    out_ += t;
    out_ += '>';
    text(s);
    out_ += "</";
    out_ += t.substr(0, space);
    out_ += '>';
    return *this;
}

Html& Html::link(std::string_view url, std::string_view s)
{
    out_ += "<a href=\"";
    text(url);
    out_ += "\">";
    text(s);
    out_ += "</a>";
    return *this;
}

Html& Html::link(Markup cls, std::string_view url, std::string_view s)
{
    out_ += "<a class=\"";
    out_ += cls.text();
    out_ += "\" href=\"";
    text(url);
    out_ += "\">";
    text(s);
    out_ += "</a>";
    return *this;
}

Html& Html::append(const Html& other)
{
    out_ += other.out_;
    return *this;
}

} // namespace hydra::server
