-- Every audit record names its fund. Records of changes addressed by id
-- (`/v1/claims/{id}/…`, `/v1/workers/{id}/…`, `/v1/contributions/{id}/…`) were
-- written without one; they take the fund of the record they name
-- (`claim 0193…`, `worker 0193… contract …`, `contribution 0193…`,
-- `journal_entry 0193…`), so an auditor of one fund reads all of its history.
-- Refusals of unknown ids name no record and stay without a fund.
UPDATE audit_log SET fund_code = (
    SELECT f.code FROM claims c JOIN funds f ON f.id = c.fund_id
    WHERE c.id = substr(audit_log.target, 7, 36))
WHERE fund_code IS NULL AND target LIKE 'claim %';
UPDATE audit_log SET fund_code = (
    SELECT f.code FROM workers w JOIN funds f ON f.id = w.fund_id
    WHERE w.id = substr(audit_log.target, 8, 36))
WHERE fund_code IS NULL AND target LIKE 'worker %';
UPDATE audit_log SET fund_code = (
    SELECT f.code FROM contributions c JOIN funds f ON f.id = c.fund_id
    WHERE c.id = substr(audit_log.target, 14, 36))
WHERE fund_code IS NULL AND target LIKE 'contribution %';
UPDATE audit_log SET fund_code = (
    SELECT f.code FROM journal_entries e JOIN funds f ON f.id = e.fund_id
    WHERE e.id = substr(audit_log.target, 15, 36))
WHERE fund_code IS NULL AND target LIKE 'journal_entry %';
-- A fund's auditor reads its records in id order.
CREATE INDEX audit_log_fund ON audit_log (fund_code, id);

-- A stored response names the fund of what it answered, so that a replay is
-- answered only to a token that covers that fund. Keys stored before are given
-- the fund of their route's record; a key left without one is replayed only to
-- tokens that cover every fund.
ALTER TABLE idempotency_keys ADD COLUMN fund_code TEXT;
UPDATE idempotency_keys SET fund_code = (
    SELECT f.code FROM claims c JOIN funds f ON f.id = c.fund_id
    WHERE c.id = substr(idempotency_keys.request_hash, 17, 36))
WHERE request_hash LIKE 'POST /v1/claims/%';
UPDATE idempotency_keys SET fund_code = (
    SELECT f.code FROM workers w JOIN funds f ON f.id = w.fund_id
    WHERE w.id = substr(idempotency_keys.request_hash, 18, 36))
WHERE request_hash LIKE 'POST /v1/workers/%';
UPDATE idempotency_keys SET fund_code = (
    SELECT f.code FROM workers w JOIN funds f ON f.id = w.fund_id
    WHERE w.id = substr(idempotency_keys.request_hash, 19, 36))
WHERE request_hash LIKE 'PATCH /v1/workers/%';
UPDATE idempotency_keys SET fund_code = (
    SELECT f.code FROM contributions c JOIN funds f ON f.id = c.fund_id
    WHERE c.id = substr(idempotency_keys.request_hash, 24, 36))
WHERE request_hash LIKE 'POST /v1/contributions/%';
-- `POST /v1/funds/{fund}/…`: the fund is in the route.
UPDATE idempotency_keys SET fund_code = split_part(request_hash, '/', 4)
WHERE request_hash LIKE 'POST /v1/funds/%/%';
