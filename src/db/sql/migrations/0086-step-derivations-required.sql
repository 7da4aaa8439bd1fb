-- Hydra 86: every step names a derivation. Substitution steps recorded without one get a
-- placeholder that names the build and step (unique, as the key is); a real path is never
-- invented for them.
update BuildSteps
    set drvPath = format('/nix/store/00000000000000000000000000000000-placeholder-of-build-%s-step-%s.drv',
                         build, stepnr)
    where drvPath is null;
alter table BuildSteps alter column drvPath set not null;
