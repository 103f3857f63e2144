DROP TABLE contribution_months;
