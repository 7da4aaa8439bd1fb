#pragma once
// Generic reader for Apache-style configuration files as Hydra's hydra.conf uses them
// (the dialect of Perl's Config::General with Hydra's options: Apache includes, includes
// relative to the including file, the same file includable more than once).
//
// Accepted syntax, one construct a line:
//   key = value          also `key value`; the key ends at the first '=' or blank
//   key = "quoted"       surrounding double quotes are removed, \" becomes "
//   key = a \            a trailing backslash joins the next line
//         b
//   key <<EOT            here-document up to a line holding only EOT; the terminator's
//   ...                  indentation is removed from every line
//   EOT
//   # comment            '#' starts a comment anywhere outside here-documents; \# is a '#'
//   /* comment */        C-style comment lines, possibly spanning several lines
//   <name>  </name>      a section; `<name label>` gives it a label; sections nest, and
//                        the same name may appear several times (each is its own section)
//   include FILE         also `Include "FILE"` and `<<include FILE>>`; a relative FILE is
//                        resolved against the directory of the file that includes it

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra {

/// Where a construct was read: "file:line" in every message about it.
struct ConfigLocation {
    std::string file;
    int line = 0;
    std::string str() const;
};

/// One `key = value` line.
struct ConfigEntry {
    std::string key;
    std::string value;
    ConfigLocation loc;
};

/// A `<name label>` block, or the whole file (empty name): its entries and blocks in file order.
struct ConfigSection {
    std::string name;
    std::string label;
    ConfigLocation loc;
    std::vector<ConfigEntry> entries;
    std::vector<ConfigSection> sections;

    /// The last value given for `key` (later lines override earlier ones), or nullptr.
    const ConfigEntry* last(std::string_view key) const;
    /// Every value given for `key`, in file order.
    std::vector<const ConfigEntry*> all(std::string_view key) const;
    /// The last value of `key`, if any.
    std::optional<std::string> get(std::string_view key) const;
    /// Every block named exactly `name` (as Hydra looks them up), in file order.
    std::vector<const ConfigSection*> blocks(std::string_view name) const;
    /// The last block named `name`, or nullptr.
    const ConfigSection* block(std::string_view name) const;
};

/// Limits for reading a configuration.
struct ConfigParseOptions {
    /// How deeply includes may nest before the file is rejected.
    int maxIncludeDepth = 16;
};

/// Reads `path` and every file it includes. Throws Error naming file:line and what was
/// expected when the text is malformed or an include cannot be read.
ConfigSection parseConfigFile(const std::string& path, const ConfigParseOptions& options = {});

/// Parses `text` as if it had been read from the file `name` (includes resolve against
/// the directory of `name`).
ConfigSection parseConfigText(std::string_view text, const std::string& name,
                              const ConfigParseOptions& options = {});

} // namespace hydra
