"""One module per read model: its tables and how each event changes them."""
