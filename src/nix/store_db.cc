#include "nix/store_db.hh"

#include "util/error.hh"

#include <cstdlib>
#include <sqlite3.h>

namespace hydra::nix {

namespace {

// A prepared statement, finalised when it goes out of scope.
class Statement {
public:
    Statement(sqlite3* db, const char* sql, const std::string& file) : db_(db)
    {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
            throw Error("Nix database {}: {}", file, sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    void bind(int i, const std::string& s)
    {
        sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    /// Makes the statement ready to run again with new bindings.
    void reset() { sqlite3_reset(stmt_); }
    /// Steps to the next row; false when there is none. Throws on an error.
    bool next(const std::string& file)
    {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw Error("Nix database {}: {}", file, sqlite3_errmsg(db_));
    }
    std::optional<std::string> text(int col)
    {
        if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col)),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
    }
    int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

std::vector<std::string> splitSpaces(const std::string& s)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < s.size()) {
        auto end = s.find(' ', pos);
        if (end == std::string::npos) end = s.size();
        if (end > pos) out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

} // namespace

std::string NixStoreDb::defaultFile()
{
    const char* state = std::getenv("NIX_STATE_DIR");
    return std::string(state && *state ? state : "/nix/var/nix") + "/db/db.sqlite";
}

NixStoreDb::NixStoreDb(std::string dbFile, std::string storeDir)
    : file_(std::move(dbFile)), storeDir_(std::move(storeDir)), db_(nullptr)
{
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        throw Error("cannot open the Nix database {} to read: {}", file_, msg);
    }
    // Nix may hold a write lock for a moment; a reader waits rather than fails.
    sqlite3_busy_timeout(db, 10000);
    *db_.lock() = db;
}

NixStoreDb::~NixStoreDb()
{
    sqlite3_close(*db_.lock());
}

std::set<std::string> NixStoreDb::validPaths(const std::set<std::string>& paths)
{
    std::set<std::string> valid;
    if (paths.empty()) return valid;
    auto db = db_.lock();
    Statement q(*db, "SELECT 1 FROM ValidPaths WHERE path = ?", file_);
    for (const auto& p : paths) {
        q.reset();
        q.bind(1, p);
        if (q.next(file_)) valid.insert(p);
    }
    return valid;
}

std::optional<std::string> NixStoreDb::pathFromHashPart(const std::string& hashPart)
{
    // The paths are sorted, and every path with this hash part starts with this prefix.
    std::string prefix = storeDir_ + "/" + hashPart;
    auto db = db_.lock();
    Statement q(*db, "SELECT path FROM ValidPaths WHERE path >= ? LIMIT 1", file_);
    q.bind(1, prefix);
    if (!q.next(file_)) return std::nullopt;
    auto path = q.text(0).value_or("");
    if (!path.starts_with(prefix + "-")) return std::nullopt;
    return path;
}

std::optional<StorePathInfo> NixStoreDb::pathInfo(const std::string& path)
{
    auto db = db_.lock();
    Statement q(*db, "SELECT id, hash, narSize, deriver, sigs, ca FROM ValidPaths WHERE path = ?", file_);
    q.bind(1, path);
    if (!q.next(file_)) return std::nullopt;
    StorePathInfo info;
    info.path = path;
    int64_t id = q.integer(0);
    info.narHash = q.text(1).value_or("");
    info.narSize = static_cast<uint64_t>(q.integer(2));
    info.deriver = q.text(3);
    if (info.deriver && info.deriver->empty()) info.deriver.reset();
    info.sigs = splitSpaces(q.text(4).value_or(""));
    info.ca = q.text(5);
    if (info.ca && info.ca->empty()) info.ca.reset();
    Statement refs(*db,
                   "SELECT v.path FROM Refs r JOIN ValidPaths v ON r.reference = v.id WHERE r.referrer = ? "
                   "ORDER BY v.path",
                   file_);
    refs.bind(1, id);
    while (refs.next(file_)) info.references.push_back(refs.text(0).value_or(""));
    return info;
}

std::vector<std::string> NixStoreDb::unbuiltDerivations(const std::string& drvPath, size_t limit)
{
    // One recursive query over Nix's own indexes (Refs by referrer, DerivationOutputs by drv,
    // ValidPaths by path): a .drv's references hold its input derivations.
    auto db = db_.lock();
    Statement q(*db,
                "WITH RECURSIVE unbuilt(id, path) AS ("
                "  SELECT id, path FROM ValidPaths v WHERE path = ?1 AND EXISTS ("
                "    SELECT 1 FROM DerivationOutputs o WHERE o.drv = v.id AND NOT EXISTS ("
                "      SELECT 1 FROM ValidPaths w WHERE w.path = o.path))"
                "  UNION"
                "  SELECT v.id, v.path FROM unbuilt u JOIN Refs r ON r.referrer = u.id "
                "  JOIN ValidPaths v ON v.id = r.reference "
                "  WHERE v.path LIKE '%.drv' AND EXISTS ("
                "    SELECT 1 FROM DerivationOutputs o WHERE o.drv = v.id AND NOT EXISTS ("
                "      SELECT 1 FROM ValidPaths w WHERE w.path = o.path))"
                ") SELECT path FROM unbuilt LIMIT ?2",
                file_);
    q.bind(1, drvPath);
    q.bind(2, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    while (q.next(file_)) out.push_back(q.text(0).value_or(""));
    return out;
}

} // namespace hydra::nix
