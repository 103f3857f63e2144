DROP TABLE account_daily_totals;
