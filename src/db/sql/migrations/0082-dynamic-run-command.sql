-- Hydra 82: dynamic RunCommand is allowed per project and per jobset, off by default.
alter table Projects add column enable_dynamic_run_command boolean not null default false;
alter table Jobsets add column enable_dynamic_run_command boolean not null default false;
