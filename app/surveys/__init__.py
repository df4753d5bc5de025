"""Owner surveys: paper forms entered, statistics, the report and its notice."""
