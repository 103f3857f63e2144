DROP TABLE claim_approvals;
DROP TABLE claim_documents;
DROP TABLE claims;
