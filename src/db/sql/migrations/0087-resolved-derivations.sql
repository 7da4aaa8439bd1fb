-- Hydra 87: a step of a content-addressed derivation that was resolved (status 13) names the
-- derivation it was resolved to, and only such a step does.
alter table BuildSteps add column resolvedDrvPath text;
alter table BuildSteps add constraint buildsteps_resolved_consistent
    check ((status = 13) = (resolvedDrvPath is not null));
