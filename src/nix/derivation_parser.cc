// Parser for .drv files: a fixed-shape ATerm, read by a cursor in one forward pass (no
// recursion beyond the fixed nesting of the format, no backtracking).

#include "nix/derivation.hh"

#include "util/error.hh"

namespace hydra::nix {

namespace {

/// A read position in the text of one .drv file; every failure names the file and offset.
class Cursor {
public:
    Cursor(std::string_view text, std::string_view what) : text_(text), what_(what) {}

    [[noreturn]] void fail(std::string_view expected) const { failAt(pos_, expected); }

    [[noreturn]] void failAt(std::size_t pos, std::string_view expected) const
    {
        throw Error("{}: invalid derivation at byte {}: expected {}, found {}", what_, pos, expected,
                    describe(pos));
    }

    /// Consumes `lit` or fails saying it was expected.
    void expect(std::string_view lit)
    {
        if (text_.substr(pos_, lit.size()) != lit) fail(fmt::format("'{}'", lit));
        pos_ += lit.size();
    }

    /// Consumes `c` if it is next.
    bool accept(char c)
    {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    std::string parseString();

    /// Parses "[item,item,...]", calling `item` for each element.
    template <typename F> void parseList(F&& item)
    {
        expect("[");
        if (accept(']')) return;
        do item();
        while (accept(','));
        if (!accept(']')) fail("',' or ']'");
    }

    std::size_t pos() const { return pos_; }
    bool atEnd() const { return pos_ == text_.size(); }

private:
    std::string describe(std::size_t pos) const;

    std::string_view text_;
    std::string_view what_;
    std::size_t pos_ = 0;
};

std::string Cursor::describe(std::size_t pos) const
{
    if (pos >= text_.size()) return "end of file";
    auto c = static_cast<unsigned char>(text_[pos]);
    if (c >= 0x20 && c < 0x7f && c != '\'') return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02x}", c);
}

std::string Cursor::parseString()
{
    expect("\"");
    std::string out;
    while (true) {
        // Copy the run up to the next quote or backslash in one go: linear in the input.
        auto stop = text_.find_first_of("\"\\", pos_);
        if (stop == std::string_view::npos) {
            pos_ = text_.size();
            fail("closing '\"' of string");
        }
        out.append(text_, pos_, stop - pos_);
        pos_ = stop + 1;
        if (text_[stop] == '"') return out;
        if (pos_ >= text_.size()) fail("escape character after '\\'");
        switch (text_[pos_]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        default: fail("one of \\\" \\\\ \\n \\r \\t");
        }
        ++pos_;
    }
}

/// Reads a string that must be an absolute path (store paths in inputs and outputs).
std::string parsePath(Cursor& c, bool mayBeEmpty)
{
    auto start = c.pos();
    auto s = c.parseString();
    if (!(s.empty() && mayBeEmpty) && !s.starts_with('/')) c.failAt(start, "an absolute store path");
    return s;
}

void parseOutputs(Cursor& c, Derivation& d)
{
    c.parseList([&] {
        auto start = c.pos();
        c.expect("(");
        auto name = c.parseString();
        c.expect(",");
        DerivationOutput out;
        out.path = parsePath(c, true);
        c.expect(",");
        out.hashAlgo = c.parseString();
        c.expect(",");
        out.hash = c.parseString();
        c.expect(")");
        if (!d.outputs.emplace(std::move(name), std::move(out)).second)
            c.failAt(start, "outputs with distinct names, not a duplicate");
    });
}

void parseInputDrvs(Cursor& c, Derivation& d)
{
    c.parseList([&] {
        auto start = c.pos();
        c.expect("(");
        auto path = parsePath(c, false);
        c.expect(",");
        std::set<std::string> names;
        c.parseList([&] {
            auto nameStart = c.pos();
            if (!names.insert(c.parseString()).second)
                c.failAt(nameStart, "distinct output names, not a duplicate");
        });
        c.expect(")");
        if (!d.inputDrvs.emplace(std::move(path), std::move(names)).second)
            c.failAt(start, "distinct input derivations, not a duplicate");
    });
}

void parseEnv(Cursor& c, Derivation& d)
{
    c.parseList([&] {
        auto start = c.pos();
        c.expect("(");
        auto name = c.parseString();
        c.expect(",");
        auto value = c.parseString();
        c.expect(")");
        if (!d.env.emplace(std::move(name), std::move(value)).second)
            c.failAt(start, "distinct environment variables, not a duplicate");
    });
}

} // namespace

Derivation parseDerivation(std::string_view text, std::string_view what)
{
    Cursor c(text, what);
    Derivation d;
    c.expect("Derive(");
    parseOutputs(c, d);
    c.expect(",");
    parseInputDrvs(c, d);
    c.expect(",");
    c.parseList([&] {
        auto start = c.pos();
        if (!d.inputSrcs.insert(parsePath(c, false)).second)
            c.failAt(start, "distinct input sources, not a duplicate");
    });
    c.expect(",");
    d.platform = c.parseString();
    c.expect(",");
    d.builder = c.parseString();
    c.expect(",");
    c.parseList([&] { d.args.push_back(c.parseString()); });
    c.expect(",");
    parseEnv(c, d);
    c.expect(")");
    if (!c.atEnd()) c.fail("end of file after the closing ')'");
    return d;
}

} // namespace hydra::nix
