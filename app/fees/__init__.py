"""收费管理: the bill run, the cashier, prepayment, dunning, fee documents and printing."""
