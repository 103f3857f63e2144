DROP TABLE claim_instalment_documents;
DROP TABLE claim_instalments;
DROP TABLE instalment_schedules;
