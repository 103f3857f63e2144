-- Idempotency keys belong to a principal (issuer and subject), no longer to a bare
-- subject. Keys stored before belonged to subjects; they are given to the shared
-- secret's issuer (the tokens `mwf token` mints), so a retry spanning the upgrade
-- still replays. Every row is prefixed, so no two rows can collide.
UPDATE idempotency_keys SET actor = 'secret|' || actor;
