#pragma once
// Nullable values in and out of libpqxx 6 (whose std::optional support is compiled out here).

#include <cstdint>
#include <optional>
#include <pqxx/array>
#include <pqxx/field>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace hydra::db::sql {

/// The text of an optional parameter value; use as `orNull(text(v))` inside one exec call.
template <class T> std::optional<std::string> text(const std::optional<T>& v)
{
    if (!v) return std::nullopt;
    if constexpr (std::is_same_v<T, std::string>)
        return *v;
    else if constexpr (std::is_same_v<T, bool>)
        return std::string(*v ? "true" : "false");
    else
        return std::to_string(*v);
}

/// A parameter pqxx sends as NULL when `s` is empty (keep `s` alive until the exec returns).
inline const char* orNull(const std::optional<std::string>& s)
{
    return s ? s->c_str() : nullptr;
}

/// A text parameter that is NULL when empty.
inline const char* emptyAsNull(const std::string& s)
{
    return s.empty() ? nullptr : s.c_str();
}

/// A column value, std::nullopt when NULL.
template <class T> std::optional<T> get(const pqxx::field& f)
{
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

/// An array literal of integers, e.g. "{1,2,3}", for a parameter cast to integer[] or bigint[].
inline std::string intArray(std::span<const int64_t> values)
{
    std::string s = "{";
    for (size_t i = 0; i < values.size(); ++i) {
        if (i) s += ',';
        s += std::to_string(values[i]);
    }
    return s + "}";
}

/// An array literal of strings, each quoted, for a parameter cast to text[].
inline std::string textArray(std::span<const std::string> values)
{
    std::string s = "{";
    for (size_t i = 0; i < values.size(); ++i) {
        if (i) s += ',';
        s += '"';
        for (char c : values[i]) {
            if (c == '"' || c == '\\') s += '\\';
            s += c;
        }
        s += '"';
    }
    return s + "}";
}

/// The strings of a text[] column (NULL: none).
inline std::vector<std::string> readTextArray(const pqxx::field& f)
{
    std::vector<std::string> out;
    if (f.is_null()) return out;
    auto parser = f.as_array();
    for (auto [kind, value] = parser.get_next(); kind != pqxx::array_parser::juncture::done;
         std::tie(kind, value) = parser.get_next())
        if (kind == pqxx::array_parser::juncture::string_value) out.push_back(std::move(value));
    return out;
}

} // namespace hydra::db::sql
