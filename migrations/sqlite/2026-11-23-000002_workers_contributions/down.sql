DROP TABLE event_counter;
DROP TABLE events;
DROP TABLE contribution_payers;
DROP TABLE contributions;
DROP TABLE contracts;
DROP TABLE dependants;
DROP TABLE workers;
DROP TABLE rule_versions;
