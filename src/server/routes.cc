#include "server/routes.hh"

#include "server/build_routes.hh"
#include "server/download_routes.hh"
#include "server/eval_routes.hh"
#include "server/farm_routes.hh"
#include "server/jobset_routes.hh"
#include "server/layout.hh"
#include "server/log_routes.hh"
#include "server/project_routes.hh"
#include "server/runner_routes.hh"

namespace hydra::server {

namespace {

Response styleSheetAsset(const Site&, const Request&)
{
    Response r;
    r.contentType = "text/css; charset=utf-8";
    r.body = std::string(styleSheet());
    r.headers.emplace_back("Cache-Control", "public, max-age=86400");
    return r;
}

} // namespace

const std::vector<Route>& routeTable()
{
    using A = Access;
    static const std::vector<Route> table = {
        // Projects and jobsets
        {"GET", "/", A::Public, overviewPage},
        {"GET", "/project/:project", A::Public, projectPage},
        {"GET", "/jobset/:project/:jobset", A::Public, jobsetPage},
        {"GET", "/jobset/:project/:jobset/evals", A::Public, jobsetEvalsPage},
        {"GET", "/jobset/:project/:jobset/errors", A::Public, jobsetErrorsPage},
        {"GET", "/jobset/:project/:jobset/latest-eval/*rest", A::Public, jobsetLatestEval},

        // Evaluations
        {"GET", "/eval/:id", A::Public, evalPage},
        {"GET", "/eval/:id/builds", A::Public, evalBuildsPage},
        {"GET", "/eval/:id/store-paths", A::Public, evalStorePaths},
        {"GET", "/eval/:id/errors", A::Public, evalErrorsPage},
        {"GET", "/eval/:id/job/:job/*rest", A::Public, evalJobRedirect},

        // Builds
        {"GET", "/build/:id", A::Public, buildPage},
        {"GET", "/build/:id/constituents", A::Public, buildConstituents},
        {"GET", "/build/:id/step/:step", A::Public, buildStepPage},
        {"GET", "/build/:id/api/get-info", A::Public, buildGetInfo},
        {"GET", "/build/:id/nixlog/:step/*rest", A::Public, buildNixlogRedirect},

        // Logs and downloads
        {"GET", "/build/:id/log", A::Public, buildLogPage},
        {"GET", "/build/:id/log/raw", A::Public, buildLogRaw},
        {"GET", "/build/:id/log/tail", A::Public, buildLogTail},
        {"GET", "/build/:id/step/:step/log", A::Public, stepLogPage},
        {"GET", "/build/:id/step/:step/log/raw", A::Public, stepLogRaw},
        {"GET", "/build/:id/step/:step/log/tail", A::Public, stepLogTail},
        {"GET", "/log/:drvname", A::Public, derivationLog},
        {"GET", "/build/:id/download/:nr/*rest", A::Public, buildDownload},
        {"GET", "/build/:id/output/:name", A::Public, buildOutputNar},

        // Jobs

        // The farm now, search and /api
        {"GET", "/queue", A::Public, queuePage},
        {"GET", "/queue-summary", A::Public, queueSummaryPage},
        {"GET", "/status", A::Public, runningBuildsPage},
        {"GET", "/machines", A::Public, machinesPage},
        {"GET", "/queue-runner-status", A::Public, queueRunnerStatusPage},
        {"GET", "/evals", A::Public, recentEvalsPage},
        {"GET", "/steps", A::Public, recentStepsPage},

        // Assets
        {"GET", "/static/style.css", A::Public, styleSheetAsset},
    };
    return table;
}

} // namespace hydra::server
