#include "db/queue_admin.hh"

#include <pqxx/pqxx>

#include "db/build_actions.hh"

#include <vector>

namespace hydra::db {

int clearQueueNonCurrent(pqxx::transaction_base& t, int64_t now)
{
    std::vector<int64_t> ids;
    for (const auto& r :
         t.exec("SELECT b.id FROM Builds b JOIN Jobsets j ON j.id = b.jobset_id WHERE b.finished = 0 AND "
                "j.enabled <> 0 "
                "EXCEPT SELECT m.build FROM JobsetEvalMembers m WHERE m.eval IN "
                "(SELECT max(id) FROM JobsetEvals WHERE hasNewBuilds = 1 GROUP BY jobset_id)"))
        ids.push_back(r[0].as<int64_t>());
    return static_cast<int>(cancelBuilds(t, ids, now).size());
}

int clearFailedPaths(pqxx::transaction_base& t)
{
    return static_cast<int>(t.exec("DELETE FROM FailedPaths").affected_rows());
}

} // namespace hydra::db
