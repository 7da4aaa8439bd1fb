#pragma once
// The subcommands of `hydra`; each returns the process exit code.

#include "cli/args.hh"

namespace hydra::cli {

int cmdInit(Args& args);          ///< hydra init / hydra-init: create or migrate the schema
int cmdCreateUser(Args& args);    ///< hydra create-user / hydra-create-user
int cmdUp(Args& args);            ///< hydra up: private database (if needed), schema, daemons
int cmdDown(Args& args);          ///< hydra down: stop what `up` started
int cmdEval(Args& args);          ///< hydra eval: evaluate one jobset now, in the foreground
int cmdStatus(Args& args);        ///< hydra status: where the database is and what it holds
int cmdGcRoots(Args& args);       ///< hydra gc-roots: GC roots only for what builds still need
int cmdBuild(Args& args);         ///< hydra build show|restart|cancel|bump ID...
int cmdQueue(Args& args);         ///< hydra queue: the queued builds
int cmdEvalOrTrigger(Args& args); ///< hydra eval trigger PROJECT JOBSET, else cmdEval
int cmdToken(Args& args);         ///< hydra token create|list|revoke: a user's API tokens
int cmdProject(Args& args);       ///< hydra project list|show|create|update|delete
int cmdJobset(Args& args);        ///< hydra jobset list|show|create|update|delete

} // namespace hydra::cli
