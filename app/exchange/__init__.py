"""Data in and out: Excel and CSV import (mappings, layouts, workbooks), export, templates, NocoDB."""
