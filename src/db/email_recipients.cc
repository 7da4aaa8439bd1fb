#include "db/email_recipients.hh"

namespace hydra::db {

std::optional<EmailBuild> loadEmailBuild(pqxx::transaction_base& t, BuildId id)
{
    // The previous build as Hydra's getPreviousBuild picks it: same jobset, job and system,
    // finished, lower id, not aborted or cancelled.
    auto r = t.exec_params("SELECT b.id, b.finished, j.project, j.name, b.job, b.system, b.buildStatus, "
                           "  j.enableEmail, j.emailOverride, COALESCE(b.maintainers, ''), "
                           "  (SELECT p.buildStatus FROM Builds p "
                           "   WHERE p.jobset_id = b.jobset_id AND p.job = b.job AND p.system = b.system "
                           "     AND p.finished = 1 AND p.id < b.id "
                           "     AND (p.buildStatus IS NULL OR p.buildStatus NOT IN (3, 4)) "
                           "   ORDER BY p.id DESC LIMIT 1) "
                           "FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.id = $1",
                           id);
    if (r.empty()) return std::nullopt;
    const auto& row = r[0];
    EmailBuild b;
    b.id = row[0].as<BuildId>();
    b.finished = row[1].as<int>() != 0;
    b.project = row[2].as<std::string>();
    b.jobset = row[3].as<std::string>();
    b.job = row[4].as<std::string>();
    b.system = row[5].as<std::string>();
    if (!row[6].is_null()) b.buildStatus = row[6].as<int>();
    b.enableEmail = row[7].as<int>() != 0;
    b.emailOverride = row[8].as<std::string>();
    b.maintainers = row[9].as<std::string>();
    if (!row[10].is_null()) b.previousStatus = row[10].as<int>();
    return b;
}

} // namespace hydra::db
