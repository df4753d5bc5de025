"""The estate's desks: move-in and vacant units, decoration, parking, security, 一户一档 and vendors."""
