-- Hydra 83 changed nothing in the tables, columns, keys, indexes or triggers that schema 87
-- holds (its time columns stay integer); the version number is kept so that every database
-- from 80 on takes the same path.
select 1;
