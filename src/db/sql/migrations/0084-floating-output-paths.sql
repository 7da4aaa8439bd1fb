-- Hydra 84: a floating content-addressed output has no path until it is built.
alter table BuildOutputs alter column path drop not null;
alter table BuildStepOutputs alter column path drop not null;
