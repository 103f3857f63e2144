UPDATE accounts SET name = 'Contributions receivable' WHERE code = '1200' AND name = 'Receivables';
DROP TABLE receipt_matches;
DROP TABLE receipts;
DROP TABLE recovery_settlements;
DROP TABLE recoveries;
DROP TABLE parties;
