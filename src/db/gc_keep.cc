#include "db/gc_keep.hh"

#include <pqxx/pqxx>

namespace hydra::db {

std::vector<std::string> storePathsToKeep(pqxx::transaction_base& t, int64_t now)
{
    constexpr int64_t week = int64_t{7} * 24 * 3600;
    auto rows =
        t.exec_params("SELECT o.path FROM BuildOutputs o JOIN Builds b ON b.id = o.build "
                      "  WHERE o.path IS NOT NULL AND (b.finished = 0 OR b.keep = 1) "
                      "UNION SELECT b.drvPath FROM Builds b WHERE b.finished = 0 "
                      "UNION SELECT o.path FROM Jobsets j JOIN Projects p ON p.name = j.project "
                      "  CROSS JOIN LATERAL (SELECT e.id FROM JobsetEvals e WHERE e.jobset_id = j.id "
                      "    ORDER BY e.id DESC LIMIT greatest(j.keepnr, 0)) e "
                      "  JOIN JobsetEvalMembers m ON m.eval = e.id "
                      "  JOIN BuildOutputs o ON o.build = m.build "
                      "  WHERE o.path IS NOT NULL AND NOT (j.enabled = 0 AND (p.hidden = 1 OR j.hidden = 1) "
                      "    AND $1::bigint - coalesce(j.lastCheckedTime, 0) > $2::bigint)",
                      now, week);
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (auto row : rows) out.push_back(row[0].as<std::string>());
    return out;
}

} // namespace hydra::db
