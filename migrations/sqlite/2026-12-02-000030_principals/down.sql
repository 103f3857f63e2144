UPDATE idempotency_keys SET actor = substr(actor, 8) WHERE actor LIKE 'secret|%';
