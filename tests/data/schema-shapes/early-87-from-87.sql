-- Test data: turns Hydra's schema 87 into the schema that this project's first releases
-- created and recorded as 87, to test that `hydra init` repairs such a database.

alter table BuildSteps drop column resolvedDrvPath;
alter table BuildSteps alter column drvPath drop not null;
alter table JobsetEvalInputs drop column shortRevLength;
alter table BuildOutputs alter column path set not null;
alter table BuildStepOutputs alter column path set not null;

drop trigger JobsetSchedulingChanged on Jobsets;
alter table Jobsets
    alter column errorTime type bigint,
    alter column lastCheckedTime type bigint,
    alter column triggerTime type bigint,
    alter column startTime type bigint,
    alter column emailOverride set default '';
create trigger JobsetSchedulingChanged after update on Jobsets for each row
    when ((old.triggerTime is distinct from new.triggerTime and new.triggerTime is not null)
          or old.checkInterval != new.checkInterval
          or old.enabled != new.enabled)
    execute procedure notifyJobsetSchedulingChanged();
alter table Builds
    alter column timestamp type bigint,
    alter column startTime type bigint,
    alter column stopTime type bigint;
alter table BuildSteps alter column startTime type bigint, alter column stopTime type bigint;
alter table BuildMetrics alter column timestamp type bigint;
alter table CachedPathInputs alter column timestamp type bigint, alter column lastSeen type bigint;
alter table CachedCVSInputs alter column timestamp type bigint, alter column lastSeen type bigint;
alter table EvaluationErrors alter column errorTime type bigint;
alter table JobsetEvals alter column timestamp type bigint;
alter table NewsItems alter column createTime type bigint;
alter table RunCommandLogs alter column start_time type bigint, alter column end_time type bigint;

-- The jobset's names copied into each build, filled from jobset_id when a writer leaves them out.
alter table Builds add column project text not null, add column jobset text not null,
    add foreign key (project, jobset) references Jobsets (project, name) on delete cascade on update cascade;
create function fillBuildJobsetNames() returns trigger language plpgsql as $$
begin
    if new.project is null or new.jobset is null then
        select j.project, j.name into new.project, new.jobset from Jobsets j where j.id = new.jobset_id;
    end if;
    return new;
end;
$$;
create trigger BuildsFillJobsetNames before insert on Builds for each row
    execute procedure fillBuildJobsetNames();
