#pragma once
// Turning Hydra's HYDRA_DBI (Perl DBI data source) or a libpq URL/conninfo into a libpq conninfo.

#include <string>
#include <string_view>

namespace hydra::db {

/// Turns HYDRA_DBI ("dbi:Pg:dbname=hydra;host=h;port=5432;user=u;password=p", keys
/// case-insensitive, also Hydra's "database="/"db=" aliases) or a libpq URL
/// ("postgresql://..."/"postgres://...") or a plain libpq key=value conninfo into a libpq
/// conninfo string. Throws hydra::Error naming the input (password hidden).
std::string conninfoFromDbi(std::string_view dbi);

/// Quotes one conninfo value as libpq requires: 'value' with \ and ' backslash-escaped.
std::string quoteConninfoValue(std::string_view value);

} // namespace hydra::db
