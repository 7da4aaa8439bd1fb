#include "db/overview.hh"

namespace hydra::db {

Overview readOverview(pqxx::connection& c)
{
    pqxx::read_transaction t(c);
    auto r = t.exec("SELECT (SELECT count(*) FROM Projects), (SELECT count(*) FROM Jobsets), "
                    "(SELECT count(*) FROM Builds WHERE finished = 0), "
                    "(SELECT count(*) FROM Builds WHERE finished = 1), (SELECT count(*) FROM Users)");
    return Overview{r[0][0].as<long long>(), r[0][1].as<long long>(), r[0][2].as<long long>(),
                    r[0][3].as<long long>(), r[0][4].as<long long>()};
}

} // namespace hydra::db
