"""What the office reads: the home dashboard and its to-do list, search, the chart builder, the SQL console, statistics and reports."""
