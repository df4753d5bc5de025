"""检查与整改: inspection areas, plans, inspections and rectifications."""
