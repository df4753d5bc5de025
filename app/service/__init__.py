"""维修与投诉: the service desk, and the facts the repair and complaint statistics read."""
