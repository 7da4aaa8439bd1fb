#pragma once
// Handlers that create, change, clone and delete jobsets: Hydra's PUT and DELETE
// /jobset/P/J for scripts, and the pages /project/P/create-jobset, /jobset/P/J/edit and
// /jobset/P/J/clone with their forms for browsers.

#include "server/router.hh"

namespace hydra::server {

Response jobsetPut(const Site& site, const Request& req);
Response jobsetDelete(const Site& site, const Request& req);

Response createJobsetPage(const Site& site, const Request& req);
Response createJobsetSubmit(const Site& site, const Request& req);
Response editJobsetPage(const Site& site, const Request& req);
Response editJobsetSubmit(const Site& site, const Request& req);
Response cloneJobsetPage(const Site& site, const Request& req);
Response cloneJobsetSubmit(const Site& site, const Request& req);
Response deleteJobsetSubmit(const Site& site, const Request& req);

} // namespace hydra::server
