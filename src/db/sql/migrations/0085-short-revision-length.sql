-- Hydra 85: how many characters of an input's revision to show.
alter table JobsetEvalInputs add column shortRevLength smallint;
