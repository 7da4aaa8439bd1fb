#include "server/routes.hh"

#include "server/account_routes.hh"
#include "server/action_confirm.hh"
#include "server/admin_queue_routes.hh"
#include "server/admin_users_routes.hh"
#include "server/api_routes.hh"
#include "server/build_action_routes.hh"
#include "server/build_list_routes.hh"
#include "server/build_routes.hh"
#include "server/cache_routes.hh"
#include "server/channel_routes.hh"
#include "server/download_routes.hh"
#include "server/eval_action_routes.hh"
#include "server/eval_routes.hh"
#include "server/farm_routes.hh"
#include "server/job_routes.hh"
#include "server/jobset_edit_routes.hh"
#include "server/jobset_routes.hh"
#include "server/layout.hh"
#include "server/live_routes.hh"
#include "server/log_routes.hh"
#include "server/project_edit_routes.hh"
#include "server/project_routes.hh"
#include "server/push_routes.hh"
#include "server/runner_routes.hh"
#include "server/search_routes.hh"
#include "server/session_routes.hh"
#include "server/token_routes.hh"
#include "server/webhook_routes.hh"

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
    using L = BuildListLevel;
    using K = LatestKind;
    using C = ChannelPart;
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
        {"GET", "/job/:project/:jobset/:job", A::Public, jobPage},
        {"GET", "/job/:project/:jobset/:job/shield", A::Public, jobShield},
        {"GET", "/job/:project/:jobset/:job/metric/:name", A::Public, jobMetric},
        {"GET", "/job/:project/:jobset/:job/build-times", A::Public, jobBuildTimes},
        {"GET", "/job/:project/:jobset/:job/closure-sizes", A::Public, jobClosureSizes},
        {"GET", "/job/:project/:jobset/:job/output-sizes", A::Public, jobOutputSizes},
        // latest-* and all, alike on the farm, a project, a jobset and a job
        {"GET", "/latest/*rest", A::Public, latestBuildRedirect(L::Farm, K::Successful)},
        {"GET", "/latest-for/:system/*rest", A::Public, latestBuildRedirect(L::Farm, K::ForSystem)},
        {"GET", "/latest-finished/*rest", A::Public, latestBuildRedirect(L::Farm, K::FinishedEval)},
        {"GET", "/all", A::Public, allBuildsPage(L::Farm)},
        {"GET", "/project/:project/latest/*rest", A::Public, latestBuildRedirect(L::Project, K::Successful)},
        {"GET", "/project/:project/latest-for/:system/*rest", A::Public,
         latestBuildRedirect(L::Project, K::ForSystem)},
        {"GET", "/project/:project/latest-finished/*rest", A::Public,
         latestBuildRedirect(L::Project, K::FinishedEval)},
        {"GET", "/project/:project/all", A::Public, allBuildsPage(L::Project)},
        {"GET", "/jobset/:project/:jobset/latest/*rest", A::Public,
         latestBuildRedirect(L::Jobset, K::Successful)},
        {"GET", "/jobset/:project/:jobset/latest-for/:system/*rest", A::Public,
         latestBuildRedirect(L::Jobset, K::ForSystem)},
        {"GET", "/jobset/:project/:jobset/latest-finished/*rest", A::Public,
         latestBuildRedirect(L::Jobset, K::FinishedEval)},
        {"GET", "/jobset/:project/:jobset/all", A::Public, allBuildsPage(L::Jobset)},
        {"GET", "/job/:project/:jobset/:job/latest/*rest", A::Public,
         latestBuildRedirect(L::Job, K::Successful)},
        {"GET", "/job/:project/:jobset/:job/latest-for/:system/*rest", A::Public,
         latestBuildRedirect(L::Job, K::ForSystem)},
        {"GET", "/job/:project/:jobset/:job/latest-finished/*rest", A::Public,
         latestBuildRedirect(L::Job, K::FinishedEval)},
        {"GET", "/job/:project/:jobset/:job/all", A::Public, allBuildsPage(L::Job)},

        // The farm now, search and /api
        {"GET", "/queue", A::Public, queuePage},
        {"GET", "/queue-summary", A::Public, queueSummaryPage},
        {"GET", "/status", A::Public, runningBuildsPage},
        {"GET", "/machines", A::Public, machinesPage},
        {"GET", "/queue-runner-status", A::Public, queueRunnerStatusPage},
        {"GET", "/evals", A::Public, recentEvalsPage},
        {"GET", "/steps", A::Public, recentStepsPage},
        {"GET", "/search", A::Public, searchPage},
        {"GET", "/api/latestbuilds", A::Public, apiLatestBuilds},
        {"GET", "/api/queue", A::Public, apiQueue},
        {"GET", "/api/nrqueue", A::Public, apiNrQueue},
        {"GET", "/api/jobsets", A::Public, apiJobsets},

        // Accounts: logging in and out
        {"GET", "/login", A::Open, loginPage},
        {"POST", "/login", A::Open, loginAction},
        {"POST", "/logout", A::Open, logoutAction},
        {"GET", "/current-user", A::Public, currentUserPage},

        // Accounts: tokens, users, administration
        {"GET", "/user/:user", A::Public, userPage},
        {"PUT", "/user/:user", A::Action, userUpdate},
        {"POST", "/user/:user", A::Action, userUpdate},
        {"DELETE", "/user/:user", A::Action, userDelete},
        {"POST", "/user/:user/delete", A::Action, userDelete},
        {"GET", "/user/:user/tokens", A::Public, tokensPage},
        {"POST", "/user/:user/tokens", A::Action, tokenCreate},
        {"POST", "/user/:user/tokens/:token/revoke", A::Action, tokenRevoke},
        {"DELETE", "/user/:user/tokens/:token", A::Action, tokenRevoke},
        {"GET", "/admin/users", A::Public, adminUsersPage},
        {"GET", "/register", A::Public, registerPage},
        {"PUT", "/register", A::Action, registerAction},
        {"POST", "/register", A::Action, registerAction},

        // Actions on builds and evaluations, triggers, webhooks
        {"POST", "/build/:id/restart", A::Action, buildRestartAction},
        {"POST", "/build/:id/cancel", A::Action, buildCancelAction},
        {"POST", "/build/:id/bump", A::Action, buildBumpAction},
        {"POST", "/build/:id/keep/:keep", A::Action, buildKeepAction},
        {"POST", "/eval/:id/restart-failed", A::Action, evalRestartFailedAction},
        {"POST", "/eval/:id/restart-aborted", A::Action, evalRestartAbortedAction},
        {"POST", "/eval/:id/cancel", A::Action, evalCancelAction},
        {"POST", "/eval/:id/bump", A::Action, evalBumpAction},
        {"POST", "/jobset/:project/:jobset/trigger", A::Action, jobsetTriggerAction},
        {"POST", "/api/push", A::Action, apiPush},
        {"POST", "/api/push-github", A::Webhook, apiPushGithub},
        {"POST", "/api/push-gitea", A::Webhook, apiPushGitea},
        {"POST", "/admin/clear-queue-non-current", A::Action, adminClearQueueNonCurrent},
        {"POST", "/admin/clear-failed-cache", A::Action, adminClearFailedCache},
        // Old links to the actions (Hydra's were GETs) show the button that posts them.
        {"GET", "/build/:id/restart", A::Public, confirmActionPage("Restart this build")},
        {"GET", "/build/:id/cancel", A::Public, confirmActionPage("Cancel this build")},
        {"GET", "/build/:id/bump", A::Public, confirmActionPage("Bump this build to the front of the queue")},
        {"GET", "/build/:id/keep/:keep", A::Public,
         confirmActionPage("Keep (1) or stop keeping (0) this build")},
        {"GET", "/eval/:id/restart-failed", A::Public, confirmActionPage("Restart the failed builds")},
        {"GET", "/eval/:id/restart-aborted", A::Public, confirmActionPage("Restart the aborted builds")},
        {"GET", "/eval/:id/cancel", A::Public, confirmActionPage("Cancel the queued builds")},
        {"GET", "/eval/:id/bump", A::Public, confirmActionPage("Bump the queued builds")},
        {"GET", "/jobset/:project/:jobset/trigger", A::Public, confirmActionPage("Evaluate this jobset")},
        {"GET", "/admin/clear-queue-non-current", A::Public,
         confirmActionPage("Cancel the queued builds of no current evaluation")},
        {"GET", "/admin/clear-failed-cache", A::Public, confirmActionPage("Clear the failed-paths cache")},

        // Projects and jobsets: create, edit, delete
        {"PUT", "/project/:project", A::Action, projectPut},
        {"DELETE", "/project/:project", A::Action, projectDelete},
        {"GET", "/create-project", A::Public, createProjectPage},
        {"POST", "/create-project", A::Action, createProjectSubmit},
        {"GET", "/project/:project/edit", A::Public, editProjectPage},
        {"POST", "/project/:project/edit", A::Action, editProjectSubmit},
        {"POST", "/project/:project/delete", A::Action, deleteProjectSubmit},
        {"GET", "/project/:project/create-jobset", A::Public, createJobsetPage},
        {"POST", "/project/:project/create-jobset", A::Action, createJobsetSubmit},
        {"PUT", "/jobset/:project/:jobset", A::Action, jobsetPut},
        {"DELETE", "/jobset/:project/:jobset", A::Action, jobsetDelete},
        {"GET", "/jobset/:project/:jobset/edit", A::Public, editJobsetPage},
        {"POST", "/jobset/:project/:jobset/edit", A::Action, editJobsetSubmit},
        {"GET", "/jobset/:project/:jobset/clone", A::Public, cloneJobsetPage},
        {"POST", "/jobset/:project/:jobset/clone", A::Action, cloneJobsetSubmit},
        {"POST", "/jobset/:project/:jobset/delete", A::Action, deleteJobsetSubmit},

        // The store as a binary cache (private = 1 closes it too; Nix logs in with a token)
        {"GET", "/nix-cache-info", A::Public, nixCacheInfo},
        {"GET", "/nar/:file", A::Public, narFile},

        // Channels of builds, alike on the farm, a project, a jobset, a job and an evaluation
        {"GET", "/channel/latest", A::Public, latestChannel(L::Farm, C::Page)},
        {"GET", "/channel/latest/nixexprs.tar.bz2", A::Public, latestChannel(L::Farm, C::NixExprs)},
        {"GET", "/channel/latest/binary-cache-url", A::Public, latestChannel(L::Farm, C::BinaryCacheUrl)},
        {"GET", "/project/:project/channel/latest", A::Public, latestChannel(L::Project, C::Page)},
        {"GET", "/project/:project/channel/latest/nixexprs.tar.bz2", A::Public,
         latestChannel(L::Project, C::NixExprs)},
        {"GET", "/project/:project/channel/latest/binary-cache-url", A::Public,
         latestChannel(L::Project, C::BinaryCacheUrl)},
        {"GET", "/jobset/:project/:jobset/channel/latest", A::Public, latestChannel(L::Jobset, C::Page)},
        {"GET", "/jobset/:project/:jobset/channel/latest/nixexprs.tar.bz2", A::Public,
         latestChannel(L::Jobset, C::NixExprs)},
        {"GET", "/jobset/:project/:jobset/channel/latest/binary-cache-url", A::Public,
         latestChannel(L::Jobset, C::BinaryCacheUrl)},
        {"GET", "/job/:project/:jobset/:job/channel/latest", A::Public, latestChannel(L::Job, C::Page)},
        {"GET", "/job/:project/:jobset/:job/channel/latest/nixexprs.tar.bz2", A::Public,
         latestChannel(L::Job, C::NixExprs)},
        {"GET", "/job/:project/:jobset/:job/channel/latest/binary-cache-url", A::Public,
         latestChannel(L::Job, C::BinaryCacheUrl)},
        {"GET", "/eval/:id/channel", A::Public, evalChannel(C::Page)},
        {"GET", "/eval/:id/channel/nixexprs.tar.bz2", A::Public, evalChannel(C::NixExprs)},
        {"GET", "/eval/:id/channel/binary-cache-url", A::Public, evalChannel(C::BinaryCacheUrl)},

        // Assets (a private site's login page needs its style sheet)
        {"GET", "/static/style.css", A::Open, styleSheetAsset},
        {"GET", "/static/live.js", A::Open, liveScriptAsset},

        // The farm's events as they happen, for live pages
        {"GET", "/events", A::Public, liveEventStream},

        // HASH.narinfo sits at the top level, so it comes last: every other page matches first.
        {"GET", "/:file", A::Public, narInfoFile},
    };
    return table;
}

} // namespace hydra::server
