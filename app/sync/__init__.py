"""NocoDB as the spreadsheet backend: two-way sync of registers and residents' intake forms, and a
local NocoDB server for the tests, the benchmark and a try-out."""
