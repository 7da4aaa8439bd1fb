-- hydra-server's own tables, in a schema of their own so that `public` stays exactly Hydra's
-- schema 87 (Hydra's tools keep working on this database, and it on Hydra's).

CREATE SCHEMA IF NOT EXISTS hydra_web;

CREATE TABLE hydra_web.SchemaVersion (
    version integer not null
);

-- Login sessions. The cookie carries a random token; only its SHA-256 is kept, so a copy of
-- the database does not log anyone in.
CREATE TABLE hydra_web.Sessions (
    tokenHash text primary key,
    userName  text not null references public.Users(userName) on delete cascade on update cascade,
    csrfToken text not null, -- the anti-forgery token the session's forms carry
    created   integer not null,
    expires   integer not null
);
CREATE INDEX IndexSessionsOnExpires ON hydra_web.Sessions(expires);
CREATE INDEX IndexSessionsOnUserName ON hydra_web.Sessions(userName);

-- Named API tokens for scripts (Authorization: Bearer); only their SHA-256 is kept.
CREATE TABLE hydra_web.ApiTokens (
    id        serial primary key,
    userName  text not null references public.Users(userName) on delete cascade on update cascade,
    name      text not null,
    tokenHash text not null unique,
    created   integer not null,
    lastUsed  integer,
    unique (userName, name)
);
