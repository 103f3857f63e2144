DROP TABLE summary_backfills;
DROP TABLE membership_counts;
DROP TABLE coverage_segments;
