DROP TABLE claim_payees;
DROP INDEX dependants_one_nominee;
ALTER TABLE dependants DROP COLUMN nominee;
