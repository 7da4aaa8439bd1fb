-- Hydra 81: each RunCommand execution gets a uuid (its log file is named after it), and the
-- logs of one build are found through an index.
alter table RunCommandLogs add column uuid uuid;
update RunCommandLogs set uuid = gen_random_uuid() where uuid is null;
alter table RunCommandLogs alter column uuid set not null;
alter table RunCommandLogs add constraint RunCommandLogs_uuid_unique unique (uuid);
create index IndexRunCommandLogsOnBuildID on RunCommandLogs (build_id);
