-- Brings a database created by this project's first releases to Hydra's schema 87. Those
-- releases recorded version 87 but created Builds.project/jobset (filled by a trigger), time
-- columns as bigint, output paths and BuildSteps.drvPath with the wrong nullability, a default
-- on Jobsets.emailOverride, and neither BuildSteps.resolvedDrvPath nor
-- JobsetEvalInputs.shortRevLength. Run once, in one transaction, when fillBuildJobsetNames
-- (which only those releases created) exists.

drop trigger BuildsFillJobsetNames on Builds;
drop function fillBuildJobsetNames();
alter table Builds drop column project, drop column jobset;

-- A column named in a trigger's condition cannot change type while the trigger exists.
drop trigger JobsetSchedulingChanged on Jobsets;
alter table Jobsets
    alter column errorTime type integer,
    alter column lastCheckedTime type integer,
    alter column triggerTime type integer,
    alter column startTime type integer,
    alter column emailOverride drop default;
create trigger JobsetSchedulingChanged after update on Jobsets for each row
    when ((old.triggerTime is distinct from new.triggerTime and new.triggerTime is not null)
          or old.checkInterval != new.checkInterval
          or old.enabled != new.enabled)
    execute procedure notifyJobsetSchedulingChanged();

alter table Builds
    alter column timestamp type integer,
    alter column startTime type integer,
    alter column stopTime type integer;
alter table BuildSteps
    alter column startTime type integer,
    alter column stopTime type integer;
alter table BuildMetrics alter column timestamp type integer;
alter table CachedPathInputs alter column timestamp type integer, alter column lastSeen type integer;
alter table CachedCVSInputs alter column timestamp type integer, alter column lastSeen type integer;
alter table EvaluationErrors alter column errorTime type integer;
alter table JobsetEvals alter column timestamp type integer;
alter table NewsItems alter column createTime type integer;
alter table RunCommandLogs alter column start_time type integer, alter column end_time type integer;

alter table BuildOutputs alter column path drop not null;
alter table BuildStepOutputs alter column path drop not null;
alter table JobsetEvalInputs add column shortRevLength smallint;

update BuildSteps
    set drvPath = format('/nix/store/00000000000000000000000000000000-placeholder-of-build-%s-step-%s.drv',
                         build, stepnr)
    where drvPath is null;
alter table BuildSteps alter column drvPath set not null;
alter table BuildSteps add column resolvedDrvPath text;
alter table BuildSteps add constraint buildsteps_resolved_consistent
    check ((status = 13) = (resolvedDrvPath is not null));
