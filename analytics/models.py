"""Analytics keeps no tables of its own: it reads closures and customers."""
